"""A catalogue question's plan before and after a rewrite, on the same store.

Run as `.venv/bin/python benchmarks/plans.py STORE_PROJECT NAME... [--rev main]`, where
STORE_PROJECT is a kept build (`benchmarks/scale.py --sources N --keep DIR`). For each
question it runs the text at the git revision and the text in `queries/` natively on
pyoxigraph, with the catalogue's default parameters in a VALUES block (as `kg query` gives
them), and prints the p50 of each, whether the two answers hold the same rows, and whether
they come in the same order (rows that tie on every ORDER BY key come in the order the plan
makes them, so a rewrite may reorder those alone).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time
from pathlib import Path

import pyoxigraph as ox

from kg.query.catalogue import load_catalogue
from kg.store.queryfiles import binding_terms
from kg.store.sparql import with_values

PROJECT = Path(__file__).resolve().parent.parent
Row = tuple[str | None, ...]


def answer(store: ox.Store, text: str) -> list[Row]:
    """The whole answer, each term as text, so two answers compare row by row."""
    solutions = store.query(text, use_default_graph_as_union=True)
    return [tuple(None if term is None else str(term) for term in row) for row in solutions]


def p50_ms(store: ox.Store, text: str, runs: int) -> tuple[float, list[Row]]:
    """Median wall time after one warm-up run, and the answer."""
    rows = answer(store, text)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        answer(store, text)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("project", type=Path, help="a kept build (its .kg/store is read)")
    parser.add_argument("names", nargs="+", help="catalogue questions")
    parser.add_argument("--rev", default="main", help="the revision whose text is 'before'")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    store = ox.Store.read_only(str(args.project / ".kg" / "store"))
    catalogue = load_catalogue(PROJECT / "queries")
    print(f"{'query':<28} {'before ms':>10} {'after ms':>10} {'rows':>6}  same rows  same order")
    for name in args.names:
        query = catalogue[name]
        before_text = subprocess.run(
            ["git", "show", f"{args.rev}:queries/{name}.rq"],
            cwd=PROJECT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        bindings = binding_terms(query.bindings({}))
        before, old_rows = p50_ms(store, with_values(before_text, bindings), args.runs)
        after, new_rows = p50_ms(store, query.standalone(), args.runs)
        print(
            f"{name:<28} {before:>10.1f} {after:>10.1f} {len(new_rows):>6}  "
            f"{sorted(old_rows, key=str) == sorted(new_rows, key=str)!s:<9}  {old_rows == new_rows}",
            flush=True,
        )


if __name__ == "__main__":
    main()
