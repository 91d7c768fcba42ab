"""The difference a push sends: exact for named triples, whole for blank-node parts that differ."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from kg.exchange.changes import comparison_key, graph_change, has_blank_node
from kg.store.ntriples import canonical_ntriples

EX = "https://example.org/"
GRAPH = "https://w3id.org/opioid-kg/graph/data"
XSD = "http://www.w3.org/2001/XMLSchema#"


def triples(text: str) -> bytes:
    """Turtle as the canonical N-Triples a push compares."""
    return canonical_ntriples(text.encode(), ox.RdfFormat.TURTLE)


def count(ntriples: bytes) -> int:
    return ntriples.count(b"\n")


LOCAL = triples(f"""
@prefix ex: <{EX}> .
ex:a ex:p ex:b ; ex:label "heroin"@en-GB ; ex:n 12 .
ex:a ex:list ( ex:x ex:y ) .
""")


def test_a_graph_the_target_lacks_goes_whole():
    change = graph_change(GRAPH, LOCAL, 0, None)
    assert change.whole and change.clear == "" and change.remove == []
    assert change.size == change.local == count(LOCAL)
    assert [op.split(" {")[0] for op in change.operations()] == ["INSERT"]  # blank nodes: INSERT … WHERE {}


def test_same_triples_under_other_blank_labels_and_tag_case_are_no_change():
    remote = triples(f"""
    @prefix ex: <{EX}> .
    @prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
    ex:a ex:p ex:b ; ex:label "heroin"@en-gb ; ex:n 12 .
    ex:a ex:list [ rdf:first ex:x ; rdf:rest [ rdf:first ex:y ; rdf:rest rdf:nil ] ] .
    """)
    change = graph_change(GRAPH, LOCAL, count(remote), remote)
    assert change.empty and change.operations() == []


def test_named_triples_are_diffed_and_a_changed_blank_part_is_replaced():
    remote = triples(f"""
    @prefix ex: <{EX}> .
    ex:a ex:p ex:old ; ex:label "heroin"@en-GB ; ex:n 12 .
    ex:a ex:list ( ex:x ) .
    """)
    change = graph_change(GRAPH, LOCAL, count(remote), remote)
    assert change.remove == [f"<{EX}a> <{EX}p> <{EX}old> ."]
    assert f"<{EX}a> <{EX}p> <{EX}b> ." in change.add
    assert change.clear == "blank"
    blank_lines = [line for line in LOCAL.decode().splitlines() if has_blank_node(line)]
    assert len(blank_lines) == 5  # ex:list's object and the list's four triples
    assert change.size == 1 + 1 + len(blank_lines)
    operations = change.operations()
    assert operations[0].startswith(f"DELETE {{ GRAPH <{GRAPH}> {{ ?s ?p ?o }} }} WHERE")
    assert "isBlank(?s) || isBlank(?o)" in operations[0]
    assert operations[1].startswith("DELETE DATA") and f"<{EX}old>" in operations[1]
    assert f"<{EX}old>" not in operations[2]


def test_an_unreadable_target_graph_is_replaced_whole():
    """When the target's answer holds fewer triples than it counted, nothing is compared."""
    change = graph_change(GRAPH, LOCAL, 99, None)
    assert change.clear == "all" and not change.whole and change.size == count(LOCAL)
    assert change.operations()[0] == f"DROP SILENT GRAPH <{GRAPH}>"


def test_blank_nodes_are_told_from_literals_that_look_like_them():
    assert has_blank_node("_:a <https://example.org/p> <https://example.org/o> .")
    assert has_blank_node("<https://example.org/s> <https://example.org/p> _:b1 .")
    assert not has_blank_node('<https://example.org/s> <https://example.org/p> "see _:b1" .')
    assert not has_blank_node('<https://example.org/s> <https://example.org/p> "x _:b1"@en .')


def test_comparison_keys_fold_tag_case_and_whole_decimals_only():
    s = "<https://example.org/s> <https://example.org/p> "
    assert comparison_key(s + '"opium"@en-GB .') == comparison_key(s + '"opium"@en-gb .')
    assert comparison_key(s + f'"38"^^<{XSD}integer> .') == comparison_key(s + f'"38.0"^^<{XSD}decimal> .')
    assert comparison_key(s + f'"38"^^<{XSD}integer> .') != comparison_key(s + f'"38.5"^^<{XSD}decimal> .')
    assert comparison_key(s + f'"38"^^<{XSD}string> .') != comparison_key(s + f'"38"^^<{XSD}integer> .')
    assert comparison_key(s + '"Opium" .') != comparison_key(s + '"opium" .')


def test_numbers_past_28_digits_keep_their_own_keys():
    """Python's decimals round to 28 digits unless told otherwise: two integers of 35 digits that differ
    past the 28th had one key, so a push changing one to the other sent nothing and said `unchanged`."""
    s = "<https://example.org/s> <https://example.org/p> "
    for first, second in (
        ("12345678901234567890123456789012345", "12345678901234567890123456789999999"),
        ("0.12345678901234567890123456789012345", "0.12345678901234567890123456789999999"),
    ):
        assert comparison_key(s + f'"{first}"^^<{XSD}decimal> .') != comparison_key(
            s + f'"{second}"^^<{XSD}decimal> .'
        )
    whole = "12345678901234567890123456789012345"
    assert comparison_key(s + f'"{whole}"^^<{XSD}integer> .') == comparison_key(
        s + f'"{whole}.000"^^<{XSD}decimal> .'
    )


def _number(lexical: str, datatype: str) -> str:
    return f'<{EX}obs> <{EX}area> "{lexical}"^^<{XSD}{datatype}> .\n'


@pytest.mark.parametrize(
    ("local", "target", "sent"),
    [
        # a store's own spelling of a decimal (Virtuoso keeps a whole one as an integer): the same
        ([("40000", "decimal")], [("40000", "integer")], False),
        ([("40000", "decimal")], [("40000.0", "decimal")], False),
        # the build changed the datatype: the target's decimal is another triple, and so is a
        # number of another datatype, or one no number of its datatype is spelt so
        ([("40000", "integer")], [("40000", "decimal")], True),
        ([("40000", "decimal")], [("40000", "long")], True),
        ([("40000", "decimal")], [("4E4", "unsignedByte")], True),
        # two local triples that differ only in their datatype are two triples
        ([("7", "integer"), ("7", "decimal")], [("7", "integer"), ("7", "decimal")], False),
        ([("7", "integer"), ("7", "decimal")], [("7", "integer")], True),
    ],
)
def test_a_number_is_the_same_triple_only_as_a_store_keeps_a_decimal(local, target, sent) -> None:
    """Numbers of 14 integer and decimal datatypes had one key, so a build that changed a figure's
    datatype pushed nothing and said `unchanged`, and two local triples differing only in datatype
    were one: a push of both sent one, then failed on the counts every time."""
    local_lines = "".join(sorted(_number(*number) for number in local)).encode()
    target_lines = "".join(_number(*number) for number in target).encode()
    change = graph_change(GRAPH, local_lines, count(target_lines), target_lines)
    assert (not change.empty) == sent
    if sent:
        ours, theirs = ({_number(*n).strip() for n in numbers} for numbers in (local, target))
        assert (set(change.add), set(change.remove)) == (ours - theirs, theirs - ours)
