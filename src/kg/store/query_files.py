"""The SPARQL a layer below the catalogue asks, kept as `.rq` files beside its code.

The build and the store's own description run their queries on the store before
any reader exists, so they cannot use the catalogue (`kg.query`); their queries
are still files, not strings in Python, with the catalogue's `#+` header, which
SPARQL reads as comments.
"""

from __future__ import annotations

import functools
from pathlib import Path


@functools.cache
def query_file(folder: Path, name: str) -> str:
    """The text of `folder/name.rq` (read once: the files ship with the package)."""
    return (folder / f"{name}.rq").read_text(encoding="utf-8")
