"""`kg build` end to end: reproducible output, atomic replacement, and bad input stopped at its place."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import unicodedata
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from kg.build.parsing import InputError
from kg.build.pipeline import BuildFailed, build
from kg.build.serializations import SerializationFailed, Serializing
from kg.cli import main
from kg.query.counts import triples_per_graph
from kg.store.embedded import EmbeddedStore


def snapshot(folder: Path) -> dict[str, str]:
    """The SHA-256 of every file under `folder`, by relative path."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_summary_reports_counts_and_zero_violations(built) -> None:
    summary = built.result.summary()
    assert "violations: 0" in summary
    assert f"data {built.result.triples_per_graph['data']}" in summary
    assert built.result.excerpts_checked >= 50
    assert set(built.result.triples_per_graph) == {"ontology", "shapes", "data", "provenance", "background"}


def test_store_holds_what_dist_holds(built) -> None:
    per_graph = triples_per_graph(EmbeddedStore(built.store_path))
    expected = {
        f"https://w3id.org/opioid-kg/graph/{name}": n for name, n in built.result.triples_per_graph.items()
    }
    assert per_graph == expected
    lines = (built.dist / "opioid-kg.nq").read_text("utf-8").splitlines()
    assert len(lines) == sum(expected.values())


def test_store_dumps_the_very_bytes_of_dist(built) -> None:
    """What is served is what was built: the store's sorted dump is dist/opioid-kg.nq, byte for byte."""
    store = ox.Store.read_only(str(built.store_path))
    lines = sorted(set(store.dump(format=ox.RdfFormat.N_QUADS).decode("utf-8").splitlines()))
    dist = (built.dist / "opioid-kg.nq").read_bytes()
    assert ("\n".join(lines) + "\n").encode("utf-8") == dist
    assert b"^^<http://www.w3.org/2001/XMLSchema#nonNegativeInteger>" not in dist


def test_two_builds_write_identical_dist(project_root: Path, tmp_path: Path, built) -> None:
    second = build(project_root, tmp_path / "dist", tmp_path / "store")
    assert snapshot(second.dist) == snapshot(built.dist)
    assert {
        "opioid-kg.nq",
        "opioid-kg.trig",
        "opioid-kg.jsonld",
        "graphs/data.ttl",
        "graphs/data.jsonld",
    } <= set(snapshot(built.dist))


def test_failed_build_leaves_previous_build_in_place(project_copy: Path, tmp_path: Path, built) -> None:
    # The previous build is the session's, copied: building it again would only test the build twice.
    dist, store = tmp_path / "dist", tmp_path / "store"
    shutil.copytree(built.dist, dist)
    shutil.copytree(built.store_path, store)
    before = snapshot(dist)
    counts = triples_per_graph(EmbeddedStore(store))

    statistics = project_copy / "graph" / "000_1bdfefaeb44abb70" / "data" / "statistics.ttl"
    statistics.write_text(statistics.read_text("utf-8").replace('"111"', '"111.5x"'), "utf-8")
    with pytest.raises(InputError):
        build(project_copy, dist, store)

    assert snapshot(dist) == before
    assert triples_per_graph(EmbeddedStore(store)) == counts
    # beside them only the parse cache, whose entries are right whatever the build's outcome
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dist", "generations", "parsed", "project", "store"]
    assert os.listdir(tmp_path / "generations") == [".lock"], "the failed build left its generation"


def test_syntax_error_names_file_line_and_column(project_copy: Path, tmp_path: Path) -> None:
    flows = project_copy / "graph" / "000_1bdfefaeb44abb70" / "data" / "flows.ttl"
    lines = flows.read_text("utf-8").splitlines()
    broken_line = next(i for i, line in enumerate(lines) if line.startswith("flow:colombia-us-heroin a"))
    lines[broken_line] = lines[broken_line].replace(
        " a kg:TraffickingFlow ;", " a kg:TraffickingFlow ; ;;; ["
    )
    flows.write_text("\n".join(lines), "utf-8")

    result = CliRunner().invoke(
        main, ["--project", str(project_copy), "build", "--dist", str(tmp_path / "d")]
    )
    assert result.exit_code == 2
    assert f"{flows}:{broken_line + 1}:" in result.output
    assert "Turtle syntax error" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "d").exists()


@pytest.mark.parametrize(
    "original,replacement,message",
    [
        ('"2000"^^xsd:gYear', '"20x1"^^xsd:gYear', '"20x1" is not a valid xsd:gYear'),
        ('"38"^^xsd:decimal', '"twelve"^^xsd:decimal', '"twelve" is not a valid xsd:decimal'),
    ],
)
def test_ill_typed_literal_is_an_error(
    project_copy: Path, tmp_path: Path, original: str, replacement: str, message: str
) -> None:
    changes = project_copy / "graph" / "000_1bdfefaeb44abb70" / "data" / "changes.ttl"
    text = changes.read_text("utf-8")
    assert original in text
    changes.write_text(text.replace(original, replacement, 1), "utf-8")
    line = next(n for n, row in enumerate(changes.read_text("utf-8").splitlines(), 1) if replacement in row)
    with pytest.raises(InputError) as error:
        build(project_copy, tmp_path / "dist", tmp_path / "store")
    assert str(error.value) == f"{changes}:{line}: ill-typed literal: {message}"


@pytest.mark.parametrize(
    ("written", "before"),
    [
        ("'20x1'^^xsd:gYear", 'rdfs:comment "20x1"@en ;'),  # another quote; the same text in a comment
        ('"""20x1"""^^xsd:gYear', '# "20x1"^^xsd:gYear in a comment\n'),
        ('"20\\u0078\\u0031"^^<http://www.w3.org/2001/XMLSchema#gYear>', 'rdfs:comment "20x1" ;'),
    ],
    ids=["single quotes after a plain string", "long quotes after a comment", "escapes and a full IRI"],
)
def test_an_ill_typed_literal_is_named_where_it_is_written(
    project_copy: Path, tmp_path: Path, written: str, before: str
) -> None:
    """The first line holding the quoted text was named, a plain string or a comment as well, and
    none where the literal was written in other quotes."""
    changes = project_copy / "graph" / "000_1bdfefaeb44abb70" / "data" / "changes.ttl"
    text = changes.read_text("utf-8")
    original = 'kg:highestSince "2000"^^xsd:gYear'
    assert original in text
    lines = text[: text.index(original)].count("\n") + 1
    changes.write_text(text.replace(original, f"{before}\n    kg:highestSince {written}", 1), "utf-8")
    line = lines + 1 + before.count("\n")
    with pytest.raises(InputError) as error:
        build(project_copy, tmp_path / "dist", tmp_path / "store")
    assert str(error.value) == f'{changes}:{line}: ill-typed literal: "20x1" is not a valid xsd:gYear'


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ('"a\\u0001b"', "ill-typed literal: U+0001 is not a character an xsd:string may hold"),
        ('"a\\u0001b"@en', "ill-typed literal: U+0001 is not a character a text in a language may hold"),
        ('"""a\x01b"""@en-GB', "ill-typed literal: U+0001 is not a character a text in a language may hold"),
        ('"cultivation"@en--ltr', "a text with an RDF 1.2 base direction (--ltr, --rtl)"),
        (
            '"c\\u0002d"^^<http://example.org/dt>',
            "ill-typed literal: U+0002 is not a character a literal of <http://example.org/dt> may hold",
        ),
    ],
    ids=[
        "escaped in a plain string",
        "escaped in a text in a language",
        "raw, long quotes",
        "a direction",
        "a datatype not XML Schema's",
    ],
)
def test_a_text_no_published_format_holds_is_named_where_it_is_written(
    project_copy: Path, tmp_path: Path, written: str, message: str
) -> None:
    """A plain string's control character was named at its file alone; in a text in a language it was
    published (dist/'s XML answers then malformed), and so was a base direction, which rdflib cannot
    read back from dist/."""
    changes = project_copy / "graph" / "000_1bdfefaeb44abb70" / "data" / "changes.ttl"
    text = changes.read_text("utf-8")
    original = 'kg:highestSince "2000"^^xsd:gYear'
    line = text[: text.index(original)].count("\n") + 2
    changes.write_text(
        text.replace(original, f'rdfs:comment "fine"@en ;\n    rdfs:comment {written} ;\n    {original}', 1),
        "utf-8",
    )
    with pytest.raises(InputError) as error:
        build(project_copy, tmp_path / "dist", tmp_path / "store")
    assert str(error.value).startswith(f"{changes}:{line}: {message}")


def test_a_misspelt_name_a_shape_also_fails_is_named_with_what_was_meant(
    project_copy: Path, tmp_path: Path
) -> None:
    """The curating guide's own example: a flow's substance misspelt failed its shape, and the build
    said that alone, without the name it was closest to."""
    flows = project_copy / "graph" / "000_1bdfefaeb44abb70" / "data" / "flows.ttl"
    text = flows.read_text("utf-8")
    written = "kg:substance substance:illicit-fentanyl ;"
    line = text[: text.index(written)].count("\n") + 1
    flows.write_text(text.replace(written, "kg:substance substance:fentanil ;", 1), "utf-8")
    with pytest.raises(BuildFailed) as failure:
        build(project_copy, tmp_path / "dist", tmp_path / "store")
    message = str(failure.value)
    assert message.startswith("SHACL validation failed:")
    substance = "https://w3id.org/opioid-kg/id/substance/"
    meant = f"<{substance}fentanil> is described nowhere (did you mean <{substance}fentanyl>"
    assert f"{flows}:{line}: {meant}" in message


def test_undeclared_predicate_is_an_error(project_copy: Path, tmp_path: Path) -> None:
    places = project_copy / "graph" / "common" / "data" / "places.ttl"
    places.write_text(
        places.read_text("utf-8").replace(
            "kg:withinCountry country:US ;", "kg:withinCountri country:US ;", 1
        ),
        "utf-8",
    )
    with pytest.raises(BuildFailed) as error:
        build(project_copy, tmp_path / "dist", tmp_path / "store")
    assert "undeclared predicate https://w3id.org/opioid-kg/ontology#withinCountri" in str(error.value)
    assert f"{places}:" in str(error.value)


def test_undeclared_class_is_an_error(project_copy: Path, tmp_path: Path) -> None:
    actors = project_copy / "graph" / "common" / "data" / "actors.ttl"
    actors.write_text(
        actors.read_text("utf-8").replace(
            "organization:esri a kg:Company ;", "organization:esri a kg:Firm ;"
        ),
        "utf-8",
    )
    with pytest.raises(BuildFailed) as error:
        build(project_copy, tmp_path / "dist", tmp_path / "store")
    assert "undeclared class https://w3id.org/opioid-kg/ontology#Firm" in str(error.value)


def misquote_an_excerpt(project: Path) -> None:
    """Change one quoted word, so that the excerpt no longer matches its source text."""
    excerpts = project / "graph" / "000_1bdfefaeb44abb70" / "provenance" / "excerpts.ttl"
    text = excerpts.read_text("utf-8")
    excerpts.write_text(text.replace('"Mexican farmers may be', '"Mexican farmers must be', 1), "utf-8")


def test_excerpt_not_in_source_is_an_error(project_copy: Path, tmp_path: Path) -> None:
    misquote_an_excerpt(project_copy)
    with pytest.raises(BuildFailed) as error:
        build(project_copy, tmp_path / "dist", tmp_path / "store")
    assert "excerpt https://w3id.org/opioid-kg/id/excerpt/multiple-harvests" in str(error.value)
    assert "not the quoted 'Mexican farmers must be" in str(error.value)


def test_a_check_failing_beside_validation_is_reported_first(project_copy: Path, tmp_path: Path) -> None:
    """The checks run beside SHACL validation; when both find a fault, the build still reports the
    check's, as it did when they ran one after the other."""
    changes = project_copy / "graph" / "000_1bdfefaeb44abb70" / "data" / "changes.ttl"
    # A figure its excerpt writes (44,100 hectares), so that the shapes' rule alone finds it wrong.
    changes.write_text(
        changes.read_text("utf-8").replace('kg:percentChange "38"', 'kg:percentChange "44100"'), "utf-8"
    )
    with pytest.raises(BuildFailed, match="SHACL validation failed"):  # this change alone fails validation
        build(project_copy, tmp_path / "dist", tmp_path / "store")
    misquote_an_excerpt(project_copy)
    with pytest.raises(BuildFailed) as error:
        build(project_copy, tmp_path / "dist", tmp_path / "store")
    assert "not the quoted 'Mexican farmers must be" in str(error.value)
    assert "SHACL" not in str(error.value)
    assert not (tmp_path / "dist").exists()


def test_changed_source_text_is_an_error(project_copy: Path, tmp_path: Path) -> None:
    source = project_copy / "sources" / "000_1bdfefaeb44abb70" / "text.txt"
    source.write_text(source.read_text("utf-8") + "\n", "utf-8")
    with pytest.raises(BuildFailed) as error:
        build(project_copy, tmp_path / "dist", tmp_path / "store")
    assert "SHA-256" in str(error.value)


def test_shacl_violation_stops_the_build_and_names_the_file(project_copy: Path, tmp_path: Path) -> None:
    changes = project_copy / "graph" / "000_1bdfefaeb44abb70" / "data" / "changes.ttl"
    # A figure its excerpt writes (44,100 hectares), so that the shapes' rule alone finds it wrong.
    changes.write_text(
        changes.read_text("utf-8").replace('kg:percentChange "38"', 'kg:percentChange "44100"'), "utf-8"
    )
    result = CliRunner().invoke(
        main,
        [
            "--project",
            str(project_copy),
            "build",
            "--dist",
            str(tmp_path / "d"),
            "--store",
            str(tmp_path / "s"),
        ],
    )
    assert result.exit_code == 1
    assert "percentage change does not agree" in result.output
    assert "change/mx-poppy-cultivation-2016-2017" in result.output
    assert f"{changes}:" in result.output
    assert not (tmp_path / "d").exists()


def test_older_generations_go_once_a_build_s_checks_pass_and_the_current_one_stays_whatever_fails(
    project_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build removes the generations older than the current one once its checks have passed, while
    its writing processes finish: one that fails its checks leaves the current and the previous
    generation; one whose writers are killed after that leaves the current one whole and no older;
    one that passes leaves itself and the one it follows."""
    dist, store = tmp_path / "dist", tmp_path / ".kg" / "store"
    generations = store.parent / "generations"
    data = project_copy / "graph" / "000_1bdfefaeb44abb70" / "data"
    statistics, findings = data / "statistics.ttl", data / "findings.ttl"
    text, words = statistics.read_text("utf-8"), findings.read_text("utf-8")

    def kept() -> list[str]:
        return sorted(name[:4] for name in os.listdir(generations) if name[:1].isdigit())

    build(project_copy, dist, store)
    findings.write_text(words.replace('"the domestic opioid', '"the national opioid'), "utf-8")
    build(project_copy, dist, store)
    assert kept() == ["0001", "0002"]
    statistics.write_text(text.replace('"111"', '"111.5x"', 1), "utf-8")
    with pytest.raises(InputError):
        build(project_copy, dist, store)
    assert kept() == ["0001", "0002"]
    statistics.write_text(text, "utf-8")
    findings.write_text(words.replace('"the domestic opioid', '"the lasting opioid'), "utf-8")
    shown = snapshot(dist)
    started = Serializing.__init__

    def writers_killed(self: Serializing, *args: object, **options: object) -> None:
        started(self, *args, **options)  # type: ignore[arg-type]  # as given
        for process in self._processes:  # the real writing processes, killed as the kernel may
            process.kill()

    monkeypatch.setattr(Serializing, "__init__", writers_killed)
    with pytest.raises(SerializationFailed):
        build(project_copy, dist, store)
    assert kept() == ["0002"] and snapshot(dist) == shown
    monkeypatch.setattr(Serializing, "__init__", started)
    build(project_copy, dist, store)
    assert kept() == ["0002", "0003"]


def test_a_misquote_past_the_first_words_shows_where_it_parts(project_copy: Path, tmp_path: Path) -> None:
    """The two texts were shown by their first 60 characters, alike when the quote differs later."""
    excerpts = project_copy / "graph" / "000_1bdfefaeb44abb70" / "provenance" / "excerpts.ttl"
    text = excerpts.read_text("utf-8")
    assert "44,100 hectares of opium poppy were cultivated" in text
    excerpts.write_text(
        text.replace("44,100 hectares of opium poppy were", "44,900 hectares of opium poppy were", 1)
    )
    with pytest.raises(BuildFailed) as error:
        build(project_copy, tmp_path / "dist", tmp_path / "store")
    assert "is …'" in str(error.value) and "44,100 hectares" in str(error.value), str(error.value)
    assert "not the quoted …'" in str(error.value) and "44,900 hectares" in str(error.value)
    assert "they part at character" in str(error.value)


def test_a_quote_in_another_unicode_form_names_the_characters_where_it_parts(
    project_copy: Path, tmp_path: Path
) -> None:
    """A quote whose accent is a character of its own (NFD, as some editors and PDF copies write it)
    was shown beside the text as the same words, `'the Mérida Initiative'` twice, with no hint of
    what differs."""
    excerpts = project_copy / "graph" / "000_1bdfefaeb44abb70" / "provenance" / "excerpts.ttl"
    text = excerpts.read_text("utf-8")
    assert "Mérida Initiative" in text
    excerpts.write_text(text.replace("Mérida", unicodedata.normalize("NFD", "Mérida"), 1), "utf-8")
    with pytest.raises(BuildFailed) as error:
        build(project_copy, tmp_path / "dist", tmp_path / "store")
    message = str(error.value)
    assert "the text has 'é' (U+00E9), the quote 'e' (U+0065)" in message, message
    assert "the same text in another Unicode form: write it as the text does (NFC)" in message


def test_a_text_saved_with_a_byte_order_mark_says_where_each_quote_now_is(
    project_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A text saved again by an editor that puts a byte-order mark first (its digest recorded again)
    moves every excerpt by one character: each was said not to match, with no word of the mark nor of
    where its quote now stands."""
    source = project_copy / "sources" / "000_1bdfefaeb44abb70"
    text = "\ufeff" + (source / "text.txt").read_text("utf-8")
    (source / "text.txt").write_text(text, "utf-8")
    metadata = source / "source.ttl"
    digest = hashlib.sha256(text.encode()).hexdigest()
    metadata.write_text(
        re.sub(r'kg:sha256 "[0-9a-f]+"', f'kg:sha256 "{digest}"', metadata.read_text("utf-8")), "utf-8"
    )
    quote = "Updated August 9, 2018"
    monkeypatch.setenv("KG_VIOLATIONS_SHOWN", "0")  # every excerpt named
    with pytest.raises(BuildFailed) as error:
        build(project_copy, tmp_path / "dist", tmp_path / "store")
    updated = next(line for line in str(error.value).splitlines() if "excerpt/report-updated:" in line)
    at = text.index(quote)
    assert f"the quote is in the text at {at}-{at + len(quote)}" in updated, updated
    assert "the text starts with a byte-order mark (U+FEFF), which counts as its first character" in updated


@pytest.mark.parametrize("start", ["99999", "9" * 5000])
def test_a_position_past_the_texts_end_says_how_long_the_text_is(
    project_copy: Path, tmp_path: Path, start: str
) -> None:
    """A position past the end of the text was shown as the text `''` there; one of more than 4,300
    digits, which Python will not read as a number, stopped the build with a traceback."""
    excerpts = project_copy / "graph" / "000_1bdfefaeb44abb70" / "provenance" / "excerpts.ttl"
    text = excerpts.read_text("utf-8")
    assert 'oa:start "4"^^xsd:nonNegativeInteger' in text
    excerpts.write_text(text.replace('oa:start "4"^^', f'oa:start "{start}"^^', 1), "utf-8")
    length = len((project_copy / "sources" / "000_1bdfefaeb44abb70" / "text.txt").read_text("utf-8"))
    with pytest.raises(BuildFailed) as error:
        build(project_copy, tmp_path / "dist", tmp_path / "store")
    shown = start if len(start) < 19 else str(2**63)  # past any text's length, its size is all that counts
    assert f"the source text at {shown}-26 lies past its end (it has {length:,} characters)" in str(
        error.value
    )


def test_a_second_quote_given_in_another_file_is_named_where_it_is_written(
    project_copy: Path, tmp_path: Path
) -> None:
    """A second file gave an excerpt's selector a second quote; the error named the excerpt's own
    file and line, where the quote is right."""
    extra = project_copy / "graph" / "000_1bdfefaeb44abb70" / "provenance" / "second.ttl"
    extra.write_text(
        "@prefix oa: <http://www.w3.org/ns/oa#> .\n"
        "@prefix excerpt: <https://w3id.org/opioid-kg/id/excerpt/> .\n\n"
        'excerpt:cultivation-2017-quote oa:exact "a quote the report does not hold" .\n',
        "utf-8",
    )
    with pytest.raises(BuildFailed) as error:
        build(project_copy, tmp_path / "dist", tmp_path / "store")
    assert f"{extra}:4: excerpt https://w3id.org/opioid-kg/id/excerpt/cultivation-2017" in str(error.value)


@pytest.mark.parametrize(
    "quote",
    ['"a \\"quoted\\" word the report does not hold"', '"According to the U.S. Office of National Drug"'],
    ids=["written with escapes", "the start of the true quote"],
)
def test_a_second_quote_is_found_however_it_is_written(
    project_copy: Path, tmp_path: Path, quote: str
) -> None:
    """A plain search of the files' text missed a quote written with escapes, and took the file of the
    true quote for one that holds the start of it."""
    extra = project_copy / "graph" / "000_1bdfefaeb44abb70" / "provenance" / "second.ttl"
    extra.write_text(
        "@prefix oa: <http://www.w3.org/ns/oa#> .\n"
        "@prefix excerpt: <https://w3id.org/opioid-kg/id/excerpt/> .\n\n"
        f"excerpt:cultivation-2017-quote oa:exact {quote} .\n",
        "utf-8",
    )
    with pytest.raises(BuildFailed) as error:
        build(project_copy, tmp_path / "dist", tmp_path / "store")
    assert f"{extra}:4: excerpt https://w3id.org/opioid-kg/id/excerpt/cultivation-2017" in str(error.value)


@pytest.mark.parametrize("fixture", ["built", "library_built"])
def test_the_union_of_the_graphs_holds_each_triple_once(request: pytest.FixtureRequest, fixture: str) -> None:
    """SPARQL's default graph is the merge of its graphs; Oxigraph's union counts a triple that two
    graphs state twice (the DEA assessment's class counted 8 reports for 7). The build refuses such
    a triple, so every engine counts the same."""
    store = ox.Store.read_only(str(request.getfixturevalue(fixture).store_path))
    data = [
        ox.NamedNode(f"https://w3id.org/opioid-kg/graph/{name}")
        for name in ("data", "provenance", "background")
    ]

    def count(text: str) -> int:
        return int(next(iter(store.query(text, default_graph=data)))["n"].value)  # type: ignore[index,union-attr]  # a SELECT of one row

    every = count("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    assert every == count("SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } }")
    assert every > 1000


def test_a_violation_names_the_rule_its_shared_message_does_not(project_copy: Path, tmp_path: Path) -> None:
    """A flow's substance of another class was told "A flow carries at least one substance", the
    shape's message for its count and its class alike, and nothing said which rule broke."""
    flows = project_copy / "graph" / "000_1bdfefaeb44abb70" / "data" / "flows.ttl"
    text = flows.read_text("utf-8")
    flows.write_text(
        text.replace("kg:substance substance:illicit-fentanyl ;", "kg:substance country:MX ;", 1), "utf-8"
    )
    with pytest.raises(BuildFailed) as failure:
        build(project_copy, tmp_path / "dist", tmp_path / "store")
    assert "Violation: A flow carries at least one substance.\n" in str(failure.value)
    assert "  rule:       sh:class\n" in str(failure.value)


@pytest.mark.parametrize(("written", "shown"), [("\x00", "'<U+0000>'"), ("\ufeff", "<U+FEFF>kg:")])
def test_an_invisible_character_in_a_syntax_error_is_shown(
    project_copy: Path, tmp_path: Path, written: str, shown: str
) -> None:
    """The parser's message quoted a NUL or a byte-order mark as it is: nothing to see where the fault was."""
    changes = project_copy / "graph" / "000_1bdfefaeb44abb70" / "data" / "changes.ttl"
    text = changes.read_text("utf-8")
    original = "kg:highestSince"
    changes.write_text(text.replace(original, written + original, 1), "utf-8")
    with pytest.raises(InputError) as error:
        build(project_copy, tmp_path / "dist", tmp_path / "store")
    assert shown in str(error.value) and str(error.value).isprintable()


def test_a_rule_is_named_as_its_shape_writes_it() -> None:
    """A component a shapes graph defines itself was named `sh:https://…`."""
    from kg.build.validation import rule_name

    assert (
        rule_name("http://www.w3.org/ns/shacl#QualifiedMinCountConstraintComponent") == "sh:qualifiedMinCount"
    )
    assert rule_name("http://www.w3.org/ns/shacl#SPARQLConstraintComponent") == "sh:sparql"
    assert rule_name("https://example.org/comps/UniqueLabel") == "<https://example.org/comps/UniqueLabel>"
