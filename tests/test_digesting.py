"""Digests read ahead on a thread are those of the file as it is when asked for (kg.build.digesting)."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from kg.build.digesting import Digesting


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_ahead(path: Path) -> Digesting:
    digests = Digesting()
    digests.start([path])
    assert digests._read  # started
    next(iter(digests._read.values())).result()  # read before the file changes
    return digests


def test_a_digest_read_ahead_is_the_file_s(tmp_path: Path) -> None:
    path = tmp_path / "graph.nq"
    path.write_bytes(b"<s> <p> <o> .\n")
    digests = _read_ahead(path)
    try:
        assert digests.sha256(path) == _sha256(b"<s> <p> <o> .\n")
    finally:
        digests.stop()


def _rewritten_in_place(path: Path) -> None:
    with path.open("r+b") as file:
        file.write(b"<t>")


def _replaced(path: Path) -> None:
    other = path.with_name("other.nq")
    other.write_bytes(b"<t> <p> <o> .\n")
    other.replace(path)


@pytest.mark.parametrize("change", [_rewritten_in_place, _replaced])
def test_a_file_changed_after_it_was_read_ahead_is_read_again(
    tmp_path: Path, change: Callable[[Path], None]
) -> None:
    """Changed to the same size with its times set back, as `touch -r` would: its change time (or
    its inode) moved."""
    path = tmp_path / "graph.nq"
    path.write_bytes(b"<s> <p> <o> .\n")
    digests = _read_ahead(path)
    try:
        times = path.stat()
        change(path)
        os.utime(path, ns=(times.st_atime_ns, times.st_mtime_ns))
        assert digests.sha256(path) == _sha256(b"<t> <p> <o> .\n")
    finally:
        digests.stop()


def test_a_link_is_not_read_through(tmp_path: Path) -> None:
    target, link = tmp_path / "elsewhere.nq", tmp_path / "graph.nq"
    target.write_bytes(b"<s> <p> <o> .\n")
    link.symlink_to(target)
    digests = Digesting()
    digests.start([link])
    try:
        with pytest.raises(OSError):
            digests.sha256(link)
    finally:
        digests.stop()


def test_a_fifo_holds_neither_the_thread_nor_the_asker(tmp_path: Path) -> None:
    fifo, after = tmp_path / "000001.sst", tmp_path / "000002.sst"
    os.mkfifo(fifo)
    after.write_bytes(b"data")
    digests = Digesting()
    asked: list[object] = []

    def ask() -> None:
        digests.start([fifo, after])
        try:
            digests.sha256(fifo)
        except OSError as error:
            asked.append(error)
        asked.append(digests.sha256(after))

    thread = threading.Thread(target=ask, daemon=True)
    thread.start()
    thread.join(timeout=30)
    digests.stop()
    assert not thread.is_alive(), "a FIFO held the reading"
    assert isinstance(asked[0], OSError) and asked[1] == _sha256(b"data")
