"""Literals a target store cannot keep as sent, found by asking it, and withheld from the push.

Some stores refuse a datatype or store another value: with the default
configuration of Debian's Virtuoso, an update holding `"P2M"^^xsd:duration`
fails (SR553), and with `MaxQueryCostEstimationTime` set it is stored as `"2"`,
so every later push would find it changed and send it again. Before a push, the
literals of datatypes beyond the common core are written into a probe graph
and read back (one request each way, and the probe graph dropped); those refused or changed are not sent,
and the push says so once, naming the triples. A copy of such a triple that the target already holds
in the form the probe found it stores (its bulk loader stores the duration as `"2"` too) is left as
it is: deleting it would lose the fact, and Virtuoso does not delete that `"2"`.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

import pyoxigraph as ox

from kg.exchange.changes import GraphChange, comparison_key, insert_operation, kept_as
from kg.exchange.pusher import PROBE_GRAPH, Pusher, PushError
from kg.exchange.updates import update
from kg.files import text_lines
from kg.namespaces import XSD
from kg.query.internal import bound
from kg.store.base import Solutions
from kg.store.bulk import bulk_load
from kg.store.embedded import EmbeddedStore
from kg.store.remote import RemoteError, RemoteQueryError

PROBE_MOST = 1 << 20  # bytes of the probe graph read back: it holds a few literals
STORED_AS = "is stored as "  # what the probe says of a literal the target changes, before its form
# Datatypes every SPARQL 1.1 store keeps (the push already compares numbers by value); the internal
# query unusual-literals lists the same.
CORE_DATATYPES = {
    XSD + name for name in ("string", "boolean", "integer", "decimal", "double", "dateTime", "date", "anyURI")
}
CORE_DATATYPES.add("http://www.w3.org/1999/02/22-rdf-syntax-ns#langString")


def unusual_line(line: str) -> bool:
    """Whether an N-Triples line's object is a literal of a datatype outside the common core."""
    typed = line.rfind('"^^<')
    return typed >= 0 and line.endswith("> .") and line[typed + 4 : -3] not in CORE_DATATYPES


@dataclass
class Withheld:
    """The literals the target cannot keep, the local triples that hold them, and those of the triples
    the target already holds in the form it stores them in (loaded by other means, such as its bulk
    loader): that form is the target's copy of the local triple, which the push leaves as it is."""

    literals: dict[str, str]  # N-Triples spelling: what the target did with it
    quads: list[ox.Quad]
    held: dict[ox.Quad, ox.Quad] = field(default_factory=dict)  # of `quads`: the target's own form

    def note(self) -> str:
        """What was withheld and why, each reason once (a refusal is the same for every literal)."""
        by_reason: dict[str, list[str]] = {}
        for literal, what in sorted(self.literals.items()):
            by_reason.setdefault(what, []).append(literal)
        why = "; ".join(f"{', '.join(literals)} {what}" for what, literals in by_reason.items())
        said = f"the target cannot keep {len(self.literals)} literal(s) as sent ({why})"
        said += f", so {len(self.quads)} triple(s) were not sent"
        if alone := [quad for quad in self.quads if quad not in self.held]:
            said += f"; {len(alone)} stay only in the local store: {_listed(alone)}"
        if self.held:
            own = _listed(self.held.values())
            said += f"; the target holds {len(self.held)} in its own form, left as it is: {own}"
        return said

    def find_held(self, changes: list[GraphChange]) -> None:
        """Note the target's own form of each withheld triple among what the target holds and the local
        store lacks (`changes`, worked out before the triples were withheld): the form the probe found
        it stores the literal in, and only that. A literal the target refuses has no form to look for;
        whatever it holds in its place may be an older value, so it is not taken for the local one."""
        extra = {change.iri: {comparison_key(line) for line in change.remove} for change in changes}
        for quad in self.quads:
            what = self.literals[str(quad.object)]
            if not what.startswith(STORED_AS) or not isinstance(quad.graph_name, ox.NamedNode):
                continue
            line = f"{quad.subject} {quad.predicate} {what.removeprefix(STORED_AS)} ."
            lines = extra.get(quad.graph_name.value, set())
            if comparison_key(line) in lines:
                lines.discard(comparison_key(line))  # one target triple stands for one local triple
                (triple,) = ox.parse(line, format=ox.RdfFormat.N_TRIPLES)
                self.held[quad] = ox.Quad(triple.subject, triple.predicate, triple.object, quad.graph_name)


def _listed(quads: Iterable[ox.Quad]) -> str:
    return " ".join(f"{quad.triple} ." for quad in quads)


def unkept_literals(store: EmbeddedStore, graphs: list[str], pusher: Pusher) -> Withheld | None:
    """Probe the target with every unusual literal of `graphs`; None when it keeps them all.

    One request writes them all and one reads them back; only when the target refuses that request
    is each datatype tried on its own, to find which it refuses.
    """
    answer = store.query(*bound("unusual-literals", graph=graphs))
    assert isinstance(answer, Solutions)  # a SELECT
    found = sorted((term for row in answer if isinstance(term := row["o"], ox.Literal)), key=str)
    if not found:
        return None
    pusher.probing = True
    try:
        unkept = _probe(pusher, found)
        if any(why.startswith("is refused") for why in unkept.values()):
            by_datatype: dict[str, list[ox.Literal]] = {}
            for literal in found:
                by_datatype.setdefault(literal.datatype.value, []).append(literal)
            unkept = {}
            for literals in by_datatype.values():
                unkept |= _probe(pusher, literals)
    except (PushError, RemoteError, RemoteQueryError) as error:
        held = _drop_probe(pusher, len(found)) or "the target holds no probe graph"
        if getattr(error, "unsure", False):  # the write may come after the drop: a gateway's late request
            held += (
                f", but the probe's write may still be applied, late, into graph {PROBE_GRAPH}, which the "
                "next push drops"
            )
        raise PushError(f"probing the target with {len(found)} literal(s) failed: {error}; {held}") from None
    left = _drop_probe(pusher, len(found))
    if left:
        raise PushError(left)
    pusher.probing = False
    quads = [
        quad
        for quad in store.quads()
        if isinstance(quad.graph_name, ox.NamedNode)
        and quad.graph_name.value in graphs
        and isinstance(quad.object, ox.Literal)
        and str(quad.object) in unkept
    ]
    return Withheld(unkept, quads) if quads else None


def _drop_probe(pusher: Pusher, written: int) -> str | None:
    """Drop the probe graph; None once the target holds none of it, else what it holds and how to drop it."""
    try:
        pusher.update(update("drop-graph", graph=PROBE_GRAPH), repeatable=True)
    except PushError as error:
        how = f"drop it with the update DROP SILENT GRAPH <{PROBE_GRAPH}>"
        try:
            held = pusher.counts([PROBE_GRAPH])[PROBE_GRAPH]
        except PushError as counting:
            return (
                f"dropping the probe graph {PROBE_GRAPH} failed ({error}) and it could not be counted "
                f"({counting}): it may hold up to {written} triples; {how}"
            )
        if held:
            return (
                f"the probe graph {PROBE_GRAPH} holds {held} triples and stays on the target, as dropping "
                f"it failed ({error}); {how}"
            )
    return None


# The answers to the probe's write by which a store refuses what it holds (Oxigraph and Fuseki answer
# 400, Virtuoso 500). Any other answer, or none, says nothing of the literals: the push stops.
REFUSING = {400, 500}


def _probe(pusher: Pusher, literals: list[ox.Literal]) -> dict[str, str]:
    """Write the literals into a fresh probe graph, in one request, and read them back: what the store
    holds decides, and a write it refused (a 400 or 500 answer, nothing written) refuses them all. A
    write without such an answer raises PushError."""
    subjects = [ox.NamedNode(f"{PROBE_GRAPH}:{index}") for index in range(len(literals))]
    value = ox.NamedNode(f"{PROBE_GRAPH}:value")
    lines = [f"{ox.Triple(s, value, literal)} ." for s, literal in zip(subjects, literals, strict=True)]
    refused: str | None = None  # why the store refused the write; not the error, whose frames hold answers
    try:
        pusher.update(
            update("drop-graph", graph=PROBE_GRAPH) + " ;\n" + insert_operation(PROBE_GRAPH, lines),
            retry=False,
        )
    except PushError as error:
        if error.target_status not in REFUSING:
            raise  # no answer, a gateway's, a wrong address, a body too large: nothing of the literals
        refused = str(error)
    read = pusher.remote(PROBE_GRAPH).construct_ntriples(*bound("graph", graph=PROBE_GRAPH), most=PROBE_MOST)
    if read is None:
        raise PushError(
            f"the target holds more than {PROBE_MOST} bytes in the probe graph, written {len(lines)} triples"
        )
    kept = read.decode("utf-8")
    back = {line.split(" ", 1)[0]: line for line in text_lines(kept) if line}
    if refused is not None and not back:  # an answer that refused the write, and nothing was written
        return {str(literal): f"is refused ({refused})" for literal in literals}
    if not back:  # acknowledged, yet nothing held: a store whose reads lag its writes, say
        raise PushError("the target acknowledged the write of the probe graph but holds none of it")
    unkept = {}
    for subject, literal, line in zip(subjects, literals, lines, strict=True):
        stored = back.get(str(subject))
        if stored is None or not kept_as(stored, line):
            now = stored.split(" ", 2)[2][:-2] if stored else "nothing"
            unkept[str(literal)] = f"{STORED_AS}{now}"
    return unkept


@contextmanager
def without(store: EmbeddedStore, withheld: Withheld) -> Iterator[EmbeddedStore]:
    """A temporary local store holding everything but the withheld triples, and the target's own form
    of those it already holds."""
    folder = Path(tempfile.mkdtemp(prefix="kg-push-"))
    try:
        skipped = set(withheld.quads)
        copy = ox.Store(str(folder))
        bulk_load(
            copy, chain((quad for quad in store.quads() if quad not in skipped), withheld.held.values())
        )
        copy.flush()
        del copy
        yield EmbeddedStore(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
