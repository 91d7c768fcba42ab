"""`kg build`, `kg validate`, `kg stats` and `kg excerpt`: making and checking the dataset."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rdflib import Graph

from kg.build.excerpts import excerpt_turtle
from kg.build.locate import SubjectIndex
from kg.build.parsing import InputError, parse_turtle, rdflib_term
from kg.build.pipeline import DATA_GRAPHS, BuildFailed, build
from kg.build.project import load_project
from kg.build.sources import QuoteNotFound, load_source_texts
from kg.build.validation import ValidationReport, validate
from kg.build.vocabulary import describe_undeclared, undeclared_terms
from kg.cli.context import EXIT_BAD_INPUT, EXIT_VIOLATIONS, Context, fail, pass_context, store_option
from kg.store.base import StoreMissing, graph_name
from kg.store.embedded import EmbeddedStore
from kg.store.generations import GenerationError


@click.command("build")
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

    Nothing is replaced unless every check passes: a failed or killed build leaves
    the previous dist/ and store as they were. dist/ and the store of one build
    switch together, as one generation (PROJECT/.kg/generations/).
    """
    try:
        result = build(context.project, dist or context.dist, context.store_path(store_path))
    except InputError as error:
        fail(str(error), EXIT_BAD_INPUT)
    except BuildFailed as error:
        fail(f"build failed; dist/ and the store are unchanged.\n{error}", EXIT_VIOLATIONS)
    except GenerationError as error:
        fail(f"build failed; dist/ and the store are unchanged: {error}", EXIT_BAD_INPUT)
    click.echo(result.summary())


@click.command("validate")
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


@click.command("stats")
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


@click.command("excerpt")
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
