"""Copies of a project's inputs, for tests that change or break them."""

from __future__ import annotations

import shutil
from pathlib import Path


def copy_inputs(root: Path, copy: Path) -> Path:
    """The input folders of the project at `root` copied to `copy`."""
    for folder in ("ontology", "graph", "sources", "queries"):
        shutil.copytree(root / folder, copy / folder)
    return copy
