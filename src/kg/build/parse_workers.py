"""The input files parsed by several processes at once: parsing Turtle is Python work, which one
process does on one core.

The files are cut into contiguous shares of about equal size. The build's own process parses the
first share while a worker process parses each other one into a file of its own; the files are then
sorted together (`kg.store.sorted_nquads.sort_nquads`), so the dump is the same however the work was
shared. Each process reads and writes the same cache of parsed files (`kg.build.parsed`). When
several files are bad, the first bad one in the files' order is reported, as one process would.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import BinaryIO

from kg.build.parallel import usable_cpus
from kg.build.parsed import ParsedFiles
from kg.build.parsing import InputError
from kg.build.streaming import file_nquads
from kg.errors import EXIT_FAILED, KgError
from kg.processes import die_with, python_child

Job = tuple[Path, str]  # an input file and the name of the graph it feeds
Input = tuple[str, int]  # what a file's N-Quads are kept under in the parse cache, and their size

BAD_FILE = 3  # a worker's exit status when a file is bad; its last line on stderr says where, in JSON


class ParsingFailed(KgError):
    """A worker process failed for another reason than a bad file."""

    exit_code = EXIT_FAILED


# Bytes of input from which worker processes share the parsing: starting one costs about 0.4 s, the
# time it takes to parse some 4 MB of Turtle.
SHARED_FROM = 8_000_000


def parse_all(
    jobs: list[Job], out: Path, parsed: ParsedFiles | None, shared_from: int | None = None
) -> tuple[list[Path], list[Input] | None]:
    """Every job's N-Quads lines, written into `out` and, when the input has `shared_from` bytes or
    more (`SHARED_FROM` unless given), into files beside it that worker processes write; the files
    written, and with a parse cache each job's key in it and size (of the bytes parsed, whatever
    the file holds now). Raises InputError for the first bad file."""
    sizes = [path.stat().st_size if path.is_file() else 0 for path, _ in jobs]
    least = SHARED_FROM if shared_from is None else shared_from
    shares = _shares(jobs, sizes, usable_cpus() if sum(sizes) >= least else 1)
    workers: list[_Worker] = []
    try:
        for number, share in enumerate(shares[1:], 1):
            workers.append(_Worker(share, out.with_name(f"{out.name}.{number}"), parsed))
        with out.open("wb") as written:
            inputs = _write(shares[0], written, parsed)
        for worker in workers:
            inputs += worker.wait()
        return [out, *(worker.out for worker in workers)], inputs if parsed is not None else None
    finally:
        for worker in workers:
            worker.stop()


def _shares(jobs: list[Job], sizes: list[int], count: int) -> list[list[Job]]:
    """`jobs` cut into at most `count` contiguous runs of about equal total size, none empty."""
    total = sum(sizes)
    shares: list[list[Job]] = [[]]
    filled = 0
    for job, size in zip(jobs, sizes, strict=True):
        if filled * count >= total * len(shares) and len(shares) < count and shares[-1]:
            shares.append([])  # the shares so far hold their part of the bytes
        shares[-1].append(job)
        filled += size
    return shares


def _write(jobs: list[Job], out: BinaryIO, parsed: ParsedFiles | None) -> list[Input]:
    inputs: list[Input] = []
    for path, name in jobs:
        if parsed is None:
            out.write(file_nquads(path, name))
            continue
        key, data = parsed.keyed_nquads(path, name)
        out.write(data)
        inputs.append((key, len(data)))
    return inputs


class _Worker:
    """A process parsing one share into the file `out`; it says on stdout which cache entries it used,
    and its jobs' keys and sizes."""

    def __init__(self, jobs: list[Job], out: Path, parsed: ParsedFiles | None) -> None:
        self.out = out
        self.parsed = parsed
        self.jobs = out.with_name(out.name + ".jobs")  # read by the worker as it starts
        self.jobs.write_text(json.dumps([[str(path), name] for path, name in jobs]))
        cache = str(parsed.folder) if parsed is not None else ""
        self.process = python_child(
            __name__, str(self.jobs), str(out), cache, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )

    def wait(self) -> list[Input]:
        """Once the worker has finished, its jobs' keys and sizes; raise InputError for its bad file,
        ParsingFailed if it failed otherwise."""
        said, error = self.process.communicate()
        last = error.decode(errors="replace").strip().splitlines()[-1:] or ["no message"]
        if self.process.returncode == BAD_FILE:
            bad = json.loads(last[0])
            raise InputError(Path(bad["path"]), bad["line"], bad["column"], bad["problem"])
        if self.process.returncode != 0:
            raise ParsingFailed(f"parsing into {self.out} failed ({self.process.returncode}): {last[0]}")
        told = json.loads(said)
        if self.parsed is not None:
            self.parsed.used.update(told["used"])
        return [(key, size) for key, size in told["inputs"]]

    def stop(self) -> None:
        """End the worker, finished or not, and wait for it."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        self.jobs.unlink(missing_ok=True)


def main(arguments: list[str]) -> None:
    parent, listed, out, cache = arguments
    if not die_with(int(parent)):
        sys.exit(1)  # the build died already
    jobs = [(Path(path), name) for path, name in json.loads(Path(listed).read_text())]
    parsed = ParsedFiles(Path(cache)) if cache else None
    try:
        with Path(out).open("wb") as written:
            inputs = _write(jobs, written, parsed)
    except InputError as bad:
        place = {"path": str(bad.path), "line": bad.line, "column": bad.column, "problem": bad.problem}
        sys.stderr.write("\n" + json.dumps(place) + "\n")
        sys.exit(BAD_FILE)
    sys.stdout.write(
        json.dumps({"used": sorted(parsed.used) if parsed is not None else [], "inputs": inputs})
    )


if __name__ == "__main__":
    main(sys.argv[1:])
