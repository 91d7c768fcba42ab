"""dist/'s serializations and gzipped dump written in pieces, so that a rebuild reuses what did not
change.

Each graph's sorted quads are cut into chunks where the content says: before a subject whose hash
has its low bits zero, about one subject in 512. Oxigraph's Turtle, TriG and JSON-LD writers group a
subject's triples and carry nothing from one subject to the next but the prefixes (written once,
first) and, in TriG and JSON-LD, the graph around them. So a file is its frame (the prefixes, each
graph's opening and closing, the commas of JSON) around each chunk serialized on its own: byte for
byte what one serialization of the whole stream writes (tested). A change to some quads moves no
cut but at the subjects it touches, so every other chunk keeps its bytes, and a rebuild reads them
from the previous generation's file at the offsets that file's index gives (`pieces-*.json` in the
generation's folder) instead of serializing them again. Each piece's bytes are checked against the
digest the index holds for them, so a file changed since is serialized again where it changed.
The gzipped dump is framed by nothing: each chunk of the dump is a gzip member of its own.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import zlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

import pyoxigraph as ox

from kg.build import made_by
from kg.build.whole_files import link_open_file, write_whole
from kg.namespaces import PREFIXES
from kg.store.compression import gzipped

CUT_MASK = 0x1FF  # a cut before a subject whose CRC-32 has these bits zero: chunks of ~3,500 quads
INDEX = "pieces-{part}.json"  # in the generation's folder, beside dist/
_NO_LINK = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC  # a previous generation's file is read through no link


class Chunk:
    """A chunk of sorted N-Quads lines, parsed when first asked for its quads."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.digest = hashlib.sha256(data).hexdigest()
        self._quads: list[ox.Quad] | None = None

    def quads(self) -> list[ox.Quad]:
        if self._quads is None:
            self._quads = list(ox.parse(self.data, format=ox.RdfFormat.N_QUADS))
        return self._quads


# A chunk as the index lists it: the SHA-256 of its lines and their length in bytes.
Listed = tuple[str, int]


def chunks(path: Path, earlier: list[Listed] | None = None) -> Iterator[Chunk]:
    """The lines of a sorted N-Quads file in chunks, each cut before a subject chosen by its hash
    (`CUT_MASK`), so that a subject's lines stay together and cuts do not move when other subjects
    change.

    With the `earlier` chunks of a previous version of the file, a chunk found again byte for byte
    (by digest) where the next is expected is taken whole rather than read line by line. Whether a
    line starts a chunk depends only on that line and the one before it, so a chunk found again at a
    cut, whose end is a cut too (its last line and the next tell), is the chunk reading line by line
    would give. Where none is found, one chunk is read line by line, and the earlier chunks are looked
    for again after it: the change is read and nothing around it. The chunks are the same either way
    (tested)."""
    with path.open("rb") as data:
        size = os.fstat(data.fileno()).st_size
        listed = earlier or []
        numbers: dict[str, int] = {}  # an earlier chunk's place by its digest
        for place, (digest, _) in enumerate(listed):
            numbers.setdefault(digest, place)
        offset, expected = 0, 0  # a cut, and the first earlier chunk that may start there
        while offset < size:
            chunk = _found_again(data, offset, listed[expected : expected + _LOOKED_FOR], size)
            if chunk is None:
                chunk = _read_chunk(data, offset)
            yield chunk
            offset += len(chunk.data)
            found = numbers.get(chunk.digest)
            if found is not None:
                expected = found + 1


# How many earlier chunks are tried where one is expected: a change replaces one chunk, or two where a
# cut went, and a chunk whose subjects all went is not there at all.
_LOOKED_FOR = 4


def _found_again(data: BinaryIO, offset: int, listed: list[Listed], size: int) -> Chunk | None:
    """The first of the `listed` earlier chunks whose bytes are at `offset` (a cut) and end at a cut,
    or None."""
    for digest, length in listed:
        if offset + length > size:
            continue
        data.seek(offset)
        chunk = Chunk(data.read(length))
        if chunk.digest == digest and _cut_after(data, chunk.data, offset + length, size):
            return chunk
    return None


def _cut_after(data: BinaryIO, before: bytes, end: int, size: int) -> bool:
    """Whether the file is cut at `end`, where the lines `before` end: at its end, or before a line
    of another subject than the last of them that the hash chooses."""
    if end == size:
        return True
    data.seek(end)
    line = data.readline()
    last = before[before.rfind(b"\n", 0, len(before) - 1) + 1 :]
    subject = line[: line.index(b" ")]
    return subject != last[: last.index(b" ")] and zlib.crc32(subject) & CUT_MASK == 0


def _read_chunk(data: BinaryIO, offset: int) -> Chunk:
    """The chunk of the file from `offset`, a cut, to the next cut, read line by line."""
    data.seek(offset)
    lines: list[bytes] = []
    subject = b""
    mask = CUT_MASK
    for line in data:
        key = line[: line.index(b" ")]
        if key != subject:
            subject = key
            if lines and zlib.crc32(key) & mask == 0:
                break
        lines.append(line)
    return Chunk(b"".join(lines))


def _after_prefixes(text: bytes) -> int:
    """Where the statements start in a Turtle or TriG text, after its `@prefix` lines."""
    start = 0
    while text.startswith(b"@prefix ", start):
        start = text.index(b"\n", start) + 1
    return start


_PROBE = ox.NamedNode("urn:probe")


def _serialized(quads: list[ox.Quad], format: ox.RdfFormat, graphs: bool) -> bytes:
    """The quads in `format`, in their graphs or (`graphs` false) as triples."""
    data = quads if graphs else [quad.triple for quad in quads]
    return ox.serialize(data, format=format, prefixes=PREFIXES) or b""


@dataclass(frozen=True)
class Frame:
    """How one kind of file is framed around its chunks' serializations."""

    format: ox.RdfFormat | None  # None: the chunk's N-Quads gzipped, a gzip member of its own
    start: bytes  # first in the file
    header: bytes  # before the first chunk only (the prefixes)
    graphs: bool  # each graph framed by `opening` and `closing` (the whole dataset's files)
    between_chunks: bytes
    between_graphs: bytes
    closing: bytes
    end: bytes

    def opening(self, graph: ox.NamedNode) -> bytes:
        """A graph's opening, as the writer writes it before the graph's first subject."""
        if not self.graphs or self.format is None:
            return b""
        probe = [ox.Quad(_PROBE, _PROBE, _PROBE, graph)]
        text = _serialized(probe, self.format, graphs=True)
        if self.format == ox.RdfFormat.TRIG:
            start = _after_prefixes(text)
            return text[start : text.index(b"\n", start) + 1]
        return text[len(self.start) : text.index(self.body(probe))]

    def body(self, quads: list[ox.Quad], data: bytes = b"") -> bytes:
        """One chunk's serialization without the frame around it, from its quads (or its N-Quads
        `data`, which a gzip member compresses)."""
        if self.format is None:  # the same bytes for the same data: no name, time 0
            return gzipped(data)
        if self.format == ox.RdfFormat.JSON_LD:  # node objects, written alike in a graph and alone
            return _serialized(quads, self.format, graphs=False)[1:-1]
        text = _serialized(quads, self.format, self.graphs)
        start = _after_prefixes(text)
        if self.format == ox.RdfFormat.TRIG:
            start = text.index(b"\n", start) + 1
            return text[start : -len(self.closing)]
        return text[start:]


def _frame(format: ox.RdfFormat, graphs: bool) -> Frame:
    probe = [ox.Quad(_PROBE, _PROBE, _PROBE, ox.NamedNode("urn:graph") if graphs else ox.DefaultGraph())]
    if format == ox.RdfFormat.JSON_LD:
        return Frame(format, b"[", b"", graphs, b",", b",", b"]}" if graphs else b"", b"]")
    text = _serialized(probe, format, graphs)
    header = text[: _after_prefixes(text)]
    return Frame(format, b"", header, graphs, b"", b"", b"}\n" if graphs else b"", b"")


GZIP = Frame(None, b"", b"", False, b"", b"", b"", b"")  # a gzip file may hold several members (RFC 1952)
TURTLE = _frame(ox.RdfFormat.TURTLE, graphs=False)
JSON_LD = _frame(ox.RdfFormat.JSON_LD, graphs=False)
TRIG = _frame(ox.RdfFormat.TRIG, graphs=True)
JSON_LD_DATASET = _frame(ox.RdfFormat.JSON_LD, graphs=True)


@cache
def code_digest() -> str:
    """What a piece's bytes depend on besides its quads: this code and the files' layout, Oxigraph's
    writers, the prefixes and the compressor."""
    writers = (f"oxigraph {ox.__version__}", f"zlib {zlib.ZLIB_RUNTIME_VERSION}", json.dumps(PREFIXES))
    # serializations.py says which frame and which graphs each file has
    return made_by.code_digest([Path(__file__), Path(__file__).with_name("serializations.py")], *writers)


@dataclass(frozen=True)
class Kept:
    """A previous file's pieces: for each chunk's digest, the offset, length and digest of its bytes;
    the file is `name` under the `generation`'s dist/."""

    generation: Path
    name: str
    pieces: dict[str, tuple[int, int, str]]

    def opened(self) -> BinaryIO | None:
        """The file open for reading, or None when it is no regular file of the generation: a link
        (to the file, or to a folder on its way), a folder or a FIFO (which is not waited on) offers
        nothing, so nothing outside the generation is read or linked for it."""
        parts = ["dist", *self.name.split("/")]
        try:
            folder = os.open(self.generation, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError:
            return None
        try:
            for part in parts[:-1]:
                inner = os.open(part, _NO_LINK | os.O_DIRECTORY, dir_fd=folder)
                os.close(folder)
                folder = inner
            descriptor = os.open(parts[-1], _NO_LINK | os.O_NONBLOCK, dir_fd=folder)
        except OSError:
            return None
        finally:
            os.close(folder)
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            os.close(descriptor)
            return None
        return os.fdopen(descriptor, "rb")

    def read(self, source: BinaryIO, digest: str) -> tuple[bytes, str] | None:
        """The chunk's bytes in the previous file `source` and their digest, or None when it has none
        or they are not what was indexed (a file changed since, or cut short): those are serialized
        again."""
        if digest not in self.pieces:
            return None
        at, length, expected = self.pieces[digest]
        try:  # at its offset, leaving the file's position to the one reading it in order
            body = os.pread(source.fileno(), length, at)
        except (OSError, ValueError, OverflowError):  # an offset no file has
            return None
        return (body, expected) if hashlib.sha256(body).hexdigest() == expected else None


@dataclass
class Previous:
    """What a previous generation's indexes offer: each file's pieces by its name under dist/, and
    each source's chunks by the source's file name (see `chunks`)."""

    files: dict[str, Kept] = field(default_factory=dict)
    sources: dict[str, list[Listed]] = field(default_factory=dict)


def previous_pieces(generation: Path | None) -> Previous:
    """What the indexes of `generation` (its folder) offer; an index written by other code, or with
    other cuts, offers nothing."""
    found = Previous()
    if generation is None:
        return found
    for index in sorted(generation.glob(INDEX.format(part="*"))):
        try:
            listed = json.loads(index.read_text("utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(listed, dict) or listed.get("code") != code_digest():
            continue
        for name, entry in dict(listed.get("files", {})).items():
            try:
                pieces = {str(d): (int(at), int(size), str(body)) for d, at, size, body in entry["pieces"]}
            except (KeyError, TypeError, ValueError):
                continue  # an index this code did not write: its file offers nothing
            found.files[name] = Kept(generation, name, pieces)
        if listed.get("cut") != CUT_MASK:
            continue
        for name, entry in dict(listed.get("sources", {})).items():
            try:
                found.sources[name] = [(str(digest), int(length)) for digest, length in entry]
            except (TypeError, ValueError):
                continue
    return found


class PieceFile:
    """One output file written frame and chunk by chunk; a chunk whose bytes the previous file holds
    is read from it, any other serialized. `close` gives where each chunk's bytes are, for the next
    build."""

    def __init__(self, path: Path, frame: Frame, kept: Kept | None) -> None:
        self.path, self.frame, self.kept = path, frame, kept
        self._previous = kept.opened() if kept else None  # closed by `_out`
        self._out = SameOrNew(path, self._previous)
        self._offset = 0
        self._pieces: list[tuple[str, int, int, str]] = []
        self._chunks_in_graph = self._graphs = 0
        self._graph: ox.NamedNode | None = None
        self.serialized = 0  # chunks serialized; the others are read from the previous file
        try:
            self._write(frame.start)
        except BaseException:
            self.abandon()
            raise

    def begin_graph(self, graph: ox.NamedNode) -> None:
        self._chunks_in_graph = 0
        self._graph = graph

    def add(self, chunk: Chunk) -> None:
        """The next chunk of the graph begun."""
        frame = self.frame
        if self._chunks_in_graph == 0 and self._graph is not None:
            before = frame.header if self._graphs == 0 else frame.between_graphs
            self._write(before + frame.opening(self._graph))
            self._graphs += 1
        else:
            self._write(frame.between_chunks)
        self._chunks_in_graph += 1
        read = self.kept.read(self._previous, chunk.digest) if self.kept and self._previous else None
        if read is None:
            self.serialized += 1
            body = frame.body([] if frame.format is None else chunk.quads(), chunk.data)
            read = body, hashlib.sha256(body).hexdigest()
        body, body_digest = read
        self._pieces.append((chunk.digest, self._offset, len(body), body_digest))
        self._write(body)

    def end_graph(self) -> None:
        if self._chunks_in_graph:
            self._write(self.frame.closing)

    def close(self) -> dict[str, object]:
        """Finish the file; its entry in the index."""
        try:
            if self.frame.format is None and not self._pieces:  # a gzip file holds one member at least
                self._write(gzipped(b""))
            self._write(self.frame.end)
            self._out.close()
        finally:
            self.abandon()
        return {"pieces": self._pieces, "serialized": self.serialized}

    def abandon(self) -> None:
        """Close the files without finishing the one written (see `SameOrNew.abandon`)."""
        self._out.abandon()

    def _write(self, data: bytes) -> None:
        self._out.write(data)
        self._offset += len(data)


class SameOrNew:
    """The file at `path`, written; while its bytes are those of the `previous` file (open, see
    `Kept.opened`) from its start, they are only compared, and a file that ends the same is the
    previous file, hard linked through that descriptor (`link_open_file`): a graph that did not change
    keeps its files rather than having them written, and flushed, again. Where the bytes first
    differ, those found the same are copied from the previous file; a copy that is not what was
    compared (the file changed meanwhile) fails the writing rather than write something else."""

    def __init__(self, path: Path, previous: BinaryIO | None) -> None:
        self.path = path
        self._previous = previous
        self._out: BinaryIO | None = None if previous else path.open("wb")
        self._same_digest = hashlib.sha256()  # of the bytes found the same, from the start
        self._same_length = 0
        self._differed = False  # once true, every byte goes to the file written anew

    def write(self, data: bytes) -> None:
        if not self._differed and self._previous is not None:
            if self._previous.read(len(data)) == data:
                self._same_digest.update(data)
                self._same_length += len(data)
                return
            self._write_anew()
        assert self._out is not None
        self._out.write(data)

    def close(self) -> None:
        """The file whole: linked when every byte was the previous file's, which ends there too, else
        (a longer file, or no links here) written, and flushed to disk here, beside the build's checks,
        rather than when the build is published."""
        try:
            if not self._differed and self._previous is not None:
                if self._previous.read(1) or not link_open_file(self._previous, self.path):
                    self._write_anew()
            if self._out is not None:
                self._out.flush()
                os.fsync(self._out.fileno())
        finally:
            self.abandon()

    def abandon(self) -> None:
        """Close the files without finishing: a file not yet begun is not written (a failed build's
        staging folder is removed whole)."""
        for file in (self._out, self._previous):
            if file is not None:
                file.close()

    def _write_anew(self) -> None:
        """Start writing the file: the bytes found the same so far, copied from the previous file."""
        assert self._previous is not None
        self._differed = True
        self._out = self.path.open("wb")
        self._previous.seek(0)
        copied, left = hashlib.sha256(), self._same_length
        while left:
            block = self._previous.read(min(left, 1 << 20))
            if not block:
                break
            self._out.write(block)
            copied.update(block)
            left -= len(block)
        if left or copied.digest() != self._same_digest.digest():
            raise OSError(f"{self.path.name}: the previous generation's file changed while it was read")


# What an ExitStack calls as a context manager's exit: with the error's type, the error, its traceback.
ExitCallback = Callable[[type[BaseException] | None, BaseException | None, TracebackType | None], bool]
# An output: its file, its frame, and the one source it is written from (None: every source).
Output = tuple[Path, Frame, Path | None]


@dataclass
class Index:
    """What a writer wrote, for the next build: each file's pieces by its name under dist/, and each
    source's chunks by the source's file name."""

    files: dict[str, object] = field(default_factory=dict)
    sources: dict[str, list[Listed]] = field(default_factory=dict)

    def __ior__(self, other: Index) -> Index:
        self.files |= other.files
        self.sources |= other.sources
        return self


def write_pieces(
    sources: list[Path],
    outputs: list[Output],
    previous: Previous,
    dist: Path,
    each: Callable[[Chunk], None] | None = None,
) -> Index:
    """Write each of `outputs` from `sources`, the sorted N-Quads files of graphs in their order,
    reading each source once for all the outputs it feeds and showing `each` every chunk; their index
    under `dist`. A frame without graphs (Turtle, JSON-LD of one graph, the gzipped dump) is fed one
    source."""
    for path, frame, only in outputs:
        if not frame.graphs and only is None and len(sources) > 1:
            raise ValueError(f"{path} holds one graph but would be fed {len(sources)} files")
    index = Index()
    with ExitStack() as closing:  # every file opened is closed, whatever fails
        files: list[tuple[PieceFile, Path | None]] = []
        for path, frame, only in outputs:
            name = str(path.relative_to(dist))
            file = PieceFile(path, frame, previous.files.get(name))
            closing.push(_ending(file, name, index.files))
            files.append((file, only))
        for source in sources:
            with source.open("rb") as lines:
                first = lines.readline()
            graph = next(ox.parse(first, format=ox.RdfFormat.N_QUADS)).graph_name if first else None
            if not isinstance(graph, ox.NamedNode):
                continue  # an empty file; the dataset has no default graph
            fed = [file for file, only in files if only in (None, source)]
            for file in fed:
                file.begin_graph(graph)
            listed = index.sources[source.name] = []
            for chunk in chunks(source, previous.sources.get(source.name)):
                listed.append((chunk.digest, len(chunk.data)))
                for file in fed:
                    file.add(chunk)
                if each is not None:
                    each(chunk)
            for file in fed:
                file.end_graph()
    return index


def _ending(file: PieceFile, name: str, entries: dict[str, object]) -> ExitCallback:
    """How `file` ends as `write_pieces` does: finished, its entry under `name` in `entries`, or
    abandoned when an error ends the writing."""

    def end(error: type[BaseException] | None, _: BaseException | None, __: TracebackType | None) -> bool:
        if error is None:
            entries[name] = file.close()
        else:
            file.abandon()
        return False  # the error, if any, goes on

    return end


def counted_pieces(generation: Path) -> tuple[int, int]:
    """How many pieces the files of `generation` hold, and how many of them were serialized rather
    than read from the previous generation's files (from its indexes)."""
    serialized = total = 0
    for index in generation.glob(INDEX.format(part="*")):
        for entry in json.loads(index.read_text("utf-8"))["files"].values():
            serialized, total = serialized + entry["serialized"], total + len(entry["pieces"])
    return serialized, total


def write_index(generation: Path, part: str, index: Index) -> None:
    """The index of what a writer wrote, for the next build to copy its pieces and find its chunks."""
    listed = {"code": code_digest(), "cut": CUT_MASK, "files": index.files, "sources": index.sources}
    write_whole(generation / INDEX.format(part=part), json.dumps(listed, sort_keys=True).encode())
