"""The input files' digests, remembered by their stat: an unchanged file is not read again, and a file
changed in any way a curator or a tool can change it (its bytes of the same length, its times set
back, another file moved in its place, a change in the tick the build looked) is read again."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import pytest

from kg.build.file_digests import FileDigests, _file_system_time
from kg.build.parsed import DIGESTS
from kg.build.parsing import InputError
from kg.build.pipeline import PARSED, build

REPORT = "000_1bdfefaeb44abb70"


def settled(path: Path) -> Path:
    """`path`, once the file system's clock has moved past its last change."""
    changed = path.stat().st_ctime_ns
    while _file_system_time(path.parent) <= changed:
        time.sleep(0.005)
    return path


def written(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return settled(path)


class Reads:
    """A reader of real files that counts what it read."""

    def __init__(self) -> None:
        self.paths: list[Path] = []

    def __call__(self, path: Path) -> bytes:
        self.paths.append(path)
        return path.read_bytes()


def remembered(record: Path, path: Path) -> str:
    """The digest of `path` with the record at `record`, which is then saved."""
    digests = FileDigests(record)
    digest = digests.digest(path, Path.read_bytes)
    digests.save()
    return digest


def test_an_unchanged_file_is_not_read_again(tmp_path: Path) -> None:
    record, path = tmp_path / "cache" / "digests.json", written(tmp_path / "a.ttl", b"first")
    assert remembered(record, path) == hashlib.sha256(b"first").hexdigest()
    reads = Reads()
    again = FileDigests(record)
    assert again.digest(path, reads) == hashlib.sha256(b"first").hexdigest()
    assert reads.paths == []


def test_a_file_rewritten_at_its_length_with_its_times_set_back_is_read_again(tmp_path: Path) -> None:
    record, path = tmp_path / "digests.json", written(tmp_path / "a.ttl", b"first")
    remembered(record, path)
    before = path.stat()
    path.write_bytes(b"other")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    now = path.stat()
    assert (now.st_size, now.st_mtime_ns, now.st_ino) == (before.st_size, before.st_mtime_ns, before.st_ino)
    reads = Reads()
    assert FileDigests(record).digest(path, reads) == hashlib.sha256(b"other").hexdigest()
    assert reads.paths == [path]


def test_another_file_moved_in_its_place_is_read_again(tmp_path: Path) -> None:
    record, path = tmp_path / "digests.json", written(tmp_path / "a.ttl", b"first")
    remembered(record, path)
    other = tmp_path / "b.ttl"
    other.write_bytes(b"other")
    os.utime(other, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns))
    os.replace(other, path)
    assert FileDigests(record).digest(path, Reads()) == hashlib.sha256(b"other").hexdigest()


def test_a_file_not_settled_when_the_build_looked_is_not_remembered(tmp_path: Path) -> None:
    """Its times are not older than the build's first look, so it might change again unseen within
    the same tick of the clock: the next build reads it again."""
    record, path = tmp_path / "digests.json", tmp_path / "a.ttl"
    path.write_bytes(b"first")
    ahead = _file_system_time(tmp_path) + 3_600 * 10**9
    os.utime(path, ns=(ahead, ahead))
    remembered(record, path)
    reads = Reads()
    FileDigests(record).digest(path, reads)
    assert reads.paths == [path]


def test_a_record_that_cannot_be_read_reads_every_file(tmp_path: Path) -> None:
    record, path = tmp_path / "digests.json", written(tmp_path / "a.ttl", b"first")
    for broken in [b"{", b"[]", b'{"x": 1}', b'{"a": [1, 2]}', b"\xff"]:
        record.write_bytes(broken)
        reads = Reads()
        assert FileDigests(record).digest(path, reads) == hashlib.sha256(b"first").hexdigest()
        assert reads.paths == [path]


def test_a_file_that_cannot_be_read_is_named_though_it_was_remembered(
    project_copy: Path, tmp_path: Path
) -> None:
    """A file remembered, then replaced by a folder: the build names it as it names any folder."""
    work = tmp_path / "work"
    build(project_copy, work / "dist", work / "store")
    findings = project_copy / "graph" / REPORT / "data" / "findings.ttl"
    findings.unlink()
    findings.mkdir()
    with pytest.raises(InputError) as error:
        build(project_copy, work / "dist", work / "store")
    assert str(error.value) == f"{findings}: is a folder, not a Turtle file"


def test_a_rebuild_after_a_change_that_keeps_the_files_length_and_times_matches_a_clean_build(
    project_copy: Path, tmp_path: Path
) -> None:
    """The change a stat cannot see but the change time does: the same length, the times set back."""
    work, clean = tmp_path / "work", tmp_path / "clean"
    findings = settled(project_copy / "graph" / REPORT / "data" / "findings.ttl")
    build(project_copy, work / "dist", work / "store")
    build(project_copy, work / "dist", work / "store")  # a rebuild: it looks up every file's digest
    assert str(findings) in json.loads((work / PARSED / DIGESTS).read_bytes())
    before = findings.stat()
    text = findings.read_text("utf-8")
    assert "the ongoing opioid overdose epidemic" in text
    findings.write_text(text.replace("the ongoing opioid", "the present opioid", 1), "utf-8")
    os.utime(findings, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (findings.stat().st_size, findings.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    rebuilt = build(project_copy, work / "dist", work / "store")
    assert "dump patched: 1 input files out, 1 in" in rebuilt.how
    build(project_copy, clean / "dist", clean / "store")
    dump = "opioid-kg.nq"
    assert (work / "dist" / dump).read_bytes() == (clean / "dist" / dump).read_bytes()
    assert b"the present opioid overdose epidemic" in (clean / "dist" / dump).read_bytes()
