"""A catalogue question's plan before and after a rewrite, on the same store.

Run as `.venv/bin/python benchmarks/plans.py STORE_PROJECT NAME... [--rev main]`, where
STORE_PROJECT is a kept build (`benchmarks/scale.py --sources N --keep DIR`). For each
question it runs the text at the git revision and the text in `queries/` natively on
pyoxigraph, with the catalogue's default parameters, and prints the p50 of each and
whether the two answers are the same rows in the same order.
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

PROJECT = Path(__file__).resolve().parent.parent
Row = tuple[str | None, ...]


def answer(store: ox.Store, text: str, substitutions: dict[ox.Variable, ox.NamedNode]) -> list[Row]:
    """The whole answer, each term as text, so two answers compare row by row."""
    solutions = store.query(text, use_default_graph_as_union=True, substitutions=substitutions)
    return [tuple(None if term is None else str(term) for term in row) for row in solutions]


def p50_ms(store: ox.Store, text: str, substitutions: dict, runs: int) -> tuple[float, list[Row]]:
    """Median wall time after one warm-up run, and the answer."""
    rows = answer(store, text, substitutions)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        answer(store, text, substitutions)
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
    print(f"{'query':<28} {'before ms':>10} {'after ms':>10} {'rows':>6}  same")
    for name in args.names:
        query = catalogue[name]
        before_text = subprocess.run(
            ["git", "show", f"{args.rev}:queries/{name}.rq"],
            cwd=PROJECT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        substitutions = {ox.Variable(k): v for k, v in binding_terms(query.bindings({})).items()}
        before, old_rows = p50_ms(store, before_text, substitutions, args.runs)
        after, new_rows = p50_ms(store, query.text, substitutions, args.runs)
        print(
            f"{name:<28} {before:>10.1f} {after:>10.1f} {len(new_rows):>6}  {old_rows == new_rows}",
            flush=True,
        )


if __name__ == "__main__":
    main()
