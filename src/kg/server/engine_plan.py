"""Oxigraph's own reading of a client's query, for a store the query workers reach over the network.

The guard decides on rdflib's reading of a canonical text, and that reading must agree with the
engine's: every way past the guard found so far was a place where the two parsers read one text
differently. Workers serving the embedded store have no network, so such a SERVICE fails there; a
store behind `--store URL` would call it. So there the engine is asked as well: Oxigraph's command
line plans the query on an empty store, in a process that has left the network before it starts,
and writes its plan; a plan with a Service step is refused, and so is one matching a predicate the
dataset does not hold (a store may run code under a predicate's IRI; see `guard._only_held`).
Oxigraph plans a query only as it starts to run it (on an empty store: no data, and a SERVICE fails
for want of a network), which is why the process must have no network, and why its time and memory
are bounded.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from kg.processes import die_with
from kg.store.sparql import Token, tokens

from .guard import SERVICE_REFUSED, Refused, not_held
from .sandbox import ISOLATED, isolate_network, no_core_files, worker_environment

CHECK_SECONDS = 10  # wall time one plan may take: an empty store answers at once, unless VALUES multiply
CHECK_MEMORY_MB = 1_024  # address space of the planning process
# A plan's file may grow far past its query: the optimizer copies a filter into every branch of a
# UNION, so 54 KB of query made a plan of 46 MB. A catalogue question's plan takes at most 7 KB.
MAX_PLAN_MB = 8
_SERVICE_STEP = "Service("  # how a plan names the step that calls a service (`Service(<iri>)`)
_FOLDER_PREFIX = "kg-plans-"  # followed by the server's pid, a dash and tempfile's random letters
_ISOLATION_FAILED = 97  # the planning process's exit status when it could not leave the network


@dataclass(frozen=True)
class PlanCheck:
    """Where to plan queries: Oxigraph's command line, a folder holding an empty store (opened read-only
    by every check at once) and room for the plans, and a loopback port that must be unreachable."""

    program: str
    folder: str
    probe_port: int | None
    version: str  # as the program names itself: "oxigraph 0.5.13"
    tried: bool = False  # a worker planned a query with it: the next workers need not try again

    @property
    def empty_store(self) -> str:
        return os.path.join(self.folder, "empty-store")


def prepare(probe_port: int | None) -> PlanCheck | str:
    """A PlanCheck with its empty store made, or why there can be none. The caller removes its folder
    (`remove`) when the pool closes."""
    program = _program()
    if program is None:
        return "Oxigraph's command line (`oxigraph`, from the Python package oxigraph) is not installed"
    try:
        named = subprocess.run([program, "--version"], capture_output=True, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError) as error:
        return f"`{program} --version` failed: {error}"
    version = named.stdout.decode(errors="replace").strip() or program
    _remove_abandoned()
    try:
        folder = tempfile.mkdtemp(prefix=f"{_FOLDER_PREFIX}{os.getpid()}-")
        store = ox.Store(os.path.join(folder, "empty-store"))
        store.flush()
        del store  # closed, so that every check may open it read-only
    except OSError as error:
        return f"no empty store could be made for it: {error}"
    return PlanCheck(program, folder, probe_port, version)


def remove(check: PlanCheck) -> None:
    shutil.rmtree(check.folder, ignore_errors=True)


def _remove_abandoned() -> None:
    """Remove the folders of servers that were killed before they could (`kill -9`): each is named
    by its server's pid, and one whose process is gone is no one's."""
    for folder in Path(tempfile.gettempdir()).glob(f"{_FOLDER_PREFIX}*-*"):
        owner = folder.name.removeprefix(_FOLDER_PREFIX).split("-", 1)[0]
        if owner.isdigit() and not _alive(int(owner)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def plan_file(check: PlanCheck, worker: int) -> Path:
    """Where the worker with pid `worker` has its plans written; the pool removes it when it replaces
    that worker, which may have been stopped before it removed the file itself."""
    return Path(check.folder) / f"plan-{worker}.json"


def check_plan(
    check: PlanCheck, text: str, union_default_graph: bool, predicates: frozenset[str] | None = None
) -> None:
    """Refused when Oxigraph's plan for `text` calls a service, matches a predicate outside
    `predicates` (where given), or cannot be made."""
    written = plan_file(check, os.getpid())
    written.unlink(missing_ok=True)
    command = [check.program, "query", "--location", check.empty_store, "--results-format", "none"]
    command += ["--explain-file", str(written)] + (["--union-default-graph"] if union_default_graph else [])
    parent = os.getpid()
    try:
        finished = subprocess.run(
            command,
            input=text.encode(),
            capture_output=True,
            timeout=CHECK_SECONDS,
            # two malloc arenas, not one per thread of its 183: their address space passed the limit
            # under load, and the check was refused with SIGABRT
            env=worker_environment(),
            preexec_fn=lambda: _offline(parent, check.probe_port),  # noqa: PLW1509 - a worker runs one thread
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise Refused(f"the query could not be checked within {CHECK_SECONDS} s", 503) from None
    except OSError as error:  # the program gone, or no process or memory left to start it
        raise Refused(f"the query cannot be checked: {error.strerror or error}", 503) from None
    try:
        plan = json.loads(written.read_text(encoding="utf-8"))["plan"]
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        raise _unplanned(finished) from None
    finally:
        written.unlink(missing_ok=True)
    for step in _steps(plan):
        if step.startswith(_SERVICE_STEP):
            raise Refused(SERVICE_REFUSED)
        if predicates is not None:
            for iri in _matched_predicates(step):
                if iri not in predicates:
                    raise Refused(not_held(iri))


def _offline(parent: int, probe_port: int | None) -> None:
    """In the planning process before Oxigraph starts: leave the network, or end; die with the worker;
    bound time and memory. Python code between fork and exec is safe here because a worker runs one
    thread."""
    if isolate_network(probe_port) != ISOLATED:
        os._exit(_ISOLATION_FAILED)
    if not die_with(parent):
        os._exit(_ISOLATION_FAILED)
    resource.setrlimit(resource.RLIMIT_CPU, (CHECK_SECONDS, CHECK_SECONDS))
    for kind, megabytes in (
        (resource.RLIMIT_AS, CHECK_MEMORY_MB),
        (resource.RLIMIT_FSIZE, MAX_PLAN_MB),  # the plan: past it, SIGXFSZ ends the process
    ):
        resource.setrlimit(kind, (megabytes * 2**20, megabytes * 2**20))
    no_core_files()  # an abort at the memory limit leaves no core of a gigabyte


def _unplanned(finished: subprocess.CompletedProcess[bytes]) -> Refused:
    """Why Oxigraph made no plan: it could not leave the network, or could not read the query."""
    if finished.returncode == _ISOLATION_FAILED:
        return Refused("the query cannot be checked: the checking process could not leave the network", 503)
    if finished.returncode == -signal.SIGXFSZ:
        return Refused(f"the query cannot be checked: its plan is larger than {MAX_PLAN_MB} MB")
    if finished.returncode < 0:  # stopped at its CPU time or memory (an abort)
        ended = signal.Signals(-finished.returncode).name
        return Refused(
            f"the query cannot be checked: planning it passed the checking process's limits ({ended})", 503
        )
    lines = finished.stderr.decode(errors="replace").splitlines()
    reason = next((line.removeprefix("Error: ") for line in lines if line.startswith("Error: ")), "")
    return Refused(f"the query cannot be read by the engine: {reason[:200] or 'no plan was made'}")


def _steps(plan: object) -> Iterator[str]:
    """The name of every step of a plan, depth first, without recursion."""
    pending = [plan]
    while pending:
        step = pending.pop()
        if isinstance(step, dict):
            yield str(step.get("name", ""))
            pending.extend(step.get("children", []))


def _matched_predicates(step: str) -> list[str]:
    """The IRIs a plan's step matches as predicates: the predicate of a `QuadPattern(s p o [g])`, every
    IRI of the path of a `Path(s path o)`. A step holding a triple term (`<<( … )>>`) gives every IRI
    but datatypes: only the fixed shape of the other two is read, never a guess."""
    kind = step.split("(", 1)[0]
    if kind not in ("QuadPattern", "Path"):
        return []
    found = tokens(step)[2:-1]  # within the step's brackets
    iris = [i for i, t in enumerate(found) if t.kind == "iri" and not _is_datatype(found, i)]
    if any(t.text == "<" for t in found if t.kind == "punct"):
        return [found[i].text[1:-1] for i in iris]
    first = _term_end(found, 0)
    if kind == "QuadPattern":
        if first >= len(found) or found[first].kind not in ("iri", "var"):  # a subject not read whole
            return [found[i].text[1:-1] for i in iris]
        return [found[first].text[1:-1]] if found[first].kind == "iri" else []
    last = _term_start(found)
    return [found[i].text[1:-1] for i in iris if first <= i < last]


def _is_datatype(found: list[Token], index: int) -> bool:
    """Whether the IRI at `index` is a literal's datatype: a string, `^^`, then the IRI."""
    before = found[max(index - 3, 0) : index]
    return len(before) == 3 and before[0].kind == "string" and before[1].text == before[2].text == "^"


def _term_end(found: list[Token], start: int) -> int:
    """Where the term starting at `start` ends (the index after it): a literal is its string with its
    language tag or `^^` and datatype."""
    if found[start].kind != "string":
        return start + 1
    if start + 1 < len(found) and found[start + 1].kind == "language":
        end = start + 2  # and a base direction glued to the tag (`@en--ltr`), read as tokens of its own
        while end < len(found) and found[end].start == found[end - 1].end:
            end += 1
        return end
    if start + 3 < len(found) and _is_datatype(found, start + 3):
        return start + 4
    return start + 1


def _term_start(found: list[Token]) -> int:
    """Where the last term begins."""
    end = len(found) - 1
    if found[end].kind == "language":
        return end - 1
    if found[end].kind == "iri" and _is_datatype(found, end):
        return end - 3
    return end


def _program() -> str | None:
    """The `oxigraph` command of this Python's environment, else of the PATH."""
    beside = Path(sys.executable).parent / "oxigraph"
    return str(beside) if beside.is_file() else shutil.which("oxigraph")
