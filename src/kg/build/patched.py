"""A rebuild's sorted dump and graphs' files patched from the previous generation's, from the input
files that changed.

A clean build parses every input file, sorts all their lines and splits them by
graph; each of these reads the whole dataset. A rebuild knows which files
changed without that: each file's N-Quads are kept by a key of its content
(`kg.build.parsed`), and the previous generation lists the keys it was built
from. The lines of the files gone or changed are taken out, those of the files
new or changed are put in, and a line leaves the dataset only when no file
gives it any more: the previous generation also lists the lines that several
files gave, with how many (a file gives a line once; a line it does not list is
given by one file if the previous dump holds it, else by none). The previous
dump and graphs' files are sorted, so each line is found, and each added line
placed, by binary search, and the new files are the old ones copied with those
lines taken out and put in: byte for byte what sorting every file's lines
gives. Whatever does not add up (a file or a kept entry of another size than
the previous generation recorded, a file of the generation that is no regular
file, a file saved while the build read it) makes the build sort every file
instead.
"""

from __future__ import annotations

import mmap
import stat
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from kg.build.incremental import (
    WHOLE_GRAPH_ENDINGS,
    Change,
    change_of,
    file_signature,
    recorded_files,
    signature,
    usable_state,
)
from kg.build.parse_workers import Input, Job
from kg.build.parsed import ParsedFiles
from kg.build.streaming import graph_of
from kg.build.whole_files import link_or_copy
from kg.namespaces import GRAPH_NAMES
from kg.store.generations import Generation

LineEdit = tuple[
    int, bool, bytes
]  # where in the old file, whether the line is taken out (else put in), the line


@dataclass(frozen=True)
class Patched:
    """What patching found: the change from the previous generation, the inputs now (each file's key
    and its N-Quads' size), the lines several files give with how many, and the triples by graph."""

    change: Change
    inputs: list[Input]
    repeated: dict[bytes, int]
    counts: dict[str, int]  # in the dataset's graph order, empty graphs left out
    taken_out: int  # files whose N-Quads were taken out (gone, or as they were before a change)
    put_in: int  # files whose N-Quads were put in (new, or as they are after a change)


def patched_dump(
    previous: Generation | None,
    jobs: list[Job],
    keys: list[str],
    parsed: ParsedFiles,
    dump: Path,
    split: Path,
    sha256: Callable[[Path], str] | None = None,
) -> Patched | None:
    """The sorted dump of `jobs` (whose keys are `keys`) written at `dump` and its graphs' files into
    `split` from the previous generation's, or None when that generation cannot serve: none, built by
    other code, its lists or files missing or not what it recorded, a file saved while this build read
    it, or a change to the ontology or the shapes (which rebuilds everything). Raises InputError for
    the first bad file among those that changed. `sha256` gives the previous files' digests (read
    ahead, say), by default read now."""
    state = usable_state(previous) if previous is not None else None
    if (
        previous is None
        or state is None
        or not _as_recorded(previous, state.get("sizes"), state.get("triples"), sha256)
    ):
        return None
    inputs, listed, triples = state.get("inputs"), state.get("repeated"), state.get("triples")
    if not isinstance(inputs, list) or not isinstance(listed, dict) or not isinstance(triples, dict):
        return None
    sizes = {str(key): int(size) for key, size in inputs}
    new = _new_inputs(jobs, keys, Counter(str(key) for key, _ in inputs), parsed, sizes)
    if new is None:
        return None
    differences, taken_out, put_in = new
    if any(line.endswith(WHOLE_GRAPH_ENDINGS) for line in differences):
        return None
    repeated = {line.encode(): int(times) for line, times in listed.items()}
    with _mapped(previous.dist / "opioid-kg.nq") as old:
        edits = _edits(old, differences, repeated)
        if edits is None:
            return None
        counts = _patched_graphs(previous.graphs, {str(n): int(c) for n, c in triples.items()}, edits, split)
        if counts is None:
            return None
        _write_patched(old, edits, dump)
    removed = b"".join(line for _, taken, line in edits if taken)
    added = b"".join(line for _, taken, line in edits if not taken)
    inputs_now = [(key, sizes[key]) for key in keys]
    return Patched(change_of(removed, added), inputs_now, repeated, counts, taken_out, put_in)


def _as_recorded(
    previous: Generation, recorded: object, triples: object, sha256: Callable[[Path], str] | None
) -> bool:
    """Whether the previous dump and graphs' files are there, regular files as its build recorded them
    (`file_signature`: not changed since, even in place to the same size), in folders of the
    generation's own, one file for each graph it counted triples of. A link, to a file or to a folder,
    would carry what it points to into the new generation; a FIFO would be waited on."""
    if not isinstance(recorded, dict) or not isinstance(recorded.get("graphs"), dict):
        return False
    if not isinstance(triples, dict) or set(triples) != set(recorded["graphs"]):
        return False
    folders = [previous.dist, previous.graphs]
    files = recorded_files(previous, recorded)
    return all(_signature_if(folder, stat.S_ISDIR) is not None for folder in folders) and all(
        _recorded_file(path, signature, sha256) for path, signature in files.items()
    )


def _recorded_file(path: Path, recorded: object, sha256: Callable[[Path], str] | None) -> bool:
    """Whether `path` is a regular file, itself not a link, of the `file_signature` `recorded`: what
    `stat` tells first, then, where that agrees, its bytes' digest."""
    found = _signature_if(path, stat.S_ISREG)
    if found is None or not isinstance(recorded, list) or found != recorded[: len(found)]:
        return False
    try:
        return file_signature(path, sha256(path) if sha256 else None) == recorded
    except OSError:  # replaced by a link, or removed, since
        return False


def _signature_if(path: Path, kind: Callable[[int], bool]) -> list[int | str] | None:
    """What `stat` tells of `file_signature` for what is at `path`, itself not a link, when it is of
    the `kind`; else None."""
    try:
        found = path.lstat()
    except OSError:
        return None
    return signature(found) if kind(found.st_mode) else None


def _new_inputs(
    jobs: list[Job], keys: list[str], before: Counter[str], parsed: ParsedFiles, sizes: dict[str, int]
) -> tuple[Counter[bytes], int, int] | None:
    """How many more (or fewer) files give each line than the previous build's inputs (`before`, its
    files' keys, whose N-Quads' `sizes` it recorded) gave, and how many files' N-Quads were taken out
    and put in; `sizes` gets the new files'. None when a kept entry is gone or not of its size, or a
    file was saved since its key was read."""
    after = Counter(keys)
    counts: Counter[bytes] = Counter()
    for key, times in (before - after).items():
        data = parsed.kept_nquads(key)
        if data is None or len(data) != sizes.get(key):
            return None
        for line in data.splitlines(keepends=True):
            counts[line] -= times
    new = after - before
    for job, key in zip(jobs, keys, strict=True):
        # Every file of a key given more often is read, not only as many as it gained: a file whose
        # recorded digest is another file's shows there. In the files' order: the first bad file is
        # the one reported.
        if key in new:
            read, data = parsed.keyed_nquads(*job)
            if read != key:
                parsed.digests.forget(job[0])
                return None
            if new[key] > 0:
                new[key] -= 1
                sizes[key] = len(data)
                for line in data.splitlines(keepends=True):
                    counts[line] += 1
    differences = Counter({line: difference for line, difference in counts.items() if difference})
    return differences, sum((before - after).values()), sum((after - before).values())


def _edits(old: mmap.mmap, differences: Counter[bytes], repeated: dict[bytes, int]) -> list[LineEdit] | None:
    """The lines the dataset loses and gains, where each is in (or goes into) the `old` dump, sorted;
    `repeated` updated. None when the counts disagree with the dump."""
    edits: list[LineEdit] = []
    for line, difference in differences.items():
        at = _lower_bound(old, line)
        before = repeated.get(line) or int(old[at : at + len(line)] == line)
        after = before + difference
        if after < 0:
            return None
        if after > 1:
            repeated[line] = after
        else:
            repeated.pop(line, None)
        if before == 0 and after > 0:
            edits.append((at, False, line))
        elif before > 0 and after == 0:
            edits.append((at, True, line))
    return sorted(edits)  # at one place, a line put in goes before the line taken out


def _patched_graphs(
    before: Path, triples: dict[str, int], edits: list[LineEdit], split: Path
) -> dict[str, int] | None:
    """Each graph's file of the previous generation (in `before`, with `triples` by graph) written
    into `split` with the dump's `edits` of its lines, or linked there when none; the triple counts
    by graph, empty graphs left out as `split_by_graph` leaves them. None for a line of no graph of
    the dataset, or a line taken out of a graph the previous generation had no file for."""
    lines: dict[str, list[tuple[bool, bytes]]] = {name: [] for name in GRAPH_NAMES}
    for _, taken, line in edits:
        name = graph_of(line)
        if name is None:
            return None
        lines[name].append((taken, line))
    split.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for name, changed in lines.items():
        old_file, new_file = before / f"{name}.nq", split / f"{name}.nq"
        had_file = name in triples  # and its file was found as recorded; any other is not read
        if had_file and not changed:
            link_or_copy(old_file, new_file)
        elif had_file:
            with _mapped(old_file) as old:
                _write_patched(
                    old, sorted((_lower_bound(old, line), taken, line) for taken, line in changed), new_file
                )
        elif any(taken for taken, _ in changed):
            return None
        elif changed:
            new_file.write_bytes(b"".join(line for _, line in changed))
        count = triples.get(name, 0) + sum(-1 if taken else 1 for taken, _ in changed)
        if count:
            counts[name] = count
        elif new_file.is_file():  # a graph emptied
            new_file.unlink()
    return counts


@contextmanager
def _mapped(path: Path) -> Iterator[mmap.mmap]:
    """The file's bytes, mapped (a file of the dataset is never empty)."""
    with path.open("rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
        yield data


def _lower_bound(data: mmap.mmap, line: bytes) -> int:
    """Where the first line of the sorted `data` (each line ending in a newline) not below `line`
    starts; its end when none."""
    low, high = 0, len(data)
    while low < high:  # both at the start of a line
        middle = (low + high) // 2
        start = data.rfind(b"\n", 0, middle) + 1
        end = data.find(b"\n", start) + 1 or high  # a last line without its newline ends the data
        if data[start:end] < line:  # no line is the start of another, so the newline decides nothing
            low = end
        else:
            high = start
    return low


def _write_patched(old: mmap.mmap, edits: list[LineEdit], target: Path) -> None:
    """`old` written at `target` with the `edits` (sorted by place): each line taken out or put in."""
    with target.open("wb") as out, memoryview(old) as view:
        at = 0
        for position, taken, line in edits:
            out.write(view[at:position])
            if taken:
                at = position + len(line)
            else:
                out.write(line)
                at = position
        out.write(view[at:])
