"""Finding the file and line where a resource is described, for error messages.

Parsers do not report positions of triples, so this reads the Turtle text:
a statement about a subject starts with that subject's name at the start of a line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_PREFIX = re.compile(r"@prefix\s+([A-Za-z][\w.-]*)?:\s*<([^>]*)>\s*\.", re.IGNORECASE)
_SUBJECT = re.compile(r"^(<[^>]+>|[A-Za-z][\w.-]*:[^\s;,]*|:[^\s;,]*)\s")


@dataclass(frozen=True)
class Location:
    path: Path
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


class SubjectIndex:
    """Where each subject IRI's description starts, across a set of Turtle files."""

    def __init__(self, paths: list[Path]) -> None:
        self._where: dict[str, Location] = {}
        for path in paths:
            self._index(path)

    def _index(self, path: Path) -> None:
        prefixes: dict[str, str] = {}
        for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
            declared = _PREFIX.match(line)
            if declared:
                prefixes[declared.group(1) or ""] = declared.group(2)
                continue
            match = _SUBJECT.match(line)
            if not match:
                continue
            iri = _expand(match.group(1), prefixes)
            if iri is not None:
                self._where.setdefault(iri, Location(path, number))

    def find(self, iri: str) -> Location | None:
        return self._where.get(iri)


def _expand(name: str, prefixes: dict[str, str]) -> str | None:
    if name.startswith("<"):
        return name[1:-1]
    prefix, _, local = name.partition(":")
    if prefix not in prefixes:
        return None
    return prefixes[prefix] + local.replace("\\", "")
