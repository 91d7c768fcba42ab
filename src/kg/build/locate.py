"""Finding the file and line where a resource is described, for error messages.

Parsers do not report positions of triples, so this reads the Turtle text:
a statement about a subject starts with that subject's name at the start of a line,
and a term is used where its name (prefixed, or a full IRI) stands as a token.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

# A line of directives: prefixes and bases, in Turtle's spelling (`@prefix p: <…> .`) or SPARQL's
# (`PREFIX p: <…>`), several to a line.
_DIRECTIVE = re.compile(r"\s*(@prefix|prefix|@base|base)\b", re.IGNORECASE)
_PREFIX = re.compile(r"@?prefix\s+([A-Za-z][\w.-]*)?:\s*<([^>]*)>", re.IGNORECASE)
_BASE = re.compile(r"@?base\s*<([^>]*)>", re.IGNORECASE)
# A subject starts a line, followed by white space or by the end of the line (its predicates below).
_SUBJECT = re.compile(r"^(<[^>]+>|[A-Za-z][\w.-]*:[^\s;,]*|:[^\s;,]*)(?:\s|$)")
# A line that ends a statement: its last token a full stop, a comment after it (with no quote or IRI).
_ENDS_STATEMENT = re.compile(r"(^|[\s>\])\"'\w)])\.\s*(#[^\"'<>]*)?$")
_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
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
    from two threads, so one asks at a time. Only the files under `generated` (the build's own, a
    table's triples) may name the place their statements come from (`#@ FILE:LINE`); in a curated
    file such a line is a comment like any other.
    """

    def __init__(self, paths: Iterable[Path], generated: Path | None = None) -> None:
        self.files = tuple(dict.fromkeys(paths))  # every file indexed, in the build's order, once
        self._generated = generated
        self._where: dict[str, dict[Location, None]] = {}  # each subject's places, in file order
        self._files: list[tuple[Path, dict[str, str]]] = []  # each file read, with its prefixes
        self._unread = list(reversed(self.files))
        self._reading = threading.Lock()

    def _index(self, path: Path) -> None:
        prefixes: dict[str, str] = {}
        self._files.append((path, prefixes))
        base = ""
        starts = True  # whether the next line may start a statement
        for line, place in self._lines(path):
            if place is None:
                continue
            if _DIRECTIVE.match(line):
                base = _directives(line, prefixes, base)
                starts = True
                continue
            content = line.strip()
            if not content or content.startswith("#"):
                continue
            match = _SUBJECT.match(line) if starts else None
            iri = _expand(match.group(1), prefixes) if match else None
            if iri is not None:
                iri = iri if _ABSOLUTE.match(iri) else urljoin(base, iri)
                self._where.setdefault(iri, {})[place] = None
            starts = bool(_ENDS_STATEMENT.search(content))

    def _lines(self, path: Path) -> Iterable[tuple[str, Location | None]]:
        """Each line of a file with the place its statements come from: its own, or the one a
        generated file last named; None for a line that names one."""
        made = self._generated is not None and path.is_relative_to(self._generated)
        origin: Location | None = None
        for number, line in enumerate(_lines(path), start=1):
            named = _origin(line) if made else None
            origin = named or origin
            yield line, None if named else origin or Location(path, number)

    def find(self, iri: str) -> Location | None:
        """The first place, in file order, where a statement about `iri` starts."""
        with self._reading:
            while iri not in self._where and self._unread:
                self._index(self._unread.pop())
            return next(iter(self._where[iri])) if iri in self._where else None

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
            return lambda line: not _DIRECTIVE.match(line) and found.search(line)

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
            for line, place in self._lines(path):
                if place is not None and matches(line):
                    return place
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


def _directives(line: str, prefixes: dict[str, str], base: str) -> str:
    """Read a line's prefixes into `prefixes`, in order, each resolved against the base then in force;
    the base after the line."""
    for directive in re.finditer(f"{_PREFIX.pattern}|{_BASE.pattern}", line, re.IGNORECASE):
        prefix, namespace, new_base = directive.groups()
        if new_base is not None:
            base = urljoin(base, _unescaped(new_base))
        else:
            prefixes[prefix or ""] = urljoin(base, _unescaped(namespace))
    return base


def _unescaped(iri: str) -> str:
    """An IRI as written with its numeric escapes (`\\u0073`) read."""
    return _ESCAPE.sub(lambda found: chr(int(found.group(1) or found.group(2), 16)), iri)


def _expand(name: str, prefixes: dict[str, str]) -> str | None:
    if name.startswith("<"):
        return _unescaped(name[1:-1])
    prefix, _, local = name.partition(":")
    if prefix not in prefixes:
        return None
    return prefixes[prefix] + local.replace("\\", "")
