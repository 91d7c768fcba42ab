"""`kg search TEXT`: find things in the graph by name, alternative name, definition or quoted text."""

from __future__ import annotations

import json
import sys

import click

from kg.cli.context import Context, count_option, pass_context, store_option
from kg.search.index import SearchResult
from kg.search.load import KIND_NAMES, index_from_store, store_select


def describe(result: SearchResult, elsewhere: int = 0) -> str:
    """The hits as lines of text; for no hit, the nearby things or what the graph holds, and how many
    things of kinds not asked for match (`elsewhere`)."""
    lines = [f"(read {word!r} as {other!r})" for word, other in result.read_as.items()]
    if result.some_words:
        lines.append("(no thing holds every word; these hold most of them)")
    for hit in result.hits:
        extra = (
            f"  — {hit.matched}: {hit.snippet}" if hit.matched != "text" and hit.snippet != hit.label else ""
        )
        lines.append(f"{hit.kind:<10} {hit.label}{extra}\n           {hit.iri}")
    for term, instances in result.nearby:
        names = "; ".join(instance.label for instance in instances)
        lines.append(f"no thing in the graph is named {result.query!r}; it matches the term {term.label!r}")
        lines.append(f"the graph holds, of that kind: {names}")
    if elsewhere and not result.hits:
        lines.append(
            f"nothing of the kinds asked for matches {result.query!r}; {elsewhere} of other kinds do"
        )
    elif not result.hits and not result.nearby:
        held = ", ".join(f"{count} {kind}" for kind, count in result.holdings.items())
        lines.append(f"nothing in the graph matches {result.query!r}; it holds {held}")
    return "\n".join(lines)


@click.command("search")
@click.argument("text")
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice(KIND_NAMES),
    help="Only things of this kind (repeatable).",
)
@count_option("--limit", 20, "At most this many hits.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Lines for people, or the JSON of the server's /api/search.",
)
@store_option()
@pass_context
def search_command(
    context: Context,
    text: str,
    kinds: tuple[str, ...],
    limit: int,
    output_format: str,
    store_spec: str | None,
) -> None:
    """Find things by name, alternative name, definition or the text of an excerpt.

    Accents and case do not matter, nor a small misspelling ("Merida", "fentanil").
    Exit status 1 when nothing matches.
    """
    index = index_from_store(store_select(context.open_store(store_spec)))
    result = index.search(text, kinds, limit)
    if output_format == "json":
        click.echo(json.dumps(result.as_json(), ensure_ascii=False, indent=2))
    else:
        unasked = len(index.search(text, (), sys.maxsize).hits) if kinds and not result.hits else 0
        click.echo(describe(result, unasked))
    if not any(hit.kind != "term" for hit in result.hits):
        raise SystemExit(1)
