"""Latency of every catalogue query: embedded Oxigraph store against rdflib's in-memory engine.

Run as `.venv/bin/python benchmarks/queries.py`. It builds the project into a
temporary folder (the project's own dist/ and store are left alone), then prints
one row per catalogue query: the median latency on the embedded store and on
rdflib's SPARQL engine over the same dataset, side by side, and the wall time of
`kg query NAME` started as a fresh process (cold start, output included). The
targets of the catalogue are under 5 ms on the store and under 1 s end to end.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from rdflib import Dataset

from kg.build.pipeline import build
from kg.query.catalogue import NamedQuery, load_catalogue
from kg.query.run import run_query
from kg.store.embedded import EmbeddedStore
from kg.store.queryfiles import binding_terms

PROJECT = Path(__file__).resolve().parent.parent
STORE_TARGET_MS = 5.0
COLD_TARGET_S = 1.0


def median_ms(action: Callable[[], object], runs: int) -> float:
    """Median wall time of `action` in milliseconds, after one warm-up run."""
    action()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def on_store(store: EmbeddedStore, query: NamedQuery) -> Callable[[], object]:
    """Run and read the whole answer, as `kg query` does."""
    bindings = binding_terms(query.bindings({}))
    return lambda: run_query(store, query.text, bindings)


def on_rdflib(dataset: Dataset, query: NamedQuery) -> Callable[[], object]:
    """Run and read the whole answer on rdflib's own engine, the parameters joined in as VALUES, as the
    store gets them: rdflib cannot evaluate the text's empty `VALUES ?x { }` blocks that
    initBindings would leave (`fentanyl-sources` failed in rdflib's evalMultiset)."""
    text = query.standalone({})

    def action() -> object:
        result = dataset.query(text)
        return len(result.graph) if result.graph is not None else len(list(result))

    return action


def kg_command() -> list[str]:
    """The installed `kg` script next to this interpreter, else the module."""
    script = Path(sys.executable).parent / "kg"
    return [str(script)] if script.exists() else [sys.executable, "-c", "from kg.cli import main; main()"]


def cold_start_s(name: str, store_path: Path, runs: int) -> float:
    """Median wall time of `kg query NAME` as a new process, in seconds."""
    command = [*kg_command(), "--project", str(PROJECT), "query", name, "--store", str(store_path)]
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="timed runs per query and engine")
    parser.add_argument("--cold-runs", type=int, default=3, help="`kg query` processes started per query")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="opioid-kg-bench-"))
    try:
        built = build(PROJECT, folder / "dist", folder / "store")
        store = EmbeddedStore(folder / "store")
        dataset = Dataset(default_union=True)
        started = time.perf_counter()
        dataset.parse(folder / "dist" / "opioid-kg.nq", format="nquads")
        rdflib_load_s = time.perf_counter() - started
        total = sum(built.triples_per_graph.values())
        print(f"dataset: {total} triples; rdflib load {rdflib_load_s:.2f} s; {args.runs} timed runs per cell")
        print()
        header = f"{'query':<26} {'store ms':>9} {'rdflib ms':>10} {'speed-up':>9} {'kg query s':>11}"
        print(header)
        print("-" * len(header))
        slowest_store, slowest_cold = 0.0, 0.0
        for name, query in sorted(load_catalogue(PROJECT / "queries").items()):
            store_ms = median_ms(on_store(store, query), args.runs)
            rdflib_ms = median_ms(on_rdflib(dataset, query), args.runs)
            cold = cold_start_s(name, folder / "store", args.cold_runs)
            slowest_store, slowest_cold = max(slowest_store, store_ms), max(slowest_cold, cold)
            print(
                f"{name:<26} {store_ms:>9.2f} {rdflib_ms:>10.2f} {rdflib_ms / store_ms:>8.0f}x {cold:>11.2f}"
            )
        print()
        verdict = "met" if slowest_store < STORE_TARGET_MS else "MISSED"
        print(f"slowest store median {slowest_store:.2f} ms (target < {STORE_TARGET_MS:.0f} ms: {verdict})")
        verdict = "met" if slowest_cold < COLD_TARGET_S else "MISSED"
        print(
            f"slowest `kg query` cold start {slowest_cold:.2f} s (target < {COLD_TARGET_S:.0f} s: {verdict})"
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
