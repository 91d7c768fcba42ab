"""`kg queries` and `kg query`: the catalogue of named questions, answered from a store."""

from __future__ import annotations

from pathlib import Path

import click

from kg.cli.context import Context, count_option, interruptible, pass_context, store_option
from kg.errors import KgError
from kg.files import utf8_text
from kg.namespaces import PREFIXES
from kg.query.catalogue import CatalogueError, NamedQuery, load_catalogue, load_query, named_query
from kg.query.explain import explain
from kg.query.internal import internal_queries
from kg.query.run import (
    FORMATS_BY_KIND,
    GRAPH_FORMATS,
    SELECT_FORMATS,
    QueryError,
    answer_kind,
    refused_format,
    run_query,
)
from kg.readable.terminal import readable_text
from kg.search.load import store_exists, store_index, store_select
from kg.search.resolve import Lookups, resolve_parameters
from kg.store.base import Store
from kg.store.queryfiles import Bindings, binding_terms


@click.command("queries")
@click.option("--internal", is_flag=True, help="List the queries the code itself asks instead.")
@pass_context
def queries_command(context: Context, internal: bool) -> None:
    """List the catalogue of named questions in queries/, with their parameters."""
    folder = context.project / "queries"
    if not internal and not folder.is_dir():
        raise KgError(f"{context.project}: no queries/ folder to list (kg --project DIR names the project)")
    catalogue = internal_queries() if internal else load_catalogue(folder)
    for query in catalogue.values():
        click.echo(f"{query.name}  ({query.answer})\n    {query.summary}\n    {query.description}")
        for parameter in query.parameters:
            fallback = parameter.fallback
            shown = ", ".join(fallback) if isinstance(fallback, tuple) else fallback
            default = f" [default: {shown}]" if shown is not None else ""
            allowed = f" (one of: {', '.join(parameter.enum)})" if parameter.enum else ""
            kind = f"<{parameter.type}>" + ("..." if parameter.many else "")
            click.echo(f"    --param {parameter.name}={kind}{default}  {parameter.description}{allowed}")
        click.echo()


@click.command("query")
@click.argument("name_or_file", required=False)
@click.option("-e", "--expression", help="A SPARQL query given on the command line.")
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="A typed parameter value (repeatable).",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "readable", *SELECT_FORMATS, *GRAPH_FORMATS]),
    default=None,
    help="table|readable|csv|tsv|json|xml for SELECT, table|readable|json|xml for ASK;"
    " turtle|ntriples|nquads|jsonld|rdfxml for graphs."
    " readable: values in words, each row with who says it, the quote and where it is.",
)
@count_option("--max-rows", None, "Stop after this many rows (the answer says it was truncated).")
@store_option()
@pass_context
def query_command(
    context: Context,
    name_or_file: str | None,
    expression: str | None,
    params: tuple[str, ...],
    output_format: str | None,
    max_rows: int | None,
    store_spec: str | None,
) -> None:
    """Answer a catalogue question by NAME, a query FILE.rq, or -e 'SPARQL'.

    The default graph is the union of the dataset's named graphs. --param values
    are checked against the parameter's declared type and bound as RDF terms,
    never pasted into the query text.
    """
    if (name_or_file is None) == (expression is None):
        raise KgError("give a catalogue name, a .rq file, or -e 'SPARQL' (exactly one)")
    store = context.open_store(store_spec)
    text, bindings, source = _resolve_query(context, name_or_file, expression, params, store)
    kind = answer_kind(text)
    _refuse_unwritten(kind, output_format)  # before the query runs, where its form says
    try:
        terms = binding_terms(bindings)
        result = interruptible(lambda: run_query(store, text, terms, max_rows=max_rows, source=source))
    except QueryError as error:
        raise _explained(error, text, source) from None
    if kind is None:  # its form could not be read before: the answer's kind says it
        _refuse_unwritten(result.kind, output_format)
    chosen = output_format or ("turtle" if result.kind == "graph" else "table")
    if chosen == "readable" and result.kind == "select":
        click.echo(readable_text(context.project / "sources", store, result))
    elif chosen in ("table", "readable"):
        click.echo(result.table())
    else:
        click.echo(result.serialize(chosen).decode("utf-8"), nl=False)
    if result.store_cap is not None:
        # Virtuoso says so for an answer of exactly its limit too, cut or whole
        cap = result.store_cap
        said = f"warning: the answer may be cut: it has {cap} rows, the store's own limit on an answer"
        click.echo(said, err=True)
    elif result.truncated:
        click.echo(f"warning: answer truncated at {max_rows} rows", err=True)


def _refuse_unwritten(kind: str | None, output_format: str | None) -> None:
    """Refuse a `--format` an answer of `kind` is not written in, naming those it is; None: not known."""
    if kind is None or output_format is None:
        return
    offered = ("table", "readable", *FORMATS_BY_KIND[kind])
    if output_format not in offered:
        raise refused_format(kind, offered)


def _explained(error: QueryError, text: str, source: str) -> QueryError:
    """A syntax error said as the query page says it: a prefix the query uses undeclared is named with
    the line to add, where the engine says only "Prefix not found"."""
    if error.line is None or (said := explain(text, error.message)) == error.message:
        return error
    return QueryError(f"{source}:{error.line}:{error.column}: {said}", error.line, error.column)


def _resolve_query(
    context: Context, name_or_file: str | None, expression: str | None, params: tuple[str, ...], store: Store
) -> tuple[str, Bindings, str]:
    """The query text, its typed bindings, and a name for error messages."""
    values: dict[str, list[str]] = {}
    for item in params:
        name, sep, value = item.partition("=")
        if not sep:
            raise CatalogueError(f"--param {item!r}: write NAME=VALUE")
        values.setdefault(name, []).append(value)
    # A name given once is one value; given again, a list, which only a `many` parameter takes.
    given = {name: found[0] if len(found) == 1 else found for name, found in values.items()}
    if expression is not None:
        if given:
            raise CatalogueError("--param needs a catalogue query or a .rq file with a header")
        return expression, {}, "expression"
    assert name_or_file is not None
    path = Path(name_or_file)
    named: NamedQuery
    if path.suffix == ".rq":
        try:  # read as given: `kg query <(...)` names a pipe
            text = utf8_text(path, path.read_bytes())
        except OSError as error:
            raise CatalogueError(f"cannot read {path}: {error.strerror or error}") from None
        if not text.lstrip().startswith("#+"):
            if given:
                raise CatalogueError(f"--param needs a '#+' header declaring the parameters in {path}")
            return text, {}, str(path)
        named = load_query(path)
        source = str(path)
    else:
        found = named_query(context.project / "queries", name_or_file)
        if found is None:
            raise CatalogueError(f"no query named {name_or_file!r}; `kg queries` lists them")
        named = found
        source = str(named.path)
    iri_parameters = {p.name: (p.default, p.enum) for p in named.parameters if p.type == "iri" and not p.many}
    single = {name: value for name, value in given.items() if isinstance(value, str)}
    lookups = Lookups(store_exists(store), store_select(store), store_index(store))
    resolved = resolve_parameters(iri_parameters, single, PREFIXES, lookups)
    return named.text, named.bindings({**given, **resolved}), source
