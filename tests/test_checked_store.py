"""A clean build checks a copy of its data in memory while the data is small enough, and its store on
disk past `KG_CHECK_IN_MEMORY_QUADS`: both ways give the same verdict, the same messages and the same
output, whichever order each store answers in."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from test_incremental import _files, _quads
from test_incremental_attacks import FAILING, PASSING, REJECTED_FOR

from kg.build.checked_store import MEMORY_VARIABLE, in_memory_up_to
from kg.build.checks import BuildFailed
from kg.build.pipeline import BuildResult, build
from kg.errors import KgError


def _clean(project: Path, folder: Path, monkeypatch: pytest.MonkeyPatch, up_to: str) -> BuildResult:
    """A clean build of `project` into `folder`, checked in memory up to `up_to` quads."""
    monkeypatch.setenv(MEMORY_VARIABLE, up_to)
    shutil.rmtree(folder, ignore_errors=True)
    return build(project, folder / "dist", folder / "store")


def _failure(project: Path, folder: Path, monkeypatch: pytest.MonkeyPatch, up_to: str) -> str:
    with pytest.raises(BuildFailed) as failed:
        _clean(project, folder, monkeypatch, up_to)
    return str(failed.value)


@pytest.mark.parametrize("change", FAILING, ids=list(FAILING))
def test_a_change_is_rejected_alike_checked_in_memory_and_on_disk(
    library: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    FAILING[change](library)
    in_memory = _failure(library, tmp_path / "memory", monkeypatch, str(10**9))
    on_disk = _failure(library, tmp_path / "disk", monkeypatch, "0")
    assert REJECTED_FOR[change] in in_memory
    assert in_memory == on_disk


@pytest.mark.parametrize("change", PASSING, ids=list(PASSING))
def test_a_build_checked_in_memory_writes_what_one_checked_on_disk_writes(
    library: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    PASSING[change](library)
    in_memory = _clean(library, tmp_path / "memory", monkeypatch, str(10**9))
    on_disk = _clean(library, tmp_path / "disk", monkeypatch, "0")
    assert in_memory.how.endswith(", checked in memory"), in_memory.how
    assert on_disk.how.endswith(", checked on disk"), on_disk.how
    assert in_memory.violations == on_disk.violations == 0
    assert in_memory.excerpts_checked == on_disk.excerpts_checked > 0
    assert _files(in_memory.dist) == _files(on_disk.dist)
    assert _quads(in_memory.store) == _quads(on_disk.store)


def test_the_limit_counts_the_build_s_quads(
    library: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checked in memory at exactly the limit, on disk one quad past it."""
    total = sum(_clean(library, tmp_path / "first", monkeypatch, "0").triples_per_graph.values())
    assert _clean(library, tmp_path / "at", monkeypatch, str(total)).how.endswith("checked in memory")
    assert _clean(library, tmp_path / "past", monkeypatch, str(total - 1)).how.endswith("checked on disk")


@pytest.mark.parametrize("given", ["many", "-1", "1e6", "2.5"])
def test_a_limit_that_is_not_a_whole_number_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, given: str
) -> None:
    monkeypatch.setenv(MEMORY_VARIABLE, given)
    with pytest.raises(KgError, match=f"{MEMORY_VARIABLE}='{given}': give a whole number of quads"):
        in_memory_up_to()
