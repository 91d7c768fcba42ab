"""`kg build`, `kg validate`, `kg stats`, `kg sources` and `kg excerpt`: making and checking the dataset."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import click

from kg.build.analyses import CACHE_VARIABLE
from kg.build.checked_store import IN_MEMORY_UP_TO, MEMORY_VARIABLE
from kg.build.checks import BuildFailed, check_shapes, check_source_folders, named, rdflib_graph
from kg.build.excerpts import excerpt_turtle
from kg.build.files_in_build import validate_from_build
from kg.build.files_in_project import validate_in_project
from kg.build.locate import SubjectIndex
from kg.build.parallel import THREADS_VARIABLE
from kg.build.parse_workers import ParsingFailed
from kg.build.pipeline import BuildResult, Unwritten, build, published_but, stop_exit, stop_reason
from kg.build.project import input_files, project_sources
from kg.build.serializations import SerializationFailed
from kg.build.shown import SHOWN, SHOWN_VARIABLE
from kg.build.sources import source_texts
from kg.build.streaming import load_files
from kg.build.validation import ValidationReport
from kg.cli.context import (
    Context,
    count_option,
    pass_context,
    silence_output,
    store_option,
    written_to_output,
)
from kg.errors import EXIT_FAILED, KgError
from kg.namespaces import ID
from kg.query.counts import instances_per_class, source_count, triples_per_graph
from kg.query.sources import sources
from kg.store.embedded import read_only
from kg.store.generations import GENERATIONS, Generation, GenerationError, Generations, place

# The build's settings by environment variable (see docs/builds.md), shown under `kg build --help`.
BUILD_ENVIRONMENT = (
    "\b\nEnvironment (see docs/builds.md):\n"
    f"  {THREADS_VARIABLE:<25} validation's query threads [default: usable CPUs, at most 4]\n"
    f"  {MEMORY_VARIABLE:<25} a clean build at most this large is checked in memory [{IN_MEMORY_UP_TO}]\n"
    f"  {SHOWN_VARIABLE:<25} faults shown of each kind; 0 shows every one [{SHOWN}]\n"
    f"  {CACHE_VARIABLE:<25} a folder of shape analyses every project may share"
)


@click.command("build", epilog=BUILD_ENVIRONMENT)
@click.option(
    "--dist",
    type=click.Path(path_type=Path),
    default=None,
    help="Output folder [default: PROJECT/dist].",
)
@store_option("Embedded store to write", folder_only=True)
@click.option(
    "--source",
    "source_id",
    default=None,
    metavar="ID",
    help="Build only this source (its folder under sources/) with graph/common/, into "
    "PROJECT/.kg/sources/ID/ unless --dist and --store say where; never into the project's build.",
)
@pass_context
def build_command(context: Context, dist: Path | None, store_spec: str | None, source_id: str | None) -> None:
    """Parse, check and validate every file; write dist/ and load the embedded store.

    Nothing is replaced unless every check passes: a failed or killed build leaves
    the previous dist/ and store as they were. dist/ and the store of one build
    switch together, as one generation (PROJECT/.kg/generations/).
    """
    if source_id is None:
        store_path, dist = context.store_path(store_spec, "kg build"), dist or context.dist
    else:
        source_id = _source_named(source_id, context.project)
        store_path, dist = _one_source_outputs(context, source_id, store_spec, dist)
    generations = Generations(store_path, dist)
    before = generations.current()
    # SIGTERM stops it as Ctrl-C does (see `kg.cli.LazyGroup.invoke`), so that what it wrote is removed
    result = _built(context, dist, store_path, source_id, (generations, before))
    try:
        click.echo(result.summary())
    except KeyboardInterrupt as stopped:
        raise published_but(generations, stopped) from None
    except OSError as error:
        if written_to_output(error):
            silence_output()
        said = f"its summary could not be written: {error.strerror or error}"
        raise published_but(generations, error, said) from None


def _built(
    context: Context,
    dist: Path,
    store_path: Path,
    source_id: str | None,
    published: tuple[Generations, Generation | None],
) -> BuildResult:
    """The build's result; each way it can fail said as a build's failure, with what it left (the
    generation current before it, among `published`, tells whether it switched)."""
    generations, before = published
    try:
        return build(context.project, dist, store_path, source_id)
    except KeyboardInterrupt as stopped:
        if generations.current() != before:  # after the switch, outside the build's own steps
            raise published_but(generations, stopped) from None
        raise BuildFailed(
            f"build failed; dist/ and the store are unchanged: {stop_reason(stopped, generations)}",
            exit_code=stop_exit(stopped),
        ) from None
    except BuildFailed as error:
        raise BuildFailed(f"build failed; dist/ and the store are unchanged.\n{error}") from None
    except (Unwritten, GenerationError, ParsingFailed, SerializationFailed) as error:
        if isinstance(error, Unwritten) and error.published:
            raise
        # each keeps its status: a signal's, a place refused (2), a build under way or a failure (1)
        unchanged = f"build failed; dist/ and the store are unchanged: {error}"
        raise BuildFailed(unchanged, exit_code=error.exit_code) from None


def _source_named(value: str, project: Path) -> str:
    """The id a --source value names: the id, or its folder under sources/ or graph/ as a shell
    completes it in the project (`sources/ID/`, `./graph/ID`), or its whole path there; any other
    value is returned as given, for `project_sources` to refuse. A whole path to a folder of that name
    elsewhere is refused: another checkout's `sources/ID` named this project's source of that id."""
    path = Path(value.rstrip("/") or value)
    if len(path.parts) == 1:
        return path.name
    if not path.is_absolute():
        return path.name if os.path.normpath(path.parent) in ("sources", "graph") else value
    if os.path.realpath(path.parent) in {os.path.realpath(project / name) for name in ("sources", "graph")}:
        return path.name  # the project's folder, however reached (a link to the project, `..`)
    if path.parent.name in ("sources", "graph"):
        raise KgError(f"--source {value}: not a folder of the project's sources/ or graph/ ({project})")
    return value


def _one_source_outputs(
    context: Context, source_id: str, store_spec: str | None, dist: Path | None
) -> tuple[Path, Path]:
    """Where a build of one source writes: beside the project's build, never over it. Checked before
    anything is made: the source is one of the project's, and each output, its links and `..` followed,
    is neither the project's build folder (.kg/) or one of its entries, nor in its dist/ or
    generations, nor a folder holding them, nor in another source's build (.kg/sources/OTHER/)."""
    project_sources(context.project, source_id)
    home = context.project / ".kg" / "sources" / source_id
    store_path = (
        context.store_path(store_spec, "kg build --source") if store_spec is not None else home / "store"
    )
    dist = dist if dist is not None else home / "dist"
    build_folder = place(context.store).parent
    kept = [
        place(context.dist),
        context.dist.resolve(),
        context.store.resolve(),
        build_folder / GENERATIONS,
    ]
    builds_of_sources, own = build_folder / "sources", place(home)
    for chosen in (store_path, dist):
        where = place(chosen)
        if (
            where.parent == build_folder
            or any(where == path or path in where.parents or where in path.parents for path in kept)
            or where in build_folder.parents
        ):
            raise KgError(f"kg build --source writes beside the project's build, not into {chosen}")
    for chosen in (store_path, dist):
        if builds_of_sources in (where := place(chosen)).parents and own not in where.parents:
            raise KgError(
                f"kg build --source {source_id} writes into {home}, not into another source's build: {chosen}"
            )
    return store_path, dist


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
@click.option(
    "--engine",
    type=click.Choice(["store", "pyshacl"]),
    default="store",
    show_default=True,
    help="SHACL by queries on the store (as kg build does), or by pyshacl, the reference engine.",
)
@store_option("Embedded store to validate", folder_only=True)
@pass_context
def validate_command(
    context: Context, files: tuple[Path, ...], output_format: str, engine: str, store_spec: str | None
) -> None:
    """Validate the built dataset, or FILES with the rest of the project around them.

    Exit status: 0 when valid, 1 on violations, 2 when input cannot be read.
    """
    if files and store_spec is not None:
        raise KgError(
            "--store names the built dataset to validate; FILES are validated with the project around them"
        )
    if files:
        report = _validate_files(context, files, engine)
    else:
        report = _validate_store(context, store_spec, engine)
    if output_format == "json":
        click.echo(report.as_json())
    elif output_format == "turtle":
        click.echo(report.as_turtle())
    else:
        click.echo(report.as_text())
    sys.exit(0 if report.conforms else EXIT_FAILED)


def _validate_files(context: Context, files: tuple[Path, ...], engine: str) -> ValidationReport:
    """The same report either way: from the project's build where it can serve (seconds), else from
    the whole project read again (see docs/curating.md)."""
    if engine == "store":
        report = validate_from_build(context.project, list(files), context.store, context.dist)
        if report is not None:
            return report
    return validate_in_project(context.project, list(files), engine)


def _validate_store(context: Context, store_spec: str | None, engine: str) -> ValidationReport:
    path = context.embedded_store(store_spec, "kg validate").path  # its files compared whole
    store = read_only(path)
    return check_shapes(store, rdflib_graph(store, ("shapes",)), None, engine)


@click.command("stats")
@store_option()
@pass_context
def stats_command(context: Context, store_spec: str | None) -> None:
    """Triples per named graph and instances per class in the built store."""
    store = context.open_store(store_spec)
    per_graph = triples_per_graph(store)
    click.echo(f"{'named graph':<50} {'triples':>8}")
    for iri, count in per_graph.items():
        click.echo(f"{iri:<50} {count:>8}")
    click.echo(f"{'total':<50} {sum(per_graph.values()):>8}")
    click.echo(f"{'sources':<50} {source_count(store):>8}\n")
    click.echo(f"{'class':<70} {'instances':>9}")
    for iri, count in instances_per_class(store).items():
        click.echo(f"{iri:<70} {count:>9}")


@click.command("sources")
@store_option()
@pass_context
def sources_command(context: Context, store_spec: str | None) -> None:
    """The sources in the built store: id (folder under sources/), date, excerpts and the facts citing
    them, title, and the earlier report each revises."""
    found = sources(context.open_store(store_spec))
    width = max([len("source"), *(len(found_source.id) for found_source in found)])
    click.echo(f"{'source':<{width}} {'modified':<10} {'excerpts':>8} {'facts':>6}  title")
    for found_source in found:
        counts = f"{found_source.excerpts:>8} {found_source.facts:>6}"
        earlier = " ".join(filter(None, (found_source.revises_title, f"<{found_source.revises}>")))
        revises = f" (revises {earlier})" if found_source.revises else ""
        click.echo(
            f"{found_source.id:<{width}} {found_source.modified:<10} {counts}  {found_source.title}{revises}"
        )
    click.echo(f"{len(found)} source(s)")


SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")  # as every excerpt's name is written: a Turtle local name too


@click.command("excerpt")
@click.argument("slug")
@click.argument("quote")
@click.option(
    "--source",
    "source_id",
    default=None,
    metavar="ID",
    help="The source to quote: its id, or its folder (sources/ID/); needed when there are several.",
)
@count_option("--occurrence", None, "Which match to cite when the quote occurs more than once.")
@pass_context
def excerpt_command(
    context: Context, slug: str, quote: str, source_id: str | None, occurrence: int | None
) -> None:
    """Print the Turtle of excerpt SLUG quoting QUOTE verbatim from a source report.

    Paste the output into graph/ID/provenance/excerpts.ttl and cite it from a fact
    with prov:wasDerivedFrom excerpt:SLUG.
    """
    if not SLUG.fullmatch(slug):
        raise KgError(
            f"{slug!r}: an excerpt's slug is lower-case letters and digits, in words joined by hyphens"
        )
    source_id = (
        _source_named(source_id, context.project) if source_id is not None else None
    )  # sources/ID/ as kg build takes it
    read = input_files(context.project, source_id)["provenance"]
    sources_dir = context.project / "sources"
    texts = source_texts(load_files({"provenance": read}), named("provenance"), sources_dir)
    check_source_folders(texts, texts, sources_dir, SubjectIndex(read))  # as the build says it
    chosen = [t for t in texts.values() if source_id in (None, t.path.parent.name)]
    if len(chosen) != 1:
        raise KgError(
            f"name one source with --source (one of: {', '.join(project_sources(context.project))})"
        )
    source = chosen[0]
    turtle = excerpt_turtle(slug, source.document, source.text, quote, occurrence)
    everywhere = [path for paths in input_files(context.project).values() for path in paths]
    described = SubjectIndex(everywhere).find(f"{ID}excerpt/{slug}")
    if described is not None:
        click.echo(
            f"warning: excerpt:{slug} is already described at {described}; choose another slug", err=True
        )
    click.echo(turtle)
