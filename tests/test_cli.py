"""The `kg` command line as a user runs it: validate, stats, excerpt, help."""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SH

from kg.cli import COMMANDS, main
from kg.server.fairness import Usage

PREFIXES = """@prefix kg: <https://w3id.org/opioid-kg/ontology#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix country: <https://w3id.org/opioid-kg/id/country/> .
"""


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_validate_built_dataset_conforms(built) -> None:
    code, output = run("validate", "--store", str(built.store_path))
    assert code == 0
    assert "conforms: 0 violations" in output


def test_validate_files_reports_focus_node_shape_and_line(project_root: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text(PREFIXES + '\n\ncountry:XX a kg:Country ;\n    skos:prefLabel "Nowhere"@en .\n', "utf-8")
    code, output = run("--project", str(project_root), "validate", str(bad))
    assert code == 1
    assert "focus node: https://w3id.org/opioid-kg/id/country/XX" in output
    assert "shape:      https://w3id.org/opioid-kg/shapes#EvidenceShape" in output
    assert f"written at: {bad}:7" in output


def test_a_project_file_is_validated_with_the_project_around_it(project_copy: Path) -> None:
    """A curated file validated with the ontology alone gave 174 violations of things other files
    describe (a substance's class, an excerpt), though the build passes it: the project is around it
    now, and its one real fault is the one reported, at its line."""
    flows = project_copy / "graph" / "000_1bdfefaeb44abb70" / "data" / "flows.ttl"
    assert run("--project", str(project_copy), "validate", str(flows)) == (0, "conforms: 0 violations\n")
    text = flows.read_text("utf-8")
    written = "kg:substance substance:illicit-fentanyl ;"
    flow = text.rindex("flow:china-mexico-us-fentanyl a kg:TraffickingFlow", 0, text.index(written))
    line = text[:flow].count("\n") + 1  # where the flow's description starts, as a violation names it
    flows.write_text(text.replace(written, "kg:substance country:MX ;", 1), "utf-8")
    code, output = run("--project", str(project_copy), "validate", str(flows))
    assert code == 1
    assert output.count("Violation:") == 1 and "  rule:       sh:class\n" in output
    assert f"written at: {flows}:{line}" in output
    code, output = run("--project", str(project_copy), "validate", "--format", "turtle", str(flows))
    report = Graph().parse(data=output, format="turtle")
    assert len(list(report.subjects(URIRef("http://www.w3.org/ns/shacl#focusNode"), None))) == 1


def test_validate_json_and_turtle_reports(project_root: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text(PREFIXES + "country:XX a kg:Country .\n", "utf-8")
    code, output = run("--project", str(project_root), "validate", "--format", "json", str(bad))
    assert code == 1
    report = json.loads(output)
    assert report["conforms"] is False
    shapes = {v["shape"].rsplit("#", 1)[-1] for v in report["violations"]}
    assert {"EvidenceShape", "PreferredLabelShape"} <= shapes

    code, output = run("--project", str(project_root), "validate", "--format", "turtle", str(bad))
    assert code == 1
    graph = Graph().parse(data=output, format="turtle")
    results = set(graph.subjects(RDF.type, SH.ValidationResult))  # made when asked: one per violation
    assert len(results) == len(report["violations"]) and (None, SH.conforms, Literal(False)) in graph


def test_validate_unreadable_input_exits_2(project_root: Path, tmp_path: Path) -> None:
    code, output = run("--project", str(project_root), "validate", str(tmp_path / "missing.ttl"))
    assert code == 2
    assert "missing.ttl" in output and "cannot read" in output
    broken = tmp_path / "broken.ttl"
    broken.write_text(PREFIXES + "country:XX a \n", "utf-8")
    code, output = run("--project", str(project_root), "validate", str(broken))
    assert code == 2
    assert f"{broken}:6" in output
    assert "Traceback" not in output


def test_validate_undeclared_term_in_files(project_root: Path, tmp_path: Path) -> None:
    odd = tmp_path / "odd.ttl"
    odd.write_text(PREFIXES + 'country:XX kg:nickname "X" .\n', "utf-8")
    code, output = run("--project", str(project_root), "validate", str(odd))
    assert code == 1
    assert "undeclared predicate https://w3id.org/opioid-kg/ontology#nickname" in output


def test_validate_files_finds_a_thing_without_a_name_or_a_class(project_root: Path, tmp_path: Path) -> None:
    """A blank node that nothing refers to and that has no class, which no shape reaches, stops the build;
    `kg validate FILE` said such a file conformed."""
    anonymous = tmp_path / "anonymous.ttl"
    anonymous.write_text(PREFIXES + '\n[] skos:prefLabel "nobody"@en .\n', "utf-8")
    code, output = run("--project", str(project_root), "validate", str(anonymous))
    assert code == 1, output
    assert f'{anonymous}:6: [ <http://www.w3.org/2004/02/skos/core#prefLabel> "nobody"@en ]' in output
    assert "has no rdf:type and nothing refers to it" in output
    # found by its text however the text is quoted: here after another thing without a class
    anonymous.write_text(
        PREFIXES + "\n[] skos:altLabel 'other'@en .\n[] skos:prefLabel 'it\\'s nobody'@en .\n", "utf-8"
    )
    code, output = run("--project", str(project_root), "validate", str(anonymous))
    assert code == 1 and f"{anonymous}:7: [ <http://www.w3.org/2004/02/skos/core#prefLabel>" in output, output
    # a thing named by an IRI may be typed in a file not given (here in graph/common/data/places.ttl)
    typed_elsewhere = project_root / "graph" / "common" / "background" / "iso-3166.ttl"
    code, output = run("--project", str(project_root), "validate", str(typed_elsewhere))
    assert code == 0, output


def test_stats_counts_graphs_and_classes(built) -> None:
    code, output = run("stats", "--store", str(built.store_path))
    assert code == 0
    data_line = next(
        line for line in output.splitlines() if line.startswith("https://w3id.org/opioid-kg/graph/data")
    )
    assert int(data_line.split()[-1]) == built.result.triples_per_graph["data"]
    assert "http://purl.org/linked-data/cube#Observation" in output


def test_stats_counts_the_sources_apart_from_the_documents_they_cite(library_built) -> None:
    """A kg:Report is a source or a document a source cites: the class count alone is no count of
    sources, so stats gives theirs as `kg sources` lists them."""
    code, output = run("stats", "--store", str(library_built.store_path))
    assert code == 0, output
    counts = {line.split()[0]: line.split()[-1] for line in output.splitlines() if line.strip()}
    assert int(counts["sources"]) == 2 < int(counts["https://w3id.org/opioid-kg/ontology#Report"]), output


def test_stats_without_a_store_is_a_clear_error(tmp_path: Path) -> None:
    code, output = run("stats", "--store", str(tmp_path / "nowhere"))
    assert code == 2
    assert "no built store" in output


def test_excerpt_prints_turtle_at_the_right_position(project_root: Path) -> None:
    quote = "Mexican farmers may be cultivating multiple harvests"
    code, output = run("--project", str(project_root), "excerpt", "harvests", quote)
    assert code == 0
    graph = Graph().parse(
        data="@prefix kg: <https://w3id.org/opioid-kg/ontology#> .\n"
        "@prefix oa: <http://www.w3.org/ns/oa#> .\n"
        "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
        "@prefix excerpt: <https://w3id.org/opioid-kg/id/excerpt/> .\n" + output,
        format="turtle",
    )
    text = (project_root / "sources" / "000_1bdfefaeb44abb70" / "text.txt").read_text("utf-8")
    start = int(next(graph.objects(None, URIRef("http://www.w3.org/ns/oa#start"))))
    assert text[start : start + len(quote)] == quote


@pytest.mark.parametrize(
    "quote,message",
    [
        ("not in the report at all", "not found"),
        ("Mexico", "lengthen it or give --occurrence N (1 to "),  # it said "name the occurrence": how?
        ("", "an empty quote quotes nothing"),
    ],
)
def test_excerpt_refuses_missing_or_ambiguous_quotes(project_root: Path, quote: str, message: str) -> None:
    code, output = run("--project", str(project_root), "excerpt", "x", quote)
    assert code == 2  # input to correct, as the README has every wrong input (it was 1)
    assert message in output


@pytest.mark.parametrize(
    "quote,message",
    [
        (
            unicodedata.normalize("NFD", "under the Mérida Initiative"),
            "its first 11 characters are at 5975-5986, where the text has 'é' (U+00E9), the quote 'e'"
            " (U+0065); the same text in another Unicode form: write it as the text does (NFC)",
        ),
        (
            "Administration's (DEA's) Heroin Signature Program",
            "its first 14 characters are at 1470-1484, where the text has '’' (U+2019), the quote \"'\""
            " (U+0027)",
        ),
    ],
    ids=["an accent written apart", "a straight apostrophe"],
)
def test_excerpt_says_where_a_quote_not_found_parts_from_the_text(
    project_root: Path, quote: str, message: str
) -> None:
    """A quote as a PDF viewer or an editor copies it (its accents apart, its apostrophes straight) was
    said not to be in the text, shown as the words that are there."""
    code, output = run("--project", str(project_root), "excerpt", "x", quote)
    assert code == 2
    assert message in output, output


@pytest.mark.parametrize("slug", ["bad slug!", "Upper", "trailing-", "a.b", "under_score", ""])
def test_excerpt_refuses_a_slug_that_is_no_name(project_root: Path, slug: str) -> None:
    """`bad slug!` was printed into Turtle that the build then could not read, with exit 0."""
    code, output = run("--project", str(project_root), "excerpt", slug, "Mexican farmers may be cultivating")
    assert code == 2 and "an excerpt's slug is lower-case letters and digits" in output, output


def test_excerpt_warns_of_a_slug_already_described(project_root: Path) -> None:
    code, output = run(
        "--project", str(project_root), "excerpt", "report-title", "Mexican farmers may be cultivating"
    )
    assert code == 0
    assert "warning: excerpt:report-title is already described at " in output, output
    assert "provenance/excerpts.ttl:" in output


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_help(command: str) -> None:
    code, output = run(command, "--help")
    assert code == 0
    assert "Usage:" in output


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--client-budget", "0"),  # every client's second query failed with a division by zero (500)
        ("--client-budget", "-1"),  # every query failed, the first too
        ("--client-budget", "nan"),  # the budget silently off
        ("--timeout", "inf"),
        ("--timeout", "1e10"),  # past the longest wait a thread takes: every query failed (500)
        ("--queue-wait", "-2"),
        ("--request-timeout", "0"),
        ("--workers", "0"),
        ("--max-rows", "0"),
        ("--cache-mb", "-1"),
        ("--port", "70000"),
    ],
)
def test_kg_serve_refuses_a_limit_that_would_break_or_turn_off(option: str, value: str) -> None:
    code, output = run("serve", option, value)
    assert code == 2 and f"Invalid value for '{option}'" in output, output


@pytest.mark.parametrize("address", ["notanip", "127.0.0.l", "*", "proxy.example"])
def test_kg_serve_refuses_a_trusted_proxy_that_is_no_address(address: str) -> None:
    """A mistyped address was taken and matched no peer: the proxy's clients all shared its one
    per-client limit, without a word; `*` would have believed every client's X-Forwarded-For."""
    code, output = run("serve", "--port", "0", "--trusted-proxy", address)
    assert code == 2 and "Invalid value for '--trusted-proxy'" in output and "IP address" in output, output


@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        (  # it said "--in-memory: holds an embedded store", which reads as if it held one
            ("serve", "--in-memory", "--store", "http://127.0.0.1:9/sparql"),
            "--in-memory copies an embedded store into memory; a SPARQL endpoint is read where it is",
        ),
        (  # it said "the production chains are drawn as svg or png", naming neither option
            ("network", "draw", "--network", "production", "--format", "html", "-o", "chains.html"),
            "--network production is drawn as svg or png, not html",
        ),
        (  # the substance was left out without a word: every chain was drawn
            ("network", "draw", "--network", "production", "--substance", "heroin", "-o", "chains.svg"),
            "--network production holds every substance's chains; --substance keeps the flows of one",
        ),
        (
            ("network", "export", "--network", "production", "--substance", "heroin", "-o", "chains.dot"),
            "--network production holds every substance's chains; --substance keeps the flows of one",
        ),
        (  # the store was left unread without a word, the files validated with the project
            ("validate", "flows.ttl", "--store", "elsewhere"),
            "--store names the built dataset to validate; FILES are validated with the project around them",
        ),
    ],
)
def test_options_that_do_not_go_together_are_named(
    arguments: tuple[str, ...], said: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # where a file would be written
    code, output = run(*arguments)
    assert code == 2 and said in output, output
    assert list(tmp_path.iterdir()) == []


def _every_command(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, click.Command]]:
    context = click.Context(group)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        assert command is not None
        if isinstance(command, click.Group):
            yield from _every_command(command, (*path, name))
        else:
            yield " ".join((*path, name)), command


def test_every_number_a_command_takes_has_its_range() -> None:
    """A count or a limit of a plain int or float took -1 as a number: `kg network chokepoints
    --sample -3` ended on a traceback, `kg query --max-rows -1` said its answer was truncated at -1 rows."""
    unbounded = [
        f"kg {name} {option.opts[0]}"
        for name, command in _every_command(main)
        for option in command.params
        if type(option.type) in (click.types.IntParamType, click.types.FloatParamType)
    ]
    assert unbounded == []


@pytest.mark.parametrize(
    "arguments",
    [
        ("query", "evidence", "--max-rows", "-1"),
        ("query", "evidence", "--store-timeout", "nan"),
        ("search", "heroin", "--limit", "0"),
        ("network", "paths", "--max-hops", "0"),
        ("network", "chokepoints", "--sample", "-3"),
        ("excerpt", "x", "heroin", "--occurrence", "0"),
        ("push", "--endpoint", "http://127.0.0.1:9/q", "--update", "http://127.0.0.1:9/u", "--timeout", "-1"),
    ],
)
def test_a_number_out_of_its_range_is_refused_by_name(arguments: tuple[str, ...]) -> None:
    code, output = run(*arguments)
    assert code == 2 and f"Invalid value for '{arguments[-2]}'" in output, output


def test_a_tiny_budget_gives_a_long_wait_not_an_overflow() -> None:
    """used / budget overflowed to infinity for a budget of 1e-320, and so did the Retry-After."""
    usage = Usage(half_life=60, clock=lambda: 0.0)
    usage.charge("client", 10.0)
    wait = usage.wait_for("client", 1e-320)
    assert math.isfinite(wait) and wait > 60 * 1000


@pytest.mark.parametrize("given", ["sources/000_1bdfefaeb44abb70/", "./graph/000_1bdfefaeb44abb70"])
def test_excerpt_takes_a_source_s_folder_as_kg_build_does(project_root: Path, given: str) -> None:
    """`kg build --source sources/ID/` builds the source, and `kg excerpt --source sources/ID/` looked
    for `sources/sources/ID`."""
    code, output = run(
        "--project", str(project_root), "excerpt", "--source", given, "x", "According to the U.S."
    )
    assert code == 0 and 'oa:exact "According to the U.S."' in output, output


def test_a_source_folder_named_through_a_link_to_the_project_is_its_own(
    project_root: Path, tmp_path: Path
) -> None:
    """The project's own folder, named by a whole path through a link to the project, was refused as
    another checkout's."""
    (tmp_path / "link").symlink_to(project_root)
    given = str(tmp_path / "link" / "sources" / "000_1bdfefaeb44abb70")
    code, output = run(
        "--project", str(project_root), "excerpt", "--source", given, "x", "According to the U.S."
    )
    assert code == 0 and 'oa:exact "According to the U.S."' in output, output


@pytest.mark.parametrize("command", ["build", "excerpt"])
@pytest.mark.parametrize("folder", ["sources", "graph"])
def test_a_source_folder_outside_the_project_is_refused(
    project_root: Path, tmp_path: Path, command: str, folder: str
) -> None:
    """`--source /elsewhere/sources/ID` quoted or built this project's source ID: only the last part of
    the path was read, so another checkout's folder named this one's."""
    elsewhere = tmp_path / "other-checkout" / folder / "000_1bdfefaeb44abb70"
    elsewhere.mkdir(parents=True)
    quoting = ("x", "According to the U.S.")
    if command == "build":
        quoting = ("--dist", str(tmp_path / "dist"), "--store", str(tmp_path / "store"))
    code, output = run("--project", str(project_root), command, "--source", str(elsewhere), *quoting)
    assert code == 2, output
    assert f"--source {elsewhere}: not a folder of the project's sources/ or graph/" in output, output


def test_excerpt_names_what_a_source_s_metadata_lacks(project_copy: Path) -> None:
    """A source.ttl without kg:textFile, the likeliest first slip, was answered `name one source with
    --source (one of: )` to a curator who had named one; the build's own words say what is wrong."""
    metadata = project_copy / "sources" / "000_1bdfefaeb44abb70" / "source.ttl"
    lines = metadata.read_text("utf-8").splitlines(keepends=True)
    lines = [line for line in lines if "kg:textFile" not in line]
    metadata.write_text("".join(lines), "utf-8")
    report_line = next(n for n, line in enumerate(lines, 1) if "a kg:Report" in line)
    code, output = run(
        "--project", str(project_copy), "excerpt", "--source", "000_1bdfefaeb44abb70", "x", "According to"
    )
    assert code != 0, output
    said = f"source.ttl:{report_line}: describes no report whose text is in sources/000_1bdfefaeb44abb70/"
    assert said in output and "no report in it names its text with kg:textFile" in output, output


@pytest.mark.parametrize("command", ["build", "excerpt"])
def test_the_help_names_a_source_by_its_id(command: str) -> None:
    """`--source TEXT` said nothing of what to give, where the README writes `--source ID`."""
    assert "--source ID " in run(command, "--help")[1]


def test_every_option_that_takes_0_says_what_0_does() -> None:
    """`kg serve --queries-per-client 0` took the default, half the workers, which its help did not say:
    0 reads as "none" or "no limit" as well."""
    unsaid = [
        f"kg {name} {option.opts[0]}"
        for name, command in _every_command(main)
        for option in command.params
        if isinstance(option, click.Option)
        and (
            (isinstance(option.type, click.IntRange) and option.type.min == 0)
            or getattr(option.type, "zero", False)
        )
        and not re.search(r"\b0\b", option.help or "")
    ]
    assert unsaid == []


def test_every_option_says_what_it_does() -> None:
    """`kg search --help` showed `--format [text|json]` with no word of what either gives."""
    silent = [
        f"kg {name} {option.opts[0]}"
        for name, command in _every_command(main)
        for option in command.params
        if isinstance(option, click.Option) and not option.help
    ]
    assert silent == []


def test_kg_serve_refuses_a_dist_without_a_description(tmp_path: Path) -> None:
    """A mistyped --dist served, and every client asking for the dataset's description was told 404,
    "run `kg build` first"."""
    code, output = run("serve", "--port", "0", "--dist", str(tmp_path / "nothing"))
    assert code == 2 and "Invalid value for '--dist'" in output and "void.ttl" in output, output


def test_kg_queries_outside_a_project_says_so(tmp_path: Path) -> None:
    """`kg --project DIR queries` of a folder with no queries/ listed nothing and ended with 0."""
    code, output = run("--project", str(tmp_path), "queries")
    assert code == 2 and "no queries/ folder" in output, output
