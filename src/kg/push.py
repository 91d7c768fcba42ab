"""`kg push`: write the dataset's named graphs into a running SPARQL 1.1 store, all or nothing.

Stores apply one SPARQL Update request as one transaction; atomicity rests on that.
When every graph fits in one batch of `INSERT DATA`, a single update request drops
and re-inserts them all. Otherwise every graph is first written into a staging
graph (`urn:opioid-kg:staging:<graph IRI>`), by Graph Store Protocol PUT/POST or by
`INSERT DATA` batches, and only when every staging graph holds exactly the local
number of triples does one update request `MOVE` them all over the live graphs.
Either way a push that fails leaves the live graphs exactly as they were. Blank
nodes are local to one request, so a batch never splits the triples that share
a blank node; a retried request that duplicated blank nodes shows in the count.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
import httpx
import pyoxigraph as ox

from .remote import RemoteError, RemoteQueryError, RemoteStore
from .store import EmbeddedStore, Store, StoreMissing, graph_name

STAGING_PREFIX = "urn:opioid-kg:staging:"
TRANSIENT_STATUS = {408, 429, 500, 502, 503, 504}
DEFAULT_BATCH = {"gsp": 50_000, "update": 10_000}


class PushError(RuntimeError):
    """A push that stopped; the message is one line saying why and what was written."""


@dataclass
class Target:
    """Where and how to write: the store's endpoints, credentials and patience."""

    endpoint: str
    update: str
    gsp: str | None = None
    auth: httpx.Auth | None = None
    token: str | None = None
    timeout: float = 60.0
    retries: int = 3
    backoff: float = 0.5
    batch_size: int | None = None

    @property
    def mode(self) -> str:
        return "gsp" if self.gsp else "update"


@dataclass
class PushReport:
    """Triples per graph, local and on the target after the push."""

    counts: dict[str, tuple[int, int]] = field(default_factory=dict)  # graph IRI: (local, remote)
    seconds: float = 0.0
    staged_seconds: float = 0.0  # of which: writing and checking the staging graphs, before the MOVE

    @property
    def verified(self) -> bool:
        return all(local == remote for local, remote in self.counts.values())

    def table(self) -> str:
        lines = [f"{'named graph':<50} {'local':>9} {'target':>9}"]
        for iri, (local, remote) in self.counts.items():
            mark = "" if local == remote else "  MISMATCH"
            lines.append(f"{iri:<50} {local:>9} {remote:>9}{mark}")
        total = sum(local for local, _ in self.counts.values())
        lines.append(
            f"pushed {total} triples in {self.seconds:.1f} s ({total / max(self.seconds, 1e-9):,.0f}/s)"
        )
        return "\n".join(lines)


def staging_iri(iri: str) -> str:
    return STAGING_PREFIX + iri


def batches(triples: Iterable[ox.Triple], size: int) -> Iterator[list[str]]:
    """N-Triples lines in batches of about `size`, the triples linked by a blank node kept together."""
    batch: list[str] = []
    linked: list[ox.Triple] = []
    for triple in triples:
        if isinstance(triple.subject, ox.BlankNode) or isinstance(triple.object, ox.BlankNode):
            linked.append(triple)
            continue
        batch.append(f"{triple} .")
        if len(batch) >= size:
            yield batch
            batch = []
    parent: dict[str, str] = {}

    def root(label: str) -> str:
        while parent.setdefault(label, label) != label:
            parent[label] = parent[parent[label]]
            label = parent[label]
        return label

    for triple in linked:
        labels = [t.value for t in (triple.subject, triple.object) if isinstance(t, ox.BlankNode)]
        for label in labels[1:]:
            parent[root(label)] = root(labels[0])
    components: dict[str, list[str]] = {}
    for triple in linked:
        label = triple.subject.value if isinstance(triple.subject, ox.BlankNode) else triple.object.value
        components.setdefault(root(label), []).append(f"{triple} .")
    for lines in components.values():
        if batch and len(batch) + len(lines) > size:
            yield batch
            batch = []
        batch.extend(lines)
    if batch:
        yield batch


class Pusher:
    """One push: the HTTP client, its retries, and a record of what reached the store."""

    def __init__(self, target: Target, progress: Callable[[int], None] = lambda n: None) -> None:
        self.target = target
        self.progress = progress
        headers = {"authorization": f"Bearer {target.token}"} if target.token else {}
        self.client = httpx.Client(auth=target.auth, headers=headers, timeout=target.timeout)
        self.written: dict[str, int] = {}
        self.staged_at = 0.0

    def send(self, method: str, url: str, *, retry: bool = True, **kwargs: object) -> httpx.Response:
        """One request, retried with back-off on transient failures; refusals become PushError."""
        attempts = self.target.retries + 1 if retry else 1
        for attempt in range(attempts):
            try:
                response = self.client.request(method, url, **kwargs)  # type: ignore[arg-type]
            except httpx.TransportError as error:
                problem = f"cannot reach {url}: {error or type(error).__name__}"
            else:
                if response.status_code < 300:
                    return response
                problem = f"{method} {url} answered {response.status_code} {response.reason_phrase}"
                if response.status_code in (401, 403):
                    raise PushError(f"{url} refused the credentials ({response.status_code})")
                if response.status_code not in TRANSIENT_STATUS:
                    detail = " ".join(response.text.split())[:300]
                    raise PushError(f"{problem}: {detail}" if detail else problem)
            if attempt + 1 < attempts:
                time.sleep(self.target.backoff * 2**attempt)
        raise PushError(problem + (f" (after {attempts} attempts)" if attempts > 1 else ""))

    def update(self, sparql: str, *, retry: bool = True) -> None:
        self.send(
            "POST",
            self.target.update,
            content=sparql.encode("utf-8"),
            headers={"content-type": "application/sparql-update"},
            retry=retry,
        )

    def stage(self, iri: str, triples: Iterable[ox.Triple]) -> None:
        """Write `triples` into the staging graph of `iri`, replacing whatever a failed push left there."""
        staging = staging_iri(iri)
        size = self.target.batch_size or DEFAULT_BATCH[self.target.mode]
        self.written[iri] = 0
        if self.target.mode == "update":
            self.update(f"DROP SILENT GRAPH <{staging}>")
        for index, lines in enumerate(batches(triples, size)):
            body = "\n".join(lines) + "\n"
            if self.target.gsp:
                self.send(
                    "PUT" if index == 0 else "POST",
                    self.target.gsp,
                    params={_graph_parameter(self.target.gsp): staging},
                    content=body.encode("utf-8"),
                    headers={"content-type": "application/n-triples"},
                )
            else:
                self.update(self.insert(staging, lines))
            self.written[iri] += len(lines)
            self.progress(len(lines))

    @staticmethod
    def insert(graph: str, lines: list[str]) -> str:
        """The update operation adding `lines` to `graph`."""
        body = "\n".join(lines)
        if any("_:" in line for line in lines):
            # Virtuoso refuses blank nodes in INSERT DATA; a template with an empty WHERE takes them.
            return f"INSERT {{ GRAPH <{graph}> {{\n{body}\n}} }} WHERE {{}}"
        return f"INSERT DATA {{ GRAPH <{graph}> {{\n{body}\n}} }}"

    def counts(self, iris: list[str]) -> dict[str, int]:
        remote = RemoteStore(
            self.target.endpoint,
            graphs=iris,
            auth=self.target.auth,
            headers=self.client.headers,
            timeout=self.target.timeout,
        )
        try:
            found = remote.triples_per_graph()
        except (RemoteError, RemoteQueryError) as error:
            raise PushError(str(error)) from None
        return {iri: found.get(iri, 0) for iri in iris}

    def drop_staging(self) -> str:
        """Best effort after a failure: drop the staging graphs, and say whether it worked."""
        try:
            self.update(
                " ;\n".join(f"DROP SILENT GRAPH <{staging_iri(iri)}>" for iri in self.written), retry=False
            )
        except PushError:
            return "the staging graphs could not be dropped (the next push replaces them)"
        return "the staging graphs were dropped"


def _graph_parameter(gsp: str) -> str:
    """Virtuoso's Graph Store endpoint names the graph `graph-uri`; the standard says `graph`."""
    return (
        "graph-uri"
        if urlsplit(gsp).path.rstrip("/").endswith(("sparql-graph-crud", "sparql-graph-crud-auth"))
        else "graph"
    )


def local_graphs(store: Store, names: tuple[str, ...]) -> dict[str, int]:
    """The graphs to push (all, or those named) with their local triple counts."""
    counts = store.triples_per_graph()
    unknown = [name for name in names if name not in {graph_name(iri) for iri in counts}]
    if unknown:
        known = ", ".join(graph_name(iri) for iri in counts)
        raise PushError(f"no graph named {', '.join(unknown)} in the local store (it holds: {known})")
    return {iri: n for iri, n in counts.items() if not names or graph_name(iri) in names}


def push(
    store: Store,
    target: Target,
    names: tuple[str, ...] = (),
    progress: Callable[[int], None] = lambda n: None,
) -> PushReport:
    """Push the local graphs to `target`, swap them in atomically, and verify the counts there."""
    started = time.perf_counter()
    local = local_graphs(store, names)
    pusher = Pusher(target, progress)
    try:
        counts = _push(store, local, pusher)
    finally:
        pusher.client.close()
    return PushReport(
        {iri: (n, counts[iri]) for iri, n in local.items()},
        time.perf_counter() - started,
        pusher.staged_at - started,
    )


def _triples(store: Store, iri: str) -> ox.QueryTriples:
    answer = store.query(
        f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}", union_default_graph=False
    )
    assert isinstance(answer, ox.QueryTriples)
    return answer


def _replace_in_one_request(store: Store, local: dict[str, int], pusher: Pusher) -> dict[str, int]:
    """Every graph dropped and inserted again by one update request: no staging, and as atomic."""
    operations = []
    for iri in local:
        operations.append(f"DROP SILENT GRAPH <{iri}>")
        operations += [
            pusher.insert(iri, lines) for lines in batches(_triples(store, iri), sum(local.values()) + 1)
        ]
    try:
        pusher.update(" ;\n".join(operations))  # replaces whole graphs, so a retry cannot duplicate anything
    except PushError as error:
        raise PushError(
            f"push failed: {error}; the graphs go in one update request, which the store applies whole "
            "or not at all: the live graphs are unchanged"
        ) from None
    pusher.progress(sum(local.values()))
    pusher.staged_at = time.perf_counter()
    return pusher.counts(list(local))


def _push(store: Store, local: dict[str, int], pusher: Pusher) -> dict[str, int]:
    """Stage, check, move; the triple counts of the live graphs on the target."""
    size = pusher.target.batch_size or DEFAULT_BATCH[pusher.target.mode]
    if pusher.target.mode == "update" and sum(local.values()) <= size:
        return _replace_in_one_request(store, local, pusher)
    try:
        for iri in local:
            pusher.stage(iri, _triples(store, iri))
        staged = pusher.counts([staging_iri(iri) for iri in local])
        short = {iri: n for iri, n in local.items() if staged[staging_iri(iri)] != n}
        if short:
            found = ", ".join(f"{graph_name(i)} {staged[staging_iri(i)]} of {n}" for i, n in short.items())
            raise PushError(f"the staging graphs do not hold what was sent ({found})")
        pusher.staged_at = time.perf_counter()
    except PushError as error:
        if not any(pusher.written.values()):
            raise PushError(
                f"push failed: {error}; nothing was written, the live graphs are unchanged"
            ) from None
        sent = ", ".join(f"{graph_name(iri)} {n}/{local[iri]}" for iri, n in pusher.written.items())
        raise PushError(
            f"push failed: {error}. Triples written into staging graphs before it stopped: {sent}; "
            f"the live graphs are unchanged; {pusher.drop_staging()}."
        ) from None
    moves = [
        f"MOVE GRAPH <{staging_iri(iri)}> TO GRAPH <{iri}>" if n else f"DROP SILENT GRAPH <{iri}>"
        for iri, n in local.items()
    ]
    try:
        pusher.update(" ;\n".join(moves), retry=False)
    except PushError as error:
        raise PushError(
            f"push failed at the final MOVE: {error}. The store applies it as one update, so the live "
            "graphs are either all as before or all new; run kg push again to be sure."
        ) from None
    return pusher.counts(list(local))


@click.command("push")
@click.option(
    "--endpoint", required=True, metavar="URL", help="The store's SPARQL query endpoint (for the checks)."
)
@click.option("--update", "update_url", metavar="URL", help="Its SPARQL Update endpoint (INSERT DATA, MOVE).")
@click.option("--gsp", "gsp_url", metavar="URL", help="Its Graph Store Protocol endpoint: stage by PUT/POST.")
@click.option(
    "--graph", "names", multiple=True, metavar="NAME", help="Push only this named graph (repeatable)."
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=None,
    help="Triples per request [GSP 50000, UPDATE 10000].",
)
@click.option("--user", default=None, help="User name for HTTP authentication.")
@click.option("--password", default=None, help="Password for HTTP authentication.")
@click.option(
    "--auth",
    "scheme",
    type=click.Choice(["basic", "digest"]),
    default="basic",
    show_default=True,
    help="How --user and --password are sent (Virtuoso's -auth endpoints want digest).",
)
@click.option("--token", default=None, help="A bearer token, sent as 'Authorization: Bearer TOKEN'.")
@click.option(
    "--timeout",
    type=float,
    default=60.0,
    show_default=True,
    help="Seconds allowed per request; the final MOVE of millions of triples may need more.",
)
@click.option(
    "--retries", type=click.IntRange(min=0), default=3, show_default=True, help="Retries on transient errors."
)
@click.option(
    "--store", "store_path", type=click.Path(path_type=Path), default=None, help="Embedded store to push."
)
@click.pass_obj
def push_command(
    context: Any,
    endpoint: str,
    update_url: str | None,
    gsp_url: str | None,
    names: tuple[str, ...],
    batch_size: int | None,
    user: str | None,
    password: str | None,
    scheme: str,
    token: str | None,
    timeout: float,
    retries: int,
    store_path: Path | None,
) -> None:
    """Write every named graph of the built store to a running SPARQL 1.1 store.

    Graphs go into staging graphs first (by Graph Store PUT with --gsp, or by
    INSERT DATA batches), and one final MOVE through --update swaps them in:
    a failed push leaves the live graphs as they were. Then the triple count
    of every graph on the store is checked against the local one.
    """
    if update_url is None:
        _fail("give --update URL (with --gsp URL to stage by Graph Store PUT); the final MOVE needs it")
    auth: httpx.Auth | None = None
    if user is not None:
        credentials = (user, password or "")
        auth = httpx.DigestAuth(*credentials) if scheme == "digest" else httpx.BasicAuth(*credentials)
    target = Target(endpoint, update_url, gsp_url, auth, token, timeout, retries, batch_size=batch_size)
    try:
        store = EmbeddedStore(store_path or context.store)
        total = sum(local_graphs(store, names).values())
        if sys.stderr.isatty():
            label = f"pushing by {target.mode.upper()}"
            with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
                report = push(store, target, names, bar.update)
        else:
            report = push(store, target, names)
    except (PushError, StoreMissing) as error:
        _fail(str(error))
    click.echo(report.table())
    if not report.verified:
        _fail("the triple counts on the store differ from the local ones")


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)
