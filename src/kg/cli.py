"""The `kg` command line: one click group whose sub-commands load only when they run.

Sub-commands live in the modules of their concern; importing them lazily keeps
`kg query` from paying for pyshacl, matplotlib or the server at start-up.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import click

from . import __version__
from .store import DEFAULT_STORE

EXIT_VIOLATIONS = 1
EXIT_BAD_INPUT = 2

# Sub-command name -> "module:attribute" of its click command.
COMMANDS: dict[str, str] = {
    "build": "kg.build_commands:build_command",
    "validate": "kg.build_commands:validate_command",
    "stats": "kg.build_commands:stats_command",
    "excerpt": "kg.build_commands:excerpt_command",
    "queries": "kg.query_commands:queries_command",
    "query": "kg.query_commands:query_command",
    "search": "kg.search.command:search_command",
    "serve": "kg.server.command:serve_command",
    "export": "kg.export:export_command",
    "push": "kg.push:push_command",
    "network": "kg.network.cli:network",
    "chart": "kg.network.cli:chart",
}


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


class LazyGroup(click.Group):
    """A group that imports each sub-command's module the first time it is asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, _, attribute = target.partition(":")
        return getattr(importlib.import_module(module_name), attribute)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
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
