"""Readable plain-text tables of the analyses, for the terminal."""

from __future__ import annotations

from collections.abc import Sequence

from .chokepoints import Chokepoints
from .routes import Route, SubstanceOutcome


def table(headers: Sequence[str], body: Sequence[Sequence[object]]) -> str:
    """Columns padded to their widest cell, a rule under the header."""
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in body]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in cells
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _short(iri: str) -> str:
    return iri.rsplit("/", 1)[-1]


def route_path(route: Route) -> str:
    return " -> ".join(route.labels)


def routes_table(routes: list[Route], feeding: Sequence[dict[str, str]] = ()) -> str:
    chains = "".join(
        f"\n{leg['from']} -> {leg['to']}: {leg['substance']} ({leg['status']}) feed {leg['feeds']}"
        for leg in feeding
    )
    if chains:
        chains = "\n\nchains into production:" + chains
    if not routes:
        return "no route reaches the destination" + chains
    body = [
        [
            i,
            route_path(route),
            ", ".join(route.origin_qualifiers) or "-",
            ", ".join(route.modes) or "not stated",
            route.status,
            route.temporal,
            ", ".join(route.substances),
            ", ".join(_short(e) for e in route.evidence)
            + "".join(f"; context: {_short(e)}" for e in route.context),
        ]
        for i, route in enumerate(routes, 1)
    ]
    headers = ["#", "route", "origin is", "mode", "status", "when", "substances", "evidence (excerpts)"]
    return table(headers, body) + f"\n\n{len(routes)} route(s)" + chains


def chokepoints_table(result: Chokepoints) -> str:
    body = [
        [
            i,
            c.label,
            c.place,
            f"{c.betweenness:.2f}",
            f"{c.share:.0%}",
            f"{c.routes_through}/{result.routes_counted}",
            ", ".join(c.cut_off) or "-",
            "yes" if c.in_min_cut else "",
        ]
        for i, c in enumerate(result.ranked, 1)
    ]
    headers = [
        "rank",
        "place",
        "code",
        "betweenness",
        "of shortest routes",
        "routes through",
        "origins cut off alone",
        "in min cut",
    ]
    lines = [
        f"destination: {result.target}; origins: {', '.join(result.sources) or 'none'}",
        table(headers, body) if body else "no transit place lies between the origins and the destination",
        "",
        f"minimum node cut: {', '.join(result.min_cut or ['none'])} ({result.min_cut_note})",
    ]
    if result.routes_truncated:
        lines.append(f"routes counted up to the first {result.routes_counted}")
    if result.sampled_sources:
        lines.append(f"betweenness estimated from {result.sampled_sources} sampled origins")
    return "\n".join(lines)


def what_if_table(outcomes: list[SubstanceOutcome], removed: Sequence[str]) -> str:
    body = []
    for outcome in outcomes:
        reached = "yes" if outcome.still_reaches else "NO"
        for i, r in enumerate(outcome.routes_after or [None]):
            first = [outcome.label, reached] if i == 0 else ["", ""]
            if r is None:
                body.append(first + ["-", "", ""])
            else:
                body.append(first + [route_path(r), ", ".join(r.modes) or "not stated", r.temporal])
    lost = [f"{o.label}: {', '.join(o.origins_lost)}" for o in outcomes if o.origins_lost]
    heading = f"without {', '.join(removed)}" if removed else "nothing removed"
    headers = ["substance", "still reaches", "remaining route", "mode", "when"]
    footer = "origins cut off: " + ("; ".join(lost) if lost else "none")
    return f"{heading}\n{table(headers, body)}\n\n{footer}"
