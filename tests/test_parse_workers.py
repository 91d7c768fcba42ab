"""Input files parsed by worker processes beside the build's own: the same lines, the same dataset,
the same error for the same bad file, and the parse cache kept whole."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from processes import stat_fields

from kg.build import parse_workers
from kg.build.parse_workers import _shares, parse_all
from kg.build.parsing import InputError
from kg.build.pipeline import build
from kg.build.project import input_files

SHARES = 3  # more shares than this machine may have cores: they still run, only slower


def jobs_of(root: Path) -> list[tuple[Path, str]]:
    return [(path, name) for name, paths in input_files(root).items() for path in paths]


def lines(paths: list[Path]) -> list[bytes]:
    return sorted(line for path in paths for line in path.read_bytes().splitlines())


@pytest.fixture
def shared(monkeypatch: pytest.MonkeyPatch) -> None:
    """Parsing shared among SHARES processes, however small the input."""
    monkeypatch.setattr(parse_workers, "usable_cpus", lambda: SHARES)
    monkeypatch.setattr(parse_workers, "SHARED_FROM", 0)


def test_shares_give_the_lines_one_process_gives(project_root: Path, tmp_path: Path, shared: None) -> None:
    jobs = jobs_of(project_root)
    one, _ = parse_all(jobs, tmp_path / "one.nq", None, shared_from=10**12)
    several, _ = parse_all(jobs, tmp_path / "several.nq", None)
    assert len(one) == 1 and len(several) == SHARES
    assert all(path.stat().st_size > 0 for path in several)
    assert lines(several) == lines(one)


def test_a_build_parsed_in_shares_writes_the_same_dataset_and_keeps_its_cache(
    project_root: Path, built, tmp_path: Path, shared: None
) -> None:
    build(project_root, tmp_path / "dist", tmp_path / "store")
    expected = sorted(path.relative_to(built.dist) for path in built.dist.rglob("*") if path.is_file())
    written = sorted(
        path.relative_to(tmp_path / "dist") for path in (tmp_path / "dist").rglob("*") if path.is_file()
    )
    assert written == expected
    for relative in expected:
        assert (tmp_path / "dist" / relative).read_bytes() == (built.dist / relative).read_bytes(), relative
    # what the workers parsed is kept for the next build, as what the build's own process parsed
    kept = {path.name for path in (tmp_path / "parsed").iterdir()}
    assert kept == {path.name for path in (built.store_path.parent / "parsed").iterdir()}


def boundaries(jobs: list[tuple[Path, str]]) -> dict[str, int]:
    """The positions, in the files' order, of the files at the edges of the workers' shares."""
    sizes = [path.stat().st_size for path, _ in jobs]
    first, second, _ = (len(share) for share in _shares(jobs, sizes, SHARES))
    return {
        "first": 0,
        "worker-1-start": first,
        "worker-1-end": first + second - 1,
        "worker-2-start": first + second,
        "last": len(jobs) - 1,
    }


@pytest.mark.parametrize(
    "broken",
    [("last",), ("worker-1-end", "worker-2-start"), ("worker-1-start", "last"), ("first", "last")],
    ids="+".join,
)
def test_the_first_bad_file_is_named_as_one_process_names_it(
    project_copy: Path, tmp_path: Path, shared: None, broken: tuple[str, ...]
) -> None:
    """The workers finish in any order; the bad file reported is the first in the files' order."""
    jobs = jobs_of(project_copy)
    at = boundaries(jobs)
    before = set(children())  # the servers other tests of this process started
    for edge in broken:
        path = jobs[at[edge]][0]
        path.write_text(path.read_text("utf-8") + "\nthis is not Turtle .\n", "utf-8")
    with pytest.raises(InputError) as alone:
        parse_all(jobs, tmp_path / "one.nq", None, shared_from=10**12)
    with pytest.raises(InputError) as in_shares:
        parse_all(jobs, tmp_path / "several.nq", None)
    assert str(jobs[at[broken[0]]][0]) in str(alone.value)
    assert str(in_shares.value) == str(alone.value)
    assert (in_shares.value.line, in_shares.value.column) == (alone.value.line, alone.value.column)
    assert set(children()) - before == set()  # every worker ended and waited for


def children() -> list[int]:
    """The processes this one started that are still there (zombies included)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := stat_fields(entry)) is not None and int(fields[1]) == os.getpid():
            found.append(int(entry))
    return found
