"""Copies of a project's inputs and of its build, for tests that change or break them."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

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
