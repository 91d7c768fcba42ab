"""Finding the file and line where a resource is described, for error messages.

Parsers do not report positions of triples, so this reads the Turtle text:
a statement about a subject starts with that subject's name at the start of a line,
and a term is used where its name (prefixed, or a full IRI) stands as a token.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

_PREFIX = re.compile(r"@prefix\s+([A-Za-z][\w.-]*)?:\s*<([^>]*)>\s*\.", re.IGNORECASE)
# A subject starts a line, followed by white space or by the end of the line (its predicates below).
_SUBJECT = re.compile(r"^(<[^>]+>|[A-Za-z][\w.-]*:[^\s;,]*|:[^\s;,]*)(?:\s|$)")
# A generated file (a table's triples) says where the statements that follow come from.
ORIGIN = "#@ "


@dataclass(frozen=True)
class Location:
    path: Path
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


class SubjectIndex:
    """Where each subject IRI's description starts, and where a term is used, across Turtle files.

    Files are read only when an error asks where something is, and only until it is
    found: a build that succeeds reads none of them twice. The build's checks and its validation ask
    from two threads, so one asks at a time.
    """

    def __init__(self, paths: list[Path]) -> None:
        self.files = tuple(paths)  # every file indexed, in the build's order
        self._where: dict[str, list[Location]] = {}  # each subject's places, in file order
        self._files: list[tuple[Path, dict[str, str]]] = []  # each file read, with its prefixes
        self._unread = list(reversed(paths))
        self._reading = threading.Lock()

    def _index(self, path: Path) -> None:
        prefixes: dict[str, str] = {}
        self._files.append((path, prefixes))
        origin: Location | None = None
        for number, line in enumerate(_lines(path), start=1):
            if found := _origin(line):
                origin = found
                continue
            declared = _PREFIX.match(line)
            if declared:
                prefixes[declared.group(1) or ""] = declared.group(2)
                continue
            match = _SUBJECT.match(line)
            if not match:
                continue
            iri = _expand(match.group(1), prefixes)
            if iri is not None:
                places = self._where.setdefault(iri, [])
                place = origin or Location(path, number)
                if place not in places[-1:]:  # a table row's triples are all at the row
                    places.append(place)

    def find(self, iri: str) -> Location | None:
        """The first place, in file order, where a statement about `iri` starts."""
        with self._reading:
            while iri not in self._where and self._unread:
                self._index(self._unread.pop())
            return self._where[iri][0] if iri in self._where else None

    def find_all(self, iri: str) -> list[Location]:
        """Every place a statement about `iri` starts, in file order: what a curator compares when
        two of them disagree (a table's row and a Turtle file, say). Reads every file."""
        self._read_all()
        return list(self._where.get(iri, ()))

    def _read_all(self) -> None:
        with self._reading:
            while self._unread:
                self._index(self._unread.pop())

    def find_use(self, iri: str, within: Path | None = None) -> Location | None:
        """The first line, in file order, where `iri` stands as a token (a predicate, a class, an
        object); in the file `within` only, when given."""

        def token(prefixes: dict[str, str]) -> Callable[[str], object]:
            names = [f"<{iri}>"] + [
                f"{prefix}:{iri[len(namespace) :]}"
                for prefix, namespace in prefixes.items()
                if iri.startswith(namespace) and len(iri) > len(namespace)
            ]
            found = re.compile(
                r"(?<![\w:.<-])(?:" + "|".join(map(re.escape, names)) + r")(?![\w:>-]|\.[\w-])"
            )
            return lambda line: not _PREFIX.match(line) and found.search(line)

        return self._first_line(token, within)

    def find_anonymous(self, holding: str = "") -> Location | None:
        """The first statement, in file order, whose subject is written as a blank node (`[ … ]`, `[]`
        or `_:name` starting a line) and whose first line holds `holding`: the one way to find what
        has no name."""
        return self._first_line(lambda _: lambda line: line.startswith(("[", "_:")) and holding in line)

    def _first_line(
        self, matcher: Callable[[dict[str, str]], Callable[[str], object]], within: Path | None = None
    ) -> Location | None:
        """The first line, in file order (of the file `within` only, when given), that the matcher a
        file's prefixes give accepts."""
        self._read_all()
        for path, prefixes in self._files:  # complete, and no longer written
            if within is not None and path != within:
                continue
            matches = matcher(prefixes)
            origin: Location | None = None
            for number, line in enumerate(_lines(path), start=1):
                origin = _origin(line) or origin
                if matches(line):
                    return origin or Location(path, number)
        return None


def _lines(path: Path) -> list[str]:
    """A file's lines, read again each time an error asks: kept, the lines of every file would hold
    the whole graph's text."""
    return path.read_text("utf-8-sig").splitlines()


def _origin(line: str) -> Location | None:
    """The place a generated line names as its origin (`#@ FILE:LINE`, written before the triples of
    a table's row), if it is such a line."""
    file_name, _, at = line[len(ORIGIN) :].rpartition(":")
    if line.startswith(ORIGIN) and file_name and at.isdigit():
        return Location(Path(file_name), int(at))
    return None


def _expand(name: str, prefixes: dict[str, str]) -> str | None:
    if name.startswith("<"):
        return name[1:-1]
    prefix, _, local = name.partition(":")
    if prefix not in prefixes:
        return None
    return prefixes[prefix] + local.replace("\\", "")
