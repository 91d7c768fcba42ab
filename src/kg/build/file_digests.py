"""The SHA-256 of input files, remembered by what `stat` says of them, as git's index remembers them.

A rebuild keys every input file's parse by its bytes (60 MB at 600 sources), though most have not
changed. A file whose size, modification and change times, inode and device are those recorded
with its digest is taken to hold the same bytes: saving a file sets its change time, which no tool
can set back (`touch -d` and `cp -p` set the access and modification times only).

That holds only where the stat is the file's own and fresh, and for a record made once the file had
settled. So a digest is remembered only

- on a local file system whose change time is one (ext4, xfs, btrfs, tmpfs, overlay and the like,
  as the kernel's list of mounts names it): not NFS, SMB or FUSE mounts, whose stat may be cached,
  nor FAT, whose change time is its creation time; nor where there is no such list (not Linux);
- for a file on the same file system as the record, whose clock `_now` was read from;
- for a file whose times are older than a file this build wrote just before it first looked one
  up (the file system's own clock, not the process's): a file changed in the tick it was read
  might change again within that tick, keeping every time it shows;
- when the file's stat after it was read is the one before (it did not change meanwhile).

Anywhere else every file is read, as it would be without a record.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from kg.build.whole_files import write_whole

Status = tuple[int, int, int, int, int]  # size, modification and change times (ns), inode, device
# File systems whose change time is set by every change and cannot be set back (Linux's names).
REAL_CHANGE_TIME = {"ext2", "ext3", "ext4", "xfs", "btrfs", "tmpfs", "f2fs", "zfs", "bcachefs", "overlay"}
_DIGEST = re.compile(r"[0-9a-f]{64}")


class FileDigests:
    """Digests of files by path, from the record kept at `path` where the file has not changed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._kept: dict[str, tuple[Status, str]] | None = None  # read when first asked, if trusted
        self._now = 0  # the file system's time when this build first looked a digest up
        self._device = -1  # and the file system's device
        self._trusted = False  # whether that file system's stat can stand for a file's bytes
        self.seen: dict[str, tuple[Status, str]] = {}  # what `save` keeps: the entries this build saw

    def digest(self, path: Path, read: Callable[[Path], bytes]) -> str:
        """The hex SHA-256 of the bytes `read` gives for `path` (which raises for a file that cannot
        be read), or the recorded one when the file has not changed since."""
        if self._kept is None:
            self._now, self._device = _file_system_time(self.path.parent)
            self._trusted = _file_system_type(self._device) in REAL_CHANGE_TIME
            self._kept = _load_record(self.path) if self._trusted else {}
        before = self._status(path) if self._trusted else None
        name = str(path)
        kept = self._kept.get(name)
        if before is not None and kept is not None and kept[0] == before:
            self.seen[name] = kept
            return kept[1]
        digest = hashlib.sha256(read(path)).hexdigest()
        if before is not None and max(before[1], before[2]) < self._now and self._status(path) == before:
            self.seen[name] = (before, digest)  # settled before this build looked, unchanged since
        return digest

    def forget(self, path: Path) -> None:
        """Keep no digest of `path` for the next build: the one recorded was found not to be its own."""
        self.seen.pop(str(path), None)

    def save(self) -> None:
        """Keep the entries this build saw for the next one (the others' files are gone or changed);
        a record that would not change is not written again."""
        if self._kept is not None and self.seen != self._kept:
            entries = {name: [*status, digest] for name, (status, digest) in sorted(self.seen.items())}
            write_whole(self.path, json.dumps(entries, separators=(",", ":")).encode())

    def _status(self, path: Path) -> Status | None:
        """The stat of a regular file on the record's file system; None for any other (read it)."""
        try:
            found = os.stat(path)
        except OSError:
            return None  # `read` says why
        if not stat.S_ISREG(found.st_mode) or found.st_dev != self._device:
            return None
        return status(found)


def status(found: os.stat_result) -> Status:
    """What `stat` tells of a file that changes whenever its bytes do (see the module's docstring)."""
    return (found.st_size, found.st_mtime_ns, found.st_ctime_ns, found.st_ino, found.st_dev)


def _load_record(path: Path) -> dict[str, tuple[Status, str]]:
    """The record at `path`; an unreadable or malformed one is no record (every file is read)."""
    try:
        entries = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return {}
    if not isinstance(entries, dict):
        return {}
    record: dict[str, tuple[Status, str]] = {}
    for name, entry in entries.items():
        if not (isinstance(entry, list) and len(entry) == 6):
            return {}
        *numbers, digest = entry
        if not all(type(n) is int and n >= 0 for n in numbers) or not (
            isinstance(digest, str) and _DIGEST.fullmatch(digest)
        ):
            return {}
        record[name] = ((numbers[0], numbers[1], numbers[2], numbers[3], numbers[4]), digest)
    return record


def _file_system_time(folder: Path) -> tuple[int, int]:
    """The time, in ns, the file system holding `folder` gives a file written now, and its device."""
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=folder) as marker:
        marker.write(b"\0")
        marker.flush()
        written = os.fstat(marker.fileno())
        return written.st_mtime_ns, written.st_dev


def _file_system_type(device: int) -> str | None:
    """The type of the mounted file system whose device is `device`, from the kernel's list of
    mounts; None where there is no such list (not Linux) or the device is not in it."""
    try:
        mounts = Path("/proc/self/mountinfo").read_text("utf-8", errors="replace")
    except OSError:
        return None
    wanted = f"{os.major(device)}:{os.minor(device)}"
    for line in mounts.splitlines():
        fields, _, described = line.partition(" - ")
        if fields.split()[2:3] == [wanted] and described:
            return described.split()[0]
    return None
