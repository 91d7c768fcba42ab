"""The RDF Data Cube well-formedness checks of the W3C recommendation, run on every build.

The recommendation defines a normalisation algorithm (SPARQL updates) and integrity
constraints (ASK queries, true on a violation); their text is kept unchanged in
queries/checks/, so any SPARQL engine can re-run them on the published data.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph

from kg.build.cube_scope import CubeScope
from kg.build.parallel import each_at_once
from kg.build.queries import sparql
from kg.files import InputError, read_text, text_lines
from kg.namespaces import graph_iri
from kg.store.base import constructed, selected, term_order
from kg.store.sparql import RDF_TYPE, iris_named, substitute, syntax_place

CHECKS = Path("queries") / "checks"
# Where the normalisation's inferences are kept while the constraints run.
NORMALISED = ox.NamedNode(str(graph_iri("data-cube-normalisation")))
# The constraints run as the build's own queries of the same verdict: those that compare observations
# pairwise (and IC-3) grouped, IC-11 with each data set's dimensions listed once.
GROUPED = {"ic-03": "cube-ic-03", "ic-11": "cube-ic-11", "ic-12": "cube-ic-12", "ic-17": "cube-ic-17"}
# IC-20 uses each parent-child property of a hierarchical code list, IC-21 each inverse one.
_HIERARCHY_PROPERTIES = {"ic-20": "hierarchy-properties", "ic-21": "inverse-hierarchy-properties"}
# What a template's `<$p>` stands for while its syntax is checked.
_SOME_PROPERTY = "<urn:x-kg:some-property>"


@dataclass(frozen=True)
class CubeViolation:
    """One failed integrity constraint and the nodes of one place where it fails."""

    constraint: str
    file: Path
    nodes: dict[str, str]

    def message(self) -> str:
        where = ", ".join(f"?{name} = <{value}>" for name, value in self.nodes.items())
        return f"{self.constraint} ({self.file}) fails at {where or 'a node the query does not name'}"


@dataclass(frozen=True)
class CubeReport:
    constraints: int
    violations: list[CubeViolation]


def check_cube(graph: Graph, checks: Path, *, grouped: bool = False) -> CubeReport:
    """Normalise a copy of `graph` and run every integrity constraint in `checks` on it."""
    store = ox.Store()
    store.load(graph.serialize(format="nt", encoding="utf-8"), ox.RdfFormat.N_TRIPLES)
    return check_cube_store(store, checks, grouped=grouped)


def named_in_checks(checks: Path) -> set[str]:
    """Every IRI the checks in `checks` name, with the queries that fill in the hierarchy templates:
    each predicate and class they read through a constant."""
    texts = list(check_files(checks).values())
    texts += [sparql(name) for name in (*GROUPED.values(), *_HIERARCHY_PROPERTIES.values())]
    return set().union(*(iris_named(text) for text in texts))


def hierarchy_properties(store: ox.Store) -> set[str]:
    """The parent-child properties of the hierarchical code lists `store` declares, and those whose
    inverses they are: what IC-20 and IC-21 read of the codes."""
    found: set[str] = set()
    for name in _HIERARCHY_PROPERTIES.values():
        rows = selected(store.query(sparql(name), use_default_graph_as_union=True))
        found |= {row["p"].value for row in rows if isinstance(row["p"], ox.NamedNode)}
    return found


def reading_quads(store: ox.Store, changed: Iterable[ox.Quad], named: set[str]) -> list[ox.Quad]:
    """The `changed` quads the checks read on `store`, given every IRI they name (`named_in_checks`):
    a change of none of them leaves
    every answer as it was (a rebuild skips the checks), and the others say which data sets a
    rebuild asks them about (`kg.build.cube_scope`).

    The checks read triples through the predicates and classes their texts name (with the queries
    that fill in the hierarchy templates), and through the properties the data declares as
    components, measure types or parent-child links, or inverses of those (their only patterns with
    a variable predicate; `tests/test_cube.py` holds them to that).
    """
    changed = list(changed)
    asked = sorted({quad.predicate.value for quad in changed})
    rows = selected(
        store.query(sparql("cube-read-properties", property=asked), use_default_graph_as_union=True)
    )
    declared = {row["property"].value for row in rows}
    return [
        quad
        for quad in changed
        if quad.predicate.value in declared
        # rdf:type is read only with the classes the texts name (unless the data made it a component)
        or quad.predicate.value in named
        and (
            quad.predicate.value != RDF_TYPE
            or isinstance(quad.object, ox.NamedNode)
            and quad.object.value in named
        )
    ]


def check_cube_store(
    store: ox.Store, checks: Path, *, grouped: bool = False, scope: CubeScope | None = None
) -> CubeReport:
    """Run every integrity constraint in `checks` on the union of the graphs of `store`, normalised.

    The normalisation's inferences go into a graph of their own, removed afterwards, so the store
    is checked in place, with no copy. `grouped` runs the constraints that compare observations
    pairwise (and IC-3) as the grouped queries of the same name in kg/build/queries/, whose
    cost grows with the data rather than with its square. A rebuild's `scope` asks them about the
    data sets its change reaches (see `kg.build.cube_scope`); where one fails so, all are asked
    again whole, which names the place a clean build names.
    """
    files = check_files(checks)
    constraints = sorted(path for path in files if path.name.startswith("ic-") and path.suffix == ".rq")
    if scope is not None and all(scope.knows(path.stem) for path in constraints):
        report = _checked(store, files, constraints, grouped, scope)
        if not report.violations:
            return report
    return _checked(store, files, constraints, grouped, None)


def _checked(
    store: ox.Store, files: dict[Path, str], constraints: list[Path], grouped: bool, scope: CubeScope | None
) -> CubeReport:
    """The `constraints` asked of `store` normalised (of the `scope`'s data sets alone, when given)."""
    try:
        for update in sorted(path for path in files if path.name.startswith("normalize-phase-")):
            for construct in _constructs(files[update]):
                asked = construct if scope is None else scope.normalising(construct)
                inferred = constructed(store.query(asked, use_default_graph_as_union=True))
                store.extend(ox.Quad(t.subject, t.predicate, t.object, NORMALISED) for t in inferred)
        asks = []  # each constraint's queries: itself, or one per hierarchy property (the templates)
        for path in constraints:
            text = files[path]
            asked = sparql(GROUPED[path.stem]) if grouped and path.stem in GROUPED else text
            for query in _instances(store, path.stem, asked):
                narrowed = query if scope is None else scope.asked(path.stem, query)
                asks += [] if narrowed is None else [(path, text, narrowed)]

        # From the thread pool, in turns with any other queries: at 10 M triples the constraints took
        # 122 s one at a time and 73 s two at once, and the peak memory was no higher, each one's
        # working set (IC-12 holds every observation's key) given back once it is answered.
        failed = each_at_once(lambda ask: bool(store.query(ask[2], use_default_graph_as_union=True)), asks)
        violations: dict[Path, CubeViolation] = {}
        for (path, text, query), fails in zip(asks, failed, strict=True):
            if fails and path not in violations:  # the first failing query of a constraint
                title = text.splitlines()[0].lstrip("# ").split(" (")[0]
                violations[path] = CubeViolation(title, path, _witness(store, query))
        return CubeReport(len(constraints), list(violations.values()))
    finally:
        store.remove_graph(NORMALISED)


# The files of the recommendation's normalisation and integrity constraints (IC-19 as two queries):
# one missing would leave its constraint unchecked without a word.
CHECK_FILES = (
    "normalize-phase-1.ru",
    "normalize-phase-2.ru",
    *(f"ic-{number:02d}.rq" for number in range(1, 22) if number != 19),
    "ic-19a.rq",
    "ic-19b.rq",
)


def check_files(checks: Path) -> dict[Path, str]:
    """The text of every check file in `checks` (`*.rq` and `*.ru`), each read and its syntax checked
    first, so that a broken file is named at its line and column before any check runs (a check the
    build asks in its grouped form would otherwise never be parsed); raises InputError, and for a
    file of the recommendation's that is missing."""
    missing = [name for name in CHECK_FILES if not (checks / name).is_file()]
    if missing:
        raise InputError(
            checks / missing[0],
            None,
            None,
            "missing: the Data Cube checks are every one of the recommendation's",
        )
    return {path: _checked_text(path) for path in sorted(checks.glob("*.r[qu]"))}


def _checked_text(path: Path) -> str:
    """The text of one check file, parsed by asking it of an empty store (a template with a property
    written for its `<$p>`)."""
    text = read_text(path, "SPARQL file")
    empty = ox.Store()
    try:
        if path.suffix == ".ru":
            empty.update(text)
        else:
            asked = substitute(text, "p", _SOME_PROPERTY) if path.stem[:5] in _HIERARCHY_PROPERTIES else text
            empty.query(asked)
    except SyntaxError as error:
        line, column, detail = syntax_place(error)
        raise InputError(path, line, column, f"SPARQL syntax error: {detail}") from None
    return text


def _constructs(update: str) -> list[str]:
    """The operations of a normalisation update (`INSERT { template } WHERE { pattern }; ...`) as
    CONSTRUCT queries, with the update's prefixes, so that they read the union of the graphs."""
    prologue = "".join(line + "\n" for line in text_lines(update) if line.startswith("PREFIX"))
    body = "\n".join(line for line in text_lines(update) if not line.lstrip().startswith(("PREFIX", "#")))
    operations = re.split(r"(?<=\})\s*;", body)
    return [prologue + re.sub(r"^\s*INSERT\b", "CONSTRUCT", operation) for operation in operations]


def _instances(store: ox.Store, name: str, text: str) -> list[str]:
    """The query itself, or for the templates IC-20 and IC-21 one query per hierarchy property the data
    declares: the property is inside a path's closure, where SPARQL takes no variable, so its term (an
    IRI the store gives) is written where the recommendation writes `<$p>`."""
    if name[:5] not in _HIERARCHY_PROPERTIES:
        return [text]
    found = selected(store.query(sparql(_HIERARCHY_PROPERTIES[name[:5]]), use_default_graph_as_union=True))
    return [substitute(text, "p", p) for p in sorted(str(row["p"]) for row in found)]  # not the store's order


def _witness(store: ox.Store, ask: str) -> dict[str, str]:
    """The IRIs of one failing match: the ASK run as a SELECT whose groups also project their keys,
    and of its rows the first in SPARQL's order of their values, so that a check of the store on
    disk and one of its copy in memory (`kg.build.checked_store`), which answer in orders of their
    own, name the same match. Every row is read, on a failure only."""
    select = _project_group_keys(re.sub(r"\bASK\b", "SELECT *", ask, count=1))
    solutions = selected(store.query(select, use_default_graph_as_union=True))
    names = [variable.value for variable in solutions.variables]
    first = min(solutions, key=lambda row: tuple(map(term_order, row)), default=None)
    if first is None:
        return {}
    named = zip(names, first, strict=True)
    return {name: term.value for name, term in named if isinstance(term, ox.NamedNode)}


def _project_group_keys(query: str) -> str:
    """Add each GROUP BY's variables to the projection of the SELECT at the same brace depth."""
    depth = 0
    selects: list[tuple[int, int]] = []
    inserts: list[tuple[int, str]] = []
    for match in re.finditer(r"[{}]|\bSELECT\b|\bGROUP\s+BY((?:\s+\?\w+)+)", query):
        token = match.group(0)
        if token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
        elif token == "SELECT":
            selects.append((depth, match.end()))
        else:
            position = next(end for level, end in reversed(selects) if level == depth)
            projected = re.split(r"\bWHERE\b|\{", query[position:], maxsplit=1)[0].split()
            missing = "".join(f" {key}" for key in match.group(1).split() if key not in projected)
            inserts.append((position, missing))
    for position, keys in sorted(inserts, reverse=True):
        query = query[:position] + keys + query[position:]
    return query
