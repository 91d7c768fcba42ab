"""`kg export`: the built dataset, or chosen graphs, written canonically to one file."""

from __future__ import annotations

from pathlib import Path

import click

from kg.cli.context import Context, output_option, pass_context
from kg.exchange.export import FORMATS, export


@click.command("export")
@click.option(
    "--format", "output_format", type=click.Choice(list(FORMATS)), default="nquads", show_default=True
)
@click.option(
    "--graph", "names", multiple=True, metavar="NAME", help="Export only this named graph (repeatable)."
)
@click.option("--union", is_flag=True, help="Merge the chosen graphs into one (for formats without graphs).")
@click.option(
    "--gzip", "compress", is_flag=True, help="Compress with gzip (no time stamp, so still reproducible)."
)
@output_option
@click.option(
    "--dist", type=click.Path(path_type=Path), default=None, help="Built dataset [default: PROJECT/dist]."
)
@pass_context
def export_command(
    context: Context,
    output_format: str,
    names: tuple[str, ...],
    union: bool,
    compress: bool,
    output: Path,
    dist: Path | None,
) -> None:
    """Write the built dataset, or chosen named graphs, canonically to a file.

    The same build gives the same bytes. N-Triples, Turtle and RDF/XML hold one
    graph: name one with --graph, or ask for the union with --union. A VoID/DCAT
    description is written beside the file as FILE.void.ttl.
    """
    nquads = (dist or context.dist) / "opioid-kg.nq"
    result = export(nquads, output, output_format, names, union=union, compress=compress)
    click.echo(result.summary())
