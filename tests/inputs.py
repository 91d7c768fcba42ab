"""Copies of a project's inputs and of its build, for tests that change or break them."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pyoxigraph as ox

from kg.build.pipeline import PARSED
from kg.store.generations import CURRENT, GENERATIONS


def copy_inputs(root: Path, copy: Path) -> Path:
    """The input folders of the project at `root` copied to `copy`."""
    for folder in ("ontology", "graph", "sources", "queries"):
        shutil.copytree(root / folder, copy / folder)
    return copy


def copy_build(built: Path, work: Path, dist: Path) -> None:
    """The build whose store is `built/store` copied into the folder `work` as `kg build` leaves it:
    its generations and kept parses, a `store` link to the current generation's store and a link at
    `dist` to its dist/. Only what a whole build wrote is copied: per-source builds may be writing
    beside it meanwhile."""
    work.mkdir(parents=True, exist_ok=True)
    for name in (GENERATIONS, PARSED):
        shutil.copytree(built / name, work / name, symlinks=True)
    current = work / GENERATIONS / CURRENT
    os.symlink(os.path.relpath(current / "store", work), work / "store")
    os.symlink(os.path.relpath(current / "dist", dist.parent), dist)


def relabelled_store(store: Path, copy: Path, labels: dict[str, str]) -> Path:
    """A copy of the built `store` at `copy` in which each IRI of `labels` has that English
    skos:prefLabel in the data graph in place of its own: a name no curated file would pass, for the
    pages and pictures to show."""
    shutil.copytree(store, copy)
    writable = ox.Store(str(copy))
    data = ox.NamedNode("https://w3id.org/opioid-kg/graph/data")
    pref_label = ox.NamedNode("http://www.w3.org/2004/02/skos/core#prefLabel")
    for iri, label in labels.items():
        thing = ox.NamedNode(iri)
        for quad in list(writable.quads_for_pattern(thing, pref_label, None, data)):
            writable.remove(quad)
        writable.add(ox.Quad(thing, pref_label, ox.Literal(label, language="en"), data))
    writable.flush()
    del writable
    return copy
