"""Files written whole: under a temporary name of their own in the same folder, then renamed, so a
reader (another build sharing a cache folder, or the next one after a kill) never sees half a file;
and a generation's files shared with the next by hard links (into its staging folder, which is
published only once whole, so a copy where there are no links may be written in place); and a cache's
entries written sealed, with the digest of what they hold, so that one changed since (edited, or
damaged on disk) is made again rather than believed."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, BinaryIO


def write_whole(path: Path, data: bytes) -> None:
    """`data` as the file `path`, which appears all at once; its folder is made when missing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


SEAL = b"sha256 "  # the first line of a sealed file, before the digest of the rest
# Part of a cache entry's key: code that reads entries written otherwise (unsealed) looks elsewhere.
ENTRY_FORMAT = "entries sealed by their SHA-256"


def write_sealed(path: Path, data: bytes) -> None:
    """`data` as the file `path`, written whole (`write_whole`), after a line with its SHA-256."""
    write_whole(path, SEAL + hashlib.sha256(data).hexdigest().encode() + b"\n" + data)


def read_sealed(path: Path) -> bytes | None:
    """What the sealed file `path` holds, or None when it cannot be read or its digest does not match
    (changed since it was written, or not written sealed)."""
    try:
        sealed = path.read_bytes()
    except OSError:
        return None
    seal, _, data = sealed.partition(b"\n")
    return data if seal == SEAL + hashlib.sha256(data).hexdigest().encode() else None


def read_sealed_json(path: Path, missing: Any = None) -> Any:
    """The JSON value the sealed file `path` holds, or `missing` where `read_sealed` gives nothing or
    what it gives is no JSON."""
    sealed = read_sealed(path)
    try:
        return missing if sealed is None else json.loads(sealed)
    except ValueError:
        return missing


def remove_stale_partials(folder: Path, older_than: float = 3600) -> None:
    """Remove what writes killed halfway left in `folder`: partial files untouched for `older_than`
    seconds (a write in progress renames its own within moments)."""
    now = time.time()
    for partial in folder.glob(".*.partial") if folder.is_dir() else []:
        try:
            if now - partial.stat().st_mtime > older_than:
                partial.unlink()
        except OSError:
            pass  # removed meanwhile by another build


def link_or_copy(source: Path, target: Path) -> None:
    """`source` at `target` too: linked (no build writes into a generation's file once written), or
    copied where the file system has no links."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def link_open_file(file: BinaryIO, target: Path) -> bool:
    """The file open as `file` linked at `target`, by its descriptor (Linux's `/proc/self/fd`, as
    linkat(2) describes), so it is the file read, whatever its path names now; whether it could be
    (no `/proc`, or a file system without links, cannot)."""
    try:
        folder = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return False
    try:
        os.link(f"/proc/self/fd/{file.fileno()}", target.name, dst_dir_fd=folder, follow_symlinks=True)
    except OSError:
        return False
    finally:
        os.close(folder)
    return True
