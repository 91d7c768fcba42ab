"""Whether a built store's files are still the ones its build wrote.

RocksDB checks a block of a table file only when a query reads it, and what it finds then does not
always reach the reader: Oxigraph takes a failed read inside an OPTIONAL or an aggregate as an
unbound value (a report's title answered empty, exit 0), and a query over every graph of a damaged
store grew without end until the kernel killed it. So the build records the SHA-256 of each file of
its store, beside it in the generation's folder, and what reuses or serves the store compares them
first: the next build (which starts from a copy of it), `kg serve` when it takes a generation up,
and `kg validate`. Reading every file costs about a quarter of a second at a million triples.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from kg.store.base import StoreUnreadable
from kg.store.description import file_digest
from kg.store.generations import generation_folder

RECORD = "store-digests.json"  # in a generation's folder, beside store/
# RocksDB's lock and its own log of what it did: neither holds data, and the log may grow when opened.
NOT_DATA = ("LOCK", "LOG")
NOT_A_FILE = "not a regular file"


def store_digests(store: Path) -> dict[str, str]:
    """The SHA-256 of every file of the store at `store` that holds its data, by file name; what is
    not a regular file there (a FIFO would never end its reading) is given as such."""
    digests = {}
    for path in sorted(store.iterdir()):
        if path.name in NOT_DATA or path.name.startswith("LOG."):
            continue
        digests[path.name] = file_digest(path)[1] if path.is_file() else NOT_A_FILE
    return digests


def record_digests(store: Path) -> None:
    """Record the digests of the store at `store`, closed and final, beside it (`RECORD`)."""
    record = json.dumps(store_digests(store), indent=1, sort_keys=True)
    (store.parent / RECORD).write_text(record + "\n", encoding="utf-8")


def damage(store: Path, *, recorded: bool = False) -> str:
    """How the store at `store` differs from what its build recorded ("" when it does not): a file
    changed, missing or added. A store outside a build's generations has no record, nor has one an
    older build wrote: nothing to compare, unless it must be `recorded` (one the build itself reuses)."""
    real = Path(os.path.realpath(store))
    folder = generation_folder(real)
    if folder is None:
        return "its build recorded no digests of its files" if recorded else ""
    try:
        expected = json.loads((folder / RECORD).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return "its build recorded no digests of its files" if recorded else ""
    except (OSError, ValueError) as error:
        return f"the record of its files' digests cannot be read ({error})"
    if not isinstance(expected, dict):
        return "the record of its files' digests cannot be read (not a JSON object)"
    try:
        found = store_digests(real)
    except OSError as error:
        return f"its files cannot be read ({error.strerror or error}: {error.filename})"
    for name in sorted(expected.keys() | found.keys()):
        if name not in found:
            return f"{name} is missing"
        if name not in expected:
            return f"{name} was added after the build"
        if found[name] == NOT_A_FILE:
            return f"{name} is not a regular file"
        if found[name] != expected[name]:
            return f"{name} has changed since the build (its SHA-256 is not the one recorded)"
    return ""


def check_intact(store: Path) -> None:
    """Raise StoreUnreadable, naming the file, when the store at `store` is not as its build left it."""
    if why := damage(store):
        raise StoreUnreadable(store, f"{why}; `kg build` builds it again")
