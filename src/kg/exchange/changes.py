"""What a push must change in one named graph on the target: the triples to remove and to add.

A push usually meets the graphs an earlier push left, nearly all of them still
right, so it sends the difference rather than the graph. Both sides are
compared as canonical N-Triples lines, written by Oxigraph's serializer from a
store (the local one, or an in-memory one holding the target's answer), so the
same triple is spelled the same way. Triples without blank nodes are compared
exactly, with the respellings some stores make folded away. A blank node has
no name outside its store, so triples with blank nodes cannot be deleted one by
one: when those of the target differ from the local ones beyond the blank
nodes' labels (both canonicalized by RDFC-1.0), the target's are deleted by
pattern and the local ones inserted again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Context, Decimal, InvalidOperation

import pyoxigraph as ox

from kg.exchange.updates import update
from kg.files import text_lines
from kg.namespaces import XSD

DECIMALS = {
    XSD + name
    for name in (
        "decimal integer long int short byte nonNegativeInteger positiveInteger nonPositiveInteger "
        "negativeInteger unsignedLong unsignedInt unsignedShort unsignedByte"
    ).split()
}
# Blank-node parts up to this many triples are compared; larger ones are replaced without comparing
# (canonicalization can cost more than linear time on graphs of many look-alike blank nodes).
CANONICALIZATION_LIMIT = 200_000


@dataclass
class GraphChange:
    """The change that makes the target's graph `iri` equal to the local one."""

    iri: str
    local: int  # triples in the local graph
    live: int  # triples in the target's graph before the push
    add: list[str] = field(default_factory=list)  # N-Triples lines, each ending in " ."
    remove: list[str] = field(default_factory=list)  # lines without blank nodes
    clear: str = ""  # first delete the target's triples: "blank" those with blank nodes, "all" every one

    @property
    def size(self) -> int:
        """Triples the change carries, the measure of its request's size (known for a whole graph
        before it is read)."""
        return self.local if self.whole else len(self.add) + len(self.remove)

    @property
    def empty(self) -> bool:
        return self.size == 0 and not self.clear

    @property
    def whole(self) -> bool:
        """The target holds nothing of the graph: the change is the whole graph."""
        return self.live == 0

    @property
    def repeatable(self) -> bool:
        """Whether applying the change twice gives what applying it once does: not when it inserts
        blank nodes without first deleting the graph's own, as each application makes new ones."""
        return bool(self.clear) or repeatable_insert(self.add)

    def fill(self, ntriples: bytes) -> GraphChange:
        """The whole local graph as the change's content, read only when it is about to be sent."""
        self.add = text_lines(ntriples.decode("utf-8"))
        return self

    def operations(self) -> list[str]:
        """SPARQL Update operations carrying out the change, to be sent in one request."""
        operations = []
        if self.clear == "all":
            operations.append(update("drop-graph", graph=self.iri))
        if self.clear == "blank":
            operations.append(update("delete-blank-nodes", graph=self.iri))
        if self.remove:
            operations.append(update("delete-data", self.remove, graph=self.iri))
        if self.add:
            operations.append(insert_operation(self.iri, self.add))
        return operations


def insert_operation(graph: str, lines: list[str]) -> str:
    """The update operation adding N-Triples `lines` to `graph`: a template with an empty WHERE when
    a line has a blank node (Virtuoso refuses them in INSERT DATA)."""
    blank = any(has_blank_node(line) for line in lines)
    return update("insert-template" if blank else "insert-data", lines, graph=graph)


def repeatable_insert(lines: list[str]) -> bool:
    """Whether inserting `lines` twice gives what inserting them once does: only without blank nodes,
    which a store makes anew for each request."""
    return not any(map(has_blank_node, lines))


def has_blank_node(line: str) -> bool:
    """Whether an N-Triples line of Oxigraph's writing has a blank node as subject or object."""
    if line.startswith("_:"):
        return True
    last = line[:-2].rsplit(" ", 1)[-1]  # the object, or the tail of a literal (which holds a quote)
    return last.startswith("_:") and '"' not in last


def split_lines(ntriples: bytes) -> tuple[dict[str, str], list[str]]:
    """The lines without blank nodes keyed by `exact_key`, and the lines with blank nodes."""
    plain: dict[str, str] = {}
    blank: list[str] = []
    for line in text_lines(ntriples.decode("utf-8")):
        if not line:
            continue
        if has_blank_node(line):
            blank.append(line)
        else:
            plain[exact_key(line)] = line
    return plain, blank


def exact_key(line: str) -> str:
    """A line's spelling with its language tag in lower case, as RDF compares tags (and Virtuoso
    lower-cases them): any other difference, a datatype's or a number's spelling, is another triple."""
    if line.endswith("> .") or line.endswith('" .'):
        return line
    tagged = line.rfind('"@')
    tag = line[tagged + 2 : -2]
    return line if tagged < 0 or tag.islower() else line[: tagged + 2] + tag.lower() + " ."


def kept_as(target: str, local: str) -> bool:
    """Whether the target's line `target` is the local line `local` as a store keeps it: the same, or a
    decimal the store spells another way or keeps as an integer (Virtuoso keeps a whole `xsd:decimal`
    as an `xsd:integer`). Only that way round: a local integer the target holds as a decimal (a build
    that changed the datatype), or a number of any other datatype, is another triple, which a push
    sends."""
    if exact_key(target) == exact_key(local):
        return True
    return (
        _datatype(local) == XSD + "decimal"
        and _datatype(target) in (XSD + "decimal", XSD + "integer")
        and comparison_key(target) == comparison_key(local)
    )


def _datatype(line: str) -> str:
    typed = line.rfind('"^^<') if line.endswith("> .") else -1
    return line[typed + 4 : -3] if typed >= 0 else ""


def comparison_key(line: str) -> str:
    """A line's spelling, compared by value where stores respell: language tags in lower case
    (RDF compares them so; Virtuoso lower-cases them) and decimal numbers by their value (Virtuoso
    stores a whole `xsd:decimal` as an `xsd:integer`). String searches from the end, not regular
    expressions: this runs once per triple."""
    if line.endswith("> ."):
        typed = line.rfind('"^^<')
        if typed < 0 or line[typed + 4 : -3] not in DECIMALS:
            return line
        start = line.rfind('"', 0, typed) + 1
        lexical = line[start:typed]
        try:
            value = Decimal(lexical)
        except InvalidOperation:
            return line
        exact = Context(prec=len(lexical))  # the default context rounds to 28 digits
        return f'{line[:start]}{value.normalize(exact):f}"^^<{XSD}decimal> .'
    return exact_key(line)


def graph_change(iri: str, local: bytes, live: int, remote: bytes | None) -> GraphChange:
    """The change from the target's graph to the local one, both canonical N-Triples; with `remote`
    None, the whole graph replaces whatever the target holds (nothing, when `live` is 0)."""
    if remote is None:
        return GraphChange(iri, local.count(b"\n"), live, clear="all" if live else "").fill(local)
    local_plain, local_blank = split_lines(local)
    count = len(local_plain) + len(local_blank)
    remote_plain, remote_blank = split_lines(remote)
    added = {key: line for key, line in local_plain.items() if key not in remote_plain}
    removed = {key: line for key, line in remote_plain.items() if key not in local_plain}
    # each local decimal the target keeps in its own spelling, paired with that one triple
    decimal = XSD + "decimal"
    decimals = {comparison_key(line): key for key, line in added.items() if _datatype(line) == decimal}
    for key, line in list(removed.items()):
        pair = decimals.get(comparison_key(line))
        if pair is not None and pair in added and kept_as(line, added[pair]):
            del removed[key], added[pair]
    change = GraphChange(iri, count, live, add=sorted(added.values()), remove=sorted(removed.values()))
    if not same_blank_part(local_blank, remote_blank):
        change.clear = "blank" if remote_blank else ""
        change.add += local_blank
    return change


def same_blank_part(local: list[str], remote: list[str]) -> bool:
    """Whether two sets of N-Triples lines with blank nodes are the same up to the blank nodes' labels:
    equal once both are relabelled by RDF Dataset Canonicalization (RDFC-1.0)."""
    if len(local) != len(remote):
        return False
    if not local:
        return True
    if len(local) > CANONICALIZATION_LIMIT:
        return False
    return _canonical(local) == _canonical(remote)


def _canonical(lines: list[str]) -> list[str]:
    dataset = ox.Dataset(ox.parse("\n".join(lines), format=ox.RdfFormat.N_TRIPLES))
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return sorted(str(quad) for quad in dataset)
