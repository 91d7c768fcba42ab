"""Incremental rebuilds: a rebuild starts from the previous generation, re-checks what the change reaches,
and writes dist/ and the store exactly as a clean build of the same inputs does."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import URIRef

from kg.build import pipeline
from kg.build.analyses import CACHE_VARIABLE
from kg.build.checks import BuildFailed
from kg.build.excerpts import excerpt_turtle
from kg.build.parallel import THREADS_VARIABLE
from kg.build.pipeline import PARSED, READ_AHEAD_FROM, BuildResult, build

REPORT = "000_1bdfefaeb44abb70"
FIXTURE = "fixture-poppy-estimate"
ID = "https://w3id.org/opioid-kg/id/"
HTTP_ID = "http://w3id.org/opioid-kg/id/"  # the same names, misspelt with http


def _files(dist: Path) -> dict[str, bytes]:
    root = dist.resolve()
    return {
        str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()
    }


def _quads(store: Path) -> list[str]:
    return sorted(str(quad) for quad in ox.Store.read_only(str(store)))


def _clean(project: Path, tmp_path: Path) -> BuildResult:
    clean = tmp_path / "clean"
    shutil.rmtree(clean, ignore_errors=True)
    return build(project, clean / "dist", clean / "store")


def _same_as_clean(project: Path, tmp_path: Path, rebuilt: BuildResult) -> None:
    clean = _clean(project, tmp_path)
    incremental, fresh = _files(rebuilt.dist), _files(clean.dist)
    assert incremental.keys() == fresh.keys()
    assert [name for name in fresh if incremental[name] != fresh[name]] == []
    assert _quads(rebuilt.store) == _quads(clean.store)


def _rebuild_fails_as_clean(project: Path, tmp_path: Path) -> str:
    """The rebuild in tmp_path/work fails, with the message a clean build of the same inputs fails with."""
    work = tmp_path / "work"
    with pytest.raises(BuildFailed) as incremental:
        build(project, work / "dist", work / "store")
    with pytest.raises(BuildFailed) as clean:
        _clean(project, tmp_path)
    assert str(incremental.value) == str(clean.value)
    return str(clean.value)


def _entries(cache: Path, pattern: str) -> dict[str, int]:
    """The parse cache's entries, with when each was written."""
    return {entry.name: entry.stat().st_mtime_ns for entry in cache.glob(pattern)}


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), "utf-8")


def test_a_rebuild_after_one_change_parses_that_file_alone_and_matches_a_clean_build(
    project_copy: Path, tmp_path: Path
) -> None:
    store, dist = tmp_path / "work" / "store", tmp_path / "work" / "dist"
    assert build(project_copy, dist, store).how.startswith("full build (no previous build)")
    cache = store.parent / PARSED
    first = _entries(cache, "*.nq")
    assert len(first) > 20  # one entry per input file
    tables = _entries(cache, "*.json")
    assert len(tables) == 1  # the report's one table, converted

    findings = project_copy / "graph" / REPORT / "data" / "findings.ttl"
    _edit(findings, '"the domestic opioid epidemic', '"the national opioid epidemic')
    rebuilt = build(project_copy, dist, store)
    second = _entries(cache, "*.nq")
    assert len(set(first) - set(second)) == 1 and len(set(second) - set(first)) == 1  # the changed file
    assert all(second[name] == first[name] for name in set(first) & set(second))  # read, not rewritten
    assert _entries(cache, "*.json") == tables  # not converted again
    assert rebuilt.how.startswith("rebuilt from generation 0001-"), rebuilt.how
    assert "1 quads removed, 1 added" in rebuilt.how and " skipped" in rebuilt.how
    assert "; Data Cube checks skipped;" in rebuilt.how, rebuilt.how  # a finding's statement
    # its chunk, in the whole dataset's TriG and JSON-LD, the data graph's files and the gzipped dump
    patched = "dump patched: 1 input files out, 1 in$"  # the file's N-Quads as they were, and are
    assert re.search(r"; dist/ pieces 5 of \d+ written again; " + patched, rebuilt.how), rebuilt.how
    _same_as_clean(project_copy, tmp_path, rebuilt)
    assert b"the national opioid epidemic" in _files(dist)["opioid-kg.nq"]


def test_a_kept_parse_changed_in_place_is_not_used(project_copy: Path, tmp_path: Path) -> None:
    """An entry of the parse cache edited at its own size (or damaged on disk) went into the next
    build's output as if its input file said so: each entry holds its digest, and one that does not
    match is made again."""
    store, dist = tmp_path / "work" / "store", tmp_path / "work" / "dist"
    build(project_copy, dist, store)
    finding = b'"the domestic opioid epidemic'
    [entry] = [entry for entry in (store.parent / PARSED).glob("*.nq") if finding in entry.read_bytes()]
    entry.write_bytes(entry.read_bytes().replace(finding, finding.upper()))
    # so that the next build parses every file, from the cache where it can
    _edit(
        project_copy / "ontology" / "opioid-kg.ttl",
        "owl:Ontology ;",
        'owl:Ontology ;\n    rdfs:comment "A."@en ;',
    )
    rebuilt = build(project_copy, dist, store)
    assert rebuilt.how.startswith("full build (the ontology changed)"), rebuilt.how
    _same_as_clean(project_copy, tmp_path, rebuilt)


GIVEN_TWICE = f'<{ID}substance/fentanyl> <http://www.w3.org/2000/01/rdf-schema#comment> "w"@en .'


def _one_more(found: re.Match[bytes]) -> bytes:
    """The count matched as group 2, its last digit one more (nine becomes zero): the same length."""
    count = found.group(2)
    return found.group(1) + count[:-1] + str((int(count[-1:]) + 1) % 10).encode()


@pytest.mark.parametrize(
    ("record", "count"),
    [
        ("facts.json", rb'(/graph/shapes": )(\d+)'),  # a chunk's triples in the shapes graph
        ("build.json", rb'(/graph/data> \.\\n": )(\d+)'),  # the files giving the line given twice
    ],
)
def test_a_generations_record_changed_in_place_is_not_used(
    project_copy: Path, tmp_path: Path, record: str, count: bytes
) -> None:
    """What the previous generation recorded for the next build (each chunk's facts for the VoID
    description; how many files give a line), edited at its own length: the rebuild copied it into
    its own output (a count off by one, a line no file gives any more), and on into every generation
    after."""
    store, dist = tmp_path / "work" / "store", tmp_path / "work" / "dist"
    data = [project_copy / "graph" / REPORT / "data" / name for name in ("findings.ttl", "flows.ttl")]
    for path in data:  # a line two files give
        path.write_text(path.read_text("utf-8") + f"\n{GIVEN_TWICE}\n", "utf-8")
    build(project_copy, dist, store)
    path = dist.resolve().parent / record
    recorded = path.read_bytes()
    changed, edits = re.subn(count, _one_more, recorded, count=1)
    assert edits == 1 and len(changed) == len(recorded), recorded
    path.write_bytes(changed)
    for path in data:
        _edit(path, GIVEN_TWICE, "")
    _same_as_clean(project_copy, tmp_path, build(project_copy, dist, store))


def test_a_kept_analysis_changed_is_not_used(
    library: Path, library_work: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each shape query's kept analysis rewritten to reach nothing: the rebuild after a change that
    breaks a rule took the analyses at their word and asked no query again."""
    analyses = tmp_path / "analyses"
    monkeypatch.setenv(CACHE_VARIABLE, str(analyses))
    _common_edit(library)
    build(library, library_work / "dist", library_work / "store")  # made the analyses it needs
    kept = list(analyses.rglob("*.json"))
    assert kept
    for entry in kept:
        entry.write_bytes(b"[]")
    statistics = library / "graph" / FIXTURE / "data" / "statistics.ttl"
    _edit(statistics, "kg:refPeriod period:2017 ;", "kg:refPeriod period:fy2017 ;")
    assert "SeriesPeriodKindShape" in _rebuild_fails_as_clean(library, tmp_path)


def test_a_small_clean_build_does_not_read_ahead(
    project_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Below `READ_AHEAD_FROM` triples validation takes a second or two, which the read-ahead's Python
    work would make several times longer: the clean build reads none, and the first rebuild reads
    what it asks."""
    analyses = tmp_path / "analyses"
    monkeypatch.setenv(CACHE_VARIABLE, str(analyses))
    store, dist = tmp_path / "work" / "store", tmp_path / "work" / "dist"
    assert sum(build(project_copy, dist, store).triples_per_graph.values()) < READ_AHEAD_FROM
    assert not list(analyses.rglob("*.json"))
    findings = project_copy / "graph" / REPORT / "data" / "findings.ttl"
    _edit(findings, '"the domestic opioid epidemic', '"the national opioid epidemic')
    build(project_copy, dist, store)
    assert list(analyses.rglob("*.json"))


def test_a_clean_build_with_one_turn_does_not_read_ahead(
    project_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With one query thread the read-ahead would hold the only turn and validation would wait for it:
    whatever the size, the clean build then reads none ahead."""
    analyses = tmp_path / "analyses"
    monkeypatch.setenv(CACHE_VARIABLE, str(analyses))
    monkeypatch.setenv(THREADS_VARIABLE, "1")
    monkeypatch.setattr(pipeline, "READ_AHEAD_FROM", 0)  # the curated project counts as large
    build(project_copy, tmp_path / "work" / "dist", tmp_path / "work" / "store")
    assert not list(analyses.rglob("*.json"))


def test_a_rebuild_after_no_change_asks_no_shape_query_and_reads_none(
    library: Path, library_work: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every answer of the previous generation, which conforms, stands: not one query is asked, nor
    read for its patterns (which costs seconds on a new project), no text is checked again (in a copy
    of the project and its build, too), and the output is the same."""
    analyses = tmp_path / "analyses"
    monkeypatch.setenv(CACHE_VARIABLE, str(analyses))
    before = _files(library_work / "dist")
    rebuilt = build(library, library_work / "dist", library_work / "store")
    assert "0 quads removed, 0 added; 0 documents and 0 excerpts re-checked" in rebuilt.how, rebuilt.how
    skipped = r"shape queries \d+ skipped, 0 restricted, 0 whole; Data Cube checks skipped; "
    # no dump sorted; the tables' N-Triples name their paths, which the copy moved: read, and the same
    patched = r"dump patched: 2 input files out, 2 in$"
    assert re.search(skipped + r"dist/ pieces 0 of \d+ written again; " + patched, rebuilt.how), rebuilt.how
    assert not list(analyses.rglob("*.json"))
    assert _files(library_work / "dist") == before


def _move_fixture(library: Path, aside: Path) -> None:
    for folder in ("graph", "sources"):
        shutil.move(library / folder / FIXTURE, aside / folder)


def _restore_fixture(library: Path, aside: Path) -> None:
    for folder in ("graph", "sources"):
        shutil.move(aside / folder, library / folder / FIXTURE)


def _common_edit(library: Path) -> None:
    _edit(
        library / "graph" / "common" / "data" / "periods.ttl",
        "period:2017 a kg:CalendarYear ;",
        'period:2017 a kg:CalendarYear ;\n    rdfs:comment "The calendar year 2017."@en ;',
    )


@pytest.mark.parametrize(
    ("change", "how", "cube"),
    [
        # the fixture's one data set, asked of the Data Cube constraints alone
        ("source removed", "rebuilt from generation", "Data Cube checks run on 1 data sets"),
        ("source added", "rebuilt from generation", "Data Cube checks run on 1 data sets"),
        ("common changed", "rebuilt from generation", "Data Cube checks skipped"),  # a comment on a year
        ("ontology changed", "full build (the ontology changed)", ""),
        ("shapes changed", "full build (the shapes changed)", ""),
    ],
)
def test_each_kind_of_change_matches_a_clean_build(
    library: Path, tmp_path: Path, change: str, how: str, cube: str
) -> None:
    aside = tmp_path / "aside"
    aside.mkdir()
    if change == "source added":
        _move_fixture(library, aside)
    store, dist = tmp_path / "work" / "store", tmp_path / "work" / "dist"
    build(library, dist, store)
    changes: dict[str, Callable[[], None]] = {
        "source removed": lambda: _move_fixture(library, aside),
        "source added": lambda: _restore_fixture(library, aside),
        "common changed": lambda: _common_edit(library),
        "ontology changed": lambda: _edit(
            library / "ontology" / "opioid-kg.ttl",
            "owl:Ontology ;",
            'owl:Ontology ;\n    rdfs:comment "A comment."@en ;',
        ),
        "shapes changed": lambda: _edit(
            library / "ontology" / "shapes.ttl",
            'rdfs:label "Every fact has evidence"@en ;',
            'rdfs:label "Every fact has evidence"@en ;\n    rdfs:comment "A comment."@en ;',
        ),
    }
    changes[change]()
    rebuilt = build(library, dist, store)
    assert rebuilt.how.startswith(how) and cube in rebuilt.how, rebuilt.how
    # One count of the excerpts compared again, in the summary's two places (it gave 10 and 2).
    rechecked = re.search(r"and (\d+) excerpts re-checked", rebuilt.how)
    assert rechecked is None or int(rechecked.group(1)) == rebuilt.excerpts_checked, rebuilt.how
    assert ("dump patched" in rebuilt.how) == how.startswith("rebuilt"), rebuilt.how  # else sorted whole
    _same_as_clean(library, tmp_path, rebuilt)


@pytest.mark.parametrize("walk_limit", [20_000, 3], ids=["walked", "series-compared"])
def test_a_violation_seen_only_through_another_source_is_found(
    library: Path, library_work: Path, tmp_path: Path, walk_limit: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fixture's figure moved to a fiscal year makes the report's calendar-year figures of the same
    series (one measure, one area) violate the series rule: their own triples did not change. Found
    by the walks through the series, or, where they give up, by the series with a fiscal year asked
    of the previous store and of the new one (`kg.build.reach.Table`)."""
    monkeypatch.setattr("kg.build.reach.WALK_LIMIT", walk_limit)
    store, dist = library_work / "store", library_work / "dist"
    _common_edit(library)
    assert build(library, dist, store).how.startswith("rebuilt from generation")
    statistics = library / "graph" / FIXTURE / "data" / "statistics.ttl"
    _edit(statistics, "kg:refPeriod period:2017 ;", "kg:refPeriod period:fy2017 ;")
    failure = _rebuild_fails_as_clean(library, tmp_path)
    focus = [line.split(": ", 1)[1] for line in failure.splitlines() if "focus node:" in line]
    assert "SeriesPeriodKindShape" in failure
    assert focus and not [node for node in focus if "fixture" in node]  # all the report's


def test_a_statement_moved_to_another_fiscal_year_of_its_series_rebuilds_as_a_clean_build(
    library: Path, library_work: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The series with a fiscal year stay the same, so where the walks through the series give up, the
    series rule is asked of the changed statement alone: the result is still a clean build's."""
    monkeypatch.setattr("kg.build.reach.WALK_LIMIT", 3)
    statistics = library / "graph" / REPORT / "data" / "statistics.ttl"
    dod = "kg:refPeriod period:fy2017 ;\n    kg:program program:dod-counterdrug-support"
    _edit(statistics, dod, dod.replace("fy2017", "fy2016"))
    rebuilt = build(library, library_work / "dist", library_work / "store")
    assert rebuilt.how.startswith("rebuilt from generation"), rebuilt.how
    assert "(sub-SELECTs compared with the previous store: 1, the same: 1)" in rebuilt.how, rebuilt.how
    _same_as_clean(library, tmp_path, rebuilt)


def test_a_duplicate_observation_in_one_source_fails_the_rebuild_as_a_clean_build(
    library: Path, library_work: Path, tmp_path: Path
) -> None:
    """A second observation of the fixture's data set with the same dimensions fails IC-12, asked about
    that data set alone, and the rebuild names the pair a clean build names."""
    statistics = library / "graph" / FIXTURE / "data" / "statistics.ttl"
    text = statistics.read_text("utf-8")
    start = text.index("obs:fixture-mx-poppy-cultivation-2017 a qb:Observation")
    twin = text[start:].replace(
        "obs:fixture-mx-poppy-cultivation-2017 ", "obs:fixture-mx-poppy-cultivation-2017-twin ", 1
    )
    statistics.write_text(text + "\n" + twin, "utf-8")
    failure = _rebuild_fails_as_clean(library, tmp_path)
    assert (
        "IC-12. No duplicate observations" in failure and "fixture-mx-poppy-cultivation-2017-twin" in failure
    )


def test_a_changed_source_text_is_checked_again(library: Path, library_work: Path, tmp_path: Path) -> None:
    text = library / "sources" / FIXTURE / "text.txt"
    text.write_text(text.read_text("utf-8") + "\n", "utf-8")
    failure = _rebuild_fails_as_clean(library, tmp_path)
    assert "SHA-256" in failure


def test_excerpts_citing_a_document_no_longer_described_are_checked_again(
    library: Path, library_work: Path, tmp_path: Path
) -> None:
    """The fixture's report renamed in its metadata: its excerpts, unchanged, now cite a document without
    a text, which a rebuild must find as a clean build does."""
    metadata = library / "sources" / FIXTURE / "source.ttl"
    _edit(metadata, "document:fixture-poppy-estimate a kg:Report ;", "document:fixture-renamed a kg:Report ;")
    failure = _rebuild_fails_as_clean(library, tmp_path)
    assert "has no text under sources/" in failure


def test_a_build_of_one_source_is_rebuilt_from_its_own_generation_and_a_whole_build_from_it(
    library: Path, tmp_path: Path
) -> None:
    """`kg build --source` rebuilds from its previous one-source build; and a build of every source
    over a one-source build (the same outputs given to both) starts from it too. Each equals a clean
    build of the same inputs, byte for byte."""
    work = tmp_path / "work"
    assert build(library, work / "dist", work / "store", FIXTURE).how.startswith("full build")
    statistics = library / "graph" / FIXTURE / "data" / "statistics.ttl"
    _edit(statistics, '"Fixture Estimates Desk"@en', '"Fixture Estimates Office"@en')
    one = build(library, work / "dist", work / "store", FIXTURE)
    assert one.how.startswith("rebuilt from generation 0001-"), one.how
    clean_one = build(library, tmp_path / "clean-one" / "dist", tmp_path / "clean-one" / "store", FIXTURE)
    assert _files(one.dist) == _files(clean_one.dist)
    assert _quads(one.store) == _quads(clean_one.store)
    assert b"Fixture Estimates Office" in _files(one.dist)["opioid-kg.nq"]

    whole = build(library, work / "dist", work / "store")
    assert whole.how.startswith("rebuilt from generation 0002-"), whole.how
    _same_as_clean(library, tmp_path, whole)


def _labelled(path: Path, subject: str) -> Path:
    """A data file at `path` that gives `subject` a label and nothing else, on its line 3."""
    path.write_text(
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n\n"
        f'{subject} rdfs:label "heroin flows from Canada to Peru"@en .\n',
        "utf-8",
    )
    return path


def test_a_thing_without_a_name_or_a_class_stops_the_build_and_the_rebuild_where_it_is_written(
    library: Path, library_work: Path, tmp_path: Path
) -> None:
    """A blank node that nothing refers to is a thing of its own, not part of another's description:
    without a class, no shape asks for its evidence either."""
    extra = _labelled(library / "graph" / FIXTURE / "data" / "zz-anonymous.ttl", "[]")
    failure = _rebuild_fails_as_clean(library, tmp_path)
    assert (
        f'{extra}:3: [ <http://www.w3.org/2000/01/rdf-schema#label> "heroin flows from Canada to Peru"@en ]'
        " has no rdf:type and nothing refers to it"
    ) in failure, failure
    # without a text to find it by, by the first statement whose subject is written as a blank node
    extra.write_text(
        "@prefix kg: <https://w3id.org/opioid-kg/ontology#> .\n"
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        f'<{ID}country/MX> rdfs:seeAlso [ rdfs:label "part of what refers to it" ] .\n'
        f"[ kg:refArea <{ID}country/MX> ] .\n",
        "utf-8",
    )
    failure = _rebuild_fails_as_clean(library, tmp_path)
    assert f"{extra}:4: [ <https://w3id.org/opioid-kg/ontology#refArea> <{ID}country/MX> ] has no" in failure
    assert failure.count("has no rdf:type") == 1, failure
    # referred to only by one another, or by itself, they are no part of a named thing's description
    extra.write_text(
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n\n"
        '_:a rdfs:seeAlso _:b ; rdfs:label "one of two" .\n_:b rdfs:seeAlso _:a .\n_:c rdfs:seeAlso _:c .\n',
        "utf-8",
    )
    failure = _rebuild_fails_as_clean(library, tmp_path)
    assert failure.count("has no rdf:type") == 3, failure
    assert f'{extra}:3: [ <http://www.w3.org/2000/01/rdf-schema#label> "one of two" ; <http' in failure
    # a text given elsewhere first (here "en", a language the shapes name) does not mislead
    extra.write_text(
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n\n"
        f'<{ID}country/MX> rdfs:seeAlso [ rdfs:label "part of what refers to it" ] .\n'
        '[ rdfs:comment "en" ] .\n',
        "utf-8",
    )
    failure = _rebuild_fails_as_clean(library, tmp_path)
    assert f'{extra}:4: [ <http://www.w3.org/2000/01/rdf-schema#comment> "en" ] has no' in failure, failure


def test_a_value_described_nowhere_stops_the_build_and_the_rebuild_where_it_is_named(
    library: Path, library_work: Path, tmp_path: Path
) -> None:
    """A misspelt name (`substance:opium-popy`) is valid RDF and passed every shape that gives its
    property no class: the observation then dropped out of every answer asking for opium poppy. Named
    so, or left named after its description was taken away, or of a vocabulary the graph describes
    (a unit), it stops the build, with the described name it is closest to."""
    statistics = library / "graph" / FIXTURE / "data" / "statistics.ttl"
    _edit(statistics, "kg:substance substance:opium-poppy ;", "kg:substance substance:opium-popy ;")
    failure = _rebuild_fails_as_clean(library, tmp_path)
    assert (
        f"{statistics}:32: <{ID}substance/opium-popy> is described nowhere"
        f" (did you mean <{ID}substance/opium-poppy>?)"
    ) in failure, failure
    _edit(statistics, "kg:substance substance:opium-popy ;", "kg:substance substance:opium-poppy ;")
    # a name of a namespace whose instances the ontology describes (a unit), written in another case
    # too; a link to a web page, to a vocabulary's term or to a page of the project's site is no name
    links = (
        "unit:HAA, <https://example.org/page>, <https://schema.org/Drug>,"
        " <http://purl.org/dc/terms/DCMIType>, <https://w3id.org/opioid-kg/docs/model.html>,"
        f" <https://w3id.org/opioid-kg/graph/data>, <{ID}country/us>, <{HTTP_ID}country/MX>,"
        " <HTTPS://W3ID.org/opioid-kg/id/country/AF>"
    )
    _edit(statistics, "kg:unit unit:HA ;", f"kg:unit unit:HA ; rdfs:seeAlso {links} ;")
    failure = _rebuild_fails_as_clean(library, tmp_path)
    assert (
        f"{statistics}:34: <http://qudt.org/vocab/unit/HAA> is described nowhere"
        " (did you mean <http://qudt.org/vocab/unit/HA>?)"
    ) in failure, failure
    assert f"<{ID}country/us> is described nowhere (did you mean <{ID}country/US>?)" in failure, failure
    # a name of the project's written with http, not https: Mexico's, lost to every question on Mexico
    assert f"<{HTTP_ID}country/MX> is described nowhere (did you mean <{ID}country/MX>?)" in failure, failure
    assert (
        "<HTTPS://W3ID.org/opioid-kg/id/country/AF> is described nowhere"
        f" (did you mean <{ID}country/AF>?)" in failure
    ), failure  # and a scheme and host in capitals
    assert failure.count("is described nowhere") == 4, failure
    _edit(statistics, f" rdfs:seeAlso {links} ;", "")
    # a thing's whole description taken away, an observation still naming it where no shape gives a class
    extra = library / "graph" / FIXTURE / "data" / "zz-extra.ttl"
    extra.write_text(
        "@prefix kg: <https://w3id.org/opioid-kg/ontology#> .\n"
        "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"
        "@prefix prov: <http://www.w3.org/ns/prov#> .\n"
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        f"<{ID}observation/fixture-mx-poppy-cultivation-2017>\n"
        f"    rdfs:seeAlso <{ID}organization/fixture-desk-two> .\n"
        f"<{ID}organization/fixture-desk-two> a kg:GovernmentAgency ;\n"
        '    skos:prefLabel "Fixture Estimates Desk Two"@en ;\n'
        f"    prov:wasDerivedFrom <{ID}excerpt/fixture-cultivation-2017> .\n",
        "utf-8",
    )
    build(library, tmp_path / "work" / "dist", tmp_path / "work" / "store")  # the rebuild's starting point
    extra.write_text(extra.read_text("utf-8").split(f"<{ID}organization/fixture-desk-two> a")[0], "utf-8")
    failure = _rebuild_fails_as_clean(library, tmp_path)
    assert f"{extra}:6: <{ID}organization/fixture-desk-two> is described nowhere" in failure, failure
    assert failure.count("is described nowhere") == 1, failure


def test_a_triple_stated_in_two_graphs_stops_the_build_and_the_rebuild(
    library: Path, library_work: Path, tmp_path: Path
) -> None:
    """The union of the data's graphs, the SPARQL default graph, counts a triple two graphs state twice
    in Oxigraph: the report's class of the DEA's assessment, in the background and the provenance
    graph, made a count of reports 8 for 7."""
    twice = library / "graph" / FIXTURE / "provenance" / "zz-twice.ttl"
    twice.write_text(
        "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n\n"
        f'<{ID}organization/fixture-estimates-desk> skos:prefLabel "Fixture Estimates Desk"@en .\n',
        "utf-8",
    )
    failure = _rebuild_fails_as_clean(library, tmp_path)
    statistics = library / "graph" / FIXTURE / "data" / "statistics.ttl"
    assert f"{statistics}:19 and {twice}:3: <{ID}organization/fixture-estimates-desk>" in failure, failure
    assert '"Fixture Estimates Desk"@en is stated in the data and the provenance graph' in failure, failure


def test_an_excerpt_name_given_in_two_sources_is_named_once_at_both_places(
    library: Path, library_work: Path, tmp_path: Path
) -> None:
    """A curator reusing an excerpt's name of another source got a line for each mix of the two
    sources' selectors ("the source text at 393-7337 is ''…"), never that the name was given twice."""
    reused = library / "graph" / FIXTURE / "provenance" / "zz-reused.ttl"
    reused.write_text(
        "@prefix kg: <https://w3id.org/opioid-kg/ontology#> .\n"
        "@prefix oa: <http://www.w3.org/ns/oa#> .\n"
        "@prefix excerpt: <https://w3id.org/opioid-kg/id/excerpt/> .\n"
        f"excerpt:cultivation-2017 a kg:Excerpt ; oa:hasSource <{ID}document/fixture-poppy-estimate> ;\n"
        "    oa:hasSelector excerpt:fixture-cultivation-2017-quote,\n"
        "        excerpt:fixture-cultivation-2017-position .\n",
        "utf-8",
    )
    failure = _rebuild_fails_as_clean(library, tmp_path)
    report = library / "graph" / "000_1bdfefaeb44abb70" / "provenance" / "excerpts.ttl"
    told = f" and {reused}:4: excerpt {ID}excerpt/cultivation-2017: is described as quoting 2 sources"
    assert told in failure and f"{report}:" in failure.split(told)[0].splitlines()[-1], failure
    assert "the source text at" not in failure, failure


def test_an_excerpt_name_given_twice_in_one_source_is_named_once_at_both_places(
    library: Path, library_work: Path, tmp_path: Path
) -> None:
    """`kg excerpt` with a name the source's excerpts already hold, its Turtle pasted below them, gave
    six lines at the first description, each a mix of the two quotes and positions ("the source text
    at 272-52 is ''"), and never the second description's line."""
    excerpts = library / "graph" / REPORT / "provenance" / "excerpts.ttl"
    text = (library / "sources" / REPORT / "text.txt").read_text("utf-8")
    document = URIRef(f"{ID}document/crs-2018-heroin-fentanyl-mexico")
    pasted = excerpt_turtle(
        "hsp-share", document, text, "Mexican farmers may be cultivating multiple harvests"
    )
    before = excerpts.read_text("utf-8")
    excerpts.write_text(before + "\n" + pasted, "utf-8")
    failure = _rebuild_fails_as_clean(library, tmp_path)
    first = before.splitlines().index("excerpt:hsp-share a kg:Excerpt ;") + 1
    second = len(before.splitlines()) + 2  # after the blank line
    places = f"{excerpts}:{first} and {excerpts}:{second}: excerpt {ID}excerpt/hsp-share"
    assert f"{places}: has several quotes and positions" in failure, failure
    assert "the source text at" not in failure, failure


def test_a_thing_without_a_class_stops_the_build_and_the_rebuild_where_it_is_written(
    library: Path, library_work: Path, tmp_path: Path
) -> None:
    """The evidence a thing needs follows from its class (`EvidenceShape`): a subject with no class
    was reached by no shape, so a fact of it without any excerpt was published. A rebuild finds it
    among the subjects the change reached, as a clean build does among them all: one added so, and
    one whose class was taken away."""
    extra = _labelled(library / "graph" / FIXTURE / "data" / "zz-invented.ttl", f"<{ID}flow/invented>")
    failure = _rebuild_fails_as_clean(library, tmp_path)
    assert f"{extra}:3: <https://w3id.org/opioid-kg/id/flow/invented> has no rdf:type" in failure, failure
    extra.unlink()
    statistics = library / "graph" / FIXTURE / "data" / "statistics.ttl"
    _edit(
        statistics,
        "organization:fixture-estimates-desk a kg:GovernmentAgency ;",
        "organization:fixture-estimates-desk",
    )
    failure = _rebuild_fails_as_clean(library, tmp_path)
    assert f"{statistics}:19: <{ID}organization/fixture-estimates-desk> has no rdf:type" in failure, failure
    # a class given in the shapes' file is no class of the data: validation reads the data without it
    _edit(
        statistics,
        "organization:fixture-estimates-desk",
        "organization:fixture-estimates-desk a kg:GovernmentAgency ;",
    )
    _labelled(extra, f"<{ID}flow/invented>")
    shapes = library / "ontology" / "shapes.ttl"
    shapes.write_text(
        shapes.read_text("utf-8")
        + f"\n<{ID}flow/invented> a <https://w3id.org/opioid-kg/ontology#TraffickingFlow> .\n",
        "utf-8",
    )
    failure = _rebuild_fails_as_clean(library, tmp_path)
    assert f"<{ID}flow/invented> has no rdf:type" in failure, failure
