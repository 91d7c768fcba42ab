"""Where a thing is written: every place a statement about it starts, in the build's order."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph

from kg.build.locate import Location, SubjectIndex
from kg.build.validation import ALSO_AT, validate

PREFIXES = "@prefix ex: <https://example.org/> .\n@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
SHAPES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <https://example.org/> .
ex:OneValue a sh:NodeShape ; sh:targetClass ex:Thing ;
    sh:property [ sh:path ex:value ; sh:maxCount 1 ] .
"""


def _files(folder: Path, count: int) -> list[Path]:
    """`count` Turtle files, each giving ex:a a value of its own (the first also its class)."""
    paths = []
    for number in range(count):
        path = folder / f"{number:02}.ttl"
        typed = "a ex:Thing ; " if number == 0 else ""
        path.write_text(f"{PREFIXES}\n# a comment\nex:b ex:value 0 .\nex:a {typed}ex:value {number} .\n")
        paths.append(path)
    return paths


def test_every_place_is_found_in_file_order(tmp_path: Path) -> None:
    paths = _files(tmp_path, 3)
    (tmp_path / "inputs").mkdir()
    table = tmp_path / "inputs" / "tables-data.ttl"  # a table's triples, each row's after its place
    table.write_text(
        "#@ graph/x/tables/t.csv:2\n<https://example.org/a> <https://example.org/value> 7 .\n"
        '<https://example.org/a> <https://example.org/label> "row" .\n'
        "#@ graph/x/tables/t.csv:3\n<https://example.org/a> <https://example.org/value> 8 .\n"
    )
    index = SubjectIndex([*paths, table], generated=tmp_path / "inputs")
    assert index.find("https://example.org/a") == Location(paths[0], 6)
    assert index.find_all("https://example.org/a") == [
        *(Location(path, 6) for path in paths),
        Location(Path("graph/x/tables/t.csv"), 2),
        Location(Path("graph/x/tables/t.csv"), 3),
    ]
    assert index.find_all("https://example.org/nothing") == []
    assert index.find_use("https://example.org/value", within=table) == Location(
        Path("graph/x/tables/t.csv"), 2
    )


def test_a_violation_names_a_few_more_places_and_counts_the_rest(tmp_path: Path) -> None:
    paths = _files(tmp_path, ALSO_AT + 3)
    data = Graph()
    for path in paths:
        data.parse(path, format="turtle")
    report = validate(data, Graph().parse(data=SHAPES, format="turtle"), SubjectIndex(paths))
    (violation,) = report.violations
    assert violation.location == f"{paths[0]}:6"
    assert violation.also_at == tuple(f"{path}:6" for path in paths[1 : ALSO_AT + 1])
    assert violation.more_places == 2
    shown = violation.describe().splitlines()
    assert shown[-ALSO_AT - 2 :] == [
        f"  written at: {paths[0]}:6",
        *(f"  also at:    {path}:6" for path in paths[1 : ALSO_AT + 1]),
        "  also at:    and 2 more places",
    ]


def test_statements_are_found_however_their_names_are_written(tmp_path: Path) -> None:
    written = tmp_path / "a.ttl"
    written.write_text(
        "@prefix ex: <http://ex.org/> . @prefix ew: <http://ex.org/> .\n"  # 1
        "@base <http://ex.org/> .\n"  # 2
        "ew:s1 ex:p 1 .\n"  # 3: the second prefix of line 1
        "<s1> ex:p 2 .\n"  # 4: relative to the base
        "<http://ex.org/\\u00731> ex:p 3 .\n"  # 5: a numeric escape
        "ex:o ex:p ex:a ,\n"  # 6
        "ex:s1 .\n"  # 7: an object, not a subject
        "#@ see http://example.org:8080\n"  # 8: a curator's comment, not a place
        "ex:s1 ex:p 4 .\n"  # 9
        "PREFIX sp: <http://ex.org/> BASE <other/>\n"  # 10: SPARQL's spelling
        "sp:s1 <p> ( 1 2 ).\n"  # 11
        "<../s1> ex:p 5 .\n",  # 12: relative to the new base
        "utf-8",
    )
    index = SubjectIndex([written, written])  # a file given twice is read once
    assert index.find_all("http://ex.org/s1") == [Location(written, line) for line in (3, 4, 5, 9, 11, 12)]


P = "@prefix ex: <http://ex.org/> .\n"
# Turtle texts and, for each subject IRI Oxigraph reads in them, the lines its statements start on.
WRITTEN = {
    "a comment with a quote after a full stop": (
        P + 'ex:a a ex:C .  # Smith\'s "main" <one>\nex:b a ex:C .\n',
        {"a": [2], "b": [3]},
    ),
    "a long string holding statements and a prefix": (
        P + 'ex:a ex:p """Use:\n@prefix ex: <http://other.org/> .\nex:z a ex:C .\n""" .\nex:b a ex:C .\n',
        {"a": [2], "b": [6]},
    ),
    "a long string in single quotes": (
        P + "ex:a ex:p '''Done.\nex:z x'''.\nex:b a ex:C .\n",
        {"a": [2], "b": [4]},
    ),
    "two statements on a line, one after a directive": (
        "@prefix ex: <http://ex.org/> . ex:a a ex:C . ex:b a ex:C .\n",
        {"a": [1], "b": [1]},
    ),
    "an indented subject": (P + "ex:a a ex:C .\n  ex:b a ex:C .\n", {"a": [2], "b": [3]}),
    "endings ;. and a bare prefix": (
        P + "ex:a ex:p 1 ;.\nex:c ex:p ex:.\nex:b a ex:C .\n",
        {"a": [2], "c": [3], "b": [4]},
    ),
    "an object list and a comment ending in a full stop": (
        P + "ex:a ex:p ex:b , # v1.\nex:c ; # done.\n  ex:q 1 .\nex:d a ex:C .\n",
        {"a": [2], "d": [5]},
    ),
    "escaped local names": (P + "ex:a\\,b a ex:C .\nex:c\\~d a ex:C .\n", {"a,b": [2], "c~d": [3]}),
    "no space before the predicate": (
        P + "ex:a<http://ex.org/p> 1 .\n<http://ex.org/b><http://ex.org/p> 1 .\n",
        {"a": [2], "b": [3]},
    ),
    "prefixes named base and prefix": (
        "@prefix base: <http://ex.org/> .\n@prefix prefix: <http://ex.org/x/> .\n"
        "base:a a base:C .\nprefix:b a base:C .\n",
        {"a": [3], "x/b": [4]},
    ),
    "a form feed in a literal": (P + 'ex:a ex:p """one\x0ctwo""" .\nex:b a ex:C .\n', {"a": [2], "b": [3]}),
    "a directive over two lines, and RDF 1.2's version": (
        'VERSION "1.2"\n@prefix ex:\n  <http://ex.org/> .\nex:a a ex:C .\n',
        {"a": [4]},
    ),
    "RDF 1.2 reifiers, named in an annotation and in a reified triple": (
        P + "ex:a ex:p ex:o ~ ex:r {| ex:q 1 |} .\n"
        "<< ex:b ex:p ex:o ~\n  ex:s >> ex:q 2 .\n"
        "ex:c ex:p ex:o ~ex:t, ex:o2 ~ <http://ex.org/u> .\n"
        "ex:d ex:p ex:o ~ {| ex:q 3 |} .\n",
        {"a": [2], "r": [2], "s": [4], "c": [5], "t": [5], "u": [5], "d": [6]},
    ),
    "an empty prefix for a fragment of the base, and <>": (
        "@base <http://ex.org/onto> .\n@prefix : <#> .\n:a a :C .\n<> a :C .\n<#b> a :C .\n",
        {"onto#a": [3], "onto": [4], "onto#b": [5]},
    ),
}


@pytest.mark.parametrize("case", WRITTEN, ids=list(WRITTEN))
def test_each_statement_is_found_where_it_starts(tmp_path: Path, case: str) -> None:
    text, expected = WRITTEN[case]
    written = tmp_path / "a.ttl"
    written.write_bytes(text.encode())
    read = {
        t.subject.value
        for t in ox.parse(text.encode(), format=ox.RdfFormat.TURTLE)
        if isinstance(t.subject, ox.NamedNode)
    }
    assert read == {"http://ex.org/" + name for name in expected}  # the case's subjects are the parser's
    index = SubjectIndex([written])
    for name, lines in expected.items():
        assert index.find_all("http://ex.org/" + name) == [Location(written, line) for line in lines], name
    assert index.find_all("http://ex.org/z") == []


def test_a_use_or_a_blank_node_is_found_in_statements_not_in_comments_or_strings(tmp_path: Path) -> None:
    written = tmp_path / "a.ttl"
    written.write_text(
        P + '# ex:value was renamed\nex:a ex:note "see ex:value" .\n'  # 1-3
        'ex:b ex:p\n[ ex:q "orphan" ] .\n'  # 4-5: an object, not a statement
        'ex:c ex:p """x\n[ "orphan" """ .\n'  # 6-7: a string
        '[\n  ex:q "orphan" ;\n  ex:value 1\n] .\n',  # 8-11
        "utf-8",
    )
    index = SubjectIndex([written])
    assert index.find_use("http://ex.org/value") == Location(written, 10)
    assert index.find_anonymous('"orphan') == Location(written, 8)


def test_numbers_and_language_tags_end_where_the_parser_ends_them(tmp_path: Path) -> None:
    written = tmp_path / "a.ttl"
    written.write_text(
        P + 'ex:s ex:p "x"@en.ex:t ex:p 2.\n'  # 2: a statement after a language tag and a full stop
        "ex:u ex:p 1.@prefix e2: <http://ex.org/e2/> .\ne2:v ex:p 2 .\n"  # 3-4: a directive after a number
        '[] ex:label "other" .\n[] ex:p .5 ; ex:label "hello" .\n',  # 5-6: a decimal without its zero
        "utf-8",
    )
    read = {t.subject.value for t in ox.parse(path=str(written), format=ox.RdfFormat.TURTLE)}
    assert {name for name in read if not name.startswith("_")} >= {"http://ex.org/t", "http://ex.org/e2/v"}
    index = SubjectIndex([written])
    assert index.find_all("http://ex.org/t") == [Location(written, 2)]
    assert index.find_all("http://ex.org/e2/v") == [Location(written, 4)]
    assert index.find_anonymous('"hello') == Location(written, 6)


def test_a_file_whose_directives_hold_comments_is_not_passed_over(tmp_path: Path) -> None:
    """A file is read only where its text may name what is looked for: its prefixes and bases however
    they are spelt, comments between their parts too."""
    written = tmp_path / "a.ttl"
    written.write_text("@prefix ex: # the project's\n<http://ex.org/> .\nex:t ex:p 1 .\n", "utf-8")
    based = tmp_path / "b.ttl"
    based.write_text(
        "<http://s.org/s> <http://p.org/p> 1.@base <http://ex.org/> .\n<u> <http://p.org/p> 1 .\n"
    )
    index = SubjectIndex([written, based])
    assert index.find_all("http://ex.org/t") == [Location(written, 3)]
    assert index.find_all("http://ex.org/u") == [Location(based, 2)]
    assert index.find_use("http://ex.org/t") == Location(written, 3)
