"""Run the build's real publishing step in a process of its own, for the kill tests.

    python publish_driver.py GRAPHS STORE_LINK DIST_LINK MARKER [STOP_AT]

GRAPHS is a folder of per-graph Turtle files (named as graphs, such as `data.ttl`), built
as the project's inputs; a triple labelled MARKER is added to the data graph
(from a file beside the links), so each generation can be told apart. With
STOP_AT = k, the process prints the k-th file-system step it is about to take
and waits there to be killed; with STOP_AT = 0 it runs through and prints every
step it took. Nothing is imitated: the steps are the real ones.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

from kg.build.pipeline import publish, stage
from kg.store.generations import Generations

MARKER = "https://w3id.org/opioid-kg/id/build-marker"
PROJECT = Path(__file__).resolve().parent.parent
STEPS = (
    (os, "mkdir"),
    (os, "rename"),
    (os, "replace"),
    (os, "symlink"),
    (os, "unlink"),
    (os, "fsync"),
    (shutil, "rmtree"),
)


def watch(stop_at: int) -> None:
    """Count every file-system step; at step `stop_at`, say which and wait to be killed."""
    taken = 0
    for module, name in STEPS:
        original = getattr(module, name)

        def step(*args, _original=original, _name=name, **kwargs):
            nonlocal taken
            taken += 1
            print(f"{taken} {_name} {args[0] if args else ''}", flush=True)
            if taken == stop_at:
                time.sleep(3600)
            return _original(*args, **kwargs)

        setattr(module, name, step)


def main() -> None:
    graphs_folder, store_link, dist_link, marker = sys.argv[1:5]
    stop_at = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    files = {path.stem: [path] for path in sorted(Path(graphs_folder).glob("*.ttl"))}
    marking = Path(store_link).parent.parent / "markers" / f"{os.getpid()}.ttl"
    marking.parent.mkdir(parents=True, exist_ok=True)
    label = marker.replace("\\", "\\\\").replace('"', '\\"')
    marking.write_text(f'<{MARKER}> <http://www.w3.org/2000/01/rdf-schema#label> "{label}" .\n', "utf-8")
    files["data"].append(marking)
    print("ready", flush=True)
    watch(stop_at)
    generations = Generations(Path(store_link), Path(dist_link))
    publish(generations, lambda staging: stage(PROJECT, files, staging))
    print("done", flush=True)


if __name__ == "__main__":
    main()
