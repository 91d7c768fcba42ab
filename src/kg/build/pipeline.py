"""`kg build`: from the project's files to a validated dataset in dist/ and the embedded store.

Everything is written into a new generation folder first and made current in one
step only when the whole build has succeeded, so a failed or killed build leaves
the previous one untouched (see `generations`).
"""

from __future__ import annotations

import gzip
import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph
from rdflib.namespace import RDF

from kg.build.canonical import canonical_graph, write_serializations
from kg.build.cube import CHECKS, check_cube
from kg.build.excerpts import check_excerpts
from kg.build.locate import SubjectIndex
from kg.build.project import ProjectFiles, load_project
from kg.build.sources import load_source_texts
from kg.build.validation import ValidationReport, validate
from kg.build.vocabulary import describe_undeclared, undeclared_terms
from kg.errors import EXIT_FAILED, KgError
from kg.namespaces import KG
from kg.store.base import graph_name
from kg.store.description import DESCRIPTION_FILE, DUMP_FILE, describe_dataset
from kg.store.embedded import create_store
from kg.store.generations import Generations

DATA_GRAPHS = ("data", "provenance", "background")


class BuildFailed(KgError):
    """The build stopped; the message says where and why."""

    exit_code = EXIT_FAILED
    status = 422


@dataclass
class BuildResult:
    triples_per_graph: dict[str, int]
    violations: int
    excerpts_checked: int
    seconds: float
    dist: Path
    store: Path
    written: list[Path] = field(default_factory=list)

    def summary(self) -> str:
        counts = ", ".join(f"{name} {count}" for name, count in self.triples_per_graph.items())
        total = sum(self.triples_per_graph.values())
        return (
            f"built {total} triples ({counts}); "
            f"excerpts checked: {self.excerpts_checked}; violations: {self.violations}; "
            f"wrote {self.dist}/ and {self.store}; {self.seconds:.1f} s"
        )


def merged(project: ProjectFiles, names: tuple[str, ...]) -> Graph:
    """One rdflib graph holding the named graphs `names` (pyshacl runs fastest on this)."""
    graph = Graph()
    for name in names:
        graph += project.graphs.get(name, Graph())
    return graph


def check_project(project: ProjectFiles) -> tuple[ValidationReport, int]:
    """Every check short of writing: vocabulary, source digests, excerpts, Data Cube, SHACL.

    Returns the SHACL report and the number of excerpts checked; raises BuildFailed
    for the checks SHACL cannot make.
    """
    index = SubjectIndex(project.files)
    facts = merged(project, DATA_GRAPHS)
    unknown = undeclared_terms(facts, project.graphs["ontology"])
    if unknown:
        raise BuildFailed(describe_undeclared(unknown, index))
    excerpt_count = _check_sources(project, index)
    _check_data_cube(project, facts)
    report = validate(facts + project.graphs["ontology"], project.graphs["shapes"], index)
    return report, excerpt_count


def _check_data_cube(project: ProjectFiles, facts: Graph) -> None:
    """The Data Cube recommendation's integrity constraints hold on the data with its ontology."""
    cube = check_cube(facts + project.graphs["ontology"], project.root / CHECKS)
    if cube.violations:
        lines = "\n".join(violation.message() for violation in cube.violations)
        raise BuildFailed(f"RDF Data Cube integrity constraints fail:\n{lines}")


def _check_sources(project: ProjectFiles, index: SubjectIndex) -> int:
    """Source texts match their recorded digests and every excerpt its text; returns the excerpt count."""
    provenance = project.graphs.get("provenance", Graph())
    try:
        texts = load_source_texts(provenance, project.root / "sources")
    except OSError as error:
        raise BuildFailed(f"cannot read source text: {error}") from None
    problems = [
        f"{document}: the text file's SHA-256 is {text.sha256}, not the recorded {recorded}"
        for document, text in texts.items()
        for recorded in provenance.objects(document, KG.sha256)
        if str(recorded) != text.sha256
    ]
    problems += [
        f"{index.find(str(p.excerpt)) or p.excerpt}: excerpt {p.excerpt}: {p.message}"
        for p in check_excerpts(provenance, texts)
    ]
    if problems:
        raise BuildFailed("excerpts do not match their sources:\n" + "\n".join(problems))
    return len(set(provenance.subjects(RDF.type, KG.Excerpt)))


def build(root: Path, dist: Path, store: Path) -> BuildResult:
    """Parse, check, validate, then write dist/ and the store; raise BuildFailed or InputError."""
    started = time.perf_counter()
    project = load_project(root)
    report, excerpt_count = check_project(project)
    if not report.conforms:
        raise BuildFailed(f"SHACL validation failed:\n\n{report.as_text()}")

    graphs = {
        name: canonical_graph(name, project.graphs[name]) for name in sorted(project.graphs, key=_graph_order)
    }
    written = publish(graphs, Generations(store, dist))
    return BuildResult(
        triples_per_graph={name: len(g) for name, g in graphs.items()},
        violations=len(report.violations),
        excerpts_checked=excerpt_count,
        seconds=time.perf_counter() - started,
        dist=dist,
        store=store,
        written=[dist / path for path in written],
    )


def publish(graphs: dict[str, Graph], generations: Generations) -> list[Path]:
    """Write dist/ and the store as a new generation and make it current; the paths written under dist/.

    One build at a time: the lock also makes it safe to remove what a killed build left.
    """
    with generations.locked():
        generations.clean()
        staging = generations.staging()
        try:
            written = write_serializations(graphs, staging.dist)
            written += write_description(staging.dist)
            create_store(staging.store, staging.dist / "opioid-kg.nq")
            digest = hashlib.sha256((staging.dist / "opioid-kg.nq").read_bytes()).hexdigest()
            generations.publish(staging, digest)
        finally:
            generations.discard(staging)  # nothing left to remove once published
        generations.clean()
    return [path.relative_to(staging.dist) for path in written]


def write_description(out: Path) -> list[Path]:
    """The gzipped dump and the dataset's VoID/DCAT description, from the N-Quads just written."""
    nquads = (out / "opioid-kg.nq").read_bytes()
    dump = gzip.compress(nquads, compresslevel=9, mtime=0)  # no date or name inside: same data, same bytes
    quads: dict[str, list[ox.Quad]] = {}
    for quad in ox.parse(nquads, format=ox.RdfFormat.N_QUADS):
        quads.setdefault(graph_name(quad.graph_name.value), []).append(quad)
    (out / DUMP_FILE).write_bytes(dump)
    (out / DESCRIPTION_FILE).write_bytes(describe_dataset(quads, nquads, dump))
    return [out / DUMP_FILE, out / DESCRIPTION_FILE]


def _graph_order(name: str) -> int:
    order = ("ontology", "shapes", "data", "provenance", "background")
    return order.index(name) if name in order else len(order)
