"""Every check a build makes, asked of the staged store: terms, source digests, excerpts, SHACL.

The data is read once, into the store; each check is a query (or a few) over it,
so no check holds a second copy of the data. Where something is written is
looked up in the Turtle files only for what an error names.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, URIRef

from kg.build.cube import CubeViolation, check_cube_store
from kg.build.cube_scope import CubeScope
from kg.build.excerpts import ExcerptProblem, check_excerpts
from kg.build.figures import describe_unwritten, unwritten_figures
from kg.build.locate import SubjectIndex
from kg.build.parsing import rdflib_term
from kg.build.project import METADATA_FILE
from kg.build.shape_queries import ShapeQuery, ValidationPlan
from kg.build.shown import first_of
from kg.build.sources import SourceText, source_texts
from kg.build.store_validation import validate_store
from kg.build.streaming import StatedTwice
from kg.build.validation import ALSO_AT, ValidationReport, validate
from kg.build.vocabulary import (
    Subject,
    describe_undeclared,
    describe_undescribed,
    describe_untyped,
    undeclared_terms,
    undescribed_values,
    untyped_subjects,
)
from kg.errors import EXIT_FAILED, KgError
from kg.files import whole_path
from kg.namespaces import KG, OA, PREFIXES, graph_iri

DATA_GRAPHS = ("data", "provenance", "background")


class BuildFailed(KgError):
    """The build stopped; the message says where and why."""

    exit_code = EXIT_FAILED
    status = 422


def named(name: str) -> ox.NamedNode:
    return ox.NamedNode(str(graph_iri(name)))


def check_terms(store: ox.Store, index: SubjectIndex) -> None:
    """Every class and predicate of the data is declared by the ontology; raises BuildFailed."""
    unknown = undeclared_terms(store, [named(name) for name in DATA_GRAPHS], named("ontology"))
    if unknown:
        raise BuildFailed(describe_undeclared(unknown, index))


def check_typed(store: ox.Store, index: SubjectIndex, among: set[Subject] | None = None) -> None:
    """Every thing of the data has a class, so that the shapes reach it; of `among` only, when given
    (what a rebuild's change reached). Raises BuildFailed."""
    graphs = [named(name) for name in DATA_GRAPHS]
    untyped = untyped_subjects(store, graphs, among)
    if untyped:
        raise BuildFailed(describe_untyped(store, graphs, untyped, index))


def check_stated_once(store: ox.Store, index: SubjectIndex, stated: StatedTwice | list[ox.Quad]) -> None:
    """No triple is stated in two of the data's graphs: their union, the SPARQL default graph the
    server answers from, counts it twice in Oxigraph (a count of reports gave 8 for 7), where the
    recommendation's merge holds it once. `stated` is what a clean build found as it split its dump
    (at 10 M triples, asking the store for the triples of each pair of graphs took a minute), or the
    triples a rebuild added, each looked up in the other graphs. Raises BuildFailed naming where the
    triple's subject is described."""
    twice: dict[tuple[ox.Triple, frozenset[ox.NamedNode]], None] = {}  # each triple and its two graphs
    if isinstance(stated, StatedTwice):
        for (first, second), kept in stated.found.items():
            pair = frozenset((named(first), named(second)))
            twice.update(((_triple(text), pair), None) for text in kept)
        found = stated.counts.total()
    else:
        graphs = [named(name) for name in DATA_GRAPHS]
        for quad in stated:
            for other in graphs:
                if quad.graph_name in graphs and other != quad.graph_name and _states(store, other, quad):
                    twice[quad.triple, frozenset((quad.graph_name, other))] = None  # type: ignore[arg-type]  # a data quad's graph is named
        found = len(twice)
    if twice:

        def described(pair: tuple[ox.Triple, frozenset[ox.NamedNode]]) -> str:
            triple, stated_in = pair
            places = " and ".join(map(str, index.find_all(_name(triple.subject)))) or "graph/"
            graphs = " and the ".join(sorted(map(_graph_name, stated_in)))
            return f"{places}: {triple} is stated in the {graphs} graph"

        ordered = sorted(twice, key=lambda pair: (str(pair[0]), sorted(g.value for g in pair[1])))
        raise BuildFailed(
            "triples stated in two graphs, which the union of the graphs (the SPARQL default graph) counts"
            " twice; state each once:\n" + "\n".join(first_of(ordered, described, found))
        )


def _triple(text: bytes) -> ox.Triple:
    """A triple from its N-Triples text, as the dump writes it."""
    quad: ox.Quad = next(ox.parse(text + b" .\n", format=ox.RdfFormat.N_TRIPLES))
    return quad.triple


def _states(store: ox.Store, graph: ox.NamedNode, quad: ox.Quad) -> bool:
    """Whether `graph` states the triple of `quad` (its iterator dropped here, on this thread)."""
    return next(store.quads_for_pattern(quad.subject, quad.predicate, quad.object, graph), None) is not None


def _name(node: ox.NamedNode | ox.BlankNode | ox.Triple) -> str:
    return str(node) if isinstance(node, ox.Triple) else node.value


def _graph_name(graph: ox.NamedNode) -> str:
    return graph.value.rsplit("/", 1)[-1]


def check_described(store: ox.Store, index: SubjectIndex, among: set[ox.NamedNode] | None = None) -> None:
    """Every value of the data that may be a misspelt name is described, in the data or the ontology;
    of `among` only, when given (what a rebuild's change named or described). Raises BuildFailed."""
    graphs = [named(name) for name in DATA_GRAPHS]
    undescribed = undescribed_values(store, graphs, named("ontology"), among)
    if undescribed:
        raise BuildFailed(describe_undescribed(store, undescribed, [*graphs, named("ontology")], index))


@dataclass(frozen=True)
class Reached:
    """The documents (their metadata and text), the excerpts, the subjects and the names of the data a
    change reached: what a rebuild re-checks of the sources, of the things' classes and of the values
    described."""

    documents: set[URIRef]
    excerpts: set[URIRef] | None  # None: every excerpt (one without an IRI cannot be named in a query)
    subjects: set[Subject] | None = None  # None: every subject
    names: set[ox.NamedNode] | None = None  # the IRIs of changed triples; None: every value
    added: list[ox.Quad] | None = None  # the quads added; None: every quad


OA_EXACT = ox.NamedNode(str(OA.exact))
CONVERTED = (
    " (its line endings are Windows' CR LF, and with LF it is the text recorded: a checkout converted"
    " them; check it out again with `git config core.autocrlf false`, or keep `.gitattributes`)"
)
PROV_DERIVED_FROM = ox.NamedNode(PREFIXES["prov"] + "wasDerivedFrom")


def _excerpt_place(store: ox.Store, index: SubjectIndex, problem: ExcerptProblem) -> str:
    """Where an excerpt is written, and its name: where its quote at fault is written, when that is
    the problem (an excerpt may be described in several files, and one of them gave it a second
    quote); an excerpt without an IRI (a blank node, whose label the parser made up) by the fact
    that cites it."""
    excerpt = problem.excerpt
    if isinstance(excerpt, ox.NamedNode):
        places = index.find_all(excerpt.value)
        quote = problem.quote
        if quote is not None:  # written with the excerpt or with a selector of it, in any file
            givers = {q.subject for q in store.quads_for_pattern(None, OA_EXACT, quote)} | {excerpt}
            places += [
                place
                for giver in sorted(g.value for g in givers if isinstance(g, ox.NamedNode) and g != excerpt)
                for place in index.find_all(giver)
            ]
            # the first file that gives the quote, the files read again only until one does
            giving = (place for place in places if _gives(place.path, givers, quote))
            places = [next(giving, places[0])] if places else places
        if problem.everywhere:
            return f"{' and '.join(map(str, places)) or excerpt.value}: excerpt {excerpt.value}"
        return f"{places[0] if places else excerpt.value}: excerpt {excerpt.value}"
    cited_by = (quad.subject for quad in store.quads_for_pattern(None, None, excerpt))
    citing = min(  # the first by IRI, not in the store's own order
        (subject for subject in cited_by if isinstance(subject, ox.NamedNode)),
        key=lambda subject: subject.value,
        default=None,
    )
    if citing is None:
        return "an excerpt written as a blank node, cited by no fact with an IRI"
    return f"{index.find(citing.value) or citing.value}: the excerpt {citing.value} cites"


def _gives(path: Path, subjects: set[ox.NamedNode | ox.BlankNode | ox.Triple], quote: ox.Literal) -> bool:
    """Whether the Turtle file at `path` gives one of `subjects` the oa:exact `quote`, however it is
    written (escapes, long quotes): the file read again, only for an error's place."""
    try:
        triples = ox.parse(path=path, format=ox.RdfFormat.TURTLE)
        return any(t.predicate == OA_EXACT and t.object == quote and t.subject in subjects for t in triples)
    except (OSError, SyntaxError):
        return False


def check_sources(
    store: ox.Store, sources_dir: Path, index: SubjectIndex, reached: Reached | None = None
) -> int:
    """Source texts match their recorded digests and every excerpt its text (only what `reached`
    names, when given); returns the number of excerpts compared."""
    every = source_texts(store, named("provenance"), sources_dir)
    texts = every if reached is None else {d: t for d, t in every.items() if d in reached.documents}
    check_source_folders(every, texts, sources_dir, index)
    try:
        changed = [
            (document, text)
            for document, text in texts.items()
            if text.recorded_sha256 is not None and text.recorded_sha256 != text.sha256
        ]
        only = reached.excerpts if reached is not None else None
        count, excerpt_problems = check_excerpts(store, every, only)

        def changed_text(item: tuple[URIRef, SourceText]) -> str:  # reads the text again, hence here
            document, text = item
            return (
                f"{index.find(str(document)) or document}: {document}: the SHA-256 of "
                f"{text.named(sources_dir)} is {text.sha256}, not the recorded {text.recorded_sha256}"
                + (CONVERTED if text.converted_line_endings() else "")
                + (UPPER_CASE if text.recorded_sha256 and text.recorded_sha256.lower() == text.sha256 else "")
            )

        problems: list[Callable[[], str]] = [partial(changed_text, item) for item in changed]
        problems += [partial(_excerpt_problem, store, index, problem) for problem in excerpt_problems]
        lines = first_of(problems, lambda problem: problem())
    except OSError as error:
        raise BuildFailed(f"cannot read source text: {error}") from None
    if lines:
        raise BuildFailed("excerpts do not match their sources:\n" + "\n".join(lines))
    return count


def _excerpt_problem(store: ox.Store, index: SubjectIndex, problem: ExcerptProblem) -> str:
    return f"{_excerpt_place(store, index, problem)}: {problem.message}"


def check_source_folders(
    every: dict[URIRef, SourceText], texts: dict[URIRef, SourceText], sources_dir: Path, index: SubjectIndex
) -> None:
    """Each source folder holds the text of the one report its metadata describes, and each of `texts`
    exists; raises BuildFailed naming each place otherwise (`kg excerpt` says the same)."""
    misplaced = _folders_not_their_reports(every, sources_dir, index) + _missing_texts(texts, index)
    if misplaced:
        raise BuildFailed("a source folder holds the text of one report, its own:\n" + "\n".join(misplaced))


# Said of a digest recorded in capitals: the same digest, which kg:sha256 writes in lower case.
UPPER_CASE = " (the same digest in capitals: kg:sha256 writes it in lower case, as sha256sum prints it)"


def _folders_not_their_reports(
    texts: dict[URIRef, SourceText], sources_dir: Path, index: SubjectIndex
) -> list[str]:
    """Each source folder built describes the one report whose text it holds, and no two reports
    record one digest. A copied folder's metadata repeats its original's triples, which the store
    holds once: only the folder the copy sits in, or the digest, shows it. Checked in every build,
    rebuilds too (adding such a copy changes no triple); the files are read only to name a place."""
    problems = []
    by_folder: dict[Path, list[str]] = {}
    for document, text in texts.items():
        by_folder.setdefault(text.path.parent, []).append(str(document))
        folder = text.path.parent.resolve()  # compared resolved: the project may be given as `.`
        lies = text.path.resolve().parent if text.path.exists() else folder
        whole = whole_path(text.written)  # refused however the project is named (`.` or whole)
        if whole or text.path.parent.parent != sources_dir or ".." in text.path.parts or lies != folder:
            problems.append(
                f"{index.find(str(document)) or document}: {document}: its text"
                f" {text.written if whole else text.named(sources_dir)}"
                " is not in a source's folder under sources/"
                + (" (it is a link to a file elsewhere)" if text.path.is_symlink() else "")
                + (
                    f": kg:textFile names it from sources/, as {text.path.parent.name}/{text.path.name}"
                    if whole
                    else ""
                )
            )
    for metadata in (path for path in index.files if path.name == METADATA_FILE):
        folder = metadata.parent
        if folder.parent != sources_dir:
            continue  # not a source's own metadata
        held = sorted(by_folder.get(folder, []))
        if len(held) != 1:
            linked = index.find_use(str(KG.textFile), within=metadata)
            # without a link to a text, the report it describes is where the link is missing
            where = linked or index.find_use(str(KG.Report), within=metadata) or metadata
            shown = f"{folder.relative_to(sources_dir.parent)}/"
            problems.append(
                f"{where}: {len(held)} reports have their text in {shown}: {', '.join(held)}"
                if held
                else f"{where}: describes no report whose text is in {shown}"
                + ("" if linked else ": no report in it names its text with kg:textFile")
            )
    by_digest: dict[str, list[str]] = {}
    for document, text in texts.items():
        if text.recorded_sha256 is not None:
            by_digest.setdefault(text.recorded_sha256, []).append(str(document))
    for documents in (documents for documents in by_digest.values() if len(documents) > 1):
        placed = sorted((str(index.find(document) or document), document) for document in documents)
        first_place, first = placed[0]
        problems += [
            f"{where}: {document} records the same SHA-256 as {first} ({first_place}): one text, one report"
            for where, document in placed[1:]
        ]
    return problems


def _missing_texts(texts: dict[URIRef, SourceText], index: SubjectIndex) -> list[str]:
    """The reports whose text file does not exist (one that cannot be read is named when it is read)."""
    return [
        f"{index.find(str(document)) or document}: {document}: no text file {text.path.name} in "
        f"{text.path.parent}/"
        for document, text in texts.items()
        if not (text.path.exists() or text.path.is_symlink())
    ]


def check_figures(store: ox.Store, index: SubjectIndex, reached: Reached | None = None) -> None:
    """Every figure an observation, a stated change or a record gives is written in its quotes
    (`kg.build.figures`): of every statement, or of those a rebuild's change reached (those it
    describes, and those citing an excerpt it reached); raises BuildFailed."""
    only = None
    if reached is not None and reached.subjects is not None and reached.excerpts is not None:
        only = {subject.value for subject in reached.subjects if isinstance(subject, ox.NamedNode)}
        for excerpt in reached.excerpts:
            only.update(_citing(store, excerpt))
    found = unwritten_figures(store, only)
    if found:
        raise BuildFailed(describe_unwritten(found, index))


def _citing(store: ox.Store, excerpt: URIRef) -> list[str]:
    """The IRIs of the facts derived from `excerpt`. The store's iterator ends here, in the thread that
    made it: one left in a frame a failure's traceback keeps is freed later on another thread, which
    Oxigraph refuses (the next build in the process then failed on it)."""
    found = store.quads_for_pattern(None, PROV_DERIVED_FROM, ox.NamedNode(str(excerpt)), None)
    return [quad.subject.value for quad in found if isinstance(quad.subject, ox.NamedNode)]


def check_data_cube(
    store: ox.Store, checks: Path, index: SubjectIndex, scope: CubeScope | None = None
) -> None:
    """The Data Cube recommendation's integrity constraints hold on the data with its ontology: the
    union of the store's graphs, checked in place by the grouped form of the constraints (of a
    rebuild, asked about the data sets its change reached, `scope`)."""
    cube = check_cube_store(store, checks, grouped=True, scope=scope)
    if cube.violations:
        lines = "\n".join(first_of(cube.violations, partial(_cube_failure, index=index)))
        raise BuildFailed(f"RDF Data Cube integrity constraints fail:\n{lines}")


def _cube_failure(violation: CubeViolation, index: SubjectIndex) -> str:
    """A failed constraint with the places its nodes are described: it named the nodes alone, where
    two tables' rows naming one observation, say, are what the curator has to find."""
    lines = [violation.message()]
    for name, value in violation.nodes.items():
        places = [str(place) for place in index.find_all(value)]
        if places:
            more = len(places) - ALSO_AT - 1
            shown = ", ".join(places[: ALSO_AT + 1]) + (f" and {more} more" if more > 0 else "")
            lines.append(f"  ?{name} written at: {shown}")
    return "\n".join(lines)


def rdflib_graph(store: ox.Store, names: tuple[str, ...]) -> Graph:
    """The named graphs `names` of the store merged into one rdflib graph."""
    return _as_rdflib(q for name in names for q in store.quads_for_pattern(None, None, None, named(name)))


def quads_graph(nquads: Path) -> Graph:
    """The quads of an N-Quads file merged into one rdflib graph."""
    return _as_rdflib(ox.parse(path=str(nquads), format=ox.RdfFormat.N_QUADS))


def _as_rdflib(quads: Iterable[ox.Quad]) -> Graph:
    graph = Graph()
    for quad in quads:
        graph.add((rdflib_term(quad.subject), rdflib_term(quad.predicate), rdflib_term(quad.object)))
    return graph


def check_shapes(
    store: ox.Store,
    shapes: Graph,
    index: SubjectIndex | None,
    engine: str = "store",
    *,
    only_data: bool = False,
    asked: Callable[[ShapeQuery], ValidationPlan | None] | None = None,
    stop: threading.Event | None = None,
) -> ValidationReport:
    """SHACL over the data with the ontology merged in, so subclass links count: by queries on the
    store, or (`engine="pyshacl"`) by the reference engine on an rdflib copy of the same graphs.
    `only_data` says the store holds nothing but those graphs (not the shapes), so the queries
    may read its union. `asked` and `stop` are `validate_store`'s."""
    if engine == "pyshacl":
        return validate(rdflib_graph(store, ("ontology", *DATA_GRAPHS)), shapes, index)
    graphs = None if only_data else [named("ontology"), *(named(name) for name in DATA_GRAPHS)]
    return validate_store(store, graphs, shapes, index, asked, stop)
