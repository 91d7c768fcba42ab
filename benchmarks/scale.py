"""How the build grows with the number of sources: a generator of synthetic sources, and timings.

Each synthetic source replicates the curated report's folders (sources/<id>/ and
graph/<id>/): its citation metadata, its excerpts and its facts, every resource
of its own renamed (`id/flow/x` becomes `id/flow/s0001-x`), with its own copy of
the source text (and a last line naming the copy, so no two record one digest),
so the excerpts and the recorded digest stay valid and every copy conforms to
the shapes. The entities of graph/common/ (countries, agencies,
substances, periods) are shared, as they are in a real library; the ontology
and the original report stay as they are, so the catalogue's questions still
have their answers.

    .venv/bin/python benchmarks/scale.py --sources 1 10 100          # build at each size
    .venv/bin/python benchmarks/scale.py --sources 250 --jena         # and Jena SHACL beside it
    .venv/bin/python benchmarks/scale.py --generate 250 -o /tmp/p250  # only write the project
    .venv/bin/python benchmarks/scale.py --time-store /tmp/p250 --queries 5  # time a kept build
    .venv/bin/python benchmarks/scale.py --time-store /tmp/p250 --in-memory  # on its copy in memory

Every build runs in a child process (`kg build`, the real command) with a time
limit and a memory limit; the table gives the wall time, the phases the build
reports, and the child's peak resident memory.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pyoxigraph as ox

from kg.build.tables import TableTriples, table_descriptions, table_triples
from queries import median_ms  # benchmarks/queries.py, beside this script

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from jena import jena_classpath, shacl_command  # noqa: E402  (a module of the tests)

PROJECT = Path(__file__).resolve().parent.parent
ID = "https://w3id.org/opioid-kg/id/"
TOKEN = "SRCTOKEN"
COPIED = ("ontology", "graph", "sources", "queries")
PREFIXES = {
    "kg": "https://w3id.org/opioid-kg/ontology#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "prov": "http://www.w3.org/ns/prov#",
    "qb": "http://purl.org/linked-data/cube#",
    "time": "http://www.w3.org/2006/time#",
    "oa": "http://www.w3.org/ns/oa#",
    "id": ID,
}


def turtle_files(root: Path, folder: str) -> list[Path]:
    return sorted((root / folder).rglob("*.ttl"))


def subjects(paths: list[Path]) -> set[str]:
    return {
        t.subject.value
        for path in paths
        for t in ox.parse(path=str(path))
        if isinstance(t.subject, ox.NamedNode)
    }


@dataclass(frozen=True)
class SourceTemplate:
    """One source's folders with TOKEN where each synthetic copy puts its own name."""

    files: dict[str, str]  # path relative to the project, with TOKEN -> Turtle with TOKEN
    text: bytes
    sha256: str  # of `text`, as the metadata records it

    def text_of(self, name: str) -> tuple[bytes, str]:
        """The copy `name`'s text and its digest: the report's with a line naming the copy, since two
        reports with one text would be one report described twice."""
        text = self.text + f"\n[{name}: a synthetic copy of this report, for benchmarks]\n".encode()
        return text, hashlib.sha256(text).hexdigest()


def source_template(root: Path) -> SourceTemplate:
    """The first source's own folders (sources/<id>/ and graph/<id>/, the first id in order: the first
    report) renamed by token: every resource they describe gets the token; what graph/common/, the
    ontology and the other sources describe is shared by all."""
    ids = sorted(path.name for path in (root / "sources").iterdir() if path.is_dir())
    if not ids:
        raise SystemExit(f"{root / 'sources'}: no source to replicate")
    source = ids[0]
    others = [f"{folder}/{other}" for other in ids[1:] for folder in ("sources", "graph")]
    folders = ("ontology", "graph/common", *others)
    shared = subjects([path for folder in folders for path in turtle_files(root, folder)])
    own_files = turtle_files(root, f"sources/{source}") + turtle_files(root, f"graph/{source}")
    tables = TableTriples()
    for metadata in table_descriptions(root / "graph" / source):
        table_triples(metadata, tables)
    renamed = (subjects(own_files) | {t.subject.value for t in tables.triples("data")}) - shared
    text_file = f"{source}/text.txt"

    def term(node: ox.NamedNode | ox.BlankNode | ox.Literal) -> ox.NamedNode | ox.BlankNode | ox.Literal:
        if isinstance(node, ox.NamedNode) and node.value in renamed:
            head, _, tail = node.value.rpartition("/")
            return ox.NamedNode(f"{head}/{TOKEN}-{tail}")
        if isinstance(node, ox.Literal) and node.value == text_file:
            return ox.Literal(f"{TOKEN}/text.txt")
        return node

    unused = _excerpts_only_common_cites(own_files)
    files: dict[str, str] = {}
    for path in own_files:
        triples = [
            ox.Triple(term(t.subject), term(t.predicate), term(t.object))
            for t in ox.parse(path=str(path))
            if t.subject.value not in unused
        ]
        relative = str(path.relative_to(root)).replace(source, TOKEN, 1)
        files[relative] = ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=PREFIXES).decode()
    for metadata in table_descriptions(root / "graph" / source):
        files.update(_table_template(root, metadata, source, renamed))
    text = (root / "sources" / text_file).read_bytes()
    return SourceTemplate(files, text, hashlib.sha256(text).hexdigest())


def _table_template(root: Path, metadata: Path, source: str, renamed: set[str]) -> dict[str, str]:
    """A table and its CSVW metadata with TOKEN in every IRI of the source's own: in the metadata's
    IRIs, and in the cells whose column template (`valueUrl`, or the table's `aboutUrl`) makes them
    one of those IRIs."""
    description = json.loads(metadata.read_text("utf-8"))
    schema = description["tableSchema"]
    prefixes = {}
    for column in schema["columns"]:
        for template in (column.get("valueUrl", ""), schema.get("aboutUrl", "")):
            if "{" + column["name"] + "}" in template:
                prefixes[column["name"]] = template.split("{", 1)[0]
    text = metadata.read_text("utf-8")
    for iri in sorted(renamed, key=len, reverse=True):
        head, _, tail = iri.rpartition("/")
        text = text.replace(f'"{iri}"', f'"{head}/{TOKEN}-{tail}"')
    table = metadata.with_name(description["url"])
    with table.open(newline="", encoding="utf-8") as readable:
        rows = list(csv.DictReader(readable))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                name: f"{TOKEN}-{cell}" if prefixes.get(name, "\0") + cell in renamed else cell
                for name, cell in row.items()
            }
        )
    return {
        str(path.relative_to(root)).replace(source, TOKEN, 1): content
        for path, content in ((metadata, text), (table, out.getvalue()))
    }


def _excerpts_only_common_cites(paths: list[Path]) -> set[str]:
    """The excerpts (and their selectors) that only graph/common/ cites: a copy would not cite them."""
    triples = [t for path in paths for t in ox.parse(path=str(path))]
    excerpts = {t.subject.value for t in triples if t.object.value == PREFIXES["kg"] + "Excerpt"}
    selector = PREFIXES["oa"] + "hasSelector"
    cited = {
        t.object.value for t in triples if t.predicate.value != selector and t.subject.value not in excerpts
    }
    unused = excerpts - cited
    return unused | {
        t.object.value for t in triples if t.subject.value in unused and t.predicate.value == selector
    }


def generate(root: Path, out: Path, sources: int) -> None:
    """A project at `out` holding the sources of `root` and `sources - 1` synthetic copies of its first,
    each a source of its own (sources/sNNNN/, graph/sNNNN/) citing the entities of graph/common/."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for folder in COPIED:
        if (root / folder).exists():
            shutil.copytree(root / folder, out / folder)
    template = source_template(root)
    for number in range(1, sources):
        name = f"s{number:04d}"
        text, sha256 = template.text_of(name)
        for relative, turtle in template.files.items():
            target = out / relative.replace(TOKEN, name)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(turtle.replace(TOKEN, name).replace(template.sha256, sha256), "utf-8")
        (out / "sources" / name / "text.txt").write_bytes(text)


@dataclass
class Run:
    seconds: float
    cpu_seconds: float  # user + system: what the run cost, however busy the shared machine was
    peak_mb: float
    status: str
    summary: str


def run_bounded(command: list[str], cwd: Path, limit_s: float, limit_mb: float) -> Run:
    """Run `command`, killing it past `limit_s` or `limit_mb` of resident memory; its peak memory."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    killed: list[str] = []

    def watch() -> None:
        while _running(process.pid):
            if time.perf_counter() - started > limit_s:
                killed.append(f"stopped after {limit_s:.0f} s")
            elif _rss_mb(process.pid) > limit_mb:
                killed.append(f"stopped above {limit_mb:.0f} MB")
            if killed:
                os.killpg(process.pid, signal.SIGKILL)
                return
            time.sleep(0.2)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    output = process.stdout.read().decode("utf-8", "replace") if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    watcher.join()
    seconds = time.perf_counter() - started
    state = killed[0] if killed else ("ok" if process.returncode == 0 else f"exit {process.returncode}")
    last = output.strip().splitlines()[-1] if output.strip() else ""
    return Run(
        seconds,
        usage.ru_utime + usage.ru_stime,
        usage.ru_maxrss / 1024,
        state,
        last if state == "ok" else output[-2000:],
    )


def _running(pid: int) -> bool:
    """Whether the child `pid` is still running, without reaping it (`Popen.poll` would, and the
    `os.wait4` that reads its resource usage would then find no child)."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None
    except ChildProcessError:  # reaped by the `os.wait4` that waits for it
        return False


def _rss_mb(pid: int) -> float:
    """Resident memory of the process group led by `pid` (the build and anything it starts)."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(stat[2]) == pid or int(entry.name) == pid:  # stat[2] is the process group
                total += int(stat[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    return total / 2**20


def timing(run: Run) -> str:
    return f"{run.seconds:>8.1f}s {run.cpu_seconds:>7.1f}s {run.peak_mb:>8.0f}  {run.status:<22}"


def triples_in(summary: str) -> str:
    match = re.search(r"built (\d+) triples", summary)
    return f"{int(match.group(1)):,}" if match else "-"


def phases_in(summary: str) -> str:
    """The build's phases, wall seconds then CPU seconds: `parse 0.2/0.1, load ...`."""
    wall = re.search(r" s \((parse [^)]*)\); CPU", summary)
    cpu = re.search(r"; CPU [\d.]+ s \((parse [^)]*)\)", summary)
    if not wall or not cpu:
        return "-"
    pairs = zip(wall.group(1).split(", "), cpu.group(1).split(", "), strict=True)
    return ", ".join(f"{w}/{c.split()[1]}" for w, c in pairs)


def jena_shacl(project: Path, work: Path, limit_s: float, limit_mb: float) -> tuple[Run, int]:
    """Jena's SHACL engine on the same graphs kg validates (ontology, data, provenance, background, as
    one N-Triples file) and the same shapes; its run and the number of results it reports."""
    split = work / "jena"
    split.mkdir(exist_ok=True)
    data = split / "data.nt"
    with data.open("wb") as out:
        for quad in ox.parse(path=str(project / "dist" / "opioid-kg.nq"), format=ox.RdfFormat.N_QUADS):
            if not quad.graph_name.value.endswith("/shapes"):
                out.write(f"{quad.triple} .\n".encode())
    report = split / "report.ttl"
    # Debian's libapache-jena-java, as the tests and benchmarks/shacl_engines.py run it
    shapes = project / "dist" / "graphs" / "shapes.ttl"
    command = shacl_command(jena_classpath(split), data, shapes, heap_mb=int(limit_mb * 0.8))
    java = f"{shlex.join(command)} > {shlex.quote(str(report))}"
    run = run_bounded(["bash", "-c", java], work, limit_s, limit_mb)
    results = report.read_text("utf-8").count("sh:ValidationResult") if report.exists() else -1
    return run, results


def catalogue_timings(
    project: Path,
    runs: int,
    catalogue: Path | None = None,
    only: list[str] | None = None,
    in_memory: bool = False,
) -> None:
    """p50 of every catalogue query on the built store, as `kg query` runs it and as pyoxigraph runs
    the same text natively on the same store; then the time to read the flow network. The questions
    are the project's own unless `catalogue` names another folder of them (this checkout's, say), and
    all of them unless `only` names some (an answer that grows with the square of the sources takes
    hours at a million triples). With `in_memory`, both read the store copied into memory, as
    `kg serve --in-memory` holds it."""
    from kg.network.model import flow_network, production_network
    from kg.query.catalogue import load_catalogue
    from kg.query.run import run_query
    from kg.store.embedded import EmbeddedStore
    from kg.store.memory import memory_copy
    from kg.store.queryfiles import binding_terms

    if in_memory:
        started = time.perf_counter()
        native = memory_copy(project / ".kg" / "store")
        store = EmbeddedStore(project / ".kg" / "store", native)
        print(f"copied into memory in {time.perf_counter() - started:.1f} s", flush=True)
    else:
        store = EmbeddedStore(project / ".kg" / "store")
        native = ox.Store.read_only(str(project / ".kg" / "store"))
    print(f"{'query':<28} {'kg p50 ms':>10} {'CPU':>8} {'native p50 ms':>14} {'CPU':>8} {'rows':>7}")
    for query in load_catalogue(catalogue or project / "queries").values():
        if only and query.name not in only:
            continue
        bindings = binding_terms(query.bindings({}))
        ours = partial(run_query, store, query.text, bindings)
        theirs = partial(native_answer, native, query.standalone())
        answer = ours()
        rows = len(answer.triples if answer.kind == "graph" else answer.rows)
        (wall, cpu), (native_wall, native_cpu) = p50_wall_cpu_ms(ours, runs), p50_wall_cpu_ms(theirs, runs)
        print(
            f"{query.name:<28} {wall:>10.1f} {cpu:>8.1f} {native_wall:>14.1f} {native_cpu:>8.1f} {rows:>7}",
            flush=True,
        )
    if only:
        return
    for name, model in (("flow network", flow_network), ("production network", production_network)):
        print(f"{name:<28} {median_ms(lambda m=model: m(store), runs):>10.1f}", flush=True)


def p50_wall_cpu_ms(action: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median wall and CPU time of `action` in milliseconds, after one warm-up run. The store answers
    in the calling thread, so the process's CPU time is the query's: on a machine shared by other
    work it says what the query costs when the wall time says mostly how long it waited."""
    action()
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        action()
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    return statistics.median(walls), statistics.median(cpus)


def native_answer(store: ox.Store, text: str) -> object:
    """The whole answer read from pyoxigraph itself, the floor `kg query` is measured against: the
    same text, its parameters in a VALUES block, as `kg query` gives it to the store."""
    answer = store.query(text, use_default_graph_as_union=True)
    return bool(answer) if isinstance(answer, ox.QueryBoolean) else list(answer)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, nargs="*", default=[1, 10, 100])
    parser.add_argument("--generate", type=int, help="only write a project with this many sources (-o)")
    parser.add_argument("-o", "--out", type=Path, help="where --generate writes")
    parser.add_argument("--jena", action="store_true", help="also time Jena SHACL on each built dataset")
    parser.add_argument("--limit-s", type=float, default=900)
    parser.add_argument("--limit-mb", type=float, default=4096)
    parser.add_argument("--kg-args", default="", help="extra arguments to `kg build`")
    parser.add_argument("--queries", type=int, default=0, metavar="RUNS", help="time the catalogue too")
    parser.add_argument("--keep", type=Path, help="build in this folder and keep it (with one size)")
    parser.add_argument(
        "--time-store", type=Path, metavar="DIR", help="only time this checkout's catalogue on a kept build"
    )
    parser.add_argument("--only", nargs="+", metavar="NAME", help="with --time-store: these questions")
    parser.add_argument(
        "--in-memory", action="store_true", help="with --time-store: the store copied into memory"
    )
    options = parser.parse_args()
    if options.time_store:
        catalogue_timings(
            options.time_store, options.queries or 5, PROJECT / "queries", options.only, options.in_memory
        )
        return
    if options.generate:
        generate(PROJECT, options.out, options.generate)
        return
    kg = str(Path(sys.executable).with_name("kg"))
    print(
        f"{'sources':>7} {'triples':>11} {'kg build':>9} {'CPU':>8} {'peak MB':>8}  {'status':<22} "
        "phases (wall/CPU s)"
    )
    for count in options.sources:
        with tempfile.TemporaryDirectory(prefix=f"kg-scale-{count}-") as folder:
            project = options.keep or Path(folder) / "project"
            generate(PROJECT, project, count)
            build = run_bounded(
                [kg, "--project", str(project), "build", *options.kg_args.split()],
                project,
                options.limit_s,
                options.limit_mb,
            )
            print(
                f"{count:>7} {triples_in(build.summary):>11} {timing(build)}  {phases_in(build.summary)}",
                flush=True,
            )
            if build.status != "ok":
                print(build.summary, file=sys.stderr)
            if options.jena and build.status == "ok":
                jena, results = jena_shacl(project, Path(folder), options.limit_s, options.limit_mb)
                print(f"{'':>7} {'Jena SHACL':>11} {timing(jena)}  results: {results}", flush=True)
            if options.queries and build.status == "ok":
                catalogue_timings(project, options.queries)


if __name__ == "__main__":
    main()
