"""The embedded Oxigraph store on disk: created by `kg build`, opened read-only by its readers, or
copied into memory by a server that holds it there (`kg serve --in-memory`)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import pyoxigraph as ox

from kg.store.base import (
    DEFAULT_STORE,
    Bound,
    Dataset,
    StoreAnswer,
    StoreMissing,
    StoreUnreadable,
    StreamedSolutions,
    streamed,
)
from kg.store.bulk import bulk_load
from kg.store.ordering import order_tail, sorted_answer
from kg.store.sparql import names_its_dataset, with_values

STREAM_CHUNK = 1 << 20


def check_built(path: Path) -> None:
    """Raise StoreMissing unless a built store is at `path`, without opening it."""
    if not (path / "CURRENT").exists():
        raise StoreMissing(f"no built store at {path}; run `kg build` first")


def read_only(path: Path) -> ox.Store:
    """The store at `path` opened read-only, by its real path; StoreUnreadable, naming it, when
    RocksDB cannot open it (a table file missing or damaged)."""
    try:
        return ox.Store.read_only(os.path.realpath(path))
    except (OSError, RuntimeError) as error:
        raise StoreUnreadable(path, _first_line(error)) from None


# How RocksDB's statuses begin when a file of the store cannot be read or is not what it wrote.
_STORE_FAILURES = ("Corruption:", "IO error:")


@contextmanager
def store_failures(path: Path) -> Iterator[None]:
    """A block of the store at `path` that cannot be read, met while a query or a scan reads it, is
    the store's failure (StoreUnreadable, naming it), never the query's."""
    try:
        yield
    except (OSError, RuntimeError) as error:
        if not str(error).startswith(_STORE_FAILURES):
            raise
        raise StoreUnreadable(path, _first_line(error)) from None


def _first_line(error: BaseException) -> str:
    return (str(error).splitlines() or [type(error).__name__])[0][:400]


def create_store(path: Path, nquads_file: Path) -> None:
    """Create a new on-disk store at `path` holding the quads of `nquads_file`, blank nodes keeping
    their labels (the file's are labelled by content), so the store dumps the file's very lines."""
    store = ox.Store(str(path))
    bulk_load(store, ox.parse(path=str(nquads_file), format=ox.RdfFormat.N_QUADS))
    store.flush()
    store.optimize()
    del store


class EmbeddedStore:
    """A read-only view of a built Oxigraph store, on disk or copied into memory."""

    def __init__(self, path: Path = DEFAULT_STORE, copy: ox.Store | None = None) -> None:
        """The store at `path`, opened read-only on disk, or read from `copy`, its copy in memory
        (`kg.store.memory.memory_copy`)."""
        check_built(path)
        self.path = path
        # Opened by its real path: a build that switches the link later does not move this reader.
        self._store = copy if copy is not None else read_only(path)
        # On disk Oxigraph's sort reads each key back from the store at every comparison, so answers
        # are sorted here; a copy in memory reads its keys cheaply and sorts faster than Python.
        self._sorts_here = copy is None

    def query(
        self,
        sparql: str,
        bindings: Mapping[str, Bound] | None = None,
        *,
        union_default_graph: bool = True,
        dataset: Dataset | None = None,
    ) -> StoreAnswer:
        """Run a SPARQL query with `bindings` joined in as a VALUES block, as every store takes them.

        Not as Oxigraph's substitutions: its planner orders the joins before they are applied, so it
        plans as if the parameters were free and starts from the least selective patterns (a question
        about one area read every observation of the graph). A VALUES block is a pattern it sees.
        """
        text = with_values(sparql, bindings or {})
        tail = order_tail(text) if self._sorts_here else None
        if tail is not None:
            try:
                unordered = self._run(tail.without(text), union_default_graph, dataset)
            except SyntaxError:
                unordered = None  # the text as written says where
            if isinstance(unordered, StreamedSolutions):
                ordered = sorted_answer(unordered, tail)
                if ordered is not None:
                    return ordered
            del unordered  # perhaps never read: dropped here, not with the frames of an error below
        return self._run(text, union_default_graph, dataset)

    def _run(self, text: str, union_default_graph: bool, dataset: Dataset | None) -> StoreAnswer:
        readable = partial(store_failures, self.path)
        with readable():
            if dataset is not None:
                answer = self._store.query(
                    text,
                    default_graph=[ox.NamedNode(iri) for iri in dataset.default],
                    named_graphs=[ox.NamedNode(iri) for iri in dataset.named],
                )
            else:
                # A query that names its dataset reads it: the union default graph would override its FROM.
                union = union_default_graph and not names_its_dataset(text)
                answer = self._store.query(text, use_default_graph_as_union=union)
        return streamed(answer, readable)

    def graph_ntriples(self, iri: str) -> bytes:
        """One named graph as N-Triples, written by the store itself (fast for millions of triples)."""
        with store_failures(self.path):
            return self._store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(iri)) or b""

    def stream_graph(self, iri: str, count: int) -> Iterator[bytes]:
        """One named graph as N-Triples in chunks, as the store writes them into a pipe from another
        thread, so that sending a large graph starts at once. The stream ends cleanly only if it held
        `count` triples; otherwise it raises, so that a cut stream never passes for a whole graph."""
        read_end, write_end = os.pipe()
        failed: list[StoreUnreadable] = []  # what the writing thread met in the store, said here
        writer = threading.Thread(target=self._dump_into, args=(iri, write_end, failed), daemon=True)
        writer.start()
        lines = 0
        with open(read_end, "rb") as source:
            while chunk := source.read(STREAM_CHUNK):
                lines += chunk.count(b"\n")
                yield chunk
        writer.join()
        if failed:
            raise failed[0]
        if lines != count:
            raise OSError(f"the local store wrote {lines} of the {count} triples of {iri}")

    def _dump_into(self, iri: str, write_end: int, failed: list[StoreUnreadable]) -> None:
        """Write graph `iri` into the pipe, by its path, so that the store writes without the GIL; a
        block of the store that cannot be read is put in `failed`."""
        try:
            with store_failures(self.path):
                self._store.dump(
                    f"/dev/fd/{write_end}", format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(iri)
                )
        except StoreUnreadable as error:
            failed.append(error)
        except OSError:
            pass  # a pipe cannot be synced at the end, nor written once its reader left: the count tells
        finally:
            os.close(write_end)

    def quads(self) -> list[ox.Quad]:
        """Every quad in the store."""
        with store_failures(self.path):
            return list(self._store)
