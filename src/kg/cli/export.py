"""`kg export`: the built dataset, or chosen graphs, written canonically to one file."""

from __future__ import annotations

from pathlib import Path

import click

from kg.cli.context import Context, file_format, file_format_option, output_option, pass_context
from kg.errors import KgError
from kg.exchange.export import EXTENSIONS, export


@click.command("export")
@file_format_option(EXTENSIONS, "nquads")
@click.option(
    "--graph", "names", multiple=True, metavar="NAME", help="Export only this named graph (repeatable)."
)
@click.option("--union", is_flag=True, help="Merge the chosen graphs into one (for formats without graphs).")
@click.option(
    "--gzip",
    "compress",
    is_flag=True,
    help="Compress with gzip (no time stamp, so still reproducible), as a FILE ending .gz is; "
    "refused for another name.",
)
@output_option
@click.option(
    "--dist", type=click.Path(path_type=Path), default=None, help="Built dataset [default: PROJECT/dist]."
)
@pass_context
def export_command(
    context: Context,
    fmt: str | None,
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
    output_format = file_format(output, fmt, EXTENSIONS, "nquads", packed=".gz")  # x.nq.gz: N-Quads
    packed = output.suffix.lower() == ".gz"
    if compress and not packed:  # gzip under a name that says plain opens nowhere
        raise KgError(f"-o {output}: --gzip compresses; name the file ending .gz (say {output.name}.gz)")
    nquads = (dist or context.dist) / "opioid-kg.nq"
    result = export(nquads, output, output_format, names, union=union, compress=packed)
    click.echo(result.summary())
