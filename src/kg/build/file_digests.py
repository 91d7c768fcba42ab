"""The SHA-256 of input files, remembered by what `stat` says of them, as git's index remembers them.

A rebuild keys every input file's parse by its bytes (60 MB at 600 sources), though most have not
changed. A file whose size, modification and change times, inode and device are those recorded
with its digest is taken to hold the same bytes. That holds only for a record made once the file
had settled: a file changed in the same tick of the file system's clock as it was read might change
again within that tick, keeping every time it shows. So a digest is recorded only for a file whose
times are older than a file this build wrote just before it looked (the file system's own clock,
not the process's); a later change then gives it a later change time, which no one can set back
(`touch` sets the modification time only).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from kg.build.whole_files import write_whole

Stat = tuple[int, int, int, int, int]  # size, modification and change times (ns), inode, device


class FileDigests:
    """Digests of files by path, from the record kept at `path` where the file has not changed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._kept: dict[str, tuple[Stat, str]] | None = None  # read when first asked
        self._now = 0  # the file system's time before this build looked at any file
        self.used: dict[str, tuple[Stat, str]] = {}  # what `save` keeps: the entries this build saw

    def digest(self, path: Path, read: Callable[[Path], bytes]) -> str:
        """The hex SHA-256 of the bytes `read` gives for `path` (which raises for a file that cannot
        be read), or the recorded one when the file has not changed since."""
        if self._kept is None:
            self._now = _file_system_time(self.path.parent)
            self._kept = _read(self.path)
        try:
            status = os.stat(path)
        except OSError:
            status = None  # `read` says why
        seen = _stat(status) if status is not None and stat.S_ISREG(status.st_mode) else None
        name = str(path)
        kept = self._kept.get(name)
        if seen is not None and kept is not None and kept[0] == seen:
            self.used[name] = kept
            return kept[1]
        digest = hashlib.sha256(read(path)).hexdigest()
        if seen is not None and max(seen[1], seen[2]) < self._now:  # settled before this build looked
            self.used[name] = (seen, digest)
        return digest

    def save(self) -> None:
        """Keep the entries this build saw for the next one (the others' files are gone or changed)."""
        if self._kept is not None:
            entries = {name: [*seen, digest] for name, (seen, digest) in sorted(self.used.items())}
            write_whole(self.path, json.dumps(entries, separators=(",", ":")).encode())


def _stat(status: os.stat_result) -> Stat:
    return (status.st_size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino, status.st_dev)


def _read(path: Path) -> dict[str, tuple[Stat, str]]:
    """The record at `path`; an unreadable or malformed one is no record (every file is read)."""
    try:
        entries = json.loads(path.read_bytes())
        return {
            str(name): ((int(a), int(b), int(c), int(d), int(e)), str(digest))
            for name, (a, b, c, d, e, digest) in entries.items()
        }
    except (OSError, ValueError, TypeError, AttributeError):
        return {}


def _file_system_time(folder: Path) -> int:
    """The time, in ns, the file system gives a file written now in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=folder) as marker:
        marker.write(b"\0")
        marker.flush()
        return os.fstat(marker.fileno()).st_mtime_ns
