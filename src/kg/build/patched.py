"""A rebuild's sorted dump patched from the previous generation's, from the input files that changed.

A clean build parses every input file, sorts all their lines and compares the
result with the previous dump (`kg.build.incremental.Comparison`); each of
these reads the whole dataset. A rebuild knows which files changed without
that: each file's N-Quads are kept by a key of its content
(`kg.build.parsed`), and the previous generation lists the keys it was built
from. The lines of the files gone or changed are taken away, those of the files
new or changed are put in, and a line leaves the dataset only when no file
gives it any more: the previous generation also lists the lines that several
files gave, with how many (a file gives a line once; a line it does not list is
given by one file if the previous dump holds it, else by none). The previous
dump is sorted, so each line is found, and each added line placed, by binary
search, and the new dump is the old one copied with those lines taken out and
put in: byte for byte what sorting every file's lines gives.
"""

from __future__ import annotations

import mmap
import os
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from kg.build.incremental import WHOLE_GRAPH_ENDINGS, Change, change_of, read_state, same_code
from kg.build.parse_workers import Job
from kg.build.parsed import ParsedFiles
from kg.namespaces import GRAPH_NAMES, graph_iri
from kg.store.generations import Generation


@dataclass(frozen=True)
class Patched:
    """What patching found: the change from the previous generation, and the lines now given by more
    than one file, with how many."""

    change: Change
    repeated: dict[bytes, int]
    counts: dict[str, int]  # triples by graph name, in the dataset's graph order
    taken_out: int  # files whose N-Quads were taken out (gone, or as they were before a change)
    put_in: int  # files whose N-Quads were put in (new, or as they are after a change)


def patched_dump(
    previous: Generation | None,
    jobs: list[Job],
    keys: list[str],
    parsed: ParsedFiles,
    out: tuple[Path, Path],
) -> Patched | None:
    """The sorted dump of `jobs` (whose keys are `keys`) and its graphs' files written at `out` (a file,
    a folder) from the previous generation's, or None when that generation cannot serve: none, built
    by other code, without the list of its inputs, its files' N-Quads no longer kept, or a change to
    the ontology or the shapes (which rebuilds everything). Raises InputError for the first bad file
    among those that changed."""
    if previous is None or not same_code(previous):
        return None
    state = read_state(previous) or {}
    inputs, listed = state.get("inputs"), state.get("repeated")
    old_dump = previous.dist / "opioid-kg.nq"
    if not isinstance(inputs, list) or not isinstance(listed, dict) or not old_dump.is_file():
        return None
    if not previous.graphs.is_dir():
        return None
    old_inputs, new_inputs = Counter(map(str, inputs)), Counter(keys)
    differences = _line_counts(jobs, keys, old_inputs, parsed)
    if differences is None or old_dump.stat().st_size == 0:
        return None
    repeated = {line.encode(): int(times) for line, times in listed.items()}
    removed: list[bytes] = []
    added: list[bytes] = []
    with old_dump.open("rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as old:
        for line, difference in differences.items():
            before = repeated.get(line) or int(_holds(old, line))
            after = before + difference
            if after < 0:  # the previous generation's lists disagree with its dump
                return None
            if after > 1:
                repeated[line] = after
            else:
                repeated.pop(line, None)
            if before == 0 and after > 0:
                added.append(line)
            elif before > 0 and after == 0:
                removed.append(line)
        if any(line.endswith(WHOLE_GRAPH_ENDINGS) for line in removed + added):
            return None
        removed.sort()
        added.sort()
        triples = _patched_graphs(previous.graphs, removed, added, out[1])
        if triples is None:
            return None
        _write_patched(old, removed, added, out[0])
    parsed.keep(keys)  # the files that did not change are the next build's inputs too
    taken_out, put_in = sum((old_inputs - new_inputs).values()), sum((new_inputs - old_inputs).values())
    return Patched(change_of(b"".join(removed), b"".join(added)), repeated, triples, taken_out, put_in)


def _line_counts(
    jobs: list[Job], keys: list[str], before: Counter[str], parsed: ParsedFiles
) -> Counter[bytes] | None:
    """How many more (or fewer) files give each line than the previous build's inputs (`before`, its
    files' keys) gave; None when the N-Quads of a file gone are no longer kept."""
    after = Counter(keys)
    counts: Counter[bytes] = Counter()
    for key, times in (before - after).items():
        data = parsed.kept_nquads(key)
        if data is None:
            return None
        for line in data.splitlines(keepends=True):
            counts[line] -= times
    new = after - before
    for job, key in zip(jobs, keys, strict=True):
        if new[key] > 0:  # in the files' order: the first bad file is the one reported
            new[key] -= 1
            for line in parsed.nquads(*job).splitlines(keepends=True):
                counts[line] += 1
    return Counter({line: difference for line, difference in counts.items() if difference})


def _patched_graphs(
    before: Path, removed: list[bytes], added: list[bytes], split: Path
) -> dict[str, int] | None:
    """Each graph's file of the previous generation (in `before`) written into `split` without the lines
    `removed` and with the lines `added` that end with its name, or linked there unchanged; the triple
    counts by graph, empty graphs left out as `split_by_graph` leaves them; None for a line of no
    graph of the dataset."""
    by_ending = {f" <{graph_iri(name)}> .\n".encode(): name for name in GRAPH_NAMES}
    edits: dict[str, tuple[list[bytes], list[bytes]]] = {name: ([], []) for name in GRAPH_NAMES}
    for taken_out, lines in ((True, removed), (False, added)):
        for line in lines:
            name = by_ending.get(line[line.rindex(b" <") :])
            if name is None:
                return None
            edits[name][0 if taken_out else 1].append(line)
    split.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for name, (gone, new) in edits.items():
        old_file, new_file = before / f"{name}.nq", split / f"{name}.nq"
        if old_file.is_file() and not gone and not new:
            _link_or_copy(old_file, new_file)
        elif old_file.is_file():
            with old_file.open("rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as old:
                _write_patched(old, gone, new, new_file)
        elif new:
            new_file.write_bytes(b"".join(new))
        if new_file.is_file():
            counts[name] = _line_count(new_file)
            if not counts[name]:
                del counts[name]
                new_file.unlink()
    return counts


def _link_or_copy(source: Path, target: Path) -> None:
    """`source` at `target` too: linked (no build writes into a graph's file once written), or copied
    where the file system has no links."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _line_count(path: Path) -> int:
    with path.open("rb") as lines:
        return sum(block.count(b"\n") for block in iter(lambda: lines.read(1 << 20), b""))


def _lower_bound(data: mmap.mmap, line: bytes) -> int:
    """Where the first line of the sorted `data` not below `line` starts (its end when none)."""
    low, high = 0, len(data)
    while low < high:  # both at the start of a line
        middle = (low + high) // 2
        start = data.rfind(b"\n", 0, middle) + 1
        end = data.find(b"\n", start) + 1
        if data[start:end] < line:  # no line is the start of another, so the newline decides nothing
            low = end
        else:
            high = start
    return low


def _holds(data: mmap.mmap, line: bytes) -> bool:
    at = _lower_bound(data, line)
    return data[at : at + len(line)] == line


def _write_patched(old: mmap.mmap, removed: list[bytes], added: list[bytes], target: Path) -> None:
    """`old` written at `target` without the lines `removed` and with the lines `added` in their
    places (both sorted)."""
    edits = sorted(
        [(_lower_bound(old, line), 1, line) for line in removed]
        + [(_lower_bound(old, line), 0, line) for line in added]  # before a line removed at its place
    )
    with target.open("wb") as out, memoryview(old) as view:
        at = 0
        for position, taken_out, line in edits:
            out.write(view[at:position])
            if taken_out:
                at = position + len(line)
            else:
                out.write(line)
                at = position
        out.write(view[at:])
