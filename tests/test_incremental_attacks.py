"""Changes chosen to find a rebuild that misses what a clean build of the same inputs finds: each is
built once, changed, and rebuilt; the rebuild must fail with the clean build's message, or succeed with
its dist/ and store."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from test_incremental import FIXTURE, REPORT, _edit, _rebuild_fails_as_clean, _same_as_clean

from kg.build.cube import CHECKS
from kg.build.pipeline import build
from kg.build.tables import TableError

COMMON = Path("graph") / "common"
STATISTICS = Path("graph") / FIXTURE / "data" / "statistics.ttl"
METADATA = Path("sources") / FIXTURE / "source.ttl"
POPPY_TABLE = Path("graph") / REPORT / "tables" / "poppy-cultivation.csv"
DESK = "organization:fixture-estimates-desk"
OBSERVATION_END = "prov:wasDerivedFrom excerpt:fixture-cultivation-2017 .\n"


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text("utf-8") + text, "utf-8")


def _observation(root: Path, triples: str) -> None:
    """More triples on the fixture's observation (its block is the last of its file)."""
    statistics = root / STATISTICS
    text = statistics.read_text("utf-8")
    assert text.endswith(OBSERVATION_END)
    statistics.write_text(text[: -len(" .\n")] + " ;\n    " + triples + " .\n", "utf-8")


def _publisher_and_label(root: Path) -> None:
    """Two files at once: the report's publisher another agent, and the desk renamed so that the
    excerpt quoting the observation no longer names it."""
    _edit(root / METADATA, f"dcterms:publisher {DESK} ;", "dcterms:publisher organization:ondcp ;")
    _edit(root / STATISTICS, '"Fixture Estimates Desk"@en', '"Fixture Desk"@en')


def _excerpt_named_with_a_no_break_space(root: Path) -> None:
    """A valid excerpt whose IRI holds U+00A0, which IRIs allow and both parsers read, cited by a fact."""
    excerpt = "<https://w3id.org/opioid-kg/id/excerpt/fixture\u00a0title>"
    _append(
        root / "graph" / FIXTURE / "provenance" / "excerpts.ttl",
        f"{excerpt} a kg:Excerpt ;\n"
        "    oa:hasSource document:fixture-poppy-estimate ;\n"
        "    oa:hasSelector excerpt:fixture-not-a-report-quote , excerpt:fixture-not-a-report-position .\n"
        f"obs:fixture-mx-poppy-cultivation-2017 prov:wasDerivedFrom {excerpt} .\n",
    )


def _excerpt_quoted_twice_at_two_places(root: Path) -> None:
    """One excerpt with two quote and two position selectors, none matching: its four rows tie on
    source and excerpt."""
    _append(
        root / "graph" / FIXTURE / "provenance" / "excerpts.ttl",
        "excerpt:fixture-twice a kg:Excerpt ;\n"
        "    oa:hasSource document:fixture-poppy-estimate ;\n"
        "    oa:hasSelector excerpt:fixture-twice-q1 , excerpt:fixture-twice-q2 ,\n"
        "        excerpt:fixture-twice-p1 , excerpt:fixture-twice-p2 .\n"
        'excerpt:fixture-twice-q1 a oa:TextQuoteSelector ; oa:exact "zeta" .\n'
        'excerpt:fixture-twice-q2 a oa:TextQuoteSelector ; oa:exact "alpha" .\n'
        "excerpt:fixture-twice-p1 a oa:TextPositionSelector ;\n"
        '    oa:start "0"^^xsd:nonNegativeInteger ; oa:end "4"^^xsd:nonNegativeInteger .\n'
        "excerpt:fixture-twice-p2 a oa:TextPositionSelector ;\n"
        '    oa:start "5"^^xsd:nonNegativeInteger ; oa:end "12"^^xsd:nonNegativeInteger .\n'
        "obs:fixture-mx-poppy-cultivation-2017 prov:wasDerivedFrom excerpt:fixture-twice .\n",
    )


def _misquote_in_both_sources(root: Path) -> None:
    """A named excerpt of each source quoting a word its text does not have."""
    _edit(root / "graph" / FIXTURE / "provenance" / "excerpts.ttl", "cultivated in Mexico", "grown in Mexico")
    _edit(
        root / "graph" / REPORT / "provenance" / "excerpts.ttl",
        '"Mexican farmers may be',
        '"Mexican farmers must be',
    )


FAILING: dict[str, Callable[[Path], None]] = {
    # reached only through rdf:type, on a period every source shares
    "a shared period typed a fiscal year": lambda root: _append(
        root / STATISTICS, "period:2017 a kg:FiscalYear .\n"
    ),
    # a type removed: the agent the observation is attributed to is no longer an agent
    "an agent's type removed": lambda root: _edit(
        root / STATISTICS, f"{DESK} a kg:GovernmentAgency ;", f"{DESK}"
    ),
    # a removal seen through FILTER NOT EXISTS
    "a period's beginning removed": lambda root: _edit(
        root / COMMON / "data" / "periods.ttl", "time:hasBeginning instant:2013-01-01 ;", ""
    ),
    # a literal two steps from the focus nodes, shared by the areas within the country
    "a country's code changed": lambda root: _edit(
        root / COMMON / "background" / "iso-3166.ttl",
        'country:MX kg:isoCode "MX"',
        'country:MX kg:isoCode "MQ"',
    ),
    # a new focus node of sh:targetSubjectsOf
    "a context excerpt that is also the quote": lambda root: _observation(
        root, "kg:contextExcerpt excerpt:fixture-cultivation-2017"
    ),
    # a blank node as a value
    "a blank node attributed": lambda root: _observation(root, "prov:wasAttributedTo [ a kg:Report ]"),
    "the only citation of an excerpt removed": lambda root: _edit(
        root / METADATA, " ;\n    prov:wasDerivedFrom excerpt:fixture-not-a-report .", " ."
    ),
    # the data set moved to a structure without the observation's measure (a sub-pattern under NOT EXISTS)
    "a data set's structure changed": lambda root: _edit(
        root / STATISTICS,
        "qb:structure dataset:structure-poppy-cultivation-area",
        "qb:structure dataset:structure-heroin-seizures",
    ),
    # a cycle closed through a repeated path, in a file other than the chain's
    "a derivation cycle": lambda root: _append(
        root / STATISTICS,
        "@prefix substance: <https://w3id.org/opioid-kg/id/substance/> .\n"
        "substance:opium-poppy kg:derivedFrom substance:morphine .\n",
    ),
    # the report's publisher and the agent's label changed in two files
    "attribution broken by two files": _publisher_and_label,
    # a second English label on a concept scheme in common
    "a second English label": lambda root: _append(
        root / STATISTICS,
        "@prefix scheme: <https://w3id.org/opioid-kg/id/scheme/> .\n"
        'organization:fixture-estimates-desk skos:prefLabel "Another desk"@en .\n',
    ),
    # a dimension's value removed from an observation: read by the Data Cube checks only through
    # a variable bound to the structure's components (IC-11)
    "an observation's dimension removed": lambda root: _edit(
        root / STATISTICS, "    kg:refPeriod period:2017 ;\n", ""
    ),
    # a Data Cube check itself changed, and no quad: the rebuild must run the checks again
    "a Data Cube check changed": lambda root: (root / CHECKS / "ic-01.rq").write_text(
        (root / CHECKS / "ic-01.rq").read_text("utf-8").split("ASK")[0] + "ASK {}\n", "utf-8"
    ),
    # a row of a table moved to a fiscal year (its column no longer typed a year, which fy2016 is not)
    "a table's row moved to a fiscal year": lambda root: (
        _edit(root / f"{POPPY_TABLE}-metadata.json", '"datatype": "gYear",', ""),
        _edit(
            root / POPPY_TABLE,
            'mx-poppy-cultivation-2016,"Opium poppy cultivation area, Mexico, 2016",2016,',
            'mx-poppy-cultivation-2016,"Opium poppy cultivation area, Mexico, 2016",fy2016,',
        ),
    ),
    # a figure its quote does not write: a rebuild checks the statements its change reached
    "a table's figure changed": lambda root: _edit(root / POPPY_TABLE, ",2016,MX,32000,", ",2016,MX,32001,"),
    # the sentence under a quote changed: run after the figure's change in one process, it failed on
    # a store iterator that change's failed check had left to be freed on another thread
    "a quote without its figure": lambda root: _edit(
        root / "sources" / FIXTURE / "text.txt", "44,100 and 32,000", "44,100 and 32,001"
    ),
}


# What the clean build's message (and so the rebuild's) says for each change.
REJECTED_FOR = {
    "a shared period typed a fiscal year": "must not mix calendar and fiscal years",
    "a table's figure changed": "32001 is not a figure its excerpts write",
    "a quote without its figure": "excerpts do not match their sources",
    "an agent's type removed": "fixture-estimates-desk> has no rdf:type",
    "a period's beginning removed": "A period has exactly one beginning instant",
    "a country's code changed": "must start with the code of the country",
    "a context excerpt that is also the quote": "A context excerpt stands beside a quoting excerpt",
    "a blank node attributed": "an excerpt (quoting or kg:contextExcerpt) that names the agent",
    "the only citation of an excerpt removed": "An excerpt that no fact cites",
    "a data set's structure changed": "must be a component of its data set's structure",
    "a derivation cycle": "cannot be derived, directly or indirectly, from itself",
    "attribution broken by two files": "an excerpt (quoting or kg:contextExcerpt) that names the agent",
    "a second English label": "Needs exactly one English skos:prefLabel",
    "a table's row moved to a fiscal year": "must not mix calendar and fiscal years",
    "an observation's dimension removed": "IC-11. All dimensions required",
    "a Data Cube check changed": "IC-1. Unique DataSet",
}


@pytest.mark.parametrize("change", FAILING, ids=list(FAILING))
def test_a_change_a_clean_build_rejects_is_rejected_by_a_rebuild(
    library: Path, library_work: Path, tmp_path: Path, change: str
) -> None:
    FAILING[change](library)
    assert REJECTED_FOR[change] in _rebuild_fails_as_clean(library, tmp_path)


PASSING: dict[str, Callable[[Path], None]] = {
    "a blank node added": lambda root: _observation(root, 'rdfs:comment [ rdfs:label "a note"@en ]'),
    # A table's cell changed (not a figure: the build checks each against its excerpt's words).
    "a table's label changed": lambda root: _edit(root / POPPY_TABLE, "Mexico, 2016", "Mexico (ONDCP), 2016"),
    # read again by a rebuild as a parameter of `excerpt-selectors-of`
    "an excerpt named with a no-break space": _excerpt_named_with_a_no_break_space,
}


@pytest.mark.parametrize("change", PASSING, ids=list(PASSING))
def test_a_change_a_clean_build_accepts_is_rebuilt_as_a_clean_build(
    library: Path, library_work: Path, tmp_path: Path, change: str
) -> None:
    store, dist = library_work / "store", library_work / "dist"
    PASSING[change](library)
    rebuilt = build(library, dist, store)
    assert rebuilt.how.startswith("rebuilt from generation"), rebuilt.how
    _same_as_clean(library, tmp_path, rebuilt)


# A rule whose OPTIONAL names a variable (?value) one step from the focus node that its required
# patterns reach only in three: the observation is attributed to every publisher of its data set's source.
EVERY_PUBLISHER = '''
kgsh:EveryPublisherShape a sh:NodeShape ;
    sh:targetNode <https://w3id.org/opioid-kg/id/observation/fixture-mx-poppy-cultivation-2017> ;
    sh:sparql [
        a sh:SPARQLConstraint ;
        sh:message "An observation is attributed to every publisher of its data set's source."@en ;
        sh:prefixes kgsh: ;
        sh:select """
            SELECT $this ?value WHERE {
                $this qb:dataSet ?dataset .
                ?dataset <http://purl.org/dc/terms/source> ?document .
                ?document <http://purl.org/dc/terms/publisher> ?value .
                OPTIONAL { $this <http://www.w3.org/ns/prov#wasAttributedTo> ?value . BIND (true AS ?same) }
                FILTER (!BOUND(?same))
            }
        """ ;
    ] .
'''


def test_a_value_reached_early_through_an_optional_pattern_is_walked_from_far_enough(
    library: Path, tmp_path: Path
) -> None:
    """A second publisher of the fixture's report: three required steps from the observation, one
    through the OPTIONAL pattern that does not match."""
    _append(library / "ontology" / "shapes.ttl", EVERY_PUBLISHER)
    build(library, tmp_path / "work" / "dist", tmp_path / "work" / "store")
    _edit(
        library / METADATA, f"dcterms:publisher {DESK} ;", f"dcterms:publisher {DESK} , organization:ondcp ;"
    )
    failure = _rebuild_fails_as_clean(library, tmp_path)
    assert "every publisher" in failure


def test_named_excerpts_misquoted_in_two_sources_are_reported_by_a_rebuild_in_source_order(
    library: Path, library_work: Path, tmp_path: Path
) -> None:
    """A rebuild reads again only the excerpts the change names (`excerpt-selectors-of`), a clean build
    every excerpt: both report each misquote, by source (the report's IRI sorts before the fixture's)."""
    _misquote_in_both_sources(library)
    failure = _rebuild_fails_as_clean(library, tmp_path)
    report = failure.index("not the quoted 'Mexican farmers must be")
    fixture = failure.index("the opium poppy grown in Mexico")
    assert report < fixture, failure


def test_the_rows_of_one_excerpt_are_reported_alike_by_a_rebuild_and_a_clean_build(
    library: Path, library_work: Path, tmp_path: Path
) -> None:
    """The rebuild and the clean build read the excerpts by different queries, whose rows come in
    different orders: each problem is reported in one order however they came."""
    _excerpt_quoted_twice_at_two_places(library)
    said = "excerpt/fixture-twice: has several quotes and positions, where an excerpt is one quote at one"
    assert said in _rebuild_fails_as_clean(library, tmp_path)


@pytest.mark.parametrize("start", ["0.5", '"zero"', "-1"])
def test_a_position_that_is_not_a_whole_number_is_reported_at_its_excerpt(
    library: Path, library_work: Path, tmp_path: Path, start: str
) -> None:
    """Before its datatype is validated, the excerpt check reads a position: one that is no whole number
    is a problem of its excerpt, with or without a quote, not a crash."""
    _append(
        library / "graph" / FIXTURE / "provenance" / "excerpts.ttl",
        "excerpt:fixture-decimal a kg:Excerpt ;\n"
        "    oa:hasSource document:fixture-poppy-estimate ;\n"
        "    oa:hasSelector excerpt:fixture-not-a-report-quote , excerpt:fixture-decimal-position .\n"
        f"excerpt:fixture-decimal-position a oa:TextPositionSelector ; oa:start {start} ; oa:end 26 .\n"
        "obs:fixture-mx-poppy-cultivation-2017 prov:wasDerivedFrom excerpt:fixture-decimal .\n",
    )
    failure = _rebuild_fails_as_clean(library, tmp_path)
    assert "fixture-decimal" in failure and "a position of whole numbers" in failure, failure


def test_a_misquoting_excerpt_written_as_a_blank_node_is_checked_against_its_text(
    library: Path, library_work: Path, tmp_path: Path
) -> None:
    """An excerpt without an IRI, well formed but quoting what its source does not say at its position."""
    _append(
        library / "graph" / FIXTURE / "provenance" / "excerpts.ttl",
        "obs:fixture-mx-poppy-cultivation-2017 prov:wasDerivedFrom [ a kg:Excerpt ;\n"
        "    oa:hasSource document:fixture-poppy-estimate ;\n"
        '    oa:hasSelector [ a oa:TextQuoteSelector ; oa:exact "Test fixture, not a repor!" ] ,\n'
        '        [ a oa:TextPositionSelector ; oa:start "0"^^xsd:nonNegativeInteger ;\n'
        '          oa:end "26"^^xsd:nonNegativeInteger ] ] .\n',
    )
    failure = _rebuild_fails_as_clean(library, tmp_path)
    assert "not the quoted 'Test fixture, not a repor!'" in failure
    # Named by the fact that cites it, where that fact is written, not by a label the parser made up.
    line = next(line for line in failure.splitlines() if "repor!" in line)
    assert re.match(r"\S+\.ttl:\d+: the excerpt \S+fixture-mx-poppy-cultivation-2017 cites: ", line), line


def test_a_table_whose_dialect_is_a_file_of_its_own_is_read_again_when_that_file_changes(
    library: Path, tmp_path: Path
) -> None:
    """A table's description that names another file (its dialect here) is converted on every build,
    so a change to that file alone is seen."""
    metadata = library / POPPY_TABLE.with_name("poppy-cultivation.csv-metadata.json")
    dialect = metadata.with_name("dialect.json")
    dialect.write_text('{"delimiter": ","}', "utf-8")
    description = json.loads(metadata.read_text("utf-8"))
    metadata.write_text(json.dumps({**description, "dialect": dialect.name}), "utf-8")
    build(library, tmp_path / "work" / "dist", tmp_path / "work" / "store")
    dialect.write_text('{"delimiter": ";"}', "utf-8")  # the CSV no longer reads with it
    with pytest.raises(TableError) as rebuilt:
        build(library, tmp_path / "work" / "dist", tmp_path / "work" / "store")
    with pytest.raises(TableError) as clean:
        build(library, tmp_path / "clean" / "dist", tmp_path / "clean" / "store")
    assert str(rebuilt.value) == str(clean.value)
    assert "poppy-cultivation.csv:1: the header names no column observation, label," in str(clean.value)
    assert str(clean.value).endswith("its one cell holds ',': the table's delimiter is ';'")


# A hierarchical code list for the areas: IC-20 and IC-21 read it through the property it names.
HIERARCHY_TERMS = """
kg:inArea a owl:ObjectProperty ; rdfs:label "in area"@en ; skos:definition "A place lies within another."@en .
kg:hasArea a owl:ObjectProperty ; rdfs:label "has area"@en ; skos:definition "A place contains another."@en .
qb:codeList a owl:ObjectProperty ; rdfs:label "code list"@en ; skos:definition "Its codes."@en .
qb:hierarchyRoot a owl:ObjectProperty ; rdfs:label "hierarchy root"@en ; skos:definition "Its root."@en .
qb:parentChildProperty a owl:ObjectProperty ;
    rdfs:label "parent-child property"@en ; skos:definition "Its link."@en .
qb:HierarchicalCodeList a owl:Class ;
    rdfs:label "hierarchical code list"@en ; skos:definition "A code list of a hierarchy."@en .
"""
PREFIXES = """@prefix kg: <https://w3id.org/opioid-kg/ontology#> .
@prefix qb: <http://purl.org/linked-data/cube#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix country: <https://w3id.org/opioid-kg/id/country/> .
@prefix region: <https://w3id.org/opioid-kg/id/region/> .
"""
CODE_LIST = """
kg:refArea qb:codeList kg:areaHierarchy .
kg:areaHierarchy a qb:HierarchicalCodeList ;
    qb:hierarchyRoot <https://w3id.org/opioid-kg/id/region/world> ;
    qb:parentChildProperty LINK .
"""
LINKS = """
country:MX kg:inArea region:world .
country:US kg:inArea region:world .
country:AF kg:inArea region:world .
region:us-southwest-border kg:inArea country:US .
region:world kg:hasArea country:MX , country:US , country:AF .
country:US kg:hasArea region:us-southwest-border .
"""


def _with_areas(root: Path, link: str, in_ontology: bool) -> Path:
    """The library with the areas as a hierarchical code list linked by `link` (declared in the
    ontology, or in graph/common/ beside the links), built once; the file of the links."""
    code_list = CODE_LIST.replace("LINK", link)
    _append(root / "ontology" / "opioid-kg.ttl", HIERARCHY_TERMS + (code_list if in_ontology else ""))
    areas = root / COMMON / "background" / "areas.ttl"
    areas.write_text(PREFIXES + ("" if in_ontology else code_list) + LINKS, "utf-8")
    build(root, root.parent / "work" / "dist", root.parent / "work" / "store")
    return areas


@pytest.mark.parametrize(
    ("link", "in_ontology", "old", "new", "failing"),
    [
        # IC-21 reads the inverse of a parent-child link through a template: a link removed
        ("[ owl:inverseOf kg:inArea ]", True, "country:MX kg:inArea region:world .\n", "", "IC-21."),
        # IC-20: the parent-child property itself replaced
        ("kg:hasArea", False, "parentChildProperty kg:hasArea", "parentChildProperty kg:inArea", "IC-20."),
    ],
    ids=["an inverse link removed", "the parent-child property replaced"],
)
def test_a_hierarchy_broken_is_rejected_by_a_rebuild(
    library: Path, tmp_path: Path, link: str, in_ontology: bool, old: str, new: str, failing: str
) -> None:
    areas = _with_areas(library, link, in_ontology)
    _edit(areas, old, new)
    assert failing in _rebuild_fails_as_clean(library, tmp_path)


def test_a_hierarchy_link_removed_beside_an_observation_changed_is_rejected_by_a_rebuild(
    library: Path, tmp_path: Path
) -> None:
    """IC-21 reads a code's parent-child link, not an observation's: with it, a change of the fixture's
    observation must not narrow the Data Cube constraints to the fixture's data set, where the report's
    observation of the region left out of the hierarchy fails."""
    areas = _with_areas(library, "[ owl:inverseOf kg:inArea ]", True)
    _edit(areas, "region:us-southwest-border kg:inArea country:US .\n", "")
    qualified = "    kg:unit unit:HA ;\n    kg:qualifier qualifier:less-than ;\n"
    _edit(library / STATISTICS, "    kg:unit unit:HA ;\n", qualified)
    prefix = "@prefix qualifier: <https://w3id.org/opioid-kg/id/qualifier/> .\n@prefix obs:"
    _edit(library / STATISTICS, "@prefix obs:", prefix)
    assert "IC-21." in _rebuild_fails_as_clean(library, tmp_path)


@pytest.mark.parametrize(
    ("typed", "failing"),
    [("qb:DimensionProperty", "IC-4."), ("qb:DataStructureDefinition", "IC-3.")],
    ids=["a dimension", "a structure"],
)
def test_a_data_set_typed_as_structure_is_rejected_by_a_rebuild(
    library: Path, library_work: Path, tmp_path: Path, typed: str, failing: str
) -> None:
    """A triple the structure's constraints read, about a data set: they must be asked, as a clean
    build asks them."""
    _append(library / STATISTICS, f"dataset:fixture-poppy-cultivation-area a {typed} .\n")
    assert failing in _rebuild_fails_as_clean(library, tmp_path)


def test_a_text_file_outside_the_sources_is_refused_by_a_rebuild(
    library: Path, library_work: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.txt"
    metadata = library / METADATA
    outside.write_bytes((metadata.parent / "text.txt").read_bytes())
    _edit(metadata, f'kg:textFile "{FIXTURE}/text.txt"', f'kg:textFile "{outside}"')
    assert f"describes no report whose text is in sources/{FIXTURE}/" in _rebuild_fails_as_clean(
        library, tmp_path
    )


def _misquote(root: Path, folder: str) -> None:
    _edit(
        root / "graph" / FIXTURE / folder / "excerpts.ttl",
        '"Test fixture, not a report"',
        '"Test fixture, not a rePort"',
    )


def _text_changed(root: Path, folder: str) -> None:
    """The source text says otherwise where an excerpt quotes it, with its new digest recorded."""
    text = root / "sources" / FIXTURE / "text.txt"
    old = hashlib.sha256(text.read_bytes()).hexdigest()
    _edit(text, "Test fixture, not a report", "Test fixture, not a rePort")
    _edit(root / METADATA, old, hashlib.sha256(text.read_bytes()).hexdigest())


@pytest.mark.parametrize("folder", ["data", "background"])
@pytest.mark.parametrize("change", [_misquote, _text_changed], ids=["quote changed", "text changed"])
def test_excerpts_written_outside_the_provenance_folder_are_checked_again_by_a_rebuild(
    library: Path, tmp_path: Path, folder: str, change: Callable[[Path, str], None]
) -> None:
    """A clean build checks every excerpt, in whichever graph it is written; a rebuild looked for the
    excerpts a change reaches in the provenance graph alone, and published a misquote written under
    data/."""
    fixture = library / "graph" / FIXTURE
    (fixture / folder).mkdir(exist_ok=True)
    (fixture / "provenance" / "excerpts.ttl").rename(fixture / folder / "excerpts.ttl")
    build(library, tmp_path / "work" / "dist", tmp_path / "work" / "store")
    change(library, folder)
    assert "excerpts do not match their sources" in _rebuild_fails_as_clean(library, tmp_path)


@pytest.mark.parametrize("times_set_back", [False, True])
@pytest.mark.parametrize("kept", ["dist/opioid-kg.nq", "graphs/data.nq"])
def test_an_output_changed_in_place_is_not_carried_into_the_next_build(
    library: Path, library_work: Path, tmp_path: Path, kept: str, times_set_back: bool
) -> None:
    """The current generation's dump (which dist/ links to) or a graph's file, changed in place to the
    same size, its times then set back or not (as `cp -p`, `rsync -a` or `touch -r` set them): the next
    build does not patch from it (it did, and published the change), but builds as a clean build does."""
    store, dist = library_work / "store", library_work / "dist"
    generation = (library_work / "generations" / "current").resolve()
    changed = generation / kept
    text, before = changed.read_bytes(), changed.stat()
    assert b"Mexico" in text
    with changed.open("r+b") as written:  # in place: the same inode, the same size
        written.write(text.replace(b"Mexico", b"MEXICO", 1))
    if times_set_back:
        os.utime(changed, ns=(before.st_atime_ns, before.st_mtime_ns))
    _observation(library, '    rdfs:comment "A second estimate may follow."@en ;\n')
    rebuilt = build(library, dist, store)
    _same_as_clean(library, tmp_path, rebuilt)
    assert b"MEXICO" not in (dist / "opioid-kg.nq").read_bytes()
