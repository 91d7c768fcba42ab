"""One `--store` for every command: a folder or a URL, the same exit status when it is missing."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from triplestores import OxigraphServer

from kg.cli import COMMANDS, main
from kg.cli.context import StoreSpec
from kg.store.embedded import create_store

PROJECT = Path(__file__).resolve().parent.parent


def commands_with_store() -> dict[str, click.Command]:
    context = click.Context(main)
    found: dict[str, click.Command] = {}
    for name in COMMANDS:
        command = main.get_command(context, name)
        assert command is not None
        children = command.commands if isinstance(command, click.Group) else {"": command}
        for child, leaf in children.items():
            if any(p.name == "store_spec" for p in leaf.params):
                found[f"{name} {child}".strip()] = leaf
    return found


# The arguments each command needs besides --store, to get as far as opening the store.
NEEDS = {
    "build": [],
    "validate": [],
    "stats": [],
    "sources": [],
    "query": ["fentanyl-routes"],
    "search": ["fentanyl"],
    "serve": ["--port", "0"],
    "push": ["--endpoint", "http://127.0.0.1:9/query", "--update", "http://127.0.0.1:9/update"],
    "network paths": [],
    "network chokepoints": [],
    "network what-if": ["--remove", "MX"],
    "network draw": ["-o", "{tmp}/out.svg"],
    "network map": ["-o", "{tmp}/map.svg"],
    "network export": ["--format", "graphml", "-o", "{tmp}/out.graphml"],
    "chart": ["poppyCultivationArea", "-o", "{tmp}/out.svg"],
}
READERS = sorted(set(NEEDS) - {"build"})
EMBEDDED_ONLY = ["build", "validate", "push"]


def run(args: list[str], tmp_path: Path) -> click.testing.Result:
    filled = [arg.replace("{tmp}", str(tmp_path)) for arg in args]
    return CliRunner().invoke(main, ["--project", str(PROJECT), *filled])


def test_every_store_option_is_the_same_type() -> None:
    found = commands_with_store()
    assert set(found) == set(NEEDS)
    for name, command in found.items():
        option = next(p for p in command.params if p.name == "store_spec")
        assert isinstance(option.type, StoreSpec), name
        assert option.opts == ["--store"], name


@pytest.mark.parametrize("name", READERS)
def test_a_missing_store_is_exit_2_everywhere(name: str, tmp_path: Path) -> None:
    result = run([*name.split(), *NEEDS[name], "--store", str(tmp_path / "nowhere")], tmp_path)
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().count("\n") == 0
    assert "no built store" in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize("name", EMBEDDED_ONLY)
def test_an_endpoint_where_a_folder_is_needed_is_exit_2(name: str, tmp_path: Path) -> None:
    result = run([name, *NEEDS[name], "--store", "http://127.0.0.1:9/query"], tmp_path)
    assert result.exit_code == 2, result.output
    assert "needs an embedded store's folder" in result.stderr


@pytest.fixture(scope="module")
def endpoint(built, tmp_path_factory):
    """`oxigraph serve` on a copy of the built dataset."""
    location = tmp_path_factory.mktemp("endpoint") / "oxigraph"
    create_store(location, built.dist / "opioid-kg.nq")
    running = OxigraphServer(location).start()
    yield running
    running.stop()


@pytest.mark.parametrize(
    "args",
    [
        ["network", "paths", "--substance", "fentanyl", "--format", "json"],
        ["network", "what-if", "--remove", "MX", "--format", "json"],
        ["stats"],
        ["search", "fentanyl", "--format", "json"],
    ],
    ids=lambda args: " ".join(args[:2]),
)
def test_readers_answer_alike_from_a_folder_and_from_an_endpoint(built, endpoint, args, tmp_path) -> None:
    local = run([*args, "--store", str(built.store_path)], tmp_path)
    remote = run([*args, "--store", endpoint.query], tmp_path)
    assert local.exit_code == remote.exit_code == 0, remote.output
    assert remote.output == local.output
    assert len(local.output.splitlines()) > 3


@pytest.mark.parametrize("name", sorted(NEEDS))
def test_the_help_of_store_says_what_the_command_takes(name: str, tmp_path: Path) -> None:
    """`kg build --help` showed `--store PATH|URL`, and a URL is refused there."""
    shown = run([*name.split(), "--help"], tmp_path).output
    takes = "PATH" if name in EMBEDDED_ONLY else "PATH|URL"
    assert re.search(rf"--store {re.escape(takes)}\s", shown), shown
