"""`kg build`: from the project's files to a validated dataset in dist/ and the embedded store.

The files are streamed into one sorted N-Quads dump (see `streaming`), the
store is bulk-loaded from it, every check is a query on that store (see
`checks`), and the other files of dist/ are streamed from the dump. Everything
is written to fresh folders first and swapped into place only when the whole
build has succeeded, so a failed build leaves the previous one untouched.
"""

from __future__ import annotations

import gzip
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph

from kg.build.checks import (
    DATA_GRAPHS,
    BuildFailed,
    check_data_cube,
    check_shapes,
    check_sources,
    check_terms,
    quads_graph,
)
from kg.build.cube import CHECKS
from kg.build.locate import SubjectIndex
from kg.build.project import ProjectFiles, input_files
from kg.build.streaming import graph_quads, split_by_graph, write_serializations, write_sorted_nquads
from kg.build.validation import ValidationReport
from kg.store.description import DESCRIPTION_FILE, DUMP_FILE, describe_dataset

__all__ = ["DATA_GRAPHS", "BuildFailed", "BuildResult", "build", "merged"]


@dataclass
class BuildResult:
    triples_per_graph: dict[str, int]
    violations: int
    excerpts_checked: int
    seconds: float
    dist: Path
    store: Path
    written: list[Path] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        counts = ", ".join(f"{name} {count}" for name, count in self.triples_per_graph.items())
        total = sum(self.triples_per_graph.values())
        phases = ", ".join(f"{name} {seconds:.1f}" for name, seconds in self.phases.items())
        return (
            f"built {total} triples ({counts}); "
            f"excerpts checked: {self.excerpts_checked}; violations: {self.violations}; "
            f"wrote {self.dist}/ and {self.store}; {self.seconds:.1f} s ({phases})"
        )


def merged(project: ProjectFiles, names: tuple[str, ...]) -> Graph:
    """One rdflib graph holding the named graphs `names` (what pyshacl, the reference engine, reads)."""
    graph = Graph()
    for name in names:
        graph += project.graphs.get(name, Graph())
    return graph


class _Phases(dict[str, float]):
    """Seconds spent in each step of the build, for its summary and the benchmarks."""

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self[name] = self.get(name, 0.0) + time.perf_counter() - started


def build(root: Path, dist: Path, store: Path) -> BuildResult:
    """Parse, check, validate, then write dist/ and the store; raise BuildFailed or InputError."""
    started = time.perf_counter()
    phases = _Phases()
    files = input_files(root)
    index = SubjectIndex([path for paths in files.values() for path in paths])
    staging_dist = _staging(dist)
    staging_store = _staging(store)
    dump = staging_dist / "opioid-kg.nq.sorted"
    try:
        with phases("parse"):
            write_sorted_nquads(files, dump)
            split = staging_dist / ".graphs"
            counts = split_by_graph(dump, split)
        report, excerpt_count = _load_and_check(split, list(counts), staging_store, root, index, phases)
        with phases("write"):
            written = write_serializations(dump, split, list(counts), staging_dist)
            written += write_description(staging_dist, split, list(counts))
            shutil.rmtree(split)
        _swap_into_place(staging_dist, dist)
        _swap_into_place(staging_store, store)
    finally:
        for leftover in (staging_dist, staging_store):
            shutil.rmtree(leftover, ignore_errors=True)
    return BuildResult(
        triples_per_graph=counts,
        violations=len(report.violations),
        excerpts_checked=excerpt_count,
        seconds=time.perf_counter() - started,
        dist=dist,
        store=store,
        written=[dist / path.relative_to(staging_dist) for path in written],
        phases=dict(phases),
    )


def _load_and_check(
    split: Path, names: list[str], path: Path, root: Path, index: SubjectIndex, phases: _Phases
) -> tuple[ValidationReport, int]:
    """Bulk-load the store at `path` from the per-graph files and run every check on it; the shapes
    are loaded last, so that validation reads the store's union of exactly the data graphs. The quads
    go in as parsed (Oxigraph's file loader would rename blank nodes), so the store dumps dist/'s lines."""
    store = ox.Store(str(path))
    try:
        with phases("load"):
            shapes = quads_graph(split / "shapes.nq") if "shapes" in names else Graph()
            for name in names:
                if name != "shapes":
                    store.bulk_extend(graph_quads(split, name))
        with phases("check"):
            check_terms(store, index)
            excerpt_count = check_sources(store, root / "sources", index)
            check_data_cube(split, [name for name in names if name != "shapes"], root / CHECKS)
        with phases("validate"):
            report = check_shapes(store, shapes, index, only_data=True)
        if not report.conforms:
            raise BuildFailed(f"SHACL validation failed:\n\n{report.as_text()}")
        with phases("load"):
            if "shapes" in names:
                store.bulk_extend(graph_quads(split, "shapes"))
            store.flush()
            store.optimize()
        return report, excerpt_count
    finally:
        del store  # closed before it is moved or removed


def write_description(out: Path, split: Path, names: list[str]) -> list[Path]:
    """The gzipped dump and the dataset's VoID/DCAT description, from the N-Quads just written."""
    with (out / "opioid-kg.nq").open("rb") as source, (out / DUMP_FILE).open("wb") as target:
        # mtime=0 and no file name inside: the same data gives the same bytes
        with gzip.GzipFile(filename="", mode="wb", fileobj=target, compresslevel=9, mtime=0) as packed:
            shutil.copyfileobj(source, packed)
    quads = {name: list(graph_quads(split, name)) for name in names}
    nquads = (out / "opioid-kg.nq").read_bytes()
    description = describe_dataset(quads, nquads, (out / DUMP_FILE).read_bytes())
    (out / DESCRIPTION_FILE).write_bytes(description)
    return [out / DUMP_FILE, out / DESCRIPTION_FILE]


def _staging(target: Path) -> Path:
    """A fresh empty folder beside `target`, on the same file system so renames are atomic."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.new-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    return staging


def _swap_into_place(new: Path, target: Path) -> None:
    """Replace `target` by `new` with renames, keeping the old one until the new one is in place."""
    old = target.parent / f".{target.name}.old-{os.getpid()}"
    if target.exists():
        target.rename(old)
    try:
        new.rename(target)
    except OSError:
        if old.exists():
            old.rename(target)
        raise
    shutil.rmtree(old, ignore_errors=True)
