"""`kg push`: make the target store's named graphs equal to the local ones, each whole or not at all.

The push first counts the target's triples in each graph and works out what
must change (`changes`): for a graph the target already holds, the difference;
for one it does not, the whole graph. Then, in the cheapest way that keeps the
live graphs whole:

- the changes of every graph in one SPARQL Update request, when together they
  fit in one (`--batch-size` triples). A store applies one update request as
  one transaction, so all graphs change together or none does;
- otherwise each graph in one request of its own: its changes by SPARQL Update,
  or, with `--gsp`, a graph the target does not hold by one Graph Store POST,
  which stores load in one transaction too (the body streams from the local
  store as it is written);
- and a graph whose changes fit in no single update request goes through a
  staging graph (`urn:opioid-kg:staging:<graph IRI>`), by Graph Store PUT or by
  `INSERT DATA` batches; when every staging graph holds exactly the local
  number of triples, one update request copies them over the live graphs, and
  a last one drops them.

A push that fails says which graphs had changed (none, unless it failed after
some graphs had gone in requests of their own) and leaves the others exactly
as they were. Finally the target's counts are compared with the local ones.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import httpx

from .changes import GraphChange
from .pusher import Pusher, PushError, Target, staging_iri
from .remote import RemoteError, RemoteQueryError
from .store import EmbeddedStore, Store, StoreMissing, graph_name

__all__ = ["PushError", "PushReport", "Target", "push"]


@dataclass
class PushReport:
    """Triples per graph, local and on the target after the push, and how each graph went."""

    counts: dict[str, tuple[int, int]] = field(default_factory=dict)  # graph IRI: (local, remote)
    methods: dict[str, str] = field(default_factory=dict)  # graph IRI: how its changes were sent
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)  # what went wrong without stopping the push

    @property
    def verified(self) -> bool:
        return all(local == remote for local, remote in self.counts.values())

    def table(self) -> str:
        lines = [f"{'named graph':<50} {'local':>9} {'target':>9}  sent"]
        for iri, (local, remote) in self.counts.items():
            mark = "" if local == remote else "  MISMATCH"
            lines.append(f"{iri:<50} {local:>9} {remote:>9}  {self.methods.get(iri, '')}{mark}")
        total = sum(local for local, _ in self.counts.values())
        lines.append(f"{total} triples on the target, pushed in {self.seconds:.1f} s")
        return "\n".join(lines)


def local_graphs(store: Store, names: tuple[str, ...]) -> dict[str, int]:
    """The graphs to push (all, or those named) with their local triple counts."""
    counts = store.triples_per_graph()
    unknown = [name for name in names if name not in {graph_name(iri) for iri in counts}]
    if unknown:
        known = ", ".join(graph_name(iri) for iri in counts)
        raise PushError(f"no graph named {', '.join(unknown)} in the local store (it holds: {known})")
    return {iri: n for iri, n in counts.items() if not names or graph_name(iri) in names}


def push(
    store: EmbeddedStore,
    target: Target,
    names: tuple[str, ...] = (),
    progress: Callable[[int], None] = lambda n: None,
) -> PushReport:
    """Push the local graphs to `target`, each whole or not at all, and verify the counts there."""
    started = time.perf_counter()
    local = local_graphs(store, names)
    pusher = Pusher(target, progress)
    try:
        methods = _push(store, local, pusher)
        counts = pusher.counts(list(local))
    finally:
        pusher.client.close()
    return PushReport(
        {iri: (n, counts[iri]) for iri, n in local.items()},
        methods,
        time.perf_counter() - started,
        pusher.notes,
    )


def _push(store: EmbeddedStore, local: dict[str, int], pusher: Pusher) -> dict[str, str]:
    """Send what must change; how each graph went."""
    try:
        live = pusher.counts(list(local))
        changes = [pusher.change(store, iri, count, live[iri]) for iri, count in local.items()]
    except (PushError, RemoteError, RemoteQueryError) as error:
        raise PushError(f"push failed: {error}; nothing was written, the live graphs are unchanged") from None
    methods = {change.iri: "unchanged" for change in changes if change.empty}
    pusher.progress(sum(change.local for change in changes if change.empty))
    pending = [change for change in changes if not change.empty]
    limit = pusher.target.request_limit
    if sum(change.size for change in pending) <= limit:
        if pending:
            try:
                pusher.apply([pusher.filled(store, change) for change in pending])
            except PushError as error:
                raise PushError(
                    f"push failed: {error}; every change went in one update request, which the store "
                    "applies whole or not at all: the live graphs are unchanged"
                ) from None
        return methods | {change.iri: f"{change.size} triples in one request" for change in pending}
    alone = [c for c in pending if c.size <= limit or (c.whole and pusher.target.gsp)]
    staged = [c for c in pending if c not in alone]
    _stage(store, staged, pusher)
    done = _send_alone(store, alone, pusher, methods)
    if staged:
        _swap(staged, pusher, done)
        methods |= {change.iri: "whole graph through a staging graph" for change in staged}
    return methods


def _send_alone(
    store: EmbeddedStore, alone: list[GraphChange], pusher: Pusher, methods: dict[str, str]
) -> list[GraphChange]:
    """Each graph in one request of its own; the changes that went in, in order."""
    done: list[GraphChange] = []
    for change in alone:
        try:
            if change.whole and pusher.target.gsp:
                pusher.load_whole(store, change)
                methods[change.iri] = "whole graph by one Graph Store POST"
            else:
                pusher.apply([pusher.filled(store, change)])
                methods[change.iri] = f"{change.size} triples in one request"
        except PushError as error:
            raise PushError(
                f"push failed at graph {graph_name(change.iri)}: {error}. Each graph goes in one request, "
                f"which the store applies whole or not at all: {_changed(done)}; the other live graphs "
                f"are unchanged; {pusher.drop_staging()}."
            ) from None
        done.append(change)
    return done


def _changed(done: list[GraphChange], *, capital: bool = False) -> str:
    """Which live graphs a failed push had changed, for its message."""
    if not done:
        said = "no live graph had changed"
    else:
        said = "live graphs " + ", ".join(graph_name(change.iri) for change in done) + " had changed"
    return said[0].upper() + said[1:] if capital else said


def _stage(store: EmbeddedStore, staged: list[GraphChange], pusher: Pusher) -> None:
    """Fill and check the staging graphs; no live graph changes here."""
    if not staged:
        return
    try:
        for change in staged:
            pusher.stage(store, change.iri, change.local)
        found = pusher.counts([staging_iri(change.iri) for change in staged])
        short = [c for c in staged if found[staging_iri(c.iri)] != c.local]
        if short:
            listed = ", ".join(f"{graph_name(c.iri)} {found[staging_iri(c.iri)]} of {c.local}" for c in short)
            raise PushError(f"the staging graphs do not hold what was sent ({listed})")
    except PushError as error:
        if not any(pusher.staged.values()):
            raise PushError(
                f"push failed: {error}; nothing was written, the live graphs are unchanged"
            ) from None
        wanted = {change.iri: change.local for change in staged}
        sent = ", ".join(f"{graph_name(iri)} {n}/{wanted[iri]}" for iri, n in pusher.staged.items())
        raise PushError(
            f"push failed: {error}. Triples written into staging graphs before it stopped: {sent}; "
            f"the live graphs are unchanged; {pusher.drop_staging()}."
        ) from None


def _swap(staged: list[GraphChange], pusher: Pusher, done: list[GraphChange]) -> None:
    """Copy the staging graphs over the live ones in one update request, then drop them.

    Copying and dropping in separate requests keeps the one that must be atomic as small as it can
    be: Oxigraph deletes a triple more slowly than it inserts one.
    """
    copies = [
        f"DROP SILENT GRAPH <{c.iri}> ;\nADD GRAPH <{staging_iri(c.iri)}> TO GRAPH <{c.iri}>" for c in staged
    ]
    names = ", ".join(graph_name(change.iri) for change in staged)
    try:
        pusher.update(" ;\n".join(copies), retry=False)
    except PushError as error:
        raise PushError(
            f"push failed at the final copy from the staging graphs: {error}. {_changed(done, capital=True)} "
            f"before it; the store applies the copy as one update, so the staged graphs ({names}) are "
            "either all as before or all new; run kg push again to be sure."
        ) from None
    pusher.drop_staging()  # a failure here is noted in the report: the live graphs are already new


@click.command("push")
@click.option(
    "--endpoint",
    required=True,
    metavar="URL",
    help="The store's SPARQL query endpoint: it counts and reads the live graphs.",
)
@click.option("--update", "update_url", metavar="URL", help="Its SPARQL Update endpoint (required).")
@click.option(
    "--gsp", "gsp_url", metavar="URL", help="Its Graph Store endpoint: new graphs by POST, staging by PUT."
)
@click.option(
    "--graph", "names", multiple=True, metavar="NAME", help="Push only this named graph (repeatable)."
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=None,
    help="Most triples in one SPARQL Update request [10000]; Graph Store requests carry whole graphs.",
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
    help="Seconds allowed per request; a graph of millions of triples in one request may need more.",
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
    """Make the named graphs of a running SPARQL 1.1 store equal to the built ones.

    Only what differs is sent, each graph whole or not at all: all changes in one
    update request when they fit, else a request per graph (a new graph by one
    Graph Store POST with --gsp), else through a staging graph copied over the
    live one in one update. Then the triple count of every graph on the store is
    checked against the local one.
    """
    if update_url is None:
        _fail("give --update URL: changes and the copies from staging graphs go through SPARQL Update")
    auth: httpx.Auth | None = None
    if user is not None:
        credentials = (user, password or "")
        auth = httpx.DigestAuth(*credentials) if scheme == "digest" else httpx.BasicAuth(*credentials)
    target = Target(endpoint, update_url, gsp_url, auth, token, timeout, retries, batch_size=batch_size)
    try:
        store = EmbeddedStore(store_path or context.store)
        total = sum(local_graphs(store, names).values())
        if sys.stderr.isatty():
            label = "pushing by Graph Store and SPARQL Update" if gsp_url else "pushing by SPARQL Update"
            with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
                report = push(store, target, names, bar.update)
        else:
            report = push(store, target, names)
    except (PushError, StoreMissing) as error:
        _fail(str(error))
    click.echo(report.table())
    for note in report.notes:
        click.echo(f"warning: {note}", err=True)
    if not report.verified:
        _fail("the triple counts on the store differ from the local ones")


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)
