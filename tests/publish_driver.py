"""Run the build's real publishing step in processes of its own, for the kill tests.

    python publish_driver.py

reads one request a line on stdin, its fields separated by tabs:

    GRAPHS STORE_LINK DIST_LINK MARKER STOP_AT

GRAPHS is a folder of per-graph Turtle files (named as graphs, such as `data.ttl`), built
as the project's inputs; a thing MARKER, labelled and of a class declared in the
ontology graph, is added to the data graph
(from a file beside the links), so each generation can be told apart. For each
request a process forked from this one publishes, so a trial costs its own work
and not the import of the build (this process imports it once and opens no
store, so nothing a fork cannot copy). On stdout the driver says `pid N`, then
passes on the forked process's lines, then says `exit CODE` once it has reaped
it. The forked process prints `ready`, then each file-system step it takes; with
STOP_AT = k it prints the k-th step it is about to take and waits there to be
killed; with STOP_AT = 0 it runs through and prints `done`. Nothing is
imitated: the steps are the real ones.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
import traceback
from pathlib import Path

from publishing import MARKER, MARKER_CLASS, RDFS_LABEL

from kg.build.pipeline import publish, stage
from kg.store.generations import Generations

PROJECT = Path(__file__).resolve().parent.parent
STEPS = (
    (os, "mkdir"),
    (os, "rename"),
    (os, "replace"),
    (os, "symlink"),
    (os, "unlink"),
    (os, "fsync"),
    (shutil, "rmtree"),
)


def watch(stop_at: int) -> None:
    """Count every file-system step of the publishing thread; at step `stop_at`, say which and wait to
    be killed. A thread beside it flushes the new generation's files to disk ahead of publishing: its
    steps fall among these in no fixed order, so they are neither counted nor said (a kill at a random
    instant may land among them), and the steps counted are the same in every run."""
    taken = 0
    publishing = threading.current_thread()
    for module, name in STEPS:
        original = getattr(module, name)

        def step(*args, _original=original, _name=name, **kwargs):
            nonlocal taken
            if threading.current_thread() is not publishing:
                return _original(*args, **kwargs)
            taken += 1
            print(f"{taken} {_name} {args[0] if args else ''}", flush=True)
            if taken == stop_at:
                time.sleep(3600)
            return _original(*args, **kwargs)

        setattr(module, name, step)


def publish_marked(graphs_folder: str, store_link: str, dist_link: str, marker: str, stop_at: int) -> None:
    """One publishing step of the graphs in `graphs_folder` and a marker triple, watched."""
    files = {path.stem: [path] for path in sorted(Path(graphs_folder).glob("*.ttl"))}
    marking = Path(store_link).parent.parent / "markers" / f"{os.getpid()}.ttl"
    marking.parent.mkdir(parents=True, exist_ok=True)
    label = marker.replace("\\", "\\\\").replace('"', '\\"')
    marking.write_text(f'<{MARKER}> a <{MARKER_CLASS}> ; <{RDFS_LABEL}> "{label}" .\n', "utf-8")
    files["data"].append(marking)
    declaring = marking.with_name(f"{os.getpid()}-class.ttl")
    declaring.write_text(f"<{MARKER_CLASS}> a <http://www.w3.org/2002/07/owl#Class> .\n", "utf-8")
    files.setdefault("ontology", []).append(declaring)
    print("ready", flush=True)
    watch(stop_at)
    generations = Generations(Path(store_link), Path(dist_link))
    publish(
        generations, lambda staging: stage(PROJECT, files, staging, while_writing=generations.retire_older)
    )
    print("done", flush=True)


def run_forked(fields: list[str]) -> None:
    """Publish in a forked process whose stdout is a pipe; pass its lines on, then its exit code."""
    read_end, write_end = os.pipe()
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        os.dup2(write_end, 1)
        os.close(write_end)
        code = 1
        try:
            publish_marked(*fields[:4], int(fields[4]))
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            os._exit(code)
    os.close(write_end)
    print("pid", pid, flush=True)
    with os.fdopen(read_end, "rb") as output:
        for line in output:
            sys.stdout.buffer.write(line)
            sys.stdout.buffer.flush()
    _, status = os.waitpid(pid, 0)
    print("exit", os.waitstatus_to_exitcode(status), flush=True)


def main() -> None:
    for request in sys.stdin:
        run_forked(request.rstrip("\n").split("\t"))


if __name__ == "__main__":
    main()
