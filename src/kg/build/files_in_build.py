"""Validating given Turtle files from the project's current build: asking only what they change.

`kg validate FILE` validates the project's files with the given ones in their place
(`kg.build.files_in_project`), which reads, parses and validates the whole project: 24 s at a
million triples. The current generation holds that project as it was built, and it passed every
check with this code. So, as a rebuild does (`kg.build.incremental`), the dataset the whole path
would validate is found as a change of that generation's: its dump patched from the kept parses,
each given file in the data graph, its store copied by hard links and changed. The checks are then
asked of what the change reaches; any other node conforms as it did in the generation, so the report
is the whole path's. Where the generation cannot serve (none, other code, other shapes or ontology, a
file that cannot be read, a build folder that takes no scratch copy), None: the caller validates the
whole project.
"""

from __future__ import annotations

import gc
from pathlib import Path

import pyoxigraph as ox

from kg.build.analyses import Analyses, analyses_folder
from kg.build.checks import check_shapes, check_terms, check_typed, named, rdflib_graph
from kg.build.files_in_project import kept_about
from kg.build.incremental import apply_change, copy_store, revalidating, unreadable_store, usable_state
from kg.build.locate import SubjectIndex
from kg.build.parsed import ParsedFiles
from kg.build.parsing import InputError
from kg.build.patched import patched_dump
from kg.build.pipeline import PARSED, REACH
from kg.build.project import input_files, source_ids
from kg.build.reach import Revalidation
from kg.build.tables import write_tables
from kg.build.validation import ValidationReport
from kg.build.vocabulary import Subject
from kg.store.generations import Generation, Generations, Lease, held_scratch, remove_left_scratch


def validate_from_build(
    root: Path, files: list[Path], store_link: Path, dist_link: Path
) -> ValidationReport | None:
    """The report `validate_in_project` gives for `files` (engine "store"), from the current
    generation of the build whose store is reached at `store_link`; None where it cannot serve."""
    generations = Generations(store_link, dist_link)
    current = generations.current()
    if current is None or usable_state(current) is None or unreadable_store(current):
        return None
    lease = Lease(current.store.resolve())  # a build meanwhile leaves this generation in place
    try:
        remove_left_scratch(store_link.parent)
        with held_scratch(store_link.parent) as scratch:
            return _validated(root, files, current, scratch, store_link.parent)
    except OSError:  # the build's folder takes no scratch copy (read-only, full): the whole path needs none
        return None
    finally:
        lease.release()


def _validated(
    root: Path, files: list[Path], generation: Generation, scratch: Path, build: Path
) -> ValidationReport | None:
    """The checks of `validate_in_project`, in its order, on `generation`'s store changed to
    hold the project's files with `files` in the data graph; `build` holds the caches."""
    given = {path.resolve() for path in files}
    inputs = {
        name: [path for path in paths if path.resolve() not in given]
        for name, paths in input_files(root).items()
    }
    inputs["data"] = [*inputs.get("data", []), *files]
    parsed = ParsedFiles(build / PARSED)
    (scratch / "graphs").mkdir()
    try:
        folders = [root / "graph" / source for source in source_ids(root)]
        for name, paths in write_tables(folders, scratch, parsed.table).items():
            inputs.setdefault(name, []).extend(paths)
        jobs = [(path, name) for name, paths in inputs.items() for path in paths]
        keys = [parsed.key(path, name) for path, name in jobs]
        patch = patched_dump(generation, jobs, keys, parsed, scratch / "dump.nq", scratch / "graphs")
    except InputError:
        return None  # the whole path reports it, at its place among the files it reads
    if patch is None:
        return None
    change = patch.change
    store = copy_store(generation, scratch / "store")
    asked: Revalidation | None = None
    try:
        shapes = rdflib_graph(store, ("shapes",))
        terms = apply_change(store, change)
        index = SubjectIndex(files)
        check_terms(terms, index)
        # A blank node is its file's: one untyped now is in the quads its changed file gave.
        data = named("data")
        blank: set[Subject] = {
            q.subject for q in change.added if q.graph_name == data and isinstance(q.subject, ox.BlankNode)
        }
        check_typed(store, index, blank)
        asked = revalidating(store, change, Analyses(analyses_folder(build / REACH)).reach, generation)
        return kept_about(check_shapes(store, shapes, index, only_data=True, asked=asked))
    finally:
        asked = None
        del store
        gc.collect()  # rdflib's parser keeps frames holding the store: closed before it is removed
