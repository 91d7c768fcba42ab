"""`kg build`: from the project's files to a validated dataset in dist/ and the embedded store.

The files are streamed into one sorted N-Quads dump (see `streaming`), the
store is bulk-loaded from it, every check is a query on that store (see
`checks`), and the other files of dist/ are streamed from the dump. Everything
is written into a new generation folder first and made current in one step only
when the whole build has succeeded, so a failed or killed build leaves the
previous one untouched (see `kg.store.generations`).
"""

from __future__ import annotations

import gc
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph

from kg.build.analyses import Analyses, analyses_folder
from kg.build.checked_store import checks_in_memory, in_memory_up_to
from kg.build.checks import (
    DATA_GRAPHS,
    BuildFailed,
    Reached,
    check_data_cube,
    check_described,
    check_figures,
    check_shapes,
    check_sources,
    check_stated_once,
    check_terms,
    check_typed,
    quads_graph,
)
from kg.build.cube import CHECKS, hierarchy_properties, named_in_checks, reading_quads
from kg.build.cube_scope import CubeScope, cube_scope
from kg.build.described import dump_facts
from kg.build.digesting import Digesting
from kg.build.incremental import (
    Change,
    Comparison,
    apply_change,
    checks_digest,
    copy_store,
    previous_checks,
    previous_texts,
    reached_sources,
    read_state,
    read_whole_before_reuse,
    revalidating,
    text_digests,
    too_many,
    unreadable_store,
    write_state,
)
from kg.build.locate import SubjectIndex
from kg.build.one_source import reached_files
from kg.build.parallel import query_threads, release_frames, turn
from kg.build.parse_workers import Input, Job, parse_all
from kg.build.parsed import ParsedFiles
from kg.build.parsing import InputError
from kg.build.patched import Patched, patched_dump
from kg.build.pieces import counted_pieces
from kg.build.project import ProjectFiles, check_outputs_apart, check_project, input_files, source_ids
from kg.build.reach import Revalidation
from kg.build.serializations import ONE_WRITER_BELOW, Serializing, graph_quads
from kg.build.shown import faults_shown
from kg.build.store_validation import validation_texts
from kg.build.streaming import StatedTwice, split_by_graph, stated_twice
from kg.build.tables import write_tables
from kg.build.validation import ValidationReport
from kg.errors import EXIT_FAILED, KgError, signal_exit, stopped_by
from kg.store.bulk import bulk_load
from kg.store.description import DESCRIPTION_FILE, DUMP_FILE, DatasetFacts, describe_dataset, file_digest
from kg.store.generations import Generation, Generations
from kg.store.integrity import record_digests
from kg.store.sorted_nquads import sort_nquads

PARSED = "parsed"  # beside the store: each input file's N-Quads by content hash (see `kg.build.parsed`)
# From this many triples a clean build reads ahead what its validation queries reach, for the rebuild
# after it (`_analyse_ahead`). Below, validation is over in a second or two, and the read-ahead, Python
# work holding the interpreter's lock, would slow it several times (the report alone: 0.2 s to 3 s).
READ_AHEAD_FROM = 100_000
REACH = "reach"  # beside the store unless shared: what each shape query reads (see `kg.build.analyses`)
MADE_INPUTS = "inputs"  # in a staging generation: the files a build makes to read (its tables' triples)

__all__ = ["DATA_GRAPHS", "BuildFailed", "BuildResult", "build", "merged", "publish", "stage"]


@dataclass
class BuildResult:
    triples_per_graph: dict[str, int]
    violations: int
    excerpts_checked: int
    seconds: float
    dist: Path
    store: Path
    written: list[Path] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)
    cpu_phases: dict[str, float] = field(default_factory=dict)
    how: str = ""  # a full build and why, or what a rebuild reused

    def summary(self) -> str:
        counts = ", ".join(f"{name} {count}" for name, count in self.triples_per_graph.items())
        total = sum(self.triples_per_graph.values())
        return (
            f"built {total} triples ({counts}); "
            f"excerpts checked: {self.excerpts_checked}; violations: {self.violations}; "
            f"wrote {self.dist}/ and {self.store}; {self.seconds:.1f} s ({_listed(self.phases)}); "
            f"CPU {sum(self.cpu_phases.values()):.1f} s ({_listed(self.cpu_phases)}); {self.how}"
        )


def _listed(seconds: dict[str, float]) -> str:
    return ", ".join(f"{name} {value:.1f}" for name, value in seconds.items())


def merged(project: ProjectFiles, names: tuple[str, ...]) -> Graph:
    """One rdflib graph holding the named graphs `names` (what pyshacl, the reference engine, reads)."""
    graph = Graph()
    for name in names:
        graph += project.graphs.get(name, Graph())
    return graph


class _Phases(dict[str, float]):
    """Seconds spent in each step of the build, for its summary and the benchmarks: wall time, and in
    `cpu` the CPU time of the process (all its threads) and of the children it waited for (`sort`,
    `comm`, the writing processes, counted in the phase that waited), which a busy machine disturbs
    less."""

    def __init__(self) -> None:
        super().__init__()
        self.cpu: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        started, cpu = time.perf_counter(), _cpu_seconds()
        try:
            yield
        finally:
            self[name] = self.get(name, 0.0) + time.perf_counter() - started
            self.cpu[name] = self.cpu.get(name, 0.0) + _cpu_seconds() - cpu


def _cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


@dataclass(frozen=True)
class Staged:
    """What a build wrote into its staging generation: counts, checks, the paths under dist/ and the
    digest of its N-Quads."""

    triples_per_graph: dict[str, int]
    report: ValidationReport
    excerpts_checked: int
    written: list[Path]
    how: str
    sha256: str  # of dist/opioid-kg.nq: the generation's name


def build(root: Path, dist: Path, store: Path, source: str | None = None) -> BuildResult:
    """Parse, check, validate, then write dist/ and the store as a new generation; raise BuildFailed
    or InputError. With `source`, only that source (see `kg.build.one_source`)."""
    started = time.perf_counter()
    check_project(root)  # before the build's folders are made
    check_outputs_apart(root, dist, store)
    query_threads()  # a wrong KG_QUERY_THREADS fails the build before it starts
    in_memory_up_to()  # and so does a wrong KG_CHECK_IN_MEMORY_QUADS
    faults_shown()  # or KG_VIOLATIONS_SHOWN
    phases = _Phases()
    generations = Generations(store, dist)
    generations.check_place((PARSED, REACH))  # before anything is written beside them
    parsed = ParsedFiles(store.parent / PARSED)
    reach = Analyses(analyses_folder(store.parent / REACH))

    def make(staging: Generation) -> Staged:
        # What the build writes besides its inputs goes into the staging folder, which the next build
        # removes if this one is killed.
        scratch = staging.path / MADE_INPUTS
        scratch.mkdir()
        current = generations.current()
        writers = Serializing(_writers_ready(current))
        digests = Digesting()  # what a rebuild reads whole before reuse, read ahead from now on
        try:
            if current is not None:
                digests.start(read_whole_before_reuse(current))
            files = input_files(root, source)
            ids = source_ids(root) if source is None else [source]
            folders = [root / "graph" / found for found in ids]
            tables = write_tables(folders, scratch, parsed.table)
            for name, paths in tables.items():
                files.setdefault(name, []).extend(paths)
            if source is not None:  # with what its files reach in the other sources
                for name, path in reached_files(
                    root, source, scratch / "others", tables, parsed.table
                ).items():
                    files.setdefault(name, []).append(path)
            previous = (current, reach)
            return stage(
                root, files, staging, phases, parsed, previous, generations.retire_older, writers, digests
            )
        finally:
            digests.stop()
            writers.stop()
            shutil.rmtree(scratch, ignore_errors=True)

    staged = publish(generations, make)
    try:
        parsed.prune()
        reach.prune()
    except (OSError, KeyboardInterrupt) as error:  # what the next build may reuse, now unused
        raise published_but(generations, error) from None
    return BuildResult(
        triples_per_graph=staged.triples_per_graph,
        violations=len(staged.report.violations),
        excerpts_checked=staged.excerpts_checked,
        seconds=time.perf_counter() - started,
        dist=dist,
        store=store,
        written=[dist / path for path in staged.written],
        phases=dict(phases),
        cpu_phases=dict(phases.cpu),
        how=staged.how,
    )


def publish(generations: Generations, make: Callable[[Generation], Staged]) -> Staged:
    """Write dist/ and the store into a new generation with `make` and make it current.

    One build at a time: the lock also makes it safe to remove what a killed build left. A build that
    cannot write (a full disk) or is interrupted (SIGINT, or SIGTERM as `kg build` receives it) raises
    Unwritten, saying whether its generation was published.
    """
    try:
        with generations.locked():
            return _publish_locked(generations, make)
    except OSError as error:  # the lock could not be taken (a file system gone read-only): nothing written
        raise Unwritten(stop_reason(error, generations)) from None


def _publish_locked(generations: Generations, make: Callable[[Generation], Staged]) -> Staged:
    """`publish` once the lock is held."""
    before = generations.current()
    staging = generations.staging()
    try:
        generations.clean()
        generations.begin(staging)
        staged = make(staging)
        generations.publish(staging, staged.sha256)
        generations.clean()
    except (OSError, KeyboardInterrupt) as error:
        if generations.current() == before:
            raise Unwritten(stop_reason(error, generations), exit_code=stop_exit(error)) from None
        raise published_but(generations, error) from None
    finally:
        generations.discard(staging)  # nothing left to remove once published
    return staged


def published_but(
    generations: Generations, error: OSError | KeyboardInterrupt, reason: str | None = None
) -> Unwritten:
    """The build's generation is current, and then it stopped (`reason`, where the stop was not the
    build's own writing): the message says both."""
    now = generations.current()
    return Unwritten(
        f"the build is published (generation {now.id if now else 'none'}), but then:"
        f" {reason or stop_reason(error, generations)}",
        published=True,
        exit_code=stop_exit(error),
    )


def stop_reason(error: OSError | KeyboardInterrupt, generations: Generations) -> str:
    """Why the build stopped: the signal that interrupted it, or what the system said when it could
    not write."""
    if isinstance(error, KeyboardInterrupt):
        return f"interrupted ({stopped_by(error)})"
    return f"cannot write the build in {generations.home.parent}: {os_reason(error)}"


def stop_exit(error: BaseException) -> int:
    """The exit status of a build stopped by `error`: as a shell reports a command a signal stopped,
    else the status of a failed build."""
    return signal_exit(stopped_by(error)) if isinstance(error, KeyboardInterrupt) else EXIT_FAILED


class Unwritten(KgError):
    """The build could not write (the disk is full, say): before its generation was published, which
    leaves the previous one current, or, rarely, after."""

    exit_code = EXIT_FAILED
    status = 500

    def __init__(self, message: str, *, published: bool = False, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(message, exit_code=exit_code)
        self.published = published


def os_reason(error: OSError) -> str:
    """What the system said, with the file it said it of: Python's errors carry both, the store's
    (RocksDB's, through pyoxigraph) name the file in their text."""
    if error.errno is None or not error.strerror:
        return str(error)
    return f"{error.filename}: {error.strerror}" if error.filename else error.strerror


def stage(
    root: Path,
    files: dict[str, list[Path]],
    staging: Generation,
    phases: _Phases | None = None,
    parsed: ParsedFiles | None = None,
    previous: tuple[Generation | None, Analyses] | None = None,
    while_writing: Callable[[], object] | None = None,
    writers: Serializing | None = None,
    digests: Digesting | None = None,
) -> Staged:
    """The build of the input `files` (by graph name) into a staging generation, checked against the
    project at `root` (its sources and data-cube checks); `parsed` keeps parsed files between builds,
    and `previous` is the generation a rebuild may start from, with the analyses of its queries.
    `while_writing` runs once every check has passed, while the writing processes finish; `writers` are
    those processes, started before the build's size was known (else they start here); `digests` reads
    files' digests on a thread of its own (see `kg.build.digesting`), and may have started already."""
    phases = _Phases() if phases is None else phases
    index = SubjectIndex(
        [path for paths in files.values() for path in paths], generated=staging.path / MADE_INPUTS
    )
    dump = staging.dist / "opioid-kg.nq.sorted"
    earlier = previous[0] if previous else None
    split = staging.graphs
    serializing: Serializing | None = None
    comparison: Comparison | None = None
    if digests is None:  # else started by the caller
        digests = Digesting()
        if earlier is not None:
            digests.start(read_whole_before_reuse(earlier))
    try:
        with phases("parse"):
            jobs = [(path, name) for name, paths in files.items() for path in paths]
            patch, inputs, repeated = _sorted_dump(jobs, parsed, earlier, dump, split, digests.sha256)
        comparison = Comparison(earlier, dump) if patch is None else None
        with phases("parse"):
            twice = StatedTwice(frozenset(DATA_GRAPHS), faults_shown() or None)
            counts = split_by_graph(dump, split, twice) if patch is None else patch.counts
            total = sum(counts.values())
            earlier_path = earlier.path if earlier else None
            serializing = writers or Serializing()
            serializing.start(split, list(counts), staging.dist, total, earlier_path, dump)
            graph_files = [split / f"{name}.nq" for name in counts]
            digests.start(graph_files)  # for the next build, which reads them whole before reuse
            digests.flush([dump, *graph_files])
            if comparison is not None:
                change, why = comparison.change(total)
            else:
                assert patch is not None
                why = too_many(len(patch.change.quads), total) or ""
                change = None if why else patch.change
        checks = checks_digest(root / CHECKS)
        if change is not None and previous is not None and previous[0] is not None:
            why = unreadable_store(previous[0], digests.sha256)
            change = None if why else change
        checked: Path | None = None
        if change is None or previous is None or previous[0] is None:
            # with one turn (one CPU, or KG_QUERY_THREADS=1) the read-ahead would only delay validation
            spare = query_threads() > 1
            ahead = previous[1] if previous and total >= READ_AHEAD_FROM and spare else None
            in_memory = checks_in_memory(total)
            if patch is not None:  # too large a change: checked whole, from the patched dump
                stated_twice(dump, twice)
            report, excerpt_count, texts = _load_and_check(
                split, counts, staging.store, root, index, phases, ahead, twice, in_memory=in_memory
            )
            how = f"full build ({why}), checked {'in memory' if in_memory else 'on disk'}"
        else:
            report, excerpt_count, texts, how = _update_and_check(
                split, (previous[0], change, previous[1]), staging.store, root, index, phases, checks
            )
            checked = previous[0].store  # its files, which the new store shares, read whole above
        with phases("write"):
            if while_writing is not None:
                while_writing()
            written = [staging.dist / "opioid-kg.nq", *serializing.wait()]  # the dump read, then moved
            os.replace(dump, written[0])
            facts, sha256 = dump_facts(staging.path)
            written.append(write_description(staging.dist, facts, sha256))
        record_digests(staging.store, checked)  # closed and final: what reuses or serves it checks it by
        state = (inputs, repeated, counts, written[0])
        write_state(staging, texts, checks, state, sha256, digests.sha256)
        if change is not None:
            serialized, pieces = counted_pieces(staging.path)
            how += f"; dist/ pieces {serialized} of {pieces} written again"
        if patch is not None:
            how += f"; dump patched: {patch.taken_out} input files out, {patch.put_in} in"
    finally:  # nothing writes into the staging folder once the build has stopped
        digests.stop()
        if comparison is not None:
            comparison.stop()
        if serializing is not None:
            serializing.stop()
    relative = [path.relative_to(staging.dist) for path in written]
    return Staged(counts, report, excerpt_count, relative, how, sha256)


def _writers_ready(previous: Generation | None) -> int:
    """How many writing processes to start before the build knows its size: two where the previous
    generation was large enough for two, else one (for a small build a second costs only its start)."""
    triples = (read_state(previous) or {}).get("triples") if previous is not None else None
    counts = triples.values() if isinstance(triples, dict) else []
    return 2 if sum(count for count in counts if isinstance(count, int)) >= ONE_WRITER_BELOW else 1


def _sorted_dump(
    jobs: list[Job],
    parsed: ParsedFiles | None,
    earlier: Generation | None,
    dump: Path,
    split: Path,
    sha256: Callable[[Path], str],
) -> tuple[Patched | None, list[Input] | None, dict[bytes, int]]:
    """The sorted dump of `jobs` written at `dump`: patched from the `earlier` generation's (with its
    graphs' files, into `split`) where that generation can serve (its files' digests by `sha256`),
    else every file parsed and sorted.
    Returns the patch or None, each file's key and size in the parse cache, and the lines several
    files give with how many."""
    keys = _keys(jobs, parsed) if earlier is not None else None
    patch = None
    if parsed is not None and keys is not None:
        patch = patched_dump(earlier, jobs, keys, parsed, dump, split, sha256)
    if patch is None:
        unsorted, inputs = parse_all(jobs, dump.with_name(dump.name + ".unsorted"), parsed)
        return None, inputs, sort_nquads(unsorted, dump)
    assert parsed is not None  # a patch reads the parse cache
    parsed.keep([key for key, _ in patch.inputs])  # the files that did not change: read next time
    return patch, patch.inputs, patch.repeated


def _keys(jobs: list[Job], parsed: ParsedFiles | None) -> list[str] | None:
    """The key of each job's N-Quads in the parse cache, or None without a cache or when a file cannot
    be read (parsing then reports it, in the files' order)."""
    if parsed is None:
        return None
    try:
        return [parsed.key(path, name) for path, name in jobs]
    except InputError:
        return None


def _load_and_check(
    split: Path,
    counts: dict[str, int],
    path: Path,
    root: Path,
    index: SubjectIndex,
    phases: _Phases,
    analyses: Analyses | None,
    twice: StatedTwice,
    *,
    in_memory: bool,
) -> tuple[ValidationReport, int, dict[str, str]]:
    """Bulk-load the store at `path` from the per-graph files (triple `counts` by graph name) and run
    every check on it, or, `in_memory`, on a copy in memory (see `kg.build.checked_store`);
    the shapes are loaded last, so that validation reads the store's union of exactly the data graphs.
    The quads go in as parsed (Oxigraph's file loader would rename blank nodes), so the store dumps
    dist/'s lines. `analyses` keeps what each validation query reaches, for the rebuild after this build;
    `twice` holds the triples the dump states in two data graphs. Returns the report, the excerpt
    count and the digests of the source texts."""
    store = ox.Store(str(path))
    copy = ox.Store() if in_memory else None
    checked: ox.Store | None = None
    try:
        with phases("load"):
            for name in counts:
                if name != "shapes":
                    bulk_load(store, graph_quads(split, name), copy=copy)
        checked = store if copy is None else copy
        report, excerpt_count = _check(
            checked, split, root, index, phases, checked, None, None, ahead=analyses, twice=twice
        )
        checked = copy = None  # the copy's memory given back before the store is finished:
        gc.collect()  # the read-ahead's frames, in rdflib's reference cycles, hold it otherwise
        with phases("load"):
            if "shapes" in counts:
                bulk_load(store, graph_quads(split, "shapes"))
            store.flush()
            store.optimize()
        return report, excerpt_count, text_digests(store, root / "sources")
    finally:
        checked = copy = None
        del store  # closed before it is moved or removed
        # rdflib's SPARQL parser, reading ahead (`_analyse_ahead`), leaves caught exceptions whose frames
        # hold the store in reference cycles: collected now.
        gc.collect()


def _update_and_check(
    split: Path,
    previous: tuple[Generation, Change, Analyses],
    path: Path,
    root: Path,
    index: SubjectIndex,
    phases: _Phases,
    checks: str,
) -> tuple[ValidationReport, int, dict[str, str], str]:
    """The previous generation's store copied to `path`, the change applied, and the checks asked about
    what the change reaches: the new terms, the excerpts and texts it touched, the focus nodes it
    reaches (see `kg.build.reach`), and the Data Cube constraints, whole, when the change or their
    files (digest `checks`) reach them. Returns as `_load_and_check` does, and what was reused."""
    generation, change, analyses = previous
    with phases("load"):
        store = copy_store(generation, path)
    revalidation: Revalidation | None = None
    try:
        with phases("load"):
            terms = apply_change(store, change)
        with phases("check"):
            reached, texts = reached_sources(store, change, root / "sources", previous_texts(generation))
            cube: bool | CubeScope = True  # the checks themselves changed: all of them, whole
            if previous_checks(generation) == checks:
                named = named_in_checks(root / CHECKS)
                reading = reading_quads(store, change.quads, named)
                cube = bool(reading) and (
                    cube_scope(store, reading, named, hierarchy_properties(store)) or True
                )
        revalidation = revalidating(store, change, analyses.reach, generation)
        report, excerpt_count = _check(
            store, split, root, index, phases, terms, reached, revalidation, cube=cube
        )
        summary = revalidation.summary()
        with phases("load"):
            store.extend(graph_quads(split, "shapes"))
            store.flush()
        how = (
            f"rebuilt from generation {generation.id}: {len(change.removed)} quads removed, "
            f"{len(change.added)} added; {len(reached.documents)} documents and "
            f"{excerpt_count} excerpts re-checked; "  # those compared, as the summary's count says
            f"shape queries {summary}; Data Cube checks {_cube_summary(cube)}"
        )
        return report, excerpt_count, texts, how
    finally:
        # A failed check's exception keeps this frame alive: nothing in it may still hold the store.
        revalidation = None
        del store
        # rdflib's SPARQL parser (`kg.build.reach`) leaves caught exceptions whose frames hold the store
        # in reference cycles: collected now, so the store is closed before it is moved.
        gc.collect()


def _cube_summary(cube: bool | CubeScope) -> str:
    if isinstance(cube, CubeScope):
        return f"run on {len(cube.datasets)} data sets"
    return "run" if cube else "skipped"


def _check(
    store: ox.Store,
    split: Path,
    root: Path,
    index: SubjectIndex,
    phases: _Phases,
    terms: ox.Store,
    reached: Reached | None,
    asked: Revalidation | None,
    *,
    cube: bool | CubeScope = True,
    ahead: Analyses | None = None,
    twice: StatedTwice | None = None,
) -> tuple[ValidationReport, int]:
    """Every check of a build on `store` (the terms on `terms`), the Data Cube checks when `cube` (of
    the data sets a CubeScope names, see `kg.build.cube_scope`);
    raises BuildFailed for the first that fails, in this order: terms, excerpts, Data Cube, shapes,
    values described. Of a rebuild, what its change `reached`; else of everything, `twice` holding
    the triples the dump states in two data graphs.
    `ahead` keeps, for the next rebuild, the reach of the validation queries read while validation
    runs (all of them, unless validation ends first: the build does not wait for the rest)."""
    failed = threading.Event()  # a check failed: validation stops asking
    stated = reached.added if reached is not None else twice
    assert stated is not None, "a clean build's checks are given what its dump states twice"

    def checks() -> tuple[int, BuildFailed | None]:
        """Run in a thread of its own: an error it raises or returns is handed to the build's thread."""
        try:
            with turn():
                check_terms(terms, index)
                check_typed(store, index, reached.subjects if reached else None)
                check_stated_once(store, index, stated)
                checked = check_sources(store, root / "sources", index, reached)
                check_figures(store, index, reached)
        except BaseException as error:
            failed.set()
            release_frames(error)
            raise
        try:
            with turn():
                check_described(store, index, reached.names if reached else None)
        except BuildFailed as undescribed:  # told after what the shapes say, which names the fact's rule
            release_frames(undescribed)
            return checked, undescribed
        return checked, None

    with phases("check"):
        # The Data Cube check runs first and alone: it adds its inferences to the store while it runs
        # (they must not reach validation), and its queries hold the largest working sets of the build.
        cube_failure: BuildFailed | None = None
        if cube:
            try:
                check_data_cube(store, root / CHECKS, index, cube if isinstance(cube, CubeScope) else None)
            except BuildFailed as failure:
                cube_failure = failure
                failed.set()
        # The terms and excerpts are checked beside validation, taking turns with its queries
        # (`kg.build.parallel`): together they keep every core busy, where each alone leaves one idle
        # at times.
        validated = threading.Event()  # validation has ended: the build reads no more ahead
        with ThreadPoolExecutor(1) as beside:
            checked = beside.submit(checks)
            try:
                shapes = quads_graph(split / "shapes.nq") if (split / "shapes.nq").is_file() else Graph()
                if ahead is not None:  # after the checks, in their thread
                    beside.submit(_analyse_ahead, store, shapes, ahead, validated)
                # located only for what the error names (`ValidationReport.summary`)
                report = check_shapes(store, shapes, None, only_data=True, asked=asked, stop=failed)
            except BaseException:
                if checked.exception() is not None:  # the checks' failure comes first
                    checked.result()
                if cube_failure is not None:
                    raise cube_failure from None
                raise
            finally:
                validated.set()
            excerpt_count, undescribed = checked.result()
    if cube_failure is not None:
        raise cube_failure
    if not report.conforms:
        # a misspelt name fails a shape that wants its class too: the build says both, and what was meant
        also = f"\n\n{undescribed}" if undescribed is not None else ""
        raise BuildFailed(f"SHACL validation failed:\n\n{report.summary(index, faults_shown())}{also}")
    if undescribed is not None:
        raise undescribed
    return report, excerpt_count


def _analyse_ahead(store: ox.Store, shapes: Graph, analyses: Analyses, stop: threading.Event) -> None:
    """The reach of every query validation asks of `store` (see `kg.build.reach`), read until `stop` is
    set, so that the first rebuild after a clean build need not read them: about 30 ms a template
    (see `kg.build.query_template`), seconds in all. It holds one of the process's turns throughout
    (one turn a text would seldom be given one while validation's threads take theirs). A text that
    cannot be read is left to that rebuild, which reports it."""
    with turn():
        for text in validation_texts(store, shapes):
            if stop.is_set():
                return
            analyses.reach(text)


def write_description(out: Path, facts: DatasetFacts, nquads_sha256: str) -> Path:
    """The dataset's VoID/DCAT description of the N-Quads (whose digest is given) and the gzipped dump
    beside it in `out`, saying `facts` of the data; its path."""
    description = describe_dataset(facts, nquads_sha256, file_digest(out / DUMP_FILE))
    (out / DESCRIPTION_FILE).write_bytes(description)
    return out / DESCRIPTION_FILE
