"""The project's input files, and which named graph each one feeds.

A source is a folder `sources/<id>/` (its text and its citation metadata,
`source.ttl`) and a folder `graph/<id>/` (its curated Turtle, by concern);
what several sources share lives once in `graph/common/`. Inside `graph/<id>/`
and `graph/common/` the sub-folder names the named graph its files feed.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path

from rdflib import Graph

from kg.build.parsing import InputError, parse_turtle, rdflib_term
from kg.build.tables import TableTriples, table_descriptions, table_files, table_triples
from kg.store.generations import place

SHAPES_FILE = Path("ontology/shapes.ttl")
COMMON = "common"
METADATA_FILE = "source.ttl"
# Sub-folder of graph/<id>/ or graph/common/ -> the named graph its Turtle files feed.
CONCERNS = ("data", "provenance", "background")
_SOURCE_ID = re.compile(r"[\w.~-]+")  # \w: letters and digits of any script, and "_"
NAMED_SOURCES = 10  # ids an unknown source's error names


@dataclass
class ProjectFiles:
    """Every input file of a project, parsed, grouped by the named graph it feeds."""

    root: Path
    graphs: dict[str, Graph] = field(default_factory=dict)
    files_by_graph: dict[str, list[Path]] = field(default_factory=dict)

    @property
    def files(self) -> list[Path]:
        return [path for paths in self.files_by_graph.values() for path in paths]


def check_project(root: Path) -> None:
    """`root` is a project: it has its ontology/ (a build elsewhere would write its .kg/ and dist/ there)."""
    if not (root / "ontology").is_dir():
        raise InputError(root, None, None, "not an opioid-kg project: it has no ontology/ folder")


# The folders a build reads: what it writes (a link, a store, dist/) in one would be read next time.
INPUT_FOLDERS = ("ontology", "graph", "sources")


def check_outputs_apart(root: Path, *outputs: Path) -> None:
    """Each of `outputs` (the store and dist/ a build is asked to write) stands outside the folders
    the build reads: `--dist graph/x/out` left a link there that every later build refused."""
    for output in outputs:
        where = place(output)
        for name in INPUT_FOLDERS:
            folder = (root / name).resolve()
            if where == folder or folder in where.parents:
                raise InputError(
                    output,
                    None,
                    None,
                    f"a build writes outside the folders it reads ({name}/): name another place",
                )


def project_sources(root: Path, source: str | None = None) -> list[str]:
    """The ids of the project under `root` (checked to be one), with `source`, where given, one of them:
    else refused in one line, naming every id where there are few, or the closest and how many more (a
    library of hundreds listed them all)."""
    check_project(root)
    ids = source_ids(root)
    if source is None or source in ids:
        return ids
    if len(ids) <= NAMED_SOURCES:
        known = f"one of: {', '.join(ids)}"
    else:
        likeness = {known: SequenceMatcher(None, source, known).ratio() for known in ids}
        closest = sorted(ids, key=lambda known: (-likeness[known], known))[:NAMED_SOURCES]  # ties by id
        more = len(ids) - len(closest)
        known = f"the closest: {', '.join(closest)}; and {more} more, the folders under sources/"
    raise InputError(root / "sources" / source, None, None, f"no such source ({known})")


def source_ids(root: Path) -> list[str]:
    """The ids of the project's sources: the folders under sources/, in a stable order; entries whose
    names start with a dot (`.git`, `.DS_Store`) are not sources. An id names the source in IRIs (its
    tables'), so it is a name of letters, digits, '.', '_', '~' and '-'."""
    folder = root / "sources"
    entries = (
        sorted(path for path in folder.iterdir() if not path.name.startswith(".")) if folder.is_dir() else []
    )
    for path in (folder, *entries):  # a report's text lies in the project, not where a link leads
        if path.is_symlink():
            raise InputError(path, None, None, "a link to a folder is not followed: sources/ holds them")
    for path in entries:
        if not path.is_dir():
            raise InputError(path, None, None, "a source is a folder sources/<id>/; move this file into one")
        if path.name.casefold() == COMMON:  # graph/Common/ is graph/common/ where case is ignored
            why = f"'{path.name}' names the shared graph/{COMMON}/, not a source"
            raise InputError(path, None, None, why)
        _check_composed(path)
        if not _SOURCE_ID.fullmatch(path.name):
            raise InputError(
                path,
                None,
                None,
                "a source's id names it in IRIs: letters, digits, '.', '_', '~' and '-' only",
            )
    seen: dict[str, Path] = {}
    for path in entries:  # one folder on a file system that ignores case (macOS's, Windows')
        if (first := seen.setdefault(path.name.casefold(), path)) != path:
            raise InputError(path, None, None, f"its id differs from {first.name}'s only in case: rename one")
    return [path.name for path in entries]


def _check_composed(path: Path) -> None:
    """A folder naming a source is named in Unicode's composed form (NFC), as its IRIs are typed: some
    file systems write accents apart from their letters, and the two look alike on a screen."""
    composed = unicodedata.normalize("NFC", path.name)
    if composed == path.name or not _SOURCE_ID.fullmatch(composed):
        return
    why = (
        f"its name {ascii(path.name)} is not in Unicode's composed form (accents written apart from their"
        f" letters, as some file systems write names), and its IRIs would not match one typed: "
        + (
            f"{composed} is there too: keep one"
            if path.with_name(composed).exists()
            else f"rename it {composed}"
        )
    )
    raise InputError(path, None, None, why)


def source_files(root: Path, source: str) -> dict[str, list[Path]]:
    """The Turtle files of one source by named graph: its metadata and its curated graph/<id>/."""
    metadata = root / "sources" / source / METADATA_FILE
    if not metadata.is_file():
        raise InputError(
            metadata.parent, None, None, f"a source folder needs its citation metadata, {METADATA_FILE}"
        )
    extra = sorted(set(turtle_files(root / "sources" / source, deep=False)) - {metadata})
    if extra:
        raise InputError(extra[0], None, None, f"a source's citation metadata is its one {METADATA_FILE}")
    by_graph = _concern_files(root / "graph" / source)
    by_graph.setdefault("provenance", []).insert(0, metadata)
    return by_graph


def input_files(root: Path, source: str | None = None) -> dict[str, list[Path]]:
    """The Turtle files of the project under `root` by named graph, in a stable order: the
    ontology, graph/common/ and every source (or only `source`)."""
    ids = project_sources(root, source)
    _check_graph_folders(root, ids)
    by_graph: dict[str, list[Path]] = {}
    for path in turtle_files(root / "ontology"):
        by_graph.setdefault("shapes" if path == root / SHAPES_FILE else "ontology", []).append(path)
    for part in [_concern_files(root / "graph" / COMMON)] + [
        source_files(root, found) for found in ids if source in (None, found)
    ]:
        for name, paths in part.items():
            by_graph.setdefault(name, []).extend(paths)
    return by_graph


def _concern_files(folder: Path) -> dict[str, list[Path]]:
    """The Turtle files under `folder` by the concern sub-folder they sit in."""
    by_graph: dict[str, list[Path]] = {}
    for path in turtle_files(folder):
        concern = path.parts[len(folder.parts)]
        if concern not in CONCERNS:
            raise InputError(
                path, None, None, f"curated Turtle sits in one of {', '.join(CONCERNS)}/ under {folder}"
            )
        by_graph.setdefault(concern, []).append(path)
    return by_graph


def turtle_files(folder: Path, *, deep: bool = True) -> list[Path]:
    """The entries named `*.ttl` in `folder`, and `deep` in its sub-folders, in path order (a folder
    so named too, which parsing then names); links to folders are not followed, as by pathlib's
    `rglob`, which takes longer to walk the tree. A name starting with a dot is passed over, a
    folder's with all it holds: an editor's lock (`.#facts.ttl`), a draft put aside, `.git/`."""
    found: list[Path] = []
    for top, folders, files in os.walk(folder):
        folders[:] = [name for name in folders if not name.startswith(".")]
        found += [Path(top, name) for name in (*folders, *files) if name.endswith(".ttl") and name[0] != "."]
        if not deep:
            break
    return sorted(found)


_UNREAD = (
    "the build would leave this file out: graph/ holds Turtle, and a source's tables in graph/<id>/tables/"
)


_NOT_A_FOLDER = (
    "graph/ holds a folder for each source, graph/<id>/, and graph/common/; move this file into one"
)


def _check_graph_folders(root: Path, ids: list[str]) -> None:
    """Every folder under graph/ is graph/common/ or the curated graph of a source under sources/, and
    holds Turtle, and a source's tables/ its tables: a file the build would not read is refused rather
    than left out without a word (a table in graph/common/, a CSV under data/)."""
    folder = root / "graph"
    if folder.is_symlink():
        raise InputError(folder, None, None, "a link to a folder is not followed; " + _UNREAD)
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        if path.name.startswith("."):
            continue
        if not path.is_dir() and not path.is_symlink():
            raise InputError(path, None, None, _NOT_A_FOLDER)
        _check_composed(path)
        if path.name not in (COMMON, *ids):
            raise InputError(
                path, None, None, f"no source sources/{path.name}/ for this folder (nor is it {COMMON}/)"
            )
        if path.is_symlink() or not path.is_dir():
            raise InputError(path, None, None, _UNREAD)
        tables = path / "tables"
        read = table_files(tables) if path.name != COMMON else set()
        # Walked as strings: Path objects for each of a large library's folders cost a tenth of a second.
        tables_folder = str(tables)
        for top, folders, files in os.walk(path):
            folders[:] = [name for name in folders if not name.startswith(".")]  # passed over, as files are
            for name in folders:
                if os.path.islink(os.path.join(top, name)):
                    raise InputError(
                        Path(top, name), None, None, "a link to a folder is not followed; " + _UNREAD
                    )
            in_tables = top == tables_folder or top.startswith(tables_folder + os.sep)
            turtle_read = not in_tables  # a table's folder holds none
            for name in sorted(files):
                if name.startswith(".") or (turtle_read and name.endswith(".ttl")):
                    continue
                if (place := Path(top, name)) not in read:
                    raise InputError(place, None, None, _UNREAD)


def load_project(root: Path) -> ProjectFiles:
    """Parse every input file of the project; the first bad file raises an InputError."""
    project = ProjectFiles(root=root, files_by_graph=input_files(root))
    for name, paths in project.files_by_graph.items():
        graph = Graph()
        for path in paths:
            graph += parse_turtle(path)
        project.graphs[name] = graph
    tables = TableTriples()
    for source in source_ids(root):
        for metadata in table_descriptions(root / "graph" / source):
            table_triples(metadata, tables)
    for name in ("data", "provenance"):
        for triple in tables.triples(name):
            project.graphs[name].add(
                (rdflib_term(triple.subject), rdflib_term(triple.predicate), rdflib_term(triple.object))
            )
    return project
