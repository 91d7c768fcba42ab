"""What a result kept between builds depends on besides its input: the code and the libraries that
made it. A result kept under another digest is made again."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path


def code_digest(files: Iterable[Path], *libraries: str) -> str:
    """The SHA-256 of the source `files` (in that order) and the `libraries` named with their
    versions (or any other setting the result depends on)."""
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.read_bytes() + b"\0")
    for library in libraries:
        digest.update(library.encode() + b"\0")
    return digest.hexdigest()
