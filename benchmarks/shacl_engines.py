"""The build's SHACL validation beside Apache Jena's, on the same triples and the same shapes.

The build validates on its Oxigraph store, one query per constraint (see
`kg.build.store_validation`); Jena's engine (Debian's libapache-jena-java) reads
the data into memory and checks each focus node. Both get what the build
validates: every graph of a built project's `dist/opioid-kg.nq` but the shapes
(the ontology, data, provenance and background; Jena as one N-Triples file of
their distinct triples, the build's engine as the same quads loaded into a fresh
store whose union it reads), and the shapes graph as the build parsed it.

    .venv/bin/python benchmarks/shacl_engines.py --project /work/bench/s600 --runs 2
    .venv/bin/python benchmarks/shacl_engines.py --project /work/bench/s600 --shapes ontology/shapes.ttl
    .venv/bin/python benchmarks/shacl_engines.py --project . --broken

Each run is a child process, so its wall time, CPU time (every thread, from
`os.wait4`) and peak resident memory are its own; the build's engine also
reports the part spent validating, after its store is loaded. The machine is
shared, so each run waits for a quiet moment and the table gives the load
average beside it. Then the verdicts are compared as sets of (focus node,
shape, path, value); blank nodes are compared as `[]`, since each engine labels
them its own way. `--shapes` validates with other shapes than the project was
built with (a kept build, today's shapes); `--broken` first breaks the data by
every negative case of the shape tests, so that there are results to compare.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph

from kg.build.checked_store import checks_in_memory
from kg.build.checks import check_shapes, quads_graph
from kg.build.parsing import rdflib_term
from kg.namespaces import graph_iri
from kg.store.bulk import bulk_load

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from jena import Key, jena_classpath, read_verdict, shacl_command  # noqa: E402  (a module of the tests)
from shacl_cases import broken_graph  # noqa: E402

SHAPES = ox.NamedNode(str(graph_iri("shapes")))


@dataclass(frozen=True)
class Run:
    engine: str
    load: str  # 1-minute load average at the start and at the end
    seconds: float
    cpu_seconds: float
    peak_mb: float
    validating: str  # wall / CPU seconds of the validation alone, where the engine tells them apart
    conforms: str
    results: set[Key] | None  # None when the engine failed
    reported: int = 0  # results in the report, the same one listed twice included
    loaded_mb: float | None = None  # the build's engine: peak resident MB once its store was loaded


def split_dump(nquads: Path, work: Path, shapes_file: Path | None) -> tuple[Path, Path, int]:
    """The data (every graph but the shapes) as one file of distinct N-Triples, the shapes graph (or
    `shapes_file`, for a project built with older shapes) as another, and the number of data triples:
    what both engines read."""
    data, shapes = work / "data.nt", work / "shapes.nt"
    with (work / "data.unsorted.nt").open("wb") as out, shapes.open("wb") as shape_out:
        for quad in ox.parse(path=str(nquads), format=ox.RdfFormat.N_QUADS):
            if quad.graph_name != SHAPES:
                out.write(f"{quad.triple} .\n".encode())
            elif shapes_file is None:
                shape_out.write(f"{quad.triple} .\n".encode())
        if shapes_file is not None:
            ox.serialize(ox.parse(path=str(shapes_file)), shape_out, format=ox.RdfFormat.N_TRIPLES)
    env = {**os.environ, "LC_ALL": "C"}
    subprocess.run(["sort", "-u", "-o", str(data), str(work / "data.unsorted.nt")], check=True, env=env)
    (work / "data.unsorted.nt").unlink()
    with data.open("rb") as lines:
        return data, shapes, sum(1 for _ in lines)


def broken_dump(nquads: Path, work: Path) -> Path:
    """The project's graphs broken by every negative case of the shape tests (`tests/shacl_cases.py`),
    written as one data graph beside the shapes: verdicts with results in them to compare."""
    data = Graph()
    shapes: list[ox.Quad] = []
    for quad in ox.parse(path=str(nquads), format=ox.RdfFormat.N_QUADS):
        if quad.graph_name == SHAPES:
            shapes.append(quad)
        else:
            data.add((rdflib_term(quad.subject), rdflib_term(quad.predicate), rdflib_term(quad.object)))
    broken = broken_graph(data).serialize(format="nt", encoding="utf-8")
    graph = ox.NamedNode(str(graph_iri("data")))
    quads = [
        ox.Quad(t.subject, t.predicate, t.object, graph)
        for t in ox.parse(broken, format=ox.RdfFormat.N_TRIPLES)
    ]
    out = work / "broken.nq"
    store = (
        ox.Store()
    )  # the literals the cases wrote (`25.0`) as a store holds them (`25`), as the build's are
    store.extend(quads + shapes)
    store.dump(out, format=ox.RdfFormat.N_QUADS)
    return out


def load_average() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def wait_for_quiet(below: float, poll_s: float, limit_s: float) -> None:
    """Wait until the 1-minute load average is below `below` (or `limit_s` has passed): on a shared
    two-core machine the others' work would otherwise be measured too."""
    waited = 0.0
    while load_average() >= below and waited < limit_s:
        time.sleep(poll_s)
        waited += poll_s
    if load_average() >= below:
        print(f"load still {load_average():.2f} after {waited:.0f} s; measuring anyway", flush=True)


def child(command: list[str], stdout: Path, stderr: Path) -> tuple[int, float, float, float]:
    """Run `command`: its exit code, wall seconds, CPU seconds and peak resident MB."""
    started = time.perf_counter()
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    return process.returncode, seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def kg_validate(nquads: Path, shapes: Path, store: Path, report: Path) -> None:
    """The build's validation, in this (child) process: the quads of every graph but the shapes
    bulk-loaded into a fresh store (in memory up to the size a clean build checks there, see
    `kg.build.checked_store`), then `check_shapes` over its union as the build asks it (see
    `kg.build.pipeline._check`); the report as Turtle, the timings as JSON on stdout."""
    with nquads.open("rb") as lines:  # counted before the clock starts: the build knows its count
        in_memory = checks_in_memory(sum(1 for _ in lines))
    started, cpu = time.perf_counter(), time.process_time()
    oxigraph = ox.Store() if in_memory else ox.Store(str(store))
    quads = ox.parse(path=str(nquads), format=ox.RdfFormat.N_QUADS)
    bulk_load(oxigraph, (quad for quad in quads if quad.graph_name != SHAPES))
    loaded, loaded_cpu, loaded_mb = time.perf_counter(), time.process_time(), peak_mb()
    result = check_shapes(oxigraph, quads_graph(shapes), None, only_data=True)
    done, done_cpu = time.perf_counter(), time.process_time()
    report.write_text(result.as_turtle(), "utf-8")
    timings = {
        "load": [loaded - started, loaded_cpu - cpu],
        "validate": [done - loaded, done_cpu - loaded_cpu],
        "loaded_mb": loaded_mb,
    }
    print(json.dumps(timings))


def peak_mb() -> float:
    """This process's peak resident memory so far (VmHWM), to tell loading's share from validating's."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_kg(nquads: Path, shapes: Path, work: Path) -> Run:
    store, report = work / "kg-store", work / "kg-report.ttl"
    shutil.rmtree(store, ignore_errors=True)
    command = [sys.executable, __file__, "--kg-child", str(nquads), str(shapes), str(store), str(report)]
    before = load_average()
    code, seconds, cpu, peak = child(command, work / "kg.out", work / "kg.err")
    load = f"{before:.2f}→{load_average():.2f}"
    shutil.rmtree(store, ignore_errors=True)
    if code != 0:
        print((work / "kg.err").read_text()[-2000:], file=sys.stderr)
        return Run("kg (Oxigraph)", load, seconds, cpu, peak, "-", f"failed: exit {code}", None)
    phases = json.loads((work / "kg.out").read_text())
    conforms, keys, reported = read_verdict(Graph().parse(report, format="turtle"))
    validating = "{:.1f} / {:.1f}".format(*phases["validate"])
    return Run(
        "kg (Oxigraph)", load, seconds, cpu, peak, validating, conforms, keys, reported, phases["loaded_mb"]
    )


def run_jena(data: Path, shapes: Path, work: Path, classpath: str) -> Run:
    """Jena's `shacl validate` (JVM start and parsing included: the command does not time them apart)."""
    report = work / "jena-report.ttl"
    command = shacl_command(classpath, data, shapes)
    before = load_average()
    code, seconds, cpu, peak = child(command, report, work / "jena.err")
    load = f"{before:.2f}→{load_average():.2f}"
    if code != 0:
        print((work / "jena.err").read_text()[-2000:], file=sys.stderr)
        return Run("Jena SHACL 4.5", load, seconds, cpu, peak, "-", f"failed: exit {code}", None)
    conforms, keys, reported = read_verdict(Graph().parse(report, format="turtle"))
    return Run("Jena SHACL 4.5", load, seconds, cpu, peak, "-", conforms, keys, reported)


def run_jena_parse(data: Path, work: Path, classpath: str) -> Run:
    """Jena only reading the data (`riot --count`): how much of its run is the JVM and the parser."""
    before = load_average()
    command = ["java", "-cp", classpath, "riotcmd.riot", "--count", str(data)]
    code, seconds, cpu, peak = child(command, work / "riot.out", work / "riot.err")
    load = f"{before:.2f}→{load_average():.2f}"
    return Run("Jena, parse only", load, seconds, cpu, peak, "-", "-" if code == 0 else f"exit {code}", None)


def print_table(runs: list[Run], triples: int, header: bool = True) -> None:
    if header:
        print(
            f"\n| engine | triples | load 1-min | wall s | CPU s | validating wall / CPU s | peak RSS MB "
            f"| conforms | results |\n|{'---|' * 9}"
        )
    for run in runs:
        results = "-" if run.results is None else f"{run.reported:,} ({len(run.results):,} distinct)"
        peak = f"{run.peak_mb:,.0f}" + ("" if run.loaded_mb is None else f" ({run.loaded_mb:,.0f} loaded)")
        print(
            f"| {run.engine} | {triples:,} | {run.load} | {run.seconds:.1f} | {run.cpu_seconds:.1f} "
            f"| {run.validating} | {peak} | {run.conforms} | {results} |"
        )


def compare(runs: list[Run], shown: int = 20) -> None:
    """Each run's results against the first run of the build's engine: the same set, or the difference."""
    reference = next((run for run in runs if run.engine.startswith("kg") and run.results is not None), None)
    if reference is None or reference.results is None:
        print("\nno verdict of the build's engine to compare with")
        return
    for number, run in enumerate(runs, 1):
        if run is reference or run.results is None:
            continue
        name = f"run {number} ({run.engine})"
        only_kg, only_other = reference.results - run.results, run.results - reference.results
        if not only_kg and not only_other and run.conforms == reference.conforms:
            print(f"{name}: same verdict as kg's first run ({len(run.results):,} distinct results)")
            continue
        print(f"{name}: conforms {run.conforms} (kg {reference.conforms}); ", end="")
        print(f"{len(only_kg):,} results only kg reports, {len(only_other):,} only this run")
        for label, keys in (("only kg", only_kg), ("only this run", only_other)):
            for key in sorted(keys)[:shown]:
                print(f"  {label}: " + " | ".join(key))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project", type=Path, help="a built project (its dist/opioid-kg.nq is read)")
    parser.add_argument("--broken", action="store_true", help="break the data by the shape tests' cases")
    parser.add_argument("--shapes", type=Path, help="Turtle shapes to use instead of the project's")
    parser.add_argument("--runs", type=int, default=2, help="runs of each engine")
    parser.add_argument("--work", type=Path, help="scratch folder (default: a new one under /tmp)")
    parser.add_argument("--below", type=float, default=2.5, help="1-minute load to wait for before a run")
    parser.add_argument("--poll-s", type=float, default=30)
    parser.add_argument("--wait-s", type=float, default=900, help="longest wait for that load, per run")
    parser.add_argument("--kg-child", nargs=4, type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.kg_child:
        kg_validate(*options.kg_child)
        return
    if options.project is None:
        parser.error("--project is required")
    nquads = options.project / "dist" / "opioid-kg.nq"
    if not nquads.is_file():
        raise SystemExit(f"{nquads}: no such file (build the project first)")
    work = options.work or Path(tempfile.mkdtemp(prefix="shacl-engines-"))
    work.mkdir(parents=True, exist_ok=True)
    if options.broken:
        nquads = broken_dump(nquads, work)
    data, shapes, triples = split_dump(nquads, work, options.shapes)
    print(f"{triples:,} distinct data triples in {data}; shapes in {shapes}", flush=True)
    try:
        classpath = jena_classpath(work)
    except FileNotFoundError as missing:
        sys.exit(str(missing))
    runs: list[Run] = []
    for _ in range(options.runs):
        for measure in (
            lambda: run_kg(nquads, shapes, work),
            lambda: run_jena(data, shapes, work, classpath),
        ):
            wait_for_quiet(options.below, options.poll_s, options.wait_s)
            runs.append(measure())
            print_table(runs[-1:], triples, header=False)
    wait_for_quiet(options.below, options.poll_s, options.wait_s)
    runs.append(run_jena_parse(data, work, classpath))
    print_table(runs, triples)
    print()
    compare(runs)


if __name__ == "__main__":
    main()
