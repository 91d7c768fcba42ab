"""Which blank nodes are things of their own, found with what each walk learnt kept for the next: the
same answer as a walk of its own from each node, on graphs of chains, lists, cycles and shared parts."""

from __future__ import annotations

import random

import pyoxigraph as ox
import pytest

from kg.build.vocabulary import untyped_subjects

GRAPHS = [ox.NamedNode("urn:g:data"), ox.NamedNode("urn:g:provenance")]
LINK = ox.NamedNode("urn:p:part")
TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
NOTE = ox.NamedNode("urn:p:note")


def _by_walks(quads: list[ox.Quad]) -> set[ox.BlankNode]:
    """Blank subjects of no class that no chain of blank nodes links to something named or typed,
    each found by a walk up its referrers of its own."""
    typed = {q.subject for q in quads if q.predicate == TYPE}
    referrers: dict[object, set[object]] = {}
    for q in quads:
        referrers.setdefault(q.object, set()).add(q.subject)
    found = set()
    for subject in {q.subject for q in quads if isinstance(q.subject, ox.BlankNode)} - typed:
        seen, waiting, anchored = {subject}, [subject], False
        while waiting and not anchored:
            for referrer in referrers.get(waiting.pop(), ()):
                if isinstance(referrer, ox.NamedNode) or referrer in typed:
                    anchored = True
                elif referrer not in seen:
                    seen.add(referrer)
                    waiting.append(referrer)
        if not anchored:
            found.add(subject)
    return found


@pytest.mark.parametrize("seed", range(20))
def test_things_of_their_own_are_those_a_walk_from_each_finds(seed: int) -> None:
    chosen = random.Random(seed)
    nodes = [ox.BlankNode(f"b{n}") for n in range(60)]
    quads = [
        ox.Quad(node, NOTE, ox.Literal(f"note {n}"), chosen.choice(GRAPHS)) for n, node in enumerate(nodes)
    ]
    for _ in range(chosen.randint(20, 90)):  # links among blank nodes, cycles and shared parts included
        quads.append(ox.Quad(chosen.choice(nodes), LINK, chosen.choice(nodes), chosen.choice(GRAPHS)))
    for node in chosen.sample(nodes, 4):  # parts of something named (and typed, as the build asks)
        named = ox.NamedNode(f"urn:x:{node.value}")
        quads.append(ox.Quad(named, LINK, node, chosen.choice(GRAPHS)))
        quads.append(ox.Quad(named, TYPE, ox.NamedNode("urn:c:Named"), chosen.choice(GRAPHS)))
    for node in chosen.sample(nodes, 3):  # things with a class
        quads.append(ox.Quad(node, TYPE, ox.NamedNode("urn:c:C"), chosen.choice(GRAPHS)))
    store = ox.Store()
    store.extend(quads)
    expected = _by_walks(quads)
    candidates = {node for node in nodes if node not in {q.subject for q in quads if q.predicate == TYPE}}
    order = sorted(candidates, key=lambda node: node.value)
    chosen.shuffle(order)  # the walks in any order
    assert set(untyped_subjects(store, GRAPHS, set(order))) == expected
    assert set(untyped_subjects(store, GRAPHS)) == expected  # the candidates the query lists


def test_a_long_list_of_a_named_thing_has_no_thing_of_its_own() -> None:
    """Each item of a list of 3,000 walked up the list to its head: the square of its length."""
    items = " ".join(f'"item {n}"' for n in range(3000))
    store = ox.Store()
    store.load(
        f"<urn:x:a> a <urn:c:C> ; <urn:p:list> ( {items} ) . [] <urn:p:note> ( 1 2 3 ) .".encode(),
        format=ox.RdfFormat.TURTLE,
        to_graph=GRAPHS[0],
    )
    untyped = untyped_subjects(store, GRAPHS)
    assert len(untyped) == 4  # the orphan and the three nodes of its own list
