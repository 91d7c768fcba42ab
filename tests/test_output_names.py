"""A file a command writes is in the format its name says: `-o chart.png` is a PNG, never an SVG so named."""

from __future__ import annotations

import gzip
from pathlib import Path

import click
import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from rdflib import Graph

from kg.cli import main

PNG = b"\x89PNG\r\n\x1a\n"


def written(built, tmp_path: Path, name: str, *arguments: str) -> tuple[click.testing.Result, Path]:
    """The command run with `-o tmp_path/name` on the test build, and the file it names."""
    output = tmp_path / name
    reads = ["--dist", str(built.dist)] if arguments[0] == "export" else ["--store", str(built.store_path)]
    result = CliRunner().invoke(main, [*arguments, "-o", str(output), *reads])
    return result, output


@pytest.mark.parametrize(
    ("name", "arguments", "starts"),
    [
        ("chart.png", ("chart", "poppyCultivationArea"), PNG),
        ("chart.svg", ("chart", "poppyCultivationArea"), b"<?xml"),
        ("routes.png", ("network", "draw"), PNG),
        ("routes.html", ("network", "draw"), b"<!doctype html>"),
        ("chains.png", ("network", "draw", "--network", "production"), PNG),
        ("map.png", ("network", "map"), PNG),
        ("routes.gexf", ("network", "export"), b"<?xml"),
        ("routes.dot", ("network", "export"), b"digraph"),
    ],
)
def test_a_picture_or_network_is_written_as_its_file_s_extension_names(
    built, tmp_path: Path, name: str, arguments: tuple[str, ...], starts: bytes
) -> None:
    """Without --format, `-o chart.png` wrote an SVG (the default) into a file every viewer opens as a
    PNG, and `kg network export -o routes.gexf` asked for a --format the name gives."""
    result, output = written(built, tmp_path, name, *arguments)
    assert result.exit_code == 0, result.output
    assert output.read_bytes().lstrip().startswith(starts), output.read_bytes()[:80]


def test_an_export_is_written_as_its_file_s_name_says(built, tmp_path: Path) -> None:
    """`kg export -o data.ttl` wrote N-Quads, the default, and `-o opioid-kg.nq.gz` wrote them plain."""
    counts = built.result.triples_per_graph
    result, turtle = written(built, tmp_path, "data.ttl", "export", "--graph", "data")
    assert result.exit_code == 0, result.output
    assert len(Graph().parse(turtle, format="turtle")) == counts["data"]
    result, trig = written(built, tmp_path, "all.trig", "export")
    assert result.exit_code == 0, result.output
    assert len(list(ox.parse(path=trig, format=ox.RdfFormat.TRIG))) == sum(counts.values())
    result, packed = written(built, tmp_path, "all.nq.gz", "export")
    assert result.exit_code == 0, result.output
    quads = ox.parse(gzip.decompress(packed.read_bytes()), format=ox.RdfFormat.N_QUADS)
    assert len(list(quads)) == sum(counts.values())


@pytest.mark.parametrize(
    ("name", "arguments", "said"),
    [
        (
            "chart.png",
            ("chart", "poppyCultivationArea", "--format", "svg"),
            "the name says png",
        ),
        ("map.svg", ("network", "map", "--format", "png"), "the name says svg"),
        ("routes.html", ("network", "draw", "--format", "svg"), "the name says html"),
        ("routes.dot", ("network", "export", "--format", "gexf"), "the name says dot"),
        (
            "data.nq",
            ("export", "--format", "turtle", "--graph", "data"),
            "the name says nquads",
        ),
    ],
)
def test_a_format_the_file_s_name_contradicts_is_refused(
    built, tmp_path: Path, name: str, arguments: tuple[str, ...], said: str
) -> None:
    result, output = written(built, tmp_path, name, *arguments)
    assert result.exit_code == 2 and said in result.stderr, result.output
    assert result.stderr.strip().count("\n") == 0 and not output.exists()


def test_a_network_export_with_neither_a_format_nor_a_known_extension_asks_for_one(built, tmp_path) -> None:
    result, output = written(built, tmp_path, "routes.out", "network", "export")
    assert result.exit_code == 2 and "--format" in result.stderr and "graphml" in result.stderr, result.output
    assert not output.exists()


def test_every_command_writing_a_file_takes_its_format_from_the_name() -> None:
    """Every command given `-o` and a --format leaves --format to the file's name by default, so that
    the next such command cannot bring the mismatch back."""
    context = click.Context(main)
    found = {}
    for name in main.list_commands(context):
        command = main.get_command(context, name)
        assert command is not None
        subcommands = command.commands.values() if isinstance(command, click.Group) else [command]
        for each in subcommands:
            options = {option.opts[-1]: option for option in each.params if isinstance(option, click.Option)}
            if "--output" in options and "--format" in options:
                found[f"{name} {each.name}"] = (options["--format"].default, options["--format"].required)
    assert len(found) == 5, found
    assert {name: shown for name, shown in found.items() if shown != (None, False)} == {}


@pytest.mark.parametrize(
    ("name", "arguments"),
    [
        ("chart.svg.gz", ("chart", "poppyCultivationArea")),
        ("routes.png.gz", ("network", "draw")),
        ("map.svg.gz", ("network", "map")),
        ("routes.graphml.gz", ("network", "export")),
        ("routes.graphml.gz", ("network", "export", "--format", "graphml")),
    ],
)
def test_a_name_ending_gz_is_refused_where_the_command_writes_no_gzip(
    built, tmp_path: Path, name: str, arguments: tuple[str, ...]
) -> None:
    """`kg chart -o chart.svg.gz` wrote a plain SVG under a name that says gzip, which every reader then
    fails to unpack; `kg export` alone compresses a name ending .gz."""
    result, output = written(built, tmp_path, name, *arguments)
    assert result.exit_code == 2 and "writes no gzip file" in result.stderr, result.output
    assert not output.exists()


def test_an_export_asked_to_compress_a_file_whose_name_says_plain_is_refused(built, tmp_path: Path) -> None:
    """`kg export --gzip -o data.ttl` wrote gzip under a name every reader opens as Turtle, as a
    --format the name contradicts would have; `-o data.ttl.gz` says both."""
    result, output = written(built, tmp_path, "data.ttl", "export", "--gzip", "--graph", "data")
    assert result.exit_code == 2 and "--gzip" in result.stderr and ".gz" in result.stderr, result.output
    assert result.stderr.strip().count("\n") == 0 and not output.exists()
