"""What changed since the previous generation, and whether a rebuild may start from it.

A rebuild knows what changed from the files that changed (`kg.build.patched`),
or, where the previous generation cannot say, by comparing its sorted dump with
the previous generation's `dist/opioid-kg.nq` line by line (`comm`, both sorted
in byte order): the lines only the old one has are the quads to remove, those
only the new one has the quads to add. The previous store, copied by hard links (`Store.backup`), with
those quads removed and added, holds what a clean load of the new dump holds.
The checks and the validation then ask only about what the change reaches,
which is sound because the previous generation passed every check with the
same code, ontology and shapes: so a change to any of these rebuilds everything.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pyoxigraph as ox
from rdflib import URIRef

import kg.build
from kg.build.checks import DATA_GRAPHS, Reached
from kg.build.reach import Reach, Revalidation
from kg.build.sources import SourceText, source_texts
from kg.build.whole_files import read_sealed_json, write_sealed
from kg.files import read_file
from kg.namespaces import graph_iri
from kg.store.base import StoreUnreadable
from kg.store.embedded import read_only
from kg.store.generations import Generation
from kg.store.integrity import damage, recorded_entries

STATE = "build.json"  # in a generation's folder, beside dist/ and store/: what the next build compares
_WHOLE_GRAPHS = {"ontology": "the ontology changed", "shapes": "the shapes changed"}
# How a line of a graph whose change rebuilds everything ends.
WHOLE_GRAPH_ENDINGS = tuple(f" <{graph_iri(name)}> .\n".encode() for name in _WHOLE_GRAPHS)
_HAS_SELECTOR = ox.NamedNode("http://www.w3.org/ns/oa#hasSelector")
_HAS_SOURCE = ox.NamedNode("http://www.w3.org/ns/oa#hasSource")
_MOST = 0.25  # past this share of the quads changed, loading everything again is cheaper


@dataclass(frozen=True)
class Change:
    """The quads a rebuild removes from and adds to the previous generation's store."""

    removed: list[ox.Quad]
    added: list[ox.Quad]

    @property
    def quads(self) -> list[ox.Quad]:
        return self.removed + self.added

    def subjects(self, graph: str) -> set[ox.NamedNode | ox.BlankNode]:
        """The subjects of the changed quads in the named graph `graph`."""
        name = ox.NamedNode(str(graph_iri(graph)))
        return {quad.subject for quad in self.quads if quad.graph_name == name}  # type: ignore[misc]  # a data quad's subject is never a quoted triple


def code_digest() -> str:
    """The build's code and its queries: a generation checked by other code is not reused."""
    folder = Path(kg.build.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.suffix in (".py", ".rq"):
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def read_state(generation: Generation) -> dict[str, object] | None:
    """What `generation` recorded for the next build, or None when it is not as it was written."""
    state = read_sealed_json(generation.path / STATE)
    return state if isinstance(state, dict) else None


def previous_texts(generation: Generation) -> dict[str, str]:
    """The digests of the source texts `generation` was checked with."""
    texts = (read_state(generation) or {}).get("texts")
    return {str(path): str(digest) for path, digest in texts.items()} if isinstance(texts, dict) else {}


def previous_checks(generation: Generation) -> str | None:
    """The digest of the Data Cube checks `generation` passed (`checks_digest`)."""
    checks = (read_state(generation) or {}).get("checks")
    return checks if isinstance(checks, str) else None


def checks_digest(checks: Path) -> str:
    """The SHA-256 of the Data Cube checks' files in `checks`, names and texts."""
    digest = hashlib.sha256()
    for path in sorted(checks.glob("*.r[qu]")):
        digest.update(path.name.encode() + b"\0" + read_file(path, "SPARQL file") + b"\0")
    return digest.hexdigest()


def usable_state(generation: Generation) -> dict[str, object] | None:
    """The state of `generation` when this code checked it and its store is there to start from."""
    state = read_state(generation)
    usable = state is not None and state.get("code") == code_digest() and generation.store.is_dir()
    return state if usable else None


# What the next build patches its dump from (`kg.build.patched`): each input file's key and N-Quads'
# size (None without a parse cache), the lines several files gave with how many, the triples by
# graph, and the sorted dump.
Patchable = tuple[list[tuple[str, int]] | None, dict[bytes, int], dict[str, int], Path]


def write_state(
    generation: Generation,
    texts: dict[str, str],
    checks: str,
    dump: Patchable,
    dump_sha256: str,
    sha256: Callable[[Path], str] | None = None,
) -> None:
    """What the next build needs to start from this one: the code that checked it, its texts' digests,
    its Data Cube checks' digest, and what patching its dump needs, with the signature of the dump
    (whose SHA-256, taken as it was described, is given) and of each graph's file (in
    `generation.graphs`, see `file_signature`; `sha256` gives their digests, by default read now) to
    check them by."""
    state: dict[str, object] = {"code": code_digest(), "texts": texts, "checks": checks}
    inputs, repeated, counts, sorted_dump = dump
    if inputs is not None:
        graphs = {
            name: file_signature(path, sha256(path) if sha256 else None)
            for name in counts
            for path in [generation.graphs / f"{name}.nq"]
        }
        state |= {
            "inputs": inputs,
            "repeated": {line.decode(): times for line, times in repeated.items()},
            "sizes": {"dump": file_signature(sorted_dump, dump_sha256), "graphs": graphs},
            "triples": counts,
        }
    write_sealed(generation.path / STATE, json.dumps(state, indent=1, sort_keys=True).encode())


def file_signature(path: Path, sha256: str | None = None) -> list[int | str]:
    """What tells a file written by a build from the same file changed since: its size and its
    modification time (written in place, even to the same size), and the SHA-256 of its bytes (the
    times set back too, as `cp -p`, `rsync -a` or `touch -r` do), read unless given. Not its inode,
    which a copy of the project changes, nor its change time, which the build's own links and
    permissions change. A link at `path` is not followed (OSError)."""
    with os.fdopen(os.open(path, os.O_RDONLY | os.O_NOFOLLOW), "rb") as file:
        digest = sha256 or hashlib.file_digest(file, "sha256").hexdigest()
        return [*signature(os.fstat(file.fileno())), digest]


def recorded_files(generation: Generation, sizes: dict[str, object]) -> dict[Path, object]:
    """The generation's dump and graphs' files, each with the `file_signature` its state's `sizes`
    recorded for it (whatever that holds: the reader checks it)."""
    graphs = sizes.get("graphs")
    return {generation.dist / "opioid-kg.nq": sizes.get("dump")} | {
        generation.graphs / f"{name}.nq": signature
        for name, signature in (graphs.items() if isinstance(graphs, dict) else [])
    }


def read_whole_before_reuse(generation: Generation) -> list[Path]:
    """The files of `generation` a rebuild reads whole before it reuses them, where it can start from
    that generation: its dump, its graphs' files and its store's data files, each a regular file of
    the size its build recorded (any other is refused before it is read)."""
    state = usable_state(generation)
    sizes = state.get("sizes") if state is not None else None
    if not isinstance(sizes, dict) or not isinstance(sizes.get("graphs"), dict):
        return []
    store = generation.store
    recorded = recorded_files(generation, sizes)
    recorded |= {store / name: entry for name, entry in recorded_entries(store).items()}
    return [path for path, entry in recorded.items() if _of_size(path, entry)]


def _of_size(path: Path, entry: object) -> bool:
    """Whether `path` is a regular file, itself not a link, of the size first in `entry`."""
    try:
        found = path.lstat()
    except OSError:
        return False
    regular = stat.S_ISREG(found.st_mode)
    return regular and isinstance(entry, list) and bool(entry) and found.st_size == entry[0]


def signature(found: os.stat_result) -> list[int | str]:
    """The part of `file_signature` that `stat` tells, compared before the bytes are read."""
    return [found.st_size, found.st_mtime_ns]


def change_of(removed: bytes, added: bytes) -> Change:
    """The change that takes away the N-Quads lines `removed` and puts in `added`."""
    return Change(_quads(removed), _quads(added))


def too_many(changed: int, total: int) -> str | None:
    """Why a change of `changed` quads of `total` is loaded whole, or None when a rebuild pays."""
    return f"{changed} of {total} quads changed" if changed > _MOST * total else None


class Comparison:
    """The sorted `dump` compared with the `previous` generation's by `comm`, which runs while the
    build splits the dump; `change` waits for it, `stop` ends it (a failed build)."""

    def __init__(self, previous: Generation | None, dump: Path) -> None:
        self._why = ""
        self._process: subprocess.Popen[bytes] | None = None
        self._output: IO[bytes] | None = None
        if previous is None or not (previous.dist / "opioid-kg.nq").is_file() or not previous.store.is_dir():
            self._why = "no previous build"
            return
        if usable_state(previous) is None:
            self._why = "the previous build was made by other code"
            return
        environment = {**os.environ, "LC_ALL": "C"}  # the byte order `sort` wrote both in
        self._output = tempfile.TemporaryFile(dir=dump.parent)  # any size, and the pipe never fills
        command = ["comm", "-3", str(previous.dist / "opioid-kg.nq"), str(dump)]
        try:
            self._process = subprocess.Popen(
                command, stdout=self._output, stderr=subprocess.PIPE, env=environment
            )
        except BaseException:
            self._output.close()
            raise

    def change(self, total: int) -> tuple[Change | None, str]:
        """The quads the dump (of `total` lines) adds to and removes from the previous generation, or
        None and why the build starts from nothing."""
        if self._process is None or self._output is None:
            return None, self._why
        with self._output:
            _, error = self._process.communicate()  # its messages are a line or two
            if self._process.returncode != 0:  # `comm` could not write (a full disk): an OSError, as Python's
                said = error.decode("utf-8", "replace").strip() or f"exit status {self._process.returncode}"
                raise OSError(f"comparing the dump with the previous generation's failed: {said}")
            self._output.seek(0)
            lines = self._output.read().splitlines(keepends=True)
        for ending, reason in zip(WHOLE_GRAPH_ENDINGS, _WHOLE_GRAPHS.values(), strict=True):
            if any(line.endswith(ending) for line in lines):
                return None, reason
        if why := too_many(len(lines), total):
            return None, why
        removed = b"".join(line for line in lines if not line.startswith(b"\t"))
        added = b"".join(line[1:] for line in lines if line.startswith(b"\t"))
        return change_of(removed, added), ""

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        if self._output is not None:
            self._output.close()


def _quads(nquads: bytes) -> list[ox.Quad]:
    return list(ox.parse(nquads, format=ox.RdfFormat.N_QUADS)) if nquads else []


def copy_store(previous: Generation, target: Path) -> ox.Store:
    """The previous generation's store copied to `target` (hard links where the file system allows),
    opened for writing."""
    read_only(previous.store).backup(str(target))
    return ox.Store(str(target))


TAKEN_OUT = (ox.NamedNode(str(graph_iri("shapes"))),)  # the graphs `apply_change` takes out of the copy


def revalidating(
    store: ox.Store, change: Change, reach: Callable[[str], Reach], previous: Generation
) -> Revalidation:
    """What a rebuild asks of each shape query after `change` to `store`, a copy of `previous`'s store
    (see `kg.build.reach`): `previous`'s store, opened read-only, is where a query's sub-SELECT is
    asked as it was (`kg.build.reach.Table`); where it cannot be opened, nothing is asked of it."""
    try:
        before: ox.Store | None = read_only(previous.store)
    except StoreUnreadable:
        before = None
    return Revalidation(store, change.quads, reach, before, TAKEN_OUT)


def apply_change(store: ox.Store, change: Change) -> ox.Store:
    """`change` applied to `store` (a copy of a generation's), its shapes graph taken out so that
    validation reads the union of the data graphs; returns a store of the terms to check: the
    ontology, unchanged, and the added quads, the only ones that can bring a new term."""
    for graph in TAKEN_OUT:
        store.remove_graph(graph)
    for quad in change.removed:
        store.remove(quad)
    store.extend(change.added)
    terms = ox.Store()
    terms.extend(store.quads_for_pattern(None, None, None, ox.NamedNode(str(graph_iri("ontology")))))
    terms.extend(change.added)
    return terms


def unreadable_store(previous: Generation, sha256: Callable[[Path], str] | None = None) -> str:
    """Why the previous generation's store cannot be started from ("" when it can): a rebuild starts
    from a copy of it, and one damaged outside the tool (a table file deleted, or changed) is built
    again whole. `sha256` gives its files' digests, by default read now."""
    # first: a FIFO among its files would hold an opening
    if why := damage(previous.store, recorded=True, sha256=sha256):
        return f"the store of generation {previous.id} is not as it was built: {why}"
    try:
        read_only(previous.store)
    except StoreUnreadable as error:
        return f"the store of generation {previous.id} cannot be read: {error.reason}"
    return ""


def text_digests(store: ox.Store, sources_dir: Path) -> dict[str, str]:
    """The SHA-256 of every source text the store's reports name ("" for a missing file), by its path
    under `sources_dir`: a project moved or copied with its build re-checks none."""
    return _digests(source_texts(store, ox.NamedNode(str(graph_iri("provenance"))), sources_dir), sources_dir)


def _digests(texts: dict[URIRef, SourceText], sources_dir: Path) -> dict[str, str]:
    return {text.named(sources_dir): text.sha256 if text.path.is_file() else "" for text in texts.values()}


def reached_sources(
    store: ox.Store, change: Change, sources_dir: Path, before: dict[str, str]
) -> tuple[Reached, dict[str, str]]:
    """The documents whose metadata or text changed since the digests `before`, and the excerpts
    whose triples or selectors changed or that quote those documents, in whichever data graph they are
    written (the check reads them in every graph); every excerpt when one of them, or a node of a
    changed triple, is a blank node, which the check cannot ask about by name. With them, the texts'
    digests now (as `text_digests`)."""
    provenance = ox.NamedNode(str(graph_iri("provenance")))
    changed = set().union(*(change.subjects(name) for name in DATA_GRAPHS))
    texts = source_texts(store, provenance, sources_dir)
    now = _digests(texts, sources_dir)
    documents = {
        document
        for document, text in texts.items()
        if ox.NamedNode(str(document)) in changed or now[key := text.named(sources_dir)] != before.get(key)
    }
    excerpts = {URIRef(node.value) for node in changed if isinstance(node, ox.NamedNode)}
    blank = len(excerpts) < len(changed)
    cited = changed | {ox.NamedNode(str(document)) for document in documents}  # a removed one, too
    for node, link in [(node, _HAS_SELECTOR) for node in changed] + [(node, _HAS_SOURCE) for node in cited]:
        for graph in DATA_GRAPHS:
            for quad in store.quads_for_pattern(None, link, node, ox.NamedNode(str(graph_iri(graph)))):
                if isinstance(quad.subject, ox.NamedNode):
                    excerpts.add(URIRef(quad.subject.value))
                blank = blank or isinstance(quad.subject, ox.BlankNode)
    nodes = (node for quad in change.quads for node in (quad.subject, quad.object))
    names = {node for node in nodes if isinstance(node, ox.NamedNode)}
    return Reached(documents, None if blank else excerpts, changed, names, change.added), now
