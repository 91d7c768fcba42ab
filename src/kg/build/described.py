"""The facts the dataset's description gives (`kg.store.description`), made of the dump's chunks.

Each chunk of the sorted dump (see `kg.build.pieces`) is put in a store of its own and asked the
description's queries; the answers are kept by the chunk's digest in the generation's folder, so a
rebuild asks them of the chunks a change touched only, and summed. Every one of those queries reads
one subject's triples at a time (triples per graph, the terms used, a report's dates, a class's
distinct instances), and all the quads of a subject fall in one chunk, so the sum is what the
queries answer over the whole dump (tested).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

import pyoxigraph as ox

from kg.build.made_by import code_digest
from kg.build.pieces import Chunk
from kg.build.whole_files import read_sealed_json, write_sealed
from kg.store import description, queryfiles
from kg.store.description import QUERIES, DatasetFacts, dataset_facts, summed_facts

FACTS = "facts.json"  # in the generation's folder, beside dist/


def _code_digest() -> str:
    """What a chunk's facts depend on besides its quads: the queries and the code that reads them."""
    modules = [Path(__file__), *(Path(module.__file__ or "") for module in (description, queryfiles))]
    return code_digest([*modules, *sorted(QUERIES.glob("void-*.rq"))], f"oxigraph {ox.__version__}")


class ChunkFacts:
    """Each chunk's facts, those of the `previous` generation's chunks read back rather than asked."""

    def __init__(self, previous: Path | None) -> None:
        self._code = _code_digest()
        self._kept: dict[str, dict[str, object]] = {}
        listed = read_sealed_json(previous / FACTS, {}) if previous else {}  # {}: changed since, or gone
        if isinstance(listed, dict) and listed.get("code") == self._code:
            self._kept = listed.get("chunks", {})
        self.found: dict[str, dict[str, object]] = {}
        self._dump = hashlib.sha256()  # the chunks in order are the dump, byte for byte

    def __call__(self, chunk: Chunk) -> None:
        self._dump.update(chunk.data)
        facts = self._kept.get(chunk.digest)
        if facts is None:
            store = ox.Store()
            store.load(chunk.data, format=ox.RdfFormat.N_QUADS)
            facts = asdict(dataset_facts(store))
        self.found[chunk.digest] = facts

    def write(self, generation: Path) -> None:
        facts = {"code": self._code, "chunks": self.found, "sha256": self._dump.hexdigest()}
        write_sealed(generation / FACTS, json.dumps(facts, sort_keys=True).encode())


def dump_facts(generation: Path) -> tuple[DatasetFacts, str]:
    """The description's facts of a generation's dump, summed from its chunks' facts, and the dump's
    SHA-256, taken as its chunks were read."""
    listed = read_sealed_json(generation / FACTS)
    if listed is None:  # written by this build a moment ago
        raise OSError(f"{generation / FACTS} is not as this build wrote it")
    return summed_facts(DatasetFacts.from_json(facts) for facts in listed["chunks"].values()), listed[
        "sha256"
    ]
