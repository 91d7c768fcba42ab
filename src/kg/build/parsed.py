"""Parsed input files kept by content hash, so that a rebuild re-parses only the files that changed.

A file's N-Quads depend only on its bytes, the named graph it feeds and the code that parses
it, so those three make the key: an unchanged file of an unchanged project is read from the
cache, and the build's output is byte for byte what a clean build writes. A table's triples
depend on its metadata, its CSV and their paths (which its lines' comments name), and are
kept the same way. Entries that the last build did not use are removed, so the cache holds
one build's worth of files. The digests of the files' bytes are read from their stat where they
have not changed (`kg.build.file_digests`): a rebuild need not read every input file.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

from kg import literals, namespaces
from kg.build import locate, parsing, streaming, tables
from kg.build.file_digests import FileDigests
from kg.build.made_by import code_digest
from kg.build.parsing import read_input
from kg.build.whole_files import ENTRY_FORMAT, read_sealed, remove_stale_partials, write_sealed


def _code_digest() -> bytes:
    """The parsing code itself, the libraries it reads tables and Turtle with: a change to any of them
    invalidates every entry."""
    modules = (literals, parsing, streaming, tables, locate, namespaces)
    return code_digest(
        (Path(module.__file__ or "") for module in modules),
        f"csvw {version('csvw')}",
        f"pyoxigraph {version('pyoxigraph')}",
        ENTRY_FORMAT,
    ).encode()


DIGESTS = "digests"  # the input files' digests by their stat (`kg.build.file_digests`), as JSON


class ParsedFiles:
    """The N-Quads of each input file, from the cache folder when its content was parsed before."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.used: set[str] = set()  # the entries this build read or wrote, which `prune` keeps
        self._code = _code_digest()
        self.digests = FileDigests(folder / DIGESTS)

    def key(self, path: Path, name: str) -> str:
        """What the N-Quads of the file at `path`, in graph `name`, are kept under: its bytes, the
        graph and the code. Raises InputError for a file that cannot be read."""
        return self._key(self.digests.digest(path, read_input), name)

    def keyed_nquads(self, path: Path, name: str) -> tuple[str, bytes]:
        """The file's key and its N-Quads, both of one reading of it (a file saved meanwhile is not
        kept under the key of its other version)."""
        text = read_input(path)
        key = self._key(hashlib.sha256(text).hexdigest(), name)
        return key, self._kept(f"{key}.nq", lambda: streaming.file_nquads(path, name, text))

    def _key(self, digest: str, name: str) -> str:
        """The key of a file whose bytes have the SHA-256 `digest`."""
        return hashlib.sha256(self._code + name.encode() + b"\0" + digest.encode()).hexdigest()

    def keep(self, keys: list[str]) -> None:
        """Keep the N-Quads of these keys for the next build, as entries this one used unread."""
        self.used.update(f"{key}.nq" for key in keys)

    def kept_nquads(self, key: str) -> bytes | None:
        """The N-Quads kept under `key` by the last build, or None when the folder no longer holds them,
        or not as they were written (this build does not keep them for the next)."""
        return read_sealed(self.folder / f"{key}.nq")

    def table(self, metadata: Path) -> dict[str, bytes]:
        """The N-Triples of the table `metadata` describes, by graph name (see `tables.table_ntriples`)."""
        inputs = tables.table_inputs(metadata)
        if inputs is None:
            return tables.table_ntriples(metadata)
        digests = "".join(f"{path}\0{self.digests.digest(path, Path.read_bytes)}\0" for path in inputs)
        key = hashlib.sha256(self._code + digests.encode()).hexdigest()

        def converted() -> bytes:
            blocks = tables.table_ntriples(metadata)
            return json.dumps({name: data.decode() for name, data in blocks.items()}).encode()

        return {
            name: text.encode() for name, text in json.loads(self._kept(f"{key}.json", converted)).items()
        }

    def _kept(self, entry: str, make: Callable[[], bytes]) -> bytes:
        """The entry's bytes from the folder, or made by `make` and kept there (also in place of one
        that is not what was written)."""
        self.used.add(entry)
        data = read_sealed(self.folder / entry)
        if data is None:
            data = make()
            write_sealed(self.folder / entry, data)
        return data

    def prune(self) -> None:
        """Remove the entries this build did not use, and what killed builds left half-written."""
        remove_stale_partials(self.folder)
        self.digests.save()
        for entry in self.folder.iterdir() if self.folder.is_dir() else []:
            if entry.suffix in (".nq", ".json") and entry.name not in self.used:
                entry.unlink(missing_ok=True)
