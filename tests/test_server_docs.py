"""The serving page of the docs documents every option of `kg serve` and every page the server offers."""

from __future__ import annotations

import re
from pathlib import Path

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
