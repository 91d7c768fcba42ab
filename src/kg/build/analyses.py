"""Each shape query's reach (see `kg.build.reach`), kept on disk between builds.

Reading a query's patterns takes rdflib's SPARQL parser, which is slow (about 30 ms a query, read
once for the texts of one template: see `kg.build.query_template`), so each analysis is kept in a
file of its own, named by the digest of the query's text, of the code that read it and of the
parser's version. That key holds for any project, so a folder may be shared ($KG_CACHE_DIR); files
are written whole, so builds sharing it never read half of one, and made under the folder's lock
where it can hold one, so builds started together do not make the same one twice.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from importlib.metadata import version
from pathlib import Path
from typing import Any

import rdflib

from kg.build import query_template
from kg.build import reach as reach_analysis
from kg.build.made_by import code_digest
from kg.build.reach import WHOLE, Reach, Step, Table, Walk, analyse
from kg.build.whole_files import ENTRY_FORMAT, read_sealed_json, remove_stale_partials, write_sealed
from kg.store import sparql as sparql_tokens

# an analysis is kept for the code that made it, the parser it read with and the code that writes it down
_CODE = code_digest(
    [
        Path(reach_analysis.__file__),
        Path(query_template.__file__),
        Path(sparql_tokens.__file__),
        Path(__file__),
    ],
    f"rdflib {rdflib.__version__}",
    f"pyparsing {version('pyparsing')}",  # rdflib's parser; read from its metadata, not imported
    ENTRY_FORMAT,
).encode()
CACHE_VARIABLE = "KG_CACHE_DIR"  # a folder whose analyses every project and copy of it may share


def analyses_folder(default: Path) -> Path:
    """Where analyses are kept: under $KG_CACHE_DIR when it is set (every project may share them, as
    each is keyed by the query's text and the code), else in `default`, beside the project's store."""
    shared = os.environ.get(CACHE_VARIABLE)
    return Path(shared) / "reach" if shared else default


_MISSING = object()


def _kept(entry: Path) -> Any:
    """The analysis kept in `entry`, or _MISSING (also for one that is not what was written)."""
    return read_sealed_json(entry, _MISSING)


def _written(reach: Reach) -> dict[str, Any]:
    """A reach as JSON holds it: its routes and its tables."""
    return {
        "routes": _walks_written(reach.routes or ()),
        "tables": [[table.scope, list(table.projected), table.first] for table in reach.tables],
    }


def _walks_written(routes: tuple[Walk, ...]) -> list[Any]:
    """Per route, its pattern, start, steps, what it crosses, distances and the table it is of."""
    return [
        [
            _step_written(r.pattern),
            r.start,
            r.steps,
            [_step_written(s) for s in r.crossed],
            [list(d) for d in r.lower],
            r.within,
        ]
        for r in routes
    ]


def _step_written(step: Step) -> list[Any]:
    return [step.subject, list(step.predicates), step.object, step.repeated]


def _read_reach(kept: dict[str, Any]) -> Reach:
    """The reach `_written` wrote."""
    tables = tuple(Table(scope, tuple(projected), first) for scope, projected, first in kept["tables"])
    return Reach(_read_walks(kept["routes"]), tables)


def _read_walks(kept: list[Any]) -> tuple[Walk, ...]:
    def step(written: list[Any]) -> Step:
        subject, predicates, object_, repeated = written
        return Step(subject, tuple(predicates), object_, repeated)

    return tuple(
        Walk(step(pattern), start, steps, tuple(map(step, crossed)), tuple((n, d) for n, d in lower), within)
        for pattern, start, steps, crossed, lower, within in kept
    )


class Analyses:
    """Each query text's reach, kept as one file per digest of the text and of this code, so that a
    query is read once, whichever build, killed or not, first asked about it. Builds sharing the
    folder write each file whole under its name, and a file that cannot be written is only not kept."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder / hashlib.sha256(_CODE).hexdigest()[:16]
        self._kept: dict[str, Any] = {}
        self.made = 0  # analyses this object made rather than read

    def reach(self, text: str) -> Reach:
        key = hashlib.sha256(_CODE + text.encode()).hexdigest()
        if key not in self._kept:
            self._kept[key] = self._read(key, text)
        kept = self._kept[key]
        return WHOLE if kept is None else _read_reach(kept)

    def _read(self, key: str, text: str) -> Any:
        """The kept analysis of `text` (JSON), made and written first when there is none."""
        entry = self.folder / f"{key}.json"
        kept = _kept(entry)
        if kept is not _MISSING:
            return kept
        with self._making():
            kept = _kept(entry)  # made meanwhile by another build
            if kept is not _MISSING:
                return kept
            found = analyse(text)
            self.made += 1
            kept = None if found.routes is None else _written(found)
            try:
                write_sealed(entry, json.dumps(kept).encode())
            except OSError:
                pass  # the folder removed or full: the analysis is made again next time
            return kept

    @contextmanager
    def _making(self) -> Iterator[None]:
        """Held while one analysis is made: one build at a time makes them, so that builds sharing the
        folder split the work instead of each doing all of it. Where the folder cannot hold a lock (not
        writable, or a file system without locks), builds go unlocked."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            lock = os.open(self.folder / ".lock", os.O_RDONLY | os.O_CREAT, 0o666)
        except OSError:
            yield
            return
        try:
            with suppress(OSError):  # no lock to be had (ENOLCK): made unlocked, as without a lock file
                fcntl.flock(lock, fcntl.LOCK_EX)
            yield
        finally:
            os.close(lock)

    def prune(self) -> None:
        """Remove the analyses other versions of this code made, unless the folder is shared (another
        project's code may be another version, and still in use); and what killed builds left."""
        remove_stale_partials(self.folder)
        if os.environ.get(CACHE_VARIABLE) or not self.folder.parent.is_dir():
            return
        for other in self.folder.parent.iterdir():
            if other != self.folder and other.is_dir():
                shutil.rmtree(other, ignore_errors=True)
