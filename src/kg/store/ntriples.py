"""Canonical N-Triples: one spelling per term, so graphs from different stores compare line by line."""

from __future__ import annotations

import pyoxigraph as ox


def canonical_ntriples(data: bytes, rdf_format: ox.RdfFormat) -> bytes:
    """A graph in any RDF syntax, as the N-Triples Oxigraph writes from a store (literals normalised
    as a store normalises them, one spelling per term)."""
    store = ox.Store()
    store.load(data, format=rdf_format, to_graph=ox.DefaultGraph())
    return store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph())
