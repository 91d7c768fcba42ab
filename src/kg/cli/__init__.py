"""The `kg` command line: one click group whose sub-commands load only when they run.

Sub-commands live in the modules of this package; importing them lazily keeps
`kg query` from paying for pyshacl, matplotlib or the server at start-up.
"""

from __future__ import annotations

import importlib
import signal
import sys
from pathlib import Path

import click

from kg import __version__
from kg.cli.context import Context, buffer_output, fail, interrupt, silence_output, written_to_output
from kg.errors import EXIT_FAILED, KgError, signal_exit, stopped_by

# Sub-command name -> "module:attribute" of its click command.
COMMANDS: dict[str, str] = {
    "build": "kg.cli.build:build_command",
    "validate": "kg.cli.build:validate_command",
    "stats": "kg.cli.build:stats_command",
    "sources": "kg.cli.build:sources_command",
    "excerpt": "kg.cli.build:excerpt_command",
    "queries": "kg.cli.query:queries_command",
    "query": "kg.cli.query:query_command",
    "search": "kg.cli.search:search_command",
    "serve": "kg.cli.serve:serve_command",
    "export": "kg.cli.export:export_command",
    "push": "kg.cli.push:push_command",
    "network": "kg.cli.network:network",
    "chart": "kg.cli.network:chart",
}


class LazyGroup(click.Group):
    """A group that imports each sub-command's module the first time it is asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, _, attribute = target.partition(":")
        command: click.Command = getattr(importlib.import_module(module_name), attribute)
        return command

    def invoke(self, ctx: click.Context) -> object:
        """Run the sub-command; any error meant for the user ends it the one way `fail` does, and so
        do Ctrl-C and SIGTERM (a command that writes says what it left, as `kg build` does), not
        click's `Aborted!`, a traceback or a silent death."""
        # as Ctrl-C: cleaned up and said (`kg serve` has its own); then as before, for what runs next
        previous = signal.signal(signal.SIGTERM, interrupt)
        try:
            return super().invoke(ctx)
        except KgError as error:
            fail(error)
        except KeyboardInterrupt as stopped:
            name = stopped_by(stopped)
            fail(KgError(f"interrupted ({name})", exit_code=signal_exit(name)))
        except OSError as error:
            if not written_to_output(error):
                raise  # nobody meant it to be seen: a defect, shown with where it came from
            silence_output()
            if isinstance(error, BrokenPipeError):  # its reader stopped reading: as `head` leaves `cat`
                sys.exit(signal_exit("SIGPIPE"))
            fail(
                KgError(f"cannot write to standard output: {error.strerror or error}", exit_code=EXIT_FAILED)
            )
        finally:
            signal.signal(signal.SIGTERM, previous)


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
    buffer_output()
    ctx.obj = Context(project)
