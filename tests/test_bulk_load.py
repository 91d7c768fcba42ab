"""Bulk loading a batch at a time adds exactly the quads given, across batch boundaries, on disk."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.store.bulk import bulk_load

GRAPH = ox.NamedNode("urn:test:graph")


def quads(count: int) -> list[ox.Quad]:
    return [
        ox.Quad(ox.NamedNode(f"urn:test:s{i}"), ox.NamedNode("urn:test:p"), ox.Literal(str(i)), GRAPH)
        for i in range(count)
    ]


@pytest.mark.parametrize(("count", "batch"), [(0, 3), (1, 3), (3, 3), (7, 3), (7, 1), (7, 100)])
def test_every_quad_is_loaded_once(tmp_path: Path, count: int, batch: int) -> None:
    store = ox.Store(str(tmp_path / "store"))
    bulk_load(store, iter(quads(count)), batch)
    assert sorted(map(str, store)) == sorted(map(str, quads(count)))


def test_blank_node_labels_are_kept_in_every_batch(tmp_path: Path) -> None:
    given = [
        ox.Quad(ox.BlankNode(f"data{i}"), ox.NamedNode("urn:test:p"), ox.Literal(str(i)), GRAPH)
        for i in range(5)
    ]
    store = ox.Store(str(tmp_path / "store"))
    bulk_load(store, given, 2)
    assert sorted(str(quad.subject) for quad in store) == [f"_:data{i}" for i in range(5)]
