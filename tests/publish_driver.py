"""Run the build's real publishing step in a process of its own, for the kill tests.

    python publish_driver.py GRAPHS STORE_LINK DIST_LINK MARKER [STOP_AT]

GRAPHS is a folder of per-graph Turtle files (a build's `dist/graphs/`); a
triple labelled MARKER is added to the data graph, so each generation can be
told apart. With STOP_AT = k, the process prints the k-th file-system step it is
about to take and waits there to be killed; with STOP_AT = 0 it runs through and
prints every step it took. Nothing is imitated: the steps are the real ones.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDFS

from kg.build.pipeline import publish
from kg.store.generations import Generations

MARKER = URIRef("https://w3id.org/opioid-kg/id/build-marker")
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
    graphs = {}
    for path in sorted(Path(graphs_folder).glob("*.ttl")):
        graphs[path.stem] = Graph().parse(path, format="turtle")
    graphs["data"].add((MARKER, RDFS.label, Literal(marker)))
    print("ready", flush=True)
    watch(stop_at)
    publish(graphs, Generations(Path(store_link), Path(dist_link)))
    print("done", flush=True)


if __name__ == "__main__":
    main()
