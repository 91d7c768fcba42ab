"""Whether a built store's files are still the ones its build wrote.

RocksDB checks a block of a table file only when a query reads it, and what it finds then does not
always reach the reader: Oxigraph takes a failed read inside an OPTIONAL or an aggregate as an
unbound value (a report's title answered empty, exit 0), and a query over every graph of a damaged
store grew without end until the kernel killed it. So the build records the size, modification time
and SHA-256 of each file of its store, beside it in the generation's folder, and what reads the
store compares them first. What reuses or serves it for long reads every file whole (a quarter of a
second at a million triples): the next build, which starts from a copy of it, `kg serve` when it
takes a generation up, and `kg validate`. A command that reads it once compares sizes and times, and
reads whole only a file whose time differs (copied without its times, or written since).
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path

from kg.store.base import StoreUnreadable
from kg.store.description import file_digest
from kg.store.generations import generation_folder

RECORD = "store-digests.json"  # in a generation's folder, beside store/
# RocksDB's lock and its own log of what it did: neither holds data, and the log may grow when opened.
NOT_DATA = ("LOCK", "LOG")


def data_files(store: Path) -> dict[str, Path]:
    """The files of the store at `store` that hold its data, by name."""
    return {
        path.name: path
        for path in store.iterdir()
        if path.name not in NOT_DATA and not path.name.startswith("LOG.")
    }


def record_digests(store: Path, checked: Path | None = None) -> None:
    """Record the size, modification time and SHA-256 of each data file of the store at `store`,
    closed and final, beside it (`RECORD`). A file that is one of the store `checked` (a hard link: a
    rebuild copies the previous store so), whose every file this build read and found as recorded,
    takes that record's digest rather than being read again."""
    known = recorded_entries(checked) if checked is not None else {}
    record = {}
    for name, path in sorted(data_files(store).items()):
        stat = path.stat()
        entry = known.get(name)
        if entry is not None and checked is not None and _same_file(stat, checked / name):
            if entry[:2] == [stat.st_size, stat.st_mtime_ns]:
                record[name] = entry
                continue
        size, sha256 = file_digest(path)
        record[name] = [size, stat.st_mtime_ns, sha256]
    (store.parent / RECORD).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")


def recorded_entries(store: Path) -> dict[str, list[object]]:
    """The record of the store at `store`, by file name ({} where there is none that can be read)."""
    record = _read_record(Path(os.path.realpath(store)))
    return {k: v for k, v in record.items() if isinstance(v, list)} if isinstance(record, dict) else {}


def _read_record(store: Path) -> dict[str, object] | str | None:
    """The record the build of the store at `store` (a resolved path) wrote; None where there is none
    (a store outside generations, or of an older build), or why it cannot be read."""
    folder = generation_folder(store)
    if folder is None:
        return None
    record = folder / RECORD
    try:
        if not stat.S_ISREG(record.stat().st_mode):
            return f"its record {RECORD} is not a regular file"
        read = json.loads(record.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, RecursionError) as error:
        return f"the record of its files cannot be read ({type(error).__name__})"
    return read if isinstance(read, dict) else "the record of its files cannot be read (not a JSON object)"


def _same_file(stat: os.stat_result, other: Path) -> bool:
    try:
        return os.path.samestat(stat, other.stat())
    except OSError:
        return False


def damage(
    store: Path, *, whole: bool = True, recorded: bool = False, sha256: Callable[[Path], str] | None = None
) -> str:
    """How the store at `store` differs from what its build recorded ("" when it does not): a file
    changed, missing, added or not a regular file (a FIFO would hold any reading). Each file is read
    `whole`, or only where its size is the recorded one and its time is not. A store outside a
    build's generations has no record, nor has one an older build wrote: nothing to compare, unless
    it must be `recorded` (one the build itself reuses); what is not a regular file among its files
    is said either way, as reading or opening it would wait for ever. `sha256` gives a file's digest
    (one read ahead, say), by default read now."""
    real = Path(os.path.realpath(store))
    try:
        if odd := _not_regular(real):  # with a record or without: a FIFO would hold the opening too
            return odd
    except OSError as error:
        return f"its files cannot be read ({error.strerror or error}: {error.filename})"
    expected = _read_record(real)
    if expected is None:
        return "its build recorded no digests of its files" if recorded else ""
    if isinstance(expected, str):
        return expected
    try:
        found = data_files(real)
        for name in sorted(expected.keys() | found.keys()):
            if why := _file_damage(name, expected.get(name), found.get(name), whole, sha256 or _sha256):
                return why
    except OSError as error:
        return f"its files cannot be read ({error.strerror or error}: {error.filename})"
    return ""


def _not_regular(store: Path) -> str:
    """The first of the store's files that is not a regular file, said; "" when all are."""
    for path in sorted(store.iterdir()):
        if not stat.S_ISREG(path.stat().st_mode):
            return f"{path.name} is not a regular file"
    return ""


def _sha256(path: Path) -> str:
    return file_digest(path)[1]


def _file_damage(
    name: str, entry: object, path: Path | None, whole: bool, sha256: Callable[[Path], str]
) -> str:
    if path is None:
        return f"{name} is missing"
    if entry is None:
        return f"{name} was added after the build"
    if not (isinstance(entry, list) and len(entry) == 3):
        return f"the record of {name} cannot be read"
    size, time_ns, recorded_sha256 = entry
    stat = path.stat()
    if stat.st_size != size:
        return f"{name} has changed since the build (its size is not the one recorded)"
    if (whole or stat.st_mtime_ns != time_ns) and sha256(path) != recorded_sha256:
        return f"{name} has changed since the build (its SHA-256 is not the one recorded)"
    return ""


def check_intact(store: Path, *, whole: bool = True) -> None:
    """Raise StoreUnreadable, naming the file, when the store at `store` is not as its build left it
    (`damage`, each file read `whole` or not)."""
    if why := damage(store, whole=whole):
        raise StoreUnreadable(store, f"{why}; `kg build` builds it again")
