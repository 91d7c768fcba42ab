"""`kg sources`: each source report in the built store, with the excerpts and facts that rest on it."""

from __future__ import annotations

from click.testing import CliRunner

from kg.cli import main
from kg.query.sources import sources


def test_the_report_is_listed_with_its_counts(store) -> None:
    (report,) = sources(store)
    assert report.text_file == "000_1bdfefaeb44abb70/text.txt"
    assert report.modified == "2018-08-09"
    assert report.title.startswith("Transnational Crime Issues")
    excerpts = store.query(
        "SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE { ?e a <https://w3id.org/opioid-kg/ontology#Excerpt> }"
    )
    assert report.excerpts == int(next(iter(excerpts))["n"].value) >= 50
    assert report.facts > report.excerpts


def test_command_prints_one_row_per_source(built, project_root) -> None:
    result = CliRunner().invoke(
        main, ["--project", str(project_root), "sources", "--store", str(built.store_path)]
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1].startswith("000_1bdfefaeb44abb70 2018-08-09")
    assert result.output.rstrip().endswith("1 source(s)")
