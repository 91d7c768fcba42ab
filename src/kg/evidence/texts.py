"""Where a report's text file lies: its name comes from the store, relative to the sources folder."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from kg.files import read_text


def source_text_path(sources: Path, file_name: str) -> Path | None:
    """The text file `file_name` (`<id>/text.txt`) under `sources`, or None for a name that would
    leave that folder: the name is data, and a store behind an endpoint may hold any."""
    name = PurePosixPath(file_name)
    if name.is_absolute() or ".." in name.parts or not name.parts:
        return None
    return sources.joinpath(*name.parts)


def read_source_text(path: Path) -> str:
    """A report's text as the build checks its excerpts' positions in: its bytes decoded unchanged, a
    byte-order mark and CR LF line endings kept. Read with Python's newline translation (CR LF made LF),
    a text written with CR LF had every highlight of the source view shifted by a character a line."""
    return read_text(path, "source text", whole=True)
