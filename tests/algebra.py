"""Walking rdflib's SPARQL algebra, for the tests that read how the project's queries are built."""

from __future__ import annotations

from collections.abc import Iterator

from rdflib.plugins.sparql.parserutils import CompValue

# Nodes whose solutions are those of the pattern `p` they wrap: filtered, extended, in a graph, as a set.
WRAPPERS = ("Filter", "Extend", "Graph", "ToMultiSet", "Distinct", "Reduced")


def algebra_nodes(node: object) -> Iterator[CompValue]:
    """Every node of the algebra under `node`, itself first, at any depth."""
    if isinstance(node, CompValue):
        yield node
        children: list[object] = list(node.values())
    elif isinstance(node, list | tuple):
        children = list(node)
    else:
        return
    for child in children:
        yield from algebra_nodes(child)
