"""Where a report's text file lies: its name comes from the store, relative to the sources folder."""

from __future__ import annotations

from pathlib import Path, PurePosixPath


def source_text_path(sources: Path, file_name: str) -> Path | None:
    """The text file `file_name` (`<id>/text.txt`) under `sources`, or None for a name that would
    leave that folder: the name is data, and a store behind an endpoint may hold any."""
    name = PurePosixPath(file_name)
    if name.is_absolute() or ".." in name.parts or not name.parts:
        return None
    return sources.joinpath(*name.parts)
