"""An RDF 1.2 triple term in the input is refused where it is written: dist/ publishes the graph as
JSON-LD and RDF 1.1 formats too, which hold none. It had passed every check, a file's blank node
inside it keeping the parser's label (so two files' notes were one node, stated in two graphs), and
the build then failed writing JSON-LD, naming no file."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.build.parsing import InputError
from kg.build.pipeline import build

REPORT = "000_1bdfefaeb44abb70"
PREFIXES = '@version "1.2" .\n@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n\n'
MX = "<https://w3id.org/opioid-kg/id/country/MX>"


@pytest.mark.parametrize(
    ("statements", "line"),
    [
        (f'{MX} rdfs:label "Mexico"@en .\n{MX} rdfs:seeAlso <<( _:note rdfs:comment "a" )>> .\n', 5),
        (f'{MX} rdfs:label "Mexico"@en .\n\n<< {MX} rdfs:comment "a" >> ~ <urn:x:r> .\n', 6),
        (f'{MX} rdfs:label "Mexico"@en .\n\n<< {MX} rdfs:comment "a" >> rdfs:comment "said" .\n', 6),
        (f'{MX} rdfs:comment "a" {{| rdfs:comment "annotated" |}} .\n', 4),
        (f'{MX} rdfs:label "Mexico"@en .\n{MX} rdfs:comment "a" ~ <urn:x:r> .\n', 5),
    ],
    ids=["triple term", "reifier named", "reifier blank", "annotation", "reifier alone"],
)
def test_a_triple_term_is_refused_at_its_file_and_line(
    project_copy: Path, tmp_path: Path, statements: str, line: int | None
) -> None:
    for folder in ("data", "provenance"):
        (project_copy / "graph" / REPORT / folder / "zz-note.ttl").write_text(PREFIXES + statements, "utf-8")
    with pytest.raises(InputError) as failure:
        build(project_copy, tmp_path / "dist", tmp_path / "store")
    written = project_copy / "graph" / REPORT / "data" / "zz-note.ttl"
    assert str(failure.value).startswith(f"{written}:{line}:" if line else f"{written}"), failure.value
    assert "RDF 1.2 triple term" in str(failure.value), failure.value
    assert not (tmp_path / "dist").exists()
