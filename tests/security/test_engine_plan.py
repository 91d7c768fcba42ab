"""Oxigraph's own plan of a client's query, made offline, refuses every SERVICE the engine would call.

The guard decides on rdflib's reading of a text; the plan check asks the engine itself, so it must
catch the whole corpus on its own, as written, with no canonical text and no guard before it: each
spelling that makes plain pyoxigraph connect is run through the check alone, aimed at a path of its
own on a real listener, which must never be reached from the check.
"""

from __future__ import annotations

import functools
import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from corpus import run_on_plain_pyoxigraph, spellings
from foreign_predicates import ADMITTED, FOREIGN, HELD, NOT_HELD, PREDICATES, forms
from listener import Listener
from processes import workers_of

from kg.server import engine_plan, guard
from kg.server.messages import Answer, ClientText, Failure, Query
from kg.server.worker import answer
from kg.server.workers import ServiceError, WorkerPool
from kg.store.embedded import EmbeddedStore

QUERIES = Path(__file__).resolve().parents[2] / "queries"
# Past any time limit of these tests: a three-way cross product of the report graph.
HEAVY = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


@pytest.fixture(scope="module")
def plans() -> Iterator[engine_plan.PlanCheck]:
    check = engine_plan.prepare(None)
    assert isinstance(check, engine_plan.PlanCheck), check
    yield check
    engine_plan.remove(check)


def outcome(
    plans: engine_plan.PlanCheck, text: str, predicates: frozenset[str] | None = None
) -> guard.Refused | None:
    try:
        engine_plan.check_plan(plans, text, False, predicates)
    except guard.Refused as refused:
        return refused
    return None


def test_the_engines_plan_alone_refuses_every_spelling_that_connects(
    plans: engine_plan.PlanCheck, listener: Listener
) -> None:
    corpus = spellings()
    outcomes = []
    for number, spelling in enumerate(corpus):
        run_on_plain_pyoxigraph(spelling, spelling.text(f"{listener.url}raw-{number}/"))
        first = outcome(plans, spelling.text(f"{listener.url}plan-{number}/"))
        if first is not None and first.status == 503:  # the check could not run (its limits): once more
            first = outcome(plans, spelling.text(f"{listener.url}plan-{number}/"))
        outcomes.append(first)
    listener.count_after(0, settle=0.5)
    reached = {path.split("/")[1] for path in listener.paths}
    assert not [name for name in reached if name.startswith("plan-")], "the check itself connected"
    connecting = sorted(int(name.removeprefix("raw-")) for name in reached if name.startswith("raw-"))
    assert len(connecting) >= 100, "the corpus must hold many spellings the engine really runs"
    let_through = [corpus[number].name for number in connecting if outcomes[number] is None]
    assert let_through == []
    # A query the engine ran is one it plans: refused for its SERVICE, not as unreadable. An update (LOAD)
    # is no query to the engine.
    for number in connecting:
        refused = outcomes[number]
        assert refused is not None
        expected = "cannot be read by the engine" if corpus[number].update else guard.SERVICE_REFUSED
        assert expected in refused.message, (corpus[number].name, refused.message)


def test_every_catalogue_question_is_planned_and_admitted(plans: engine_plan.PlanCheck) -> None:
    files = sorted(QUERIES.glob("*.rq"))
    assert len(files) >= 20
    for file in files:
        assert outcome(plans, file.read_text(encoding="utf-8")) is None, file.name
    with_dataset = "SELECT * FROM <https://w3id.org/opioid-kg/graph/data> WHERE { ?s ?p ?o }"
    assert outcome(plans, with_dataset) is None


@pytest.mark.parametrize("pattern", FOREIGN)
def test_the_engines_plan_alone_refuses_a_predicate_the_dataset_does_not_hold(
    plans: engine_plan.PlanCheck, pattern: str
) -> None:
    """The engine's reading, as the guard's: where rdflib's parser drops an IRI (`^<p>` inside
    `!( … )`), Oxigraph's plan still names it."""
    for text in forms(pattern):
        refused = outcome(plans, text, PREDICATES)
        assert refused is not None and NOT_HELD in refused.message and "<urn:p>" in refused.message, text
        assert outcome(plans, text) is None, text  # no predicates given: any


def test_the_engines_plan_names_the_inverse_rdflib_drops(plans: engine_plan.PlanCheck) -> None:
    """rdflib's parser keeps no IRI for `^<p>` inside `!( … )` (so the guard refuses the form whole);
    Oxigraph's plan names it."""
    for text in ("SELECT * { ?s !(^<urn:p>) ?o }", f"SELECT * {{ ?s !(<{HELD}>|^<urn:p>) ?o }}"):
        refused = outcome(plans, text, PREDICATES)
        assert refused is not None and "<urn:p>" in refused.message, text


@pytest.mark.parametrize(
    "subject",
    ['"x"@en--ltr', '"x"@en-GB--rtl', '"x"^^<urn:dt>', "<<( <urn:a> <urn:b> <urn:c> )>>", "_:b", "1"],
)
def test_the_engines_plan_reads_the_predicate_after_any_subject(
    plans: engine_plan.PlanCheck, subject: str
) -> None:
    """A language tag with a base direction (`@en--ltr`, RDF 1.2) is one term to Oxigraph; read as a tag
    and then `--ltr`, it hid the predicate after it."""
    refused = outcome(plans, f"SELECT * {{ {subject} <urn:p> ?o }}", PREDICATES)
    assert refused is not None and NOT_HELD in refused.message, subject


def test_the_engines_plan_admits_held_predicates_and_templates(plans: engine_plan.PlanCheck, built) -> None:
    from kg.query.internal import ask

    for text in ADMITTED + ('SELECT * { ?s <urn:q> "a <urn:p> \\" b"@en-GB , "1"^^<urn:p> , <urn:p> }',):
        assert outcome(plans, text, PREDICATES | {"urn:q"}) is None, text
    held = frozenset(row["predicate"].value for row in ask(built.store(), "predicates").rows)
    for file in sorted(QUERIES.glob("*.rq")):
        assert outcome(plans, file.read_text(encoding="utf-8"), held) is None, file.name


@pytest.mark.parametrize(
    "text",
    [
        "SELECT * {} ORDER BY (EXISTS { SERVICE <http://127.0.0.1:9/> {} })",
        "SELECT (COUNT(*) AS ?c) {} GROUP BY ?x HAVING (EXISTS { SERVICE <http://127.0.0.1:9/> {} })",
        "SELECT (EXISTS { SERVICE <http://127.0.0.1:9/> {} } AS ?x) {}",
        "SELECT * { BIND(<http://127.0.0.1:9/> AS ?u) SERVICE ?u { ?s ?p ?o } }",
        "DESCRIBE ?s { { SELECT ?s { SERVICE SILENT <http://127.0.0.1:9/> { ?s ?p ?o } } } }",
        "ASK { GRAPH ?g { ?s ?p ?o MINUS { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } } } }",
    ],
)
def test_a_service_anywhere_in_the_plan_is_refused(plans: engine_plan.PlanCheck, text: str) -> None:
    refused = outcome(plans, text)
    assert refused is not None and refused.message == guard.SERVICE_REFUSED and refused.status == 400


def test_a_text_the_engine_cannot_read_is_refused_with_its_reason(plans: engine_plan.PlanCheck) -> None:
    refused = outcome(plans, "SELECT * { ?s ?p }")
    assert refused is not None and refused.status == 400
    assert refused.message.startswith("the query cannot be read by the engine: error at 1:")


def test_a_check_that_cannot_run_refuses_with_503(plans: engine_plan.PlanCheck, built) -> None:
    gone = engine_plan.PlanCheck("/nonexistent/oxigraph", plans.folder, None, plans.version)
    refused = outcome(gone, "ASK {}")
    assert refused is not None and refused.status == 503
    assert refused.message.startswith("the query cannot be checked: ")
    # A worker whose store is reached over the network refuses every client query while its queries
    # cannot be planned; its own (the server's) queries still run.
    store = EmbeddedStore(built.store_path)
    client = Query("ASK { ?s ?p ?o }", client=ClientText(frozenset()))
    reason = "Oxigraph's command line is not installed"
    failure = answer(store, client, reason)
    assert isinstance(failure, Failure)
    assert (failure.status, failure.message) == (503, f"the query cannot be checked: {reason}")
    assert isinstance(answer(store, Query("ASK { ?s ?p ?o }"), reason), Answer)


def test_a_worker_runs_a_client_query_its_plan_admits(plans: engine_plan.PlanCheck, built) -> None:
    store = EmbeddedStore(built.store_path)
    graphs = frozenset({"https://w3id.org/opioid-kg/graph/data"})
    served = answer(store, Query("ASK { ?s ?p ?o }", client=ClientText(graphs)), plans)
    assert isinstance(served, Answer) and served.body, served


def test_a_plan_past_its_size_is_refused_and_leaves_no_file(plans: engine_plan.PlanCheck) -> None:
    """The optimizer copies a filter into every branch of a UNION: 27 KB of query make a plan past
    8 MB (54 KB made 46 MB), which filled the disk where a worker was stopped before it removed it."""
    condition = " || ".join(['?a = "' + "x" * 90 + '"'] * 100)
    text = "ASK { { " + " UNION ".join(["{ ?a ?b ?c }"] * 1000) + f" FILTER({condition}) }} }}"
    refused = outcome(plans, text)
    assert refused is not None, "the plan was read whole"
    assert (
        refused.message
        == f"the query cannot be checked: its plan is larger than {engine_plan.MAX_PLAN_MB} MB"
    )
    assert sorted(os.listdir(plans.folder)) == ["empty-store"]


def test_the_plan_file_of_a_worker_stopped_at_the_time_limit_is_removed(built) -> None:
    """A worker stopped while it read its plan leaves the file; the pool removes it as it replaces the
    worker, and the whole folder when it closes. The query here is the server's own, which no worker
    plans, so only the pool can remove the file of the worker that ran it."""
    pool = WorkerPool(functools.partial(EmbeddedStore, built.store_path), 1, 1.0, isolate_network=False)
    try:
        assert "client queries also planned by oxigraph 0." in pool.start().describe()
        assert isinstance(pool.plans, engine_plan.PlanCheck)
        left = {worker: engine_plan.plan_file(pool.plans, worker) for worker in workers_of(os.getpid())}
        assert left
        for file in left.values():
            file.write_text("{}", encoding="utf-8")  # as a worker stopped mid-reading would leave it
        with pytest.raises(ServiceError) as stopped:
            pool.run(Query(HEAVY))
        assert stopped.value.status == 504
        deadline = time.monotonic() + 10
        while set(left) <= set(workers_of(os.getpid())) and time.monotonic() < deadline:
            time.sleep(0.05)
        replaced = set(left) - set(workers_of(os.getpid()))
        assert replaced, "the worker that ran past the time limit was not replaced"
        for worker in replaced:
            deadline = time.monotonic() + 10
            while left[worker].exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            assert not left[worker].exists(), worker
        folder = Path(pool.plans.folder)
    finally:
        pool.close()
    assert not folder.exists()


def test_the_folder_of_a_server_killed_before_it_removed_it_is_removed() -> None:
    """A server killed with `kill -9` leaves its folder (an empty store, perhaps plans); the next
    server removes the folders whose server is gone, and no other."""
    ended = subprocess.Popen(["true"])
    ended.wait()
    gone = Path(tempfile.mkdtemp(prefix=f"kg-plans-{ended.pid}-"))
    mine = Path(tempfile.mkdtemp(prefix=f"kg-plans-{os.getpid()}-"))
    unnamed = Path(tempfile.mkdtemp(prefix="kg-plans-other-"))
    check = engine_plan.prepare(None)
    assert isinstance(check, engine_plan.PlanCheck)
    engine_plan.remove(check)
    assert not gone.exists()
    assert mine.exists() and unnamed.exists()
    mine.rmdir()
    unnamed.rmdir()


def test_a_plan_past_the_checking_process_s_memory_is_refused_as_the_server_s_limit(
    plans: engine_plan.PlanCheck, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Oxigraph aborts at its address-space limit; that was answered 400, "cannot be read by the
    engine", blaming a text it could read. Here the limit is made too small for any plan."""
    monkeypatch.setattr(engine_plan, "CHECK_MEMORY_MB", 64)
    refused = outcome(plans, "ASK { ?s ?p ?o }")
    assert refused is not None and refused.status == 503
    assert refused.message == (
        "the query cannot be checked: planning it passed the checking process's limits (SIGABRT)"
    )
