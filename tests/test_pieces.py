"""dist/'s serializations written in pieces are the bytes of one serialization of the whole stream,
wherever the chunks are cut, and a rebuild copies the pieces that did not change."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import random
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import chain
from pathlib import Path
from typing import Any, BinaryIO

import pyoxigraph as ox
import pytest
from triplestores import OXIGRAPH

from kg.build import described, pieces
from kg.build.described import dump_facts
from kg.build.serializations import DUMP_PART, graph_quads, serialization_paths, write_serializations
from kg.build.streaming import split_by_graph
from kg.namespaces import PREFIXES
from kg.store.description import DUMP_FILE, dataset_facts

FORMATS = {".trig": ox.RdfFormat.TRIG, ".jsonld": ox.RdfFormat.JSON_LD, ".ttl": ox.RdfFormat.TURTLE}


def whole_serializations(split: Path, names: list[str], out: Path) -> dict[str, bytes]:
    """Each file as one serialization of its whole stream writes it, by its path under `out`."""
    paths = serialization_paths(names, out)
    expected = {}
    for path in paths[:2]:
        every = chain.from_iterable(graph_quads(split, name) for name in names)
        expected[str(path.relative_to(out))] = ox.serialize(
            every, format=FORMATS[path.suffix], prefixes=PREFIXES
        )
    for path in paths[2:]:
        triples = (quad.triple for quad in graph_quads(split, path.stem))
        expected[str(path.relative_to(out))] = ox.serialize(
            triples, format=FORMATS[path.suffix], prefixes=PREFIXES
        )
    return expected


def written(names: list[str], out: Path) -> dict[str, bytes]:
    return {str(path.relative_to(out)): path.read_bytes() for path in serialization_paths(names, out)}


def index(generation: Path) -> dict[str, dict]:
    [found] = generation.glob("pieces-*.json")
    return json.loads(found.read_text("utf-8"))["files"]


@pytest.fixture
def split(built: Any, tmp_path: Path) -> tuple[Path, list[str]]:
    """The curated build's dump split by graph, and the graphs' names in the dataset's order."""
    return tmp_path / "split", list(split_by_graph(built.dist / "opioid-kg.nq", tmp_path / "split"))


@pytest.mark.parametrize("mask", [pieces.CUT_MASK, 0x3, 0], ids=["default", "every-4th", "every-subject"])
def test_pieces_are_one_serialization_of_the_whole_stream(
    split: tuple[Path, list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mask: int
) -> None:
    folder, names = split
    monkeypatch.setattr(pieces, "CUT_MASK", mask)
    out = tmp_path / "generation" / "dist"
    write_serializations(folder, names, out)
    assert written(names, out) == whole_serializations(folder, names, out)
    if mask != pieces.CUT_MASK:  # the report's data graph is cut into many chunks
        assert len(index(out.parent)["graphs/data.ttl"]["pieces"]) > 50


def test_chunks_cut_between_subjects_only(
    split: tuple[Path, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, _ = split
    monkeypatch.setattr(pieces, "CUT_MASK", 0x3)
    found = [chunk.data for chunk in pieces.chunks(folder / "data.nq")]
    subjects = [{line.split(b" ")[0] for line in chunk.splitlines()} for chunk in found]
    assert len(found) > 10
    assert b"".join(found) == (folder / "data.nq").read_bytes()
    assert all(a.isdisjoint(b) for a, b in zip(subjects, subjects[1:], strict=False))


def listed(path: Path, earlier: list[pieces.Listed] | None = None) -> list[pieces.Listed]:
    return [(chunk.digest, len(chunk.data)) for chunk in pieces.chunks(path, earlier)]


def edited(lines: list[bytes], rng: random.Random) -> list[bytes]:
    """The lines with a few changed, removed and added (new subjects among them), sorted again."""
    lines = list(lines)
    for _ in range(rng.randint(1, 4)):
        if not lines:
            lines = [b"<urn:s> <urn:p> <urn:o> <urn:g> .\n"]
        at = rng.randrange(len(lines))
        action = rng.choice(["change", "remove", "remove-subject", "add-subject", "add-line"])
        subject = lines[at].split(b" ", 1)[0]
        if action == "change":
            lines[at] = lines[at].replace(b" <", b" <urn:changed:", 1)
        elif action == "remove":
            del lines[at]
        elif action == "remove-subject":
            lines = [line for line in lines if not line.startswith(subject + b" ")]
        elif action == "add-subject":
            lines += [f"<urn:new:{rng.random()}> <urn:p> <urn:o> <urn:g> .\n".encode() for _ in range(3)]
        else:
            lines.append(subject + b' <urn:p> "added" <urn:g> .\n')
    return sorted(set(lines))


@pytest.mark.parametrize("mask", [0x3, 0x1F, pieces.CUT_MASK], ids=["every-4th", "every-32nd", "default"])
def test_chunks_found_again_are_the_chunks_read_line_by_line(
    split: tuple[Path, list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mask: int
) -> None:
    """Given the chunks of an earlier version of a file, the chunks of the file are the same as read
    line by line, whatever changed: lines changed, removed or added, subjects that cut or not, at the
    start, the end or several places; and of an unchanged file no line is read."""
    folder, _ = split
    monkeypatch.setattr(pieces, "CUT_MASK", mask)
    original = (folder / "data.nq").read_bytes().splitlines(keepends=True)
    rng = random.Random(mask)
    before, after = tmp_path / "before.nq", tmp_path / "after.nq"
    variants = [original, original[1:], original[:-1], original[:1], [], original[: len(original) // 2]]
    variants += [edited(original, rng) for _ in range(60)]
    for first in variants:
        before.write_bytes(b"".join(first))
        earlier = listed(before)
        for second in (first, edited(first or original, rng), original):
            after.write_bytes(b"".join(second))
            assert listed(after, earlier) == listed(after), (len(first), len(second))

    read: list[int] = []
    by_lines = pieces._read_chunk
    monkeypatch.setattr(
        pieces, "_read_chunk", lambda data, offset: read.append(offset) or by_lines(data, offset)
    )
    after.write_bytes(b"".join(original))
    earlier = listed(after)
    assert len(read) == len(earlier) and len(earlier) > (0 if mask == pieces.CUT_MASK else 50)
    read.clear()
    assert listed(after, earlier) == earlier and read == []


def test_a_rebuild_reads_line_by_line_only_the_chunk_that_changed(
    split: tuple[Path, list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One literal changed in the middle of the data graph: every other chunk is found again by its
    digest, the one before the change and the one after it too, and the lines of the changed chunk
    alone are read."""
    folder, names = split
    monkeypatch.setattr(pieces, "CUT_MASK", 0x3)
    first = tmp_path / "first"
    write_serializations(folder, names, first / "dist")
    changed_split(folder, names, tmp_path / "changed")
    read: list[bytes] = []
    by_lines = pieces._read_chunk

    def reading(data: BinaryIO, offset: int) -> pieces.Chunk:
        chunk = by_lines(data, offset)
        read.append(chunk.data)
        return chunk

    monkeypatch.setattr(pieces, "_read_chunk", reading)
    write_serializations(tmp_path / "changed", names, tmp_path / "second" / "dist", previous=first)
    assert len(read) == 1 and b" (changed)" in read[0]
    assert written(names, tmp_path / "second" / "dist") == whole_serializations(
        tmp_path / "changed", names, tmp_path / "second" / "dist"
    )


def changed_split(folder: Path, names: list[str], target: Path) -> None:
    """The split files with one data quad's literal changed, still sorted."""
    target.mkdir()
    for name in names:
        lines = (folder / f"{name}.nq").read_bytes().splitlines(keepends=True)
        if name == "data":
            number = next(i for i, line in enumerate(lines) if b'"@en' in line)
            lines[number] = lines[number].replace(b'"@en', b' (changed)"@en', 1)
            lines.sort()
        (target / f"{name}.nq").write_bytes(b"".join(lines))


def test_a_rebuild_copies_the_pieces_that_did_not_change(
    split: tuple[Path, list[str]], tmp_path: Path
) -> None:
    folder, names = split
    first = tmp_path / "first"
    write_serializations(folder, names, first / "dist")
    changed_split(folder, names, tmp_path / "changed")
    second = tmp_path / "second"
    write_serializations(tmp_path / "changed", names, second / "dist", previous=first)
    assert written(names, second / "dist") == whole_serializations(
        tmp_path / "changed", names, second / "dist"
    )
    entries = index(second)
    # the changed chunk in the data graph's files and the whole dataset's files; all else copied
    assert {name: entry["serialized"] for name, entry in entries.items() if entry["serialized"]} == {
        "opioid-kg.trig": 1,
        "opioid-kg.jsonld": 1,
        "graphs/data.ttl": 1,
        "graphs/data.jsonld": 1,
    }
    # a file whose every byte is the previous one's is that file, linked: nothing is written again
    shared = {
        name
        for name in written(names, second / "dist")
        if same_file(first / "dist" / name, second / "dist" / name)
    }
    assert shared == {
        f"graphs/{name}{suffix}" for name in names if name != "data" for suffix in (".ttl", ".jsonld")
    }


def same_file(one: Path, other: Path) -> bool:
    return os.path.samefile(one, other)


def middle_byte_flipped(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 1]) + data[middle + 1 :]


@pytest.mark.parametrize(
    ("damage", "pieces_intact"),
    [
        (lambda data: bytes([data[0] ^ 0x20]) + data[1:], True),  # the first byte is the frame's
        (lambda data: data + b"\n", True),  # bytes past the end
        (lambda data: data[:-1], False),  # cut short
        (middle_byte_flipped, False),  # a piece's byte
    ],
    ids=["frame", "appended", "cut", "middle"],
)
def test_a_previous_file_that_differs_anywhere_is_not_linked(
    split: tuple[Path, list[str]], tmp_path: Path, damage: Callable[[bytes], bytes], pieces_intact: bool
) -> None:
    """Only a previous file that is byte for byte what this build writes is linked: one changed in its
    frame or in a piece, or longer or shorter than written, gives the pieces it still holds and the
    rest is written anew."""
    folder, names = split
    first = tmp_path / "first"
    write_serializations(folder, names, first / "dist")
    damaged = {}
    for name in ("graphs/provenance.ttl", "graphs/provenance.jsonld"):
        path = first / "dist" / name
        damaged[name] = damage(path.read_bytes())
        path.write_bytes(damaged[name])
    second = tmp_path / "second"
    write_serializations(folder, names, second / "dist", previous=first)
    assert written(names, second / "dist") == whole_serializations(folder, names, second / "dist")
    for name, data in damaged.items():
        assert not same_file(first / "dist" / name, second / "dist" / name)
        assert (first / "dist" / name).read_bytes() == data
        if pieces_intact:  # the damage is outside every piece: each is still read from the file
            assert index(second)[name]["serialized"] == 0


@contextmanager
def released_after(path: Path, seconds: float) -> Iterator[list[bool]]:
    """While the block runs: after `seconds`, whoever waits to read the FIFO `path` is released (a
    writer opens it and closes it at once), so that a fault makes the test fail rather than hang;
    the list yielded holds True once someone was."""
    released: list[bool] = []
    done = threading.Event()

    def release() -> None:
        if done.wait(seconds):
            return
        while not done.wait(0.1):
            try:  # fails while no reader waits
                os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:
                continue
            released.append(True)

    releaser = threading.Thread(target=release, daemon=True)
    releaser.start()
    try:
        yield released
    finally:
        done.set()
        releaser.join()


@pytest.mark.parametrize("kind", ["link", "fifo", "folder"])
def test_a_previous_file_that_is_no_regular_file_is_neither_linked_nor_waited_on(
    split: tuple[Path, list[str]], tmp_path: Path, kind: str
) -> None:
    """In place of a previous file, a link to a file of the same bytes outside the generation, a FIFO
    or a folder offers nothing: the file is written anew, sharing nothing with what is outside."""
    folder, names = split
    first = tmp_path / "first"
    write_serializations(folder, names, first / "dist")
    previous = first / "dist" / "graphs" / "provenance.ttl"
    outside = tmp_path / "outside.ttl"
    previous.rename(outside)
    if kind == "link":
        previous.symlink_to(outside)
    elif kind == "fifo":
        os.mkfifo(previous)  # opened by a reader that waits, it would hold the build forever
    else:
        previous.mkdir()
    second = tmp_path / "second"
    with released_after(previous, seconds=10) as released:
        write_serializations(folder, names, second / "dist", previous=first)
    assert not released, "the writing waited on the FIFO until a writer came"
    assert written(names, second / "dist") == whole_serializations(folder, names, second / "dist")
    assert not same_file(outside, second / "dist" / "graphs" / "provenance.ttl")
    assert index(second)["graphs/provenance.ttl"]["serialized"] == len(
        index(second)["graphs/provenance.ttl"]["pieces"]
    )


def test_a_previous_folder_that_is_a_link_offers_nothing(
    split: tuple[Path, list[str]], tmp_path: Path
) -> None:
    """The previous generation's dist/graphs a link to a folder outside it holding the same files:
    none of them is read or linked into the new generation."""
    folder, names = split
    first = tmp_path / "first"
    write_serializations(folder, names, first / "dist")
    outside = tmp_path / "outside"
    (first / "dist" / "graphs").rename(outside)
    (first / "dist" / "graphs").symlink_to(outside)
    second = tmp_path / "second"
    write_serializations(folder, names, second / "dist", previous=first)
    assert written(names, second / "dist") == whole_serializations(folder, names, second / "dist")
    for path in outside.iterdir():
        assert not same_file(path, second / "dist" / "graphs" / path.name)
        assert index(second)[f"graphs/{path.name}"]["serialized"] > 0


def test_a_previous_file_changed_while_compared_fails_the_writing(tmp_path: Path) -> None:
    """The bytes found the same are copied from the previous file where the new file first differs;
    if they are no longer what was compared, the writing fails rather than write them."""
    previous = tmp_path / "previous"
    previous.write_bytes(b"same start, then an end")
    target = tmp_path / "new"
    with previous.open("rb") as opened:
        file = pieces.SameOrNew(target, opened)
        file.write(b"same start, ")
        with previous.open("r+b") as writer:  # changed in place, as nothing in a build does
            writer.write(b"SAME")
        with pytest.raises(OSError, match="changed while it was read"):
            file.write(b"and another end")
        file.abandon()


def test_a_failed_writing_does_not_write_the_files_it_only_compared(
    split: tuple[Path, list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error in the middle of a rebuild's writing ends it: the files whose bytes were so far only
    compared with the previous ones are neither linked nor copied (the staging folder goes whole)."""
    folder, names = split
    first = tmp_path / "first"
    write_serializations(folder, names, first / "dist")
    changed_split(folder, names, tmp_path / "changed")

    serialized = pieces.Frame.body

    def failing(frame: pieces.Frame, quads: list[ox.Quad], data: bytes = b"") -> bytes:
        if b"(changed)" in data:  # the changed chunk: every graph before it was compared whole
            raise OSError("no space left on device")
        return serialized(frame, quads, data)

    monkeypatch.setattr(pieces.Frame, "body", failing)
    second = tmp_path / "second" / "dist"
    with pytest.raises(OSError, match="no space left"):
        write_serializations(tmp_path / "changed", names, second, previous=first)
    assert sorted(str(path.relative_to(second)) for path in second.rglob("*") if path.is_file()) == []


def test_pieces_a_previous_file_no_longer_holds_are_serialized_again(
    split: tuple[Path, list[str]], tmp_path: Path
) -> None:
    """A previous file changed or cut short since it was indexed gives what it still holds as indexed;
    the rest is serialized again, and the new files are right."""
    folder, names = split
    first = tmp_path / "first"
    write_serializations(folder, names, first / "dist")
    turtle = first / "dist" / "graphs" / "data.ttl"
    turtle.write_bytes(turtle.read_bytes().replace(b"@en", b"@fr", 1))
    trig = first / "dist" / "opioid-kg.trig"
    os.truncate(trig, trig.stat().st_size // 2)
    second = tmp_path / "second"
    write_serializations(folder, names, second / "dist", previous=first)
    assert written(names, second / "dist") == whole_serializations(folder, names, second / "dist")
    entries = index(second)
    assert entries["graphs/data.ttl"]["serialized"] == 1
    assert 0 < entries["opioid-kg.trig"]["serialized"] < len(entries["opioid-kg.trig"]["pieces"])
    assert entries["graphs/data.jsonld"]["serialized"] == 0


def test_pieces_indexed_by_other_code_are_not_copied(split: tuple[Path, list[str]], tmp_path: Path) -> None:
    folder, names = split
    first = tmp_path / "first"
    write_serializations(folder, names, first / "dist")
    [found] = first.glob("pieces-*.json")
    listed = json.loads(found.read_text("utf-8"))
    found.write_text(json.dumps({**listed, "code": "other"}), "utf-8")
    second = tmp_path / "second"
    write_serializations(folder, names, second / "dist", previous=first)
    assert all(entry["serialized"] == len(entry["pieces"]) for entry in index(second).values())
    assert written(names, second / "dist") == written(names, first / "dist")


@pytest.mark.parametrize("mask", [pieces.CUT_MASK, 0], ids=["default", "every-subject"])
def test_the_dump_s_facts_summed_from_its_chunks_are_the_whole_dump_s(
    built: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mask: int
) -> None:
    """The description's queries asked of each chunk alone and summed answer what they answer over
    the whole dump, and the gzipped dump, one member per chunk, holds the dump."""
    monkeypatch.setattr(pieces, "CUT_MASK", mask)
    dump = built.dist / "opioid-kg.nq"
    out = tmp_path / "generation" / "dist"
    write_serializations(tmp_path, [], out, (DUMP_PART,), dump=dump)
    whole = ox.Store()
    whole.load(path=str(dump), format=ox.RdfFormat.N_QUADS)
    assert dump_facts(out.parent) == (dataset_facts(whole), hashlib.sha256(dump.read_bytes()).hexdigest())
    assert gzip.decompress((out / DUMP_FILE).read_bytes()) == dump.read_bytes()
    assert index(out.parent)[DUMP_FILE]["serialized"] > 1


def test_a_rebuild_asks_the_facts_of_the_changed_chunks_only(
    built: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pieces, "CUT_MASK", 0x3)  # many chunks, one changed
    dump = built.dist / "opioid-kg.nq"
    first = tmp_path / "first" / "dist"
    write_serializations(tmp_path, [], first, (DUMP_PART,), dump=dump)
    assert len(index(first.parent)[DUMP_FILE]["pieces"]) > 100
    lines = dump.read_bytes().splitlines(keepends=True)
    number = next(i for i, line in enumerate(lines) if b"/graph/data>" in line and b'"@en' in line)
    changed = tmp_path / "changed.nq"
    changed.write_bytes(b"".join(sorted([*lines[:number], *lines[number + 1 :]])))
    asked: list[str] = []
    monkeypatch.setattr(described, "dataset_facts", lambda store: asked.append("") or dataset_facts(store))
    second = tmp_path / "second" / "dist"
    write_serializations(tmp_path, [], second, (DUMP_PART,), previous=first.parent, dump=changed)
    whole = ox.Store()
    whole.load(path=str(changed), format=ox.RdfFormat.N_QUADS)
    assert dump_facts(second.parent)[0] == dataset_facts(whole)
    assert len(asked) == 1 and index(second.parent)[DUMP_FILE]["serialized"] == 1
    assert gzip.decompress((second / DUMP_FILE).read_bytes()) == changed.read_bytes()


def test_a_quad_outside_the_dataset_s_graphs_is_refused_by_the_split(tmp_path: Path) -> None:
    """Each split file holds one graph, which the serializations rely on: two graphs whose IRIs end
    alike are not written into one file."""
    dump = tmp_path / "dump.nq"
    dump.write_bytes(b"<urn:s> <urn:p> <urn:o> <http://a.example/data> .\n")
    with pytest.raises(ValueError, match="<http://a.example/data> is not a graph of the dataset"):
        split_by_graph(dump, tmp_path / "split")


@pytest.mark.parametrize(
    "listed",
    [{"files": {"graphs/data.ttl": {"pieces": [["x", -5, 10, "y"]]}}}, {"files": {"graphs/data.ttl": {}}}],
    ids=["negative-offset", "no-pieces"],
)
def test_an_index_this_code_did_not_write_offers_nothing(
    split: tuple[Path, list[str]], tmp_path: Path, listed: dict
) -> None:
    folder, names = split
    first = tmp_path / "first"
    write_serializations(folder, names, first / "dist")
    [found] = first.glob("pieces-*.json")
    found.write_text(json.dumps({"code": pieces.code_digest(), **listed}), "utf-8")
    second = tmp_path / "second"
    write_serializations(folder, names, second / "dist", previous=first)
    assert written(names, second / "dist") == written(names, first / "dist")


def test_an_empty_dump_is_still_a_gzip_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.nq"
    empty.write_bytes(b"")
    out = tmp_path / "generation" / "dist"
    write_serializations(tmp_path, [], out, (DUMP_PART,), dump=empty)
    assert gzip.decompress((out / DUMP_FILE).read_bytes()) == b""


def test_oxigraph_loads_a_gzipped_dump_of_many_members_whole(
    built: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`oxigraph load` of the gzipped dump, one member per chunk, loads every quad of the dump."""
    monkeypatch.setattr(pieces, "CUT_MASK", 0x3)  # many chunks
    out = tmp_path / "generation" / "dist"
    dump = built.dist / "opioid-kg.nq"
    write_serializations(tmp_path, [], out, (DUMP_PART,), dump=dump)
    store = tmp_path / "store"
    subprocess.run(
        [OXIGRAPH, "load", "--location", store, "--file", out / DUMP_FILE], check=True, timeout=120
    )
    loaded = ox.Store.read_only(str(store))
    assert len(loaded) == dump.read_bytes().count(b"\n") > 4000


def test_a_file_of_one_graph_is_not_fed_several_graphs(tmp_path: Path) -> None:
    """A Turtle file has no graphs to frame: fed every graph's file, it would merge them silently."""
    sources = []
    for name in ("data", "provenance"):
        sources.append(tmp_path / f"{name}.nq")
        sources[-1].write_text(f'<urn:s> <urn:p> "o" <https://w3id.org/opioid-kg/graph/{name}> .\n', "utf-8")
    with pytest.raises(ValueError, match="holds one graph but would be fed 2 files"):
        pieces.write_pieces(
            sources, [(tmp_path / "both.ttl", pieces.TURTLE, None)], pieces.Previous(), tmp_path
        )
    assert not (tmp_path / "both.ttl").exists()
