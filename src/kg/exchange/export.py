"""`kg export`: the built dataset, or chosen named graphs, in one canonical file per run.

It reads the build's canonical N-Quads (`dist/opioid-kg.nq`), which the
embedded store holds term for term (literals in the form the store keeps them,
blank nodes labelled by content). Statements are written in sorted order, so the
same build gives the same bytes on every run. A VoID/DCAT description of the
file is written beside it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from kg.errors import KgError
from kg.files import text_lines, write_output
from kg.namespaces import GRAPH_NAMES, PREFIXES, graph_iri
from kg.query.run import returns_kept, xml_problem
from kg.store.base import graph_name
from kg.store.compression import gzipped
from kg.store.description import DescriptionMissing, built_description, with_distribution

FORMATS: dict[str, tuple[ox.RdfFormat, bool]] = {
    # name: (Oxigraph format, holds named graphs)
    "nquads": (ox.RdfFormat.N_QUADS, True),
    "trig": (ox.RdfFormat.TRIG, True),
    "jsonld": (ox.RdfFormat.JSON_LD, True),
    "ntriples": (ox.RdfFormat.N_TRIPLES, False),
    "turtle": (ox.RdfFormat.TURTLE, False),
    "rdfxml": (ox.RdfFormat.RDF_XML, False),
}
LINE_FORMATS = {"nquads", "ntriples"}
EXTENSIONS = {rdf_format.file_extension: name for name, (rdf_format, _) in FORMATS.items()}  # nq: nquads, …


class ExportError(KgError, ValueError):
    """An export that cannot be written as asked (unknown graph, graphs in a graph-less format)."""


@dataclass(frozen=True)
class Export:
    """What one export wrote."""

    path: Path
    description: Path
    triples_per_graph: dict[str, int]
    content_sha256: str

    def summary(self) -> str:
        counts = ", ".join(f"{name} {count}" for name, count in self.triples_per_graph.items())
        return f"wrote {self.path} ({counts}) and {self.description}"


def read_dataset(nquads_file: Path) -> dict[str, list[ox.Quad]]:
    """The quads of a built dataset by graph name, sorted, in the build's graph order."""
    if not nquads_file.exists():
        raise ExportError(f"no built dataset at {nquads_file}; run `kg build` first")
    graphs: dict[str, list[ox.Quad]] = {}
    for quad in ox.parse(path=str(nquads_file), format=ox.RdfFormat.N_QUADS):
        graphs.setdefault(graph_name(quad.graph_name.value), []).append(quad)
    order = {name: index for index, name in enumerate(GRAPH_NAMES)}
    return {
        name: sorted(graphs[name], key=_statement_key)
        for name in sorted(graphs, key=lambda name: (order.get(name, len(order)), name))
    }


def _statement_key(statement: ox.Quad | ox.Triple) -> tuple[str, str, str]:
    return str(statement.subject), str(statement.predicate), str(statement.object)


def serialize(graphs: dict[str, list[ox.Quad]], output_format: str, union: bool) -> bytes:
    """The chosen graphs in `output_format`, byte-identical for the same data.

    Line formats are sorted line by line; the others get their statements in
    sorted order, which Oxigraph's serializers keep.
    """
    rdf_format, holds_graphs = FORMATS[output_format]
    if union or not holds_graphs:
        if not union and len(graphs) != 1:
            raise ExportError(
                f"{output_format} holds one graph: name one with --graph, or ask for the union with --union"
            )
        triples = sorted({quad.triple for quads in graphs.values() for quad in quads}, key=_statement_key)
        if output_format == "nquads":
            statements: list[ox.Quad] | list[ox.Triple] = [
                ox.Quad(t.subject, t.predicate, t.object) for t in triples
            ]
        else:
            statements = triples
    else:
        statements = [quad for quads in graphs.values() for quad in quads]
    data = ox.serialize(statements, format=rdf_format, prefixes=PREFIXES) or b""
    if output_format in LINE_FORMATS:
        lines = sorted(set(text_lines(data.decode("utf-8"))))
        data = ("\n".join(lines) + "\n").encode("utf-8") if lines else b""
    if output_format == "rdfxml":
        data = returns_kept(data)
    if output_format == "rdfxml" and (problem := xml_problem(data, (s.predicate.value for s in statements))):
        raise ExportError(f"the graphs cannot be written as rdfxml: {problem}; choose another format")
    return data


def description_path(path: Path) -> Path:
    """Where the VoID/DCAT description of an export goes: beside it, `FILE.void.ttl`."""
    return path.with_name(path.name + ".void.ttl")


def export(
    nquads_file: Path,
    path: Path,
    output_format: str,
    names: tuple[str, ...] = (),
    *,
    union: bool = False,
    compress: bool = False,
) -> Export:
    """Write the chosen graphs (all when `names` is empty) to `path`, and their description beside it."""
    if output_format not in FORMATS:
        raise ExportError(f"unknown format {output_format!r}; one of: {', '.join(FORMATS)}")
    every = read_dataset(nquads_file)
    unknown = [name for name in names if name not in every]
    if unknown:
        raise ExportError(f"no graph named {', '.join(unknown)}; the store holds: {', '.join(every)}")
    chosen = {name: every[name] for name in every if not names or name in names}
    data = serialize(chosen, output_format, union)
    if compress:
        data = gzipped(data)
    content_sha256 = hashlib.sha256(nquads_file.read_bytes()).hexdigest()
    counts = {name: len(quads) for name, quads in chosen.items()}
    try:
        description = built_description(nquads_file.parent)
    except DescriptionMissing as error:
        raise ExportError(str(error)) from None
    turtle = with_distribution(
        description,
        file_name=path.name,
        file_bytes=data,
        media_type=FORMATS[output_format][0].media_type,
        compressed=compress,
        parts=[str(graph_iri(name)) for name in counts],
        whole=len(counts) == len(every),
    )
    write_output(path, data)
    written = description_path(path)
    write_output(written, turtle)
    return Export(path, written, counts, content_sha256)
