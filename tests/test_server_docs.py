"""The serving page of the docs documents every option of `kg serve` and every page the server offers."""

from __future__ import annotations

import re
from pathlib import Path

import click
from click.testing import CliRunner

from kg.cli import main

SERVING = Path(__file__).resolve().parent.parent / "docs" / "serving.md"


def serving_section() -> str:
    return SERVING.read_text("utf-8")


def test_every_serve_option_is_documented() -> None:
    help_text = CliRunner().invoke(main, ["serve", "--help"]).output
    options = set(re.findall(r"(--[a-z][a-z-]+)", help_text)) - {"--help"}
    assert {"--host", "--port", "--store", "--timeout", "--max-rows", "--debug"} <= options
    section = serving_section()
    assert [option for option in sorted(options) if f"`{option}" not in section] == []


def test_every_route_is_documented() -> None:
    from flask import Flask

    from kg.server import api, dataset, ontology, pages, resources, result_views, source, sparql

    probe = Flask("probe")
    for module in (sparql, api, dataset, ontology, source, pages, resources, result_views):
        probe.register_blueprint(module.blueprint)
    rules = {rule.rule for rule in probe.url_map.iter_rules() if rule.endpoint != "static"}
    assert len(rules) >= 15
    section = serving_section()
    undocumented = [
        rule for rule in sorted(rules) if (rule.split("<")[0] if rule != "/" else "`GET /`") not in section
    ]
    assert undocumented == []


def test_the_serving_table_gives_each_option_the_default_kg_serve_has() -> None:
    """A default written as a value in the table (`10` s, `127.0.0.1`) is the one --help shows."""
    from kg.cli.serve import serve_command

    defaults = {option.opts[-1]: shown_default(option) for option in serve_command.params}
    rows = re.findall(r"^\| (`--[^|]+) \| ([^|]+) \|", serving_section(), flags=re.MULTILINE)
    differ = []
    for options, default in rows:
        named = re.findall(r"`(--[a-z-]+)`", options)
        written = re.findall(r"`([^`]+)`", default)
        if len(named) != len(written) or not default.lstrip().startswith("`"):
            continue  # a default said in words ("CPU count (at least 2)")
        for option, value in zip(named, written, strict=True):
            if str(defaults[option]) != value and not _same_number(defaults[option], value):
                differ.append(f"{option}: docs {value}, kg serve {defaults[option]}")
    assert len(rows) >= 20 and differ == []


def shown_default(option: click.Parameter) -> object:
    """The option's default, or where it has none of its own (PROJECT/.kg/store) the one its help says."""
    if option.default is not None:
        return option.default
    said = re.search(r"\[default: ([^]]+)\]", getattr(option, "help", None) or "")
    return said.group(1) if said else None


def _same_number(default: object, written: str) -> bool:
    try:
        return float(str(default)) == float(written)
    except ValueError:
        return False
