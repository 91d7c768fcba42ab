"""Incremental rebuilds: each input file's parse is kept by content hash beside the store, so a rebuild
after one file changed parses that file alone, and writes dist/ byte for byte as a clean build does."""

from __future__ import annotations

from pathlib import Path

from kg.build.pipeline import PARSED, build

REPORT = "000_1bdfefaeb44abb70"


def _files(dist: Path) -> dict[str, bytes]:
    root = dist.resolve()
    return {
        str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()
    }


def test_a_rebuild_after_one_change_parses_that_file_alone_and_matches_a_clean_build(
    project_copy: Path, tmp_path: Path
) -> None:
    store, dist = tmp_path / "work" / "store", tmp_path / "work" / "dist"
    build(project_copy, dist, store)
    cache = store.parent / PARSED
    first = {entry.name: entry.stat().st_mtime_ns for entry in cache.glob("*.nq")}
    assert len(first) > 20  # one entry per input file

    findings = project_copy / "graph" / REPORT / "data" / "findings.ttl"
    text = findings.read_text("utf-8")
    findings.write_text(
        text.replace('"the ongoing opioid overdose epidemic', '"the continuing opioid overdose epidemic')
    )
    build(project_copy, dist, store)
    second = {entry.name: entry.stat().st_mtime_ns for entry in cache.glob("*.nq")}
    assert len(set(first) - set(second)) == 1 and len(set(second) - set(first)) == 1  # the changed file
    assert all(second[name] == first[name] for name in set(first) & set(second))  # read, not rewritten

    clean = tmp_path / "clean"
    build(project_copy, clean / "dist", clean / "store")
    incremental, fresh = _files(dist), _files(clean / "dist")
    assert incremental.keys() == fresh.keys()
    assert [name for name in fresh if incremental[name] != fresh[name]] == []
    assert b"the continuing opioid overdose epidemic" in fresh["opioid-kg.nq"]
