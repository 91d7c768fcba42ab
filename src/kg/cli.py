"""The `kg` command line: build, validate, inspect and query the knowledge graph."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rdflib import Graph

from . import __version__
from .build import DATA_GRAPHS, BuildFailed, build
from .catalogue import CatalogueError, NamedQuery, load_catalogue, load_query
from .excerpts import excerpt_turtle
from .locate import SubjectIndex
from .parsing import InputError, parse_turtle, rdflib_term
from .project import load_project
from .querying import GRAPH_FORMATS, SELECT_FORMATS, QueryError, binding_terms, run_query
from .sources import QuoteNotFound, load_source_texts
from .store import DEFAULT_STORE, EmbeddedStore, StoreMissing, graph_name, open_store
from .validation import ValidationReport, validate
from .vocabulary import describe_undeclared, undeclared_terms

EXIT_VIOLATIONS = 1
EXIT_BAD_INPUT = 2


class Context:
    """Where the project and its build outputs are, shared by every sub-command."""

    def __init__(self, project: Path) -> None:
        self.project = project
        self.dist = project / "dist"
        self.store = project / DEFAULT_STORE

    def store_path(self, given: Path | None) -> Path:
        return given if given is not None else self.store


pass_context = click.make_pass_decorator(Context)
store_option = click.option(
    "--store",
    "store_path",
    type=click.Path(path_type=Path),
    default=None,
    help=f"Embedded store to read [default: PROJECT/{DEFAULT_STORE}].",
)


def fail(message: str, code: int) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kg")
@click.option(
    "--project",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    default=Path("."),
    show_default=True,
    help="The project folder holding ontology/, graph/ and sources/.",
)
@click.pass_context
def main(ctx: click.Context, project: Path) -> None:
    """opioid-kg: a knowledge graph of the transnational opioid supply."""
    ctx.obj = Context(project)


@main.command("build")
@click.option(
    "--dist",
    type=click.Path(path_type=Path),
    default=None,
    help="Output folder [default: PROJECT/dist].",
)
@store_option
@pass_context
def build_command(context: Context, dist: Path | None, store_path: Path | None) -> None:
    """Parse, check and validate every file; write dist/ and load the embedded store.

    Nothing is replaced unless every check passes: a failed build leaves the
    previous dist/ and store as they were.
    """
    try:
        result = build(context.project, dist or context.dist, context.store_path(store_path))
    except InputError as error:
        fail(str(error), EXIT_BAD_INPUT)
    except BuildFailed as error:
        fail(f"build failed; dist/ and the store are unchanged.\n{error}", EXIT_VIOLATIONS)
    click.echo(result.summary())


@main.command("validate")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "turtle"]),
    default="text",
    show_default=True,
    help="Report for people (text) or machines (json, or the SHACL report as turtle).",
)
@store_option
@pass_context
def validate_command(
    context: Context, files: tuple[Path, ...], output_format: str, store_path: Path | None
) -> None:
    """Validate the built dataset, or FILES together with the project's ontology.

    Exit status: 0 when valid, 1 on violations, 2 when input cannot be read.
    """
    try:
        report = _validate_files(context, files) if files else _validate_store(context, store_path)
    except InputError as error:
        fail(str(error), EXIT_BAD_INPUT)
    except StoreMissing as error:
        fail(str(error), EXIT_BAD_INPUT)
    except BuildFailed as error:
        fail(str(error), EXIT_VIOLATIONS)
    if output_format == "json":
        click.echo(report.as_json())
    elif output_format == "turtle":
        click.echo(report.report_graph.serialize(format="turtle"))
    else:
        click.echo(report.as_text())
    sys.exit(0 if report.conforms else EXIT_VIOLATIONS)


def _validate_files(context: Context, files: tuple[Path, ...]) -> ValidationReport:
    project = load_project(context.project)
    data = Graph()
    for path in files:
        data += parse_turtle(path)
    index = SubjectIndex(list(files))
    unknown = undeclared_terms(data, project.graphs["ontology"])
    if unknown:
        raise BuildFailed(describe_undeclared(unknown, index))
    return validate(data + project.graphs["ontology"], project.graphs["shapes"], index)


def _validate_store(context: Context, store_path: Path | None) -> ValidationReport:
    store = EmbeddedStore(context.store_path(store_path))
    graphs: dict[str, Graph] = {}
    for quad in store.quads():
        name = graph_name(quad.graph_name.value)
        graphs.setdefault(name, Graph()).add(
            (rdflib_term(quad.subject), rdflib_term(quad.predicate), rdflib_term(quad.object))
        )
    data = Graph()
    for name in ("ontology",) + DATA_GRAPHS:
        data += graphs.get(name, Graph())
    return validate(data, graphs.get("shapes", Graph()))


@main.command("stats")
@store_option
@pass_context
def stats_command(context: Context, store_path: Path | None) -> None:
    """Triples per named graph and instances per class in the built store."""
    try:
        store = EmbeddedStore(context.store_path(store_path))
    except StoreMissing as error:
        fail(str(error), EXIT_BAD_INPUT)
    per_graph = store.triples_per_graph()
    click.echo(f"{'named graph':<50} {'triples':>8}")
    for iri, count in per_graph.items():
        click.echo(f"{iri:<50} {count:>8}")
    click.echo(f"{'total':<50} {sum(per_graph.values()):>8}\n")
    click.echo(f"{'class':<70} {'instances':>9}")
    for iri, count in store.instances_per_class().items():
        click.echo(f"{iri:<70} {count:>9}")


@main.command("excerpt")
@click.argument("slug")
@click.argument("quote")
@click.option(
    "--source",
    "text_file",
    default=None,
    help="File name under sources/ of the report to quote (needed when there are several).",
)
@click.option(
    "--occurrence",
    type=int,
    default=None,
    help="Which match to cite when the quote occurs more than once.",
)
@pass_context
def excerpt_command(
    context: Context, slug: str, quote: str, text_file: str | None, occurrence: int | None
) -> None:
    """Print the Turtle of excerpt SLUG quoting QUOTE verbatim from a source report.

    Paste the output into graph/provenance/excerpts.ttl and cite it from a fact
    with prov:wasDerivedFrom excerpt:SLUG.
    """
    try:
        project = load_project(context.project)
    except InputError as error:
        fail(str(error), EXIT_BAD_INPUT)
    texts = load_source_texts(project.graphs["provenance"], context.project / "sources")
    chosen = [t for t in texts.values() if text_file in (None, t.path.name)]
    if len(chosen) != 1:
        names = ", ".join(sorted(t.path.name for t in texts.values()))
        fail(f"name one source with --source (one of: {names})", EXIT_BAD_INPUT)
    source = chosen[0]
    try:
        click.echo(excerpt_turtle(slug, source.document, source.text, quote, occurrence))
    except QuoteNotFound as error:
        fail(str(error), EXIT_VIOLATIONS)


@main.command("queries")
@pass_context
def queries_command(context: Context) -> None:
    """List the catalogue of named questions in queries/, with their parameters."""
    try:
        catalogue = load_catalogue(context.project / "queries")
    except CatalogueError as error:
        fail(str(error), EXIT_BAD_INPUT)
    for query in catalogue.values():
        click.echo(f"{query.name}  ({query.answer})\n    {query.summary}\n    {query.description}")
        for parameter in query.parameters:
            default = f" [default: {parameter.default}]" if parameter.default is not None else ""
            allowed = f" (one of: {', '.join(parameter.enum)})" if parameter.enum else ""
            click.echo(
                f"    --param {parameter.name}=<{parameter.type}>{default}  {parameter.description}{allowed}"
            )
        click.echo()


@main.command("query")
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
    type=click.Choice(["table", *SELECT_FORMATS, *GRAPH_FORMATS]),
    default=None,
    help="table|csv|tsv|json|xml for SELECT and ASK; turtle|ntriples|nquads|jsonld|rdfxml for graphs.",
)
@click.option(
    "--max-rows",
    type=int,
    default=None,
    help="Stop after this many rows (the answer says it was truncated).",
)
@click.option("--store", "store_path", default=None, help="Embedded store folder or SPARQL endpoint URL.")
@pass_context
def query_command(
    context: Context,
    name_or_file: str | None,
    expression: str | None,
    params: tuple[str, ...],
    output_format: str | None,
    max_rows: int | None,
    store_path: str | None,
) -> None:
    """Answer a catalogue question by NAME, a query FILE.rq, or -e 'SPARQL'.

    The default graph is the union of the dataset's named graphs. --param values
    are checked against the parameter's declared type and bound as RDF terms,
    never pasted into the query text.
    """
    if (name_or_file is None) == (expression is None):
        fail("give a catalogue name, a .rq file, or -e 'SPARQL' (exactly one)", EXIT_BAD_INPUT)
    try:
        text, bindings, source = _resolve_query(context, name_or_file, expression, params)
        store = open_store(store_path or context.store)
        result = run_query(store, text, binding_terms(bindings), max_rows=max_rows, source=source)
        chosen = output_format or ("turtle" if result.kind == "graph" else "table")
        if chosen == "table":
            click.echo(result.table())
        else:
            click.echo(result.serialize(chosen).decode("utf-8"), nl=False)
    except (CatalogueError, QueryError, StoreMissing) as error:
        fail(str(error), EXIT_BAD_INPUT)
    if result.truncated:
        click.echo(f"warning: answer truncated at {max_rows} rows", err=True)


def _resolve_query(
    context: Context, name_or_file: str | None, expression: str | None, params: tuple[str, ...]
) -> tuple[str, dict[str, tuple[str, str, str | None]], str]:
    """The query text, its typed bindings, and a name for error messages."""
    given: dict[str, str] = {}
    for item in params:
        name, sep, value = item.partition("=")
        if not sep:
            raise CatalogueError(f"--param {item!r}: write NAME=VALUE")
        given[name] = value
    if expression is not None:
        if given:
            raise CatalogueError("--param needs a catalogue query or a .rq file with a header")
        return expression, {}, "expression"
    assert name_or_file is not None
    path = Path(name_or_file)
    named: NamedQuery
    if path.suffix == ".rq":
        try:
            text = path.read_text("utf-8")
        except OSError as error:
            raise CatalogueError(f"cannot read {path}: {error.strerror or error}") from None
        if not text.lstrip().startswith("#+"):
            if given:
                raise CatalogueError(f"--param needs a '#+' header declaring the parameters in {path}")
            return text, {}, str(path)
        named = load_query(path)
        source = str(path)
    else:
        catalogue = load_catalogue(context.project / "queries")
        if name_or_file not in catalogue:
            raise CatalogueError(f"no query named {name_or_file!r}; `kg queries` lists them")
        named = catalogue[name_or_file]
        source = str(named.path)
    return named.text, named.bindings(given), source


from .export import export_command  # noqa: E402
from .push import push_command  # noqa: E402

main.add_command(export_command)
main.add_command(push_command)


from .server.command import serve_command  # noqa: E402

main.add_command(serve_command)

from .network.cli import chart, network  # noqa: E402

main.add_command(network)
main.add_command(chart)
