"""The SHA-256 of a build's large files, read on a thread of their own beside the build's work.

A rebuild reads the previous generation's dump, graphs' files and store whole before it reuses them
(each must be as its build recorded it, even changed in place with its times set back), and records
the digests of its own graphs' files for the next: about a gigabyte at a million triples, 0.8 s of
hashing. hashlib lets go of Python's lock while it hashes, so read ahead on a thread, while the
build lists, parses and checks, they cost it next to no wall time. The same thread flushes the
files the build has finished to disk, so that publishing does not wait for them.

A digest read ahead is given only for the file that was read: its device, inode, size, modification
and change times the same before the reading, after it and when it is asked for (no tool sets a
change time back). Any other file is read when its digest is asked for.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from kg.build.file_digests import Status, status

_Done = TypeVar("_Done")
_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC  # a FIFO is opened without waiting


def sha256_of(path: Path) -> tuple[str, Status | None]:
    """The SHA-256 of the regular file at `path`, not read through a link, with its stat, or None for
    the stat where the file changed while it was read. Raises OSError for a link, for anything but a
    regular file, and for a file that cannot be read."""
    with os.fdopen(os.open(path, _READ), "rb") as file:
        before = os.fstat(file.fileno())
        if not stat.S_ISREG(before.st_mode):
            raise OSError(f"{path}: not a regular file")
        digest = hashlib.file_digest(file, "sha256").hexdigest()
        same = status(os.fstat(file.fileno())) == status(before)
        return digest, status(before) if same else None


def _flushed(path: Path) -> None:
    """Wait for the file at `path` to be on disk (it is flushed again, at no cost, when published)."""
    descriptor = os.open(path, _READ)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _key(path: Path) -> Path:
    """The file's path through no link but, where it is one, its own name."""
    return Path(os.path.realpath(path.parent), path.name)


class Digesting:
    """Digests and flushes started on one thread, in the order asked; `sha256` waits for a digest."""

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None  # started with the first work
        self._read: dict[Path, Future[tuple[str, Status | None]]] = {}

    def start(self, paths: Iterable[Path]) -> None:
        """Read the digests of the files at `paths`, in order, after what was started before."""
        for path in paths:
            if _key(path) not in self._read:
                self._read[_key(path)] = self._submitted(sha256_of, path)

    def flush(self, paths: Iterable[Path]) -> None:
        """Write the files at `paths` to disk, after what was started before; a file that cannot be
        flushed now is flushed when the build is published, which then says why."""
        for path in paths:
            self._submitted(_flushed, path)

    def sha256(self, path: Path) -> str:
        """The SHA-256 of the file at `path` as it is now: read ahead, if it is still the file that
        was read, else read now. Raises OSError as `sha256_of` does."""
        ahead = self._read.pop(_key(path), None)
        if ahead is not None:
            try:
                digest, read = ahead.result()
                if read is not None and status(os.lstat(path)) == read:
                    return digest
            except OSError:
                pass  # read now, which says why
        return sha256_of(path)[0]

    def stop(self) -> None:
        """Drop what has not started; wait for the file being read, which ends on its own."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._read.clear()

    def _submitted(self, work: Callable[[Path], _Done], path: Path) -> Future[_Done]:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="digests")
        return self._pool.submit(work, path)
