"""What every sub-command shares: where the project is, the exit codes, and how to fail."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kg.store.base import DEFAULT_STORE

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
