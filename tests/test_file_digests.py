"""The input files' digests, remembered by their stat: an unchanged file is not read again, and a file
changed in any way a curator or a tool can change it (its bytes of the same length, its times set
back, another file moved in its place, a change in the tick the build looked) is read again."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from pathlib import Path

import pytest

from kg.build import file_digests
from kg.build.file_digests import REAL_CHANGE_TIME, FileDigests, _file_system_time, _file_system_type
from kg.build.parsed import DIGESTS
from kg.build.parsing import InputError
from kg.build.pipeline import PARSED, build

REPORT = "000_1bdfefaeb44abb70"


@pytest.fixture(autouse=True)
def _a_file_system_with_a_change_time(tmp_path: Path) -> None:
    """The record is kept only on a file system whose change time is one (see `kg.build.file_digests`)."""
    kind = _file_system_type(tmp_path.stat().st_dev)
    if kind not in REAL_CHANGE_TIME:
        pytest.skip(f"the temporary folder is on {kind or 'an unlisted file system'}: no record is kept")


def settled(path: Path) -> Path:
    """`path`, once the file system's clock has moved past its last change."""
    changed = path.stat().st_ctime_ns
    while _file_system_time(path.parent)[0] <= changed:
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
    record, path = tmp_path / "cache" / "digests", written(tmp_path / "a.ttl", b"first")
    assert remembered(record, path) == hashlib.sha256(b"first").hexdigest()
    reads = Reads()
    again = FileDigests(record)
    assert again.digest(path, reads) == hashlib.sha256(b"first").hexdigest()
    assert reads.paths == []


def test_a_file_rewritten_at_its_length_with_its_times_set_back_is_read_again(tmp_path: Path) -> None:
    record, path = tmp_path / "digests", written(tmp_path / "a.ttl", b"first")
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
    record, path = tmp_path / "digests", written(tmp_path / "a.ttl", b"first")
    remembered(record, path)
    other = tmp_path / "b.ttl"
    other.write_bytes(b"other")
    os.utime(other, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns))
    os.replace(other, path)
    assert FileDigests(record).digest(path, Reads()) == hashlib.sha256(b"other").hexdigest()


def test_a_file_not_settled_when_the_build_looked_is_not_remembered(tmp_path: Path) -> None:
    """Its times are not older than the build's first look, so it might change again unseen within
    the same tick of the clock: the next build reads it again."""
    record, path = tmp_path / "digests", tmp_path / "a.ttl"
    path.write_bytes(b"first")
    ahead = _file_system_time(tmp_path)[0] + 3_600 * 10**9
    os.utime(path, ns=(ahead, ahead))
    remembered(record, path)
    reads = Reads()
    FileDigests(record).digest(path, reads)
    assert reads.paths == [path]


@pytest.mark.parametrize(
    "broken",
    [
        b"{",
        b"[]",
        b"\xff",
        b'{"x": 1}',
        b'{"x": [1, 2]}',
        b"[" * 100_000,
        b'{"PATH": [Infinity, 0, 0, 0, 0, "DIGEST"]}',
        b'{"PATH": [5.0, 0, 0, 0, 0, "DIGEST"]}',
        b'{"PATH": [-5, 0, 0, 0, 0, "DIGEST"]}',
        b'{"PATH": [SIZE, MTIME, CTIME, INODE, DEVICE, "not a digest"]}',
    ],
)
def test_a_record_that_cannot_be_read_reads_every_file(tmp_path: Path, broken: bytes) -> None:
    """A malformed record (cut short, of the wrong shape or types, nested past Python's limit) is no
    record: every file is read, nothing fails."""
    record, path = tmp_path / "digests", written(tmp_path / "a.ttl", b"first")
    status = path.stat()
    for name, value in [
        ("PATH", json.dumps(str(path))[1:-1]),
        ("DIGEST", hashlib.sha256(b"other").hexdigest()),
        ("SIZE", str(status.st_size)),
        ("MTIME", str(status.st_mtime_ns)),
        ("CTIME", str(status.st_ctime_ns)),
        ("INODE", str(status.st_ino)),
        ("DEVICE", str(status.st_dev)),
    ]:
        broken = broken.replace(name.encode(), value.encode())
    record.write_bytes(broken)
    reads = Reads()
    assert FileDigests(record).digest(path, reads) == hashlib.sha256(b"first").hexdigest()
    assert reads.paths == [path]


def test_a_record_of_the_right_shape_is_read(tmp_path: Path) -> None:
    """The other side of the test above: the same record, well formed, is used (so that the broken
    ones were refused for what is wrong with them)."""
    record, path = tmp_path / "digests", written(tmp_path / "a.ttl", b"first")
    status = path.stat()
    entry = [status.st_size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino, status.st_dev]
    record.write_text(json.dumps({str(path): [*entry, hashlib.sha256(b"other").hexdigest()]}), "utf-8")
    assert FileDigests(record).digest(path, Reads()) == hashlib.sha256(b"other").hexdigest()


def test_a_link_retargeted_while_it_was_read_is_not_remembered(tmp_path: Path) -> None:
    """The link pointed at one file when the build looked at it and at another when it read it, then
    back: the stat after the read is not the one before, so the digest of the other file's bytes is
    not recorded under the first file's stat."""
    first, other = written(tmp_path / "first.ttl", b"first"), written(tmp_path / "other.ttl", b"other")
    link = tmp_path / "a.ttl"
    link.symlink_to(first)

    def point(target: Path) -> None:
        (tmp_path / "next").symlink_to(target)
        os.replace(tmp_path / "next", link)

    def read_retargeted(path: Path) -> bytes:
        point(other)
        return path.read_bytes()

    record = tmp_path / "digests"
    digests = FileDigests(record)
    assert digests.digest(link, read_retargeted) == hashlib.sha256(b"other").hexdigest()
    digests.save()
    point(first)
    reads = Reads()
    assert FileDigests(record).digest(link, reads) == hashlib.sha256(b"first").hexdigest()
    assert reads.paths == [link]


def test_a_file_on_another_file_system_than_the_record_is_not_remembered(tmp_path: Path) -> None:
    """Its clock is not the one the record's time was read from."""
    elsewhere = Path("/dev/shm")
    if not elsewhere.is_dir() or elsewhere.stat().st_dev == tmp_path.stat().st_dev:
        pytest.skip("no second file system to write on")
    with tempfile.TemporaryDirectory(dir=elsewhere) as folder:
        path = written(Path(folder) / "a.ttl", b"first")
        remembered(tmp_path / "digests", path)
        reads = Reads()
        FileDigests(tmp_path / "digests").digest(path, reads)
        assert reads.paths == [path]


def test_a_record_that_would_not_change_is_not_written_again(tmp_path: Path) -> None:
    """A build with nothing changed (as `make serve` runs one) keeps the record as it is."""
    record, path = tmp_path / "digests", written(tmp_path / "a.ttl", b"first")
    remembered(record, path)
    before = record.stat()
    remembered(record, path)
    assert (record.stat().st_ino, record.stat().st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    written(path, b"other")
    remembered(record, path)
    assert record.stat().st_ino != before.st_ino  # written again, whole, for the changed file


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
    assert "the domestic opioid epidemic" in text
    findings.write_text(text.replace("the domestic opioid", "the national opioid", 1), "utf-8")
    os.utime(findings, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (findings.stat().st_size, findings.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    rebuilt = build(project_copy, work / "dist", work / "store")
    assert "dump patched: 1 input files out, 1 in" in rebuilt.how
    build(project_copy, clean / "dist", clean / "store")
    dump = "opioid-kg.nq"
    assert (work / "dist" / dump).read_bytes() == (clean / "dist" / dump).read_bytes()
    assert b"the national opioid epidemic" in (clean / "dist" / dump).read_bytes()


def test_a_record_giving_a_file_another_files_digest_is_caught_by_reading_both(
    project_copy: Path, tmp_path: Path
) -> None:
    """The record edited to give one file the digest of another of the same graph (the same length):
    the rebuild read again only the first file of that key, took the other's N-Quads out, and failed
    where a clean build passes, as did every rebuild after."""
    work, clean = tmp_path / "work", tmp_path / "clean"
    data = project_copy / "graph" / REPORT / "data"
    first, second, third = (settled(path) for path in sorted(data.glob("*.ttl"))[:3])
    build(project_copy, work / "dist", work / "store")
    build(project_copy, work / "dist", work / "store")  # a rebuild: it records every file's digest
    path = work / PARSED / DIGESTS
    record = json.loads(path.read_bytes())
    record[str(second)][-1] = record[str(first)][-1]
    path.write_text(json.dumps(record, separators=(",", ":")), "utf-8")
    third.write_text(third.read_text("utf-8") + "\n# a comment\n", "utf-8")
    build(project_copy, work / "dist", work / "store")
    build(project_copy, clean / "dist", clean / "store")
    dump = "opioid-kg.nq"
    assert (work / "dist" / dump).read_bytes() == (clean / "dist" / dump).read_bytes()
    # and the record is mended: the next change is patched in again
    third.write_text(third.read_text("utf-8") + "# another\n", "utf-8")
    assert "dump patched: 1 input files out, 1 in" in build(project_copy, work / "dist", work / "store").how


def test_no_record_is_kept_on_a_file_system_whose_stat_may_not_be_the_files_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A network mount's stat may be cached, FAT's change time is its creation time: where the record
    would sit on a file system not known to keep a real change time, every file is read."""
    monkeypatch.setattr(file_digests, "REAL_CHANGE_TIME", set())
    record, path = tmp_path / "digests", written(tmp_path / "a.ttl", b"first")
    remembered(record, path)
    assert not record.exists()  # nothing to record
    reads = Reads()
    FileDigests(record).digest(path, reads)
    assert reads.paths == [path]


def test_the_file_system_is_named_as_the_kernel_lists_it() -> None:
    assert _file_system_type(os.stat("/proc").st_dev) == "proc"
    assert _file_system_type(-1 & 0xFFFFFFFF) is None  # a device no file system has
