"""A clean build checks a copy of its data in memory while the data is small enough, and its store on
disk past `KG_CHECK_IN_MEMORY_QUADS`: both ways give the same verdict, the same messages and the same
output, whichever order each store answers in."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from test_incremental import _files, _quads
from test_incremental_attacks import FAILING, PASSING, REJECTED_FOR

from kg.build import pipeline
from kg.build.checked_store import MEMORY_VARIABLE, in_memory_up_to
from kg.build.checks import BuildFailed
from kg.build.cube import CHECKS, check_cube_store
from kg.build.pipeline import BuildResult, build
from kg.build.validation import ValidationReport
from kg.errors import KgError
from kg.store import bulk


def _clean(project: Path, folder: Path, monkeypatch: pytest.MonkeyPatch, up_to: str) -> BuildResult:
    """A clean build of `project` into `folder`, checked in memory up to `up_to` quads."""
    monkeypatch.setenv(MEMORY_VARIABLE, up_to)
    shutil.rmtree(folder, ignore_errors=True)
    return build(project, folder / "dist", folder / "store")


def _failure(project: Path, folder: Path, monkeypatch: pytest.MonkeyPatch, up_to: str) -> str:
    with pytest.raises(BuildFailed) as failed:
        _clean(project, folder, monkeypatch, up_to)
    return str(failed.value)


def _every_text_changed(root: Path) -> None:
    for text in sorted(root.glob("sources/*/text.txt")):
        text.write_text(text.read_text("utf-8") + "\nappended\n", "utf-8")


# A misquoting excerpt written as a blank node, cited by three facts with IRIs: the message names one.
BLANK_EXCERPT = """
@prefix dataset: <https://w3id.org/opioid-kg/id/dataset/> .
@prefix obs: <https://w3id.org/opioid-kg/id/observation/> .
_:misquoting a kg:Excerpt ;
    oa:hasSource document:fixture-poppy-estimate ;
    oa:hasSelector [ a oa:TextQuoteSelector ; oa:exact "Not in the text" ] ,
        [ a oa:TextPositionSelector ;
          oa:start "0"^^xsd:nonNegativeInteger ; oa:end "15"^^xsd:nonNegativeInteger ] .
document:fixture-poppy-estimate prov:wasDerivedFrom _:misquoting .
dataset:fixture-poppy-cultivation-area prov:wasDerivedFrom _:misquoting .
obs:fixture-mx-poppy-cultivation-2017 prov:wasDerivedFrom _:misquoting .
"""


def _blank_excerpt_cited_thrice(root: Path) -> None:
    excerpts = root / "graph" / "fixture-poppy-estimate" / "provenance" / "excerpts.ttl"
    excerpts.write_text(excerpts.read_text("utf-8") + BLANK_EXCERPT, "utf-8")


# Changes whose problems several rows of an answer name: reported in an order of their own.
SEVERAL: dict[str, tuple[Callable[[Path], None], str]] = {
    "every source text changed": (_every_text_changed, "not the recorded"),
    "a misquoting excerpt written as a blank node, cited thrice": (
        _blank_excerpt_cited_thrice,
        "Not in the text",
    ),
}
REJECTIONS = {change: (FAILING[change], REJECTED_FOR[change]) for change in FAILING} | SEVERAL


@pytest.mark.parametrize("change", REJECTIONS, ids=list(REJECTIONS))
def test_a_change_is_rejected_alike_checked_in_memory_and_on_disk(
    library: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    make, message = REJECTIONS[change]
    make(library)
    in_memory = _failure(library, tmp_path / "memory", monkeypatch, str(10**9))
    on_disk = _failure(library, tmp_path / "disk", monkeypatch, "0")
    assert message in in_memory
    assert in_memory == on_disk


# Two hierarchical code lists, each with its parent-child property: IC-20 asks once per property.
TWO_HIERARCHIES = """
@prefix qb: <http://purl.org/linked-data/cube#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix e: <http://example.org/> .
e:ds a qb:DataSet ; qb:structure e:dsd .
e:dsd a qb:DataStructureDefinition ; qb:component [ qb:dimension e:dim ], [ qb:measure e:m ] .
e:dim a qb:DimensionProperty, rdf:Property ; rdfs:range e:C ; qb:codeList e:L1, e:L2 .
e:m a qb:MeasureProperty .
e:L1 a qb:HierarchicalCodeList ; qb:hierarchyRoot e:R1 ; qb:parentChildProperty e:p1 .
e:L2 a qb:HierarchicalCodeList ; qb:hierarchyRoot e:R2 ; qb:parentChildProperty e:p2 .
e:R1 e:p1 e:X . e:R2 e:p2 e:Y .
e:obsX a qb:Observation ; qb:dataSet e:ds ; e:dim e:X ; e:m 1 .
e:obsY a qb:Observation ; qb:dataSet e:ds ; e:dim e:Y ; e:m 2 .
"""


def test_a_data_cube_witness_is_named_alike_in_memory_and_on_disk(project_root: Path, tmp_path: Path) -> None:
    graph = ox.NamedNode("http://example.org/g")
    quads = [
        ox.Quad(t.subject, t.predicate, t.object, graph)
        for t in ox.parse(TWO_HIERARCHIES, format=ox.RdfFormat.TURTLE)
    ]
    messages = []
    for store in (ox.Store(), ox.Store(str(tmp_path / "store"))):
        store.extend(quads)
        report = check_cube_store(store, project_root / CHECKS, grouped=True)
        messages.append([violation.message() for violation in report.violations])
    assert any("IC-20" in message for message in messages[0]), messages[0]
    assert messages[0] == messages[1]


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


@pytest.mark.parametrize("given", ["many", "-1", "1e6", "2.5", "²", "١٢"])
def test_a_limit_that_is_not_a_whole_number_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, given: str
) -> None:
    monkeypatch.setenv(MEMORY_VARIABLE, given)
    with pytest.raises(KgError, match=f"{MEMORY_VARIABLE}='{given}': give a whole number of quads"):
        in_memory_up_to()


def _in_memory(store: ox.Store, scratch: Path) -> bool:
    """Whether `store` is held in memory: Oxigraph backs up only a store on disk."""
    try:
        store.backup(str(scratch))
    except RuntimeError as error:
        return "in-memory" in str(error)
    return False


def test_the_checks_read_a_copy_in_memory_that_holds_every_quad(
    library: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real checks, watched: the store they are given, and how many quads it holds."""
    given: list[tuple[bool, int]] = []
    check = pipeline._check

    def watched(store: ox.Store, *args: Any, **options: Any) -> tuple[ValidationReport, int]:
        given.append((_in_memory(store, tmp_path / f"backup-{len(given)}"), len(store)))
        return check(store, *args, **options)

    monkeypatch.setattr(pipeline, "_check", watched)
    result = _clean(library, tmp_path / "memory", monkeypatch, str(10**9))
    data = sum(count for name, count in result.triples_per_graph.items() if name != "shapes")
    _clean(library, tmp_path / "disk", monkeypatch, "0")
    assert given == [(True, data), (False, data)]


@pytest.mark.parametrize("quads", [0, 1, 6, 7, 8, 14, 15, 50])
def test_a_copy_holds_every_quad_across_its_batches(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, quads: int
) -> None:
    monkeypatch.setattr(bulk, "COPY_BATCH", 7)
    graph = ox.NamedNode("urn:example:graph")
    given = [ox.Quad(ox.NamedNode(f"urn:example:{n}"), graph, ox.Literal(f"{n}")) for n in range(quads)]
    store, copy = ox.Store(str(tmp_path / "store")), ox.Store()
    bulk.bulk_load(store, iter(given), 5, copy=copy)
    assert sorted(map(str, store)) == sorted(map(str, copy)) == sorted(map(str, given))
