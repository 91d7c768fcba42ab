"""Every file a command writes from one build is the same bytes from run to run: Python orders a set
of strings by a hash it seeds afresh in each process, so an output that follows such an order (the
map's place markers did) differs between two runs of the same command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

KG = Path(sys.executable).with_name("kg")
OUTPUTS = {
    "map.svg": ["network", "map"],
    "flows.svg": ["network", "draw", "--substance", "fentanyl"],
    "flows.html": ["network", "draw"],
    "production.graphml": ["network", "export", "--network", "production"],
    "flows.gexf": ["network", "export"],
    "chart.svg": ["chart", "poppyCultivationArea", "potentialHeroinProduction"],
}


def _written(project: Path, store: Path, name: str, seed: str, folder: Path) -> bytes:
    output = folder / f"{seed}-{name}"
    command = [str(KG), "--project", str(project), *OUTPUTS[name], "--store", str(store), "-o", str(output)]
    ran = subprocess.run(
        command, capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONHASHSEED": seed}
    )
    assert ran.returncode == 0, ran.stderr
    return output.read_bytes()


@pytest.mark.parametrize("name", OUTPUTS)
def test_a_picture_or_export_is_the_same_bytes_whatever_the_hash_seed(
    project_root: Path, built, tmp_path: Path, name: str
) -> None:
    first, *others = (_written(project_root, built.store_path, name, seed, tmp_path) for seed in "123")
    assert all(other == first for other in others)
