"""The cost of an answer's views: deciding which apply, and drawing its chart and its network.

Run as `.venv/bin/python benchmarks/views.py [--store .kg/store] [--runs 5]` after `kg build`.
For each catalogue question it prints the answer's rows, the time to decide its views (p50 of
`--runs`), and the time to draw its chart and its network as SVG (once, after a first drawing:
what a new picture costs a running server before it is in its cache). A last row does the same
for a synthetic answer of 500 rows, the web pages' default row cap.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from pathlib import Path

import kg
from kg.charts.chart import chart
from kg.namespaces import ID, XSD
from kg.readable.labels import labels_for
from kg.readable.terminal import Value
from kg.readable.values import TermLike
from kg.readable.views import views_of
from kg.search.load import store_select
from kg.server.answer_pictures import chart_series, draw_network, edges, observations_in
from kg.server.services import Term
from kg.store.base import Store
from queries import median_ms  # this folder's query benchmark: the median of timed runs

QUESTIONS = ("border-heroin-seizures", "mexico-seizures", "programme-funding", "production-chains")
SYNTHETIC_ROWS = 500


def synthetic() -> tuple[list[str], list[dict[str, Term]]]:
    """500 rows: 8 places (a chart's most series), each with a value a year, and a link to one of 20
    others, labelled by one of 3 kinds (120 arrows: a network's most is 150)."""
    rows = []
    for i in range(SYNTHETIC_ROWS):
        rows.append(
            {
                "place": Term("uri", f"{ID}place/p{i % 8}"),
                "partner": Term("uri", f"{ID}place/q{i % 20}"),
                "year": Term("literal", str(1900 + i // 8), XSD + "gYear"),
                "value": Term("literal", str(i * 7 % 1000), XSD + "integer"),
                "kind": Term("literal", f"kind {i % 3}"),
            }
        )
    return ["place", "partner", "kind", "year", "value"], rows


def measure(
    store: Store, name: str, variables: Sequence[str], rows: Sequence[Mapping[str, TermLike]], runs: int
) -> None:
    iris = {v.value for row in rows for v in row.values() if v.type == "uri"}
    labels = labels_for(store_select(store), iris)
    decide = median_ms(lambda: views_of(variables, rows, labels), runs)
    views = views_of(variables, rows, labels)
    plan, network = views.chart, views.network
    chart_ms = network_ms = "-"
    if plan is not None:
        found = observations_in(store_select(store), rows)
        series, note = chart_series(store, plan, rows, labels, found)
        chart_ms = f"{median_ms(lambda: chart(series, style=plan.style, note=note), 1):.0f}"
    if network is not None:
        network_ms = (
            f"{median_ms(lambda: draw_network(network, edges(network, rows, labels), '', 'svg'), 1):.0f}"
        )
    print(f"{name:<26} {len(rows):>5} {decide:>10.2f} {chart_ms:>9} {network_ms:>11}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=Path(".kg/store"))
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    store = kg.open_store(str(args.store))
    print(f"{'answer':<26} {'rows':>5} {'decide ms':>10} {'chart ms':>9} {'network ms':>11}")
    for name in QUESTIONS:
        result = kg.ask(store, name)
        rows = [{column: Value(term) for column, term in row.items()} for row in result.rows]
        measure(store, name, result.variables, rows, args.runs)
    variables, rows = synthetic()
    measure(store, f"synthetic, {SYNTHETIC_ROWS} rows", variables, rows, args.runs)


if __name__ == "__main__":
    main()
