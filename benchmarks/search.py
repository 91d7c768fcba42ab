"""Search latency: the index built from the store, and p50/p99 of the queries analysts type.

Run as `.venv/bin/python benchmarks/search.py [--store .kg/store] [--runs 200]` after
`kg build`. It builds the search index from the embedded store once (the time is
printed), then asks each query `--runs` times and prints one row per query with
its p50 and p99 in milliseconds and the number of hits, and a last row over all
queries. The target is a p50 under 20 ms on the report graph.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from kg.search import index_from_store
from kg.search.load import store_select
from kg.store.opening import open_store

TARGET_P50_MS = 20.0
QUERIES = (
    "Sinaloa",
    "cartel",
    "Merida",
    "Mérida Initiative",
    "fentanil",
    "heroin seizures",
    "ONDCP",
    "poppy cultivation Mexico",
    "China main source",
    "carfentanil",
    "f",
    "precursor chemicals",
    "xyzzy",
)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=Path(".kg/store"))
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    started = time.perf_counter()
    index = index_from_store(store_select(open_store(args.store)))
    built = (time.perf_counter() - started) * 1000
    print(f"index: {len(index.entries)} entries, {len(index.vocabulary)} words, built in {built:.0f} ms\n")
    print(f"{'query':<28} {'p50 ms':>8} {'p99 ms':>8} {'hits':>5}")
    every: list[float] = []
    for query in QUERIES:
        times = []
        hits = 0
        for _ in range(args.runs):
            start = time.perf_counter()
            hits = len(index.search(query).hits)
            times.append((time.perf_counter() - start) * 1000)
        every += times
        print(f"{query:<28} {percentile(times, 0.5):>8.2f} {percentile(times, 0.99):>8.2f} {hits:>5}")
    p50 = statistics.median(every)
    print(f"{'all':<28} {p50:>8.2f} {percentile(every, 0.99):>8.2f}")
    print(f"\ntarget p50 < {TARGET_P50_MS:.0f} ms: {'met' if p50 < TARGET_P50_MS else 'NOT met'}")


if __name__ == "__main__":
    main()
