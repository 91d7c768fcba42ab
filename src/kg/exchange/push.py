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
  which Oxigraph loads in one transaction too (the body streams from the local
  store as it is written); Virtuoso loads such a POST without one transaction,
  and with `bulk` Oxigraph loads it through its bulk loader instead: there,
  if the load fails, the push drops the graph (the target did not hold it) or
  says what may be left of it;
- and a graph whose changes fit in no single update request goes through a
  staging graph (`urn:opioid-kg:staging:<graph IRI>`), by Graph Store PUT or by
  `INSERT DATA` batches; when every staging graph holds exactly the local
  number of triples, one update request copies them over the live graphs, and
  a last one drops them.

Literals the target cannot keep as sent (a datatype it refuses, or a value it
changes) are found first by a probe and not sent; the push says so once, naming
the triples (`roundtrip`).

A push that fails says which graphs had changed (none, unless it failed after
some graphs had gone in requests of their own) and leaves the others exactly
as they were. Where a request's outcome is unknown (no answer, or a 5xx, which
may come after the store applied it, or before a gateway hands it on), the
graphs it writes are read again before the push says what they hold, and graphs
found as before are said to be so when read, not unchanged: the request may
still come. The copy from the staging graphs deletes nothing where its staging
graph is gone, so once they are dropped it cannot change a live graph.
Finally the target's counts are compared with the local ones.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from kg.errors import KgError, signal_exit, stopped_by
from kg.exchange.changes import GraphChange
from kg.exchange.pusher import (
    PROBE_GRAPH,
    STAGING_DROPPED,
    STAGING_PREFIX,
    Pusher,
    PushError,
    Target,
    staging_iri,
    virtuoso_graph_store,
)
from kg.exchange.roundtrip import Withheld, unkept_literals, unusual_line, without
from kg.exchange.updates import update
from kg.query.counts import triples_per_graph
from kg.store.base import Store, graph_name
from kg.store.embedded import EmbeddedStore
from kg.store.remote import RemoteError, RemoteQueryError

__all__ = ["PushError", "PushReport", "Target", "push"]

# Said of a request whose outcome is unknown and whose graphs were found as before: no store says
# whether a request it has not answered is still to come (one queued behind a gateway that answered 504
# is carried out later), so the push cannot either.
LATE = (
    "the request may still be applied, whole, if it waits at the store or a gateway: run kg push again once "
    "the store is idle, which sends what then differs"
)
# Said of a staging write whose outcome is unknown: it may land after the staging graphs were dropped.
STAGED_LATE = (
    "the request that failed may still be applied, late, writing into a staging graph (never a live graph), "
    "which the next push drops"
)


@dataclass
class PushReport:
    """Triples per graph, local and on the target after the push, and how each graph went."""

    counts: dict[str, tuple[int, int]] = field(default_factory=dict)  # graph IRI: (sent, remote)
    methods: dict[str, str] = field(default_factory=dict)  # graph IRI: how its changes were sent
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)  # what went wrong without stopping the push
    local: dict[str, int] = field(default_factory=dict)  # graph IRI: local triples, where not all sent

    @property
    def verified(self) -> bool:
        return all(local == remote for local, remote in self.counts.values())

    def table(self) -> str:
        lines = [f"{'named graph':<50} {'local':>9} {'target':>9}  sent"]
        for iri, (sent, remote) in self.counts.items():
            local = self.local.get(iri, sent)
            mark = "" if sent == remote else "  MISMATCH"
            if local != sent:
                mark += f"  ({local - sent} withheld: see the warning)"
            lines.append(f"{iri:<50} {local:>9} {remote:>9}  {self.methods.get(iri, '')}{mark}")
        total = sum(remote for _, remote in self.counts.values())
        lines.append(f"{total} triples on the target, pushed in {self.seconds:.1f} s")
        return "\n".join(lines)


def local_graphs(store: Store, names: tuple[str, ...]) -> dict[str, int]:
    """The graphs to push (all, or those named) with their local triple counts."""
    counts = triples_per_graph(store)
    unknown = [name for name in names if name not in {graph_name(iri) for iri in counts}]
    if unknown:
        known = ", ".join(graph_name(iri) for iri in counts)
        raise KgError(f"no graph named {', '.join(unknown)} in the local store (it holds: {known})")
    return {iri: n for iri, n in counts.items() if not names or graph_name(iri) in names}


def push(
    store: EmbeddedStore,
    target: Target,
    names: tuple[str, ...] = (),
    progress: Callable[[int], None] = lambda n: None,
) -> PushReport:
    """Push the local graphs to `target`, each whole or not at all, and verify the counts there."""
    started = time.perf_counter()
    _check_bulk(target)
    local = whole = local_graphs(store, names)
    pusher = Pusher(target, progress)
    try:
        _drop_leftovers(local, pusher)
        changes = _changes(store, local, pusher)
        withheld = _unkept(store, changes, pusher)
        if withheld is None:
            methods = _push(store, changes, pusher)
        else:
            withheld.find_held(changes)
            pusher.notes.append(withheld.note())
            pusher.progress(len(withheld.quads))
            with without(store, withheld) as kept:
                sent = local_graphs(kept, names)
                local = {iri: sent.get(iri, 0) for iri in whole}  # a graph all withheld is sent empty
                methods = _push(kept, _changes(kept, local, pusher), pusher)
        counts = _final_counts(local, pusher)
    except KeyboardInterrupt as stopped:  # Ctrl-C, or SIGTERM as `kg` turns it into one
        name = stopped_by(stopped)
        raise KgError(f"interrupted ({name}): {_interrupted(pusher)}", exit_code=signal_exit(name)) from None
    except PushError as error:
        # What was withheld is part of what the target now holds; a note the failure already gives
        # (the staging graphs it could not drop) is not said twice.
        besides = [note for note in pusher.notes if note not in str(error)]
        if besides:
            said = str(error).rstrip(".")
            raise PushError(
                f"{said}; besides, {'; '.join(besides)}", error.target_status, unsure=error.unsure
            ) from None
        raise
    finally:
        pusher.client.close()
    return PushReport(
        {iri: (n, counts[iri]) for iri, n in local.items()},
        methods,
        time.perf_counter() - started,
        pusher.notes,
        {iri: n for iri, n in whole.items() if n != local[iri]},
    )


def _interrupted(pusher: Pusher) -> str:
    """What an interrupted push leaves on the target: the live graphs it had changed, the request under
    way (sent, its answer not yet read: the store may apply it still), and the staging graphs written.
    Nothing more is sent: a second request would hold off the stop the user asked for."""
    said = [_changed(pusher.changed)]
    if pusher.changing:
        names = ", ".join(graph_name(iri) for iri in pusher.changing)
        said.append(f"the request under way, changing {names}, may still be applied, whole")
    if pusher.probing:
        said.append(
            f"it may leave the probe graph {PROBE_GRAPH}, never a live graph, which the next push drops"
        )
    if pusher.staged:
        written = ", ".join(
            f"{graph_name(iri)} ({n} triples acknowledged)" for iri, n in pusher.staged.items()
        )
        said.append(f"it leaves a staging graph for {written}, never a live graph, which the next push drops")
    said.append("run kg push again, which sends what then differs")
    return "; ".join(said)


def _check_bulk(target: Target) -> None:
    """A bulk push needs a Graph Store endpoint with a bulk loader behind it: refused before anything is
    written where there is none, as wrong input (exit 2)."""
    if not target.bulk:
        return
    if target.gsp is None:
        raise KgError("a bulk push sends new graphs by Graph Store POST: give --gsp URL")
    if virtuoso_graph_store(target.gsp):
        raise KgError(
            "Virtuoso's Graph Store endpoint has no bulk load over HTTP: push without --bulk, or load "
            "the export with ld_dir and rdf_loader_run (docs/triple-stores.md)"
        )


def _changes(store: EmbeddedStore, local: dict[str, int], pusher: Pusher) -> list[GraphChange]:
    """What must change in each graph on the target."""
    try:
        live = pusher.counts(list(local))
        return [pusher.change(store, iri, count, live[iri]) for iri, count in local.items()]
    except (PushError, RemoteError, RemoteQueryError) as error:
        raise PushError(f"push failed: {error}; nothing was written, the live graphs are unchanged") from None


def _unkept(store: EmbeddedStore, changes: list[GraphChange], pusher: Pusher) -> Withheld | None:
    """The literals to be sent that the target cannot keep; probed only where unusual ones go out."""
    sending = [change.iri for change in changes if change.whole or any(map(unusual_line, change.add))]
    try:
        return unkept_literals(store, sending, pusher) if sending else None
    except PushError as error:
        raise PushError(
            f"push failed: {error}; no live graph was written, the live graphs are unchanged"
        ) from None


def _push(store: EmbeddedStore, changes: list[GraphChange], pusher: Pusher) -> dict[str, str]:
    """Send what must change; how each graph went."""
    methods = {change.iri: "unchanged" for change in changes if change.empty}
    pusher.progress(sum(change.local for change in changes if change.empty))
    pending = [change for change in changes if not change.empty]
    limit = pusher.target.request_limit
    if sum(change.size for change in pending) <= limit:
        if pending:
            try:
                filled = [pusher.filled(store, change) for change in pending]
                with pusher.changing_live([change.iri for change in pending]):
                    pusher.apply(filled)
            except PushError as error:
                raise PushError(
                    f"push failed: {error}; every change went in one update request, which the store "
                    f"applies whole or not at all: {_after_one_request(store, pending, pusher, error)}"
                ) from None
        return methods | {change.iri: f"{change.size} triples in one request" for change in pending}
    alone = [c for c in pending if c.size <= limit or (c.whole and pusher.target.gsp)]
    staged = [c for c in pending if c not in alone]
    _stage(store, staged, pusher)
    _send_alone(store, alone, pusher, methods)
    if staged:
        _swap(store, staged, pusher)
        methods |= {change.iri: "whole graph through a staging graph" for change in staged}
    return methods


def _drop_leftovers(local: dict[str, int], pusher: Pusher) -> None:
    """Drop the staging graphs an earlier, stopped push left on the target, and say so; a push that
    cannot drop them stops before writing anything else."""
    try:
        stale = pusher.leftover_staging(list(local))
    except (PushError, RemoteError, RemoteQueryError) as error:
        raise PushError(
            f"push failed: staging graphs left by an earlier push could not be found: {error}; "
            "nothing was written, the live graphs are unchanged"
        ) from None
    if not stale:
        return
    try:
        pusher.drop(stale)
    except PushError as error:
        left = pusher.left_over(stale, error)
        if left is not None:
            raise PushError(
                f"push failed: staging graphs left by an earlier push could not be dropped: {left}; "
                "nothing else was written, the live graphs are unchanged"
            ) from None
    names = ", ".join(iri.removeprefix(STAGING_PREFIX) for iri in stale if iri != PROBE_GRAPH)
    probe = f"; and its probe graph {PROBE_GRAPH}" if PROBE_GRAPH in stale else ""
    staging = len(stale) - (PROBE_GRAPH in stale)
    pusher.notes.append(f"dropped {staging} staging graph(s) an earlier push left behind: {names}{probe}")


def _send_alone(
    store: EmbeddedStore, alone: list[GraphChange], pusher: Pusher, methods: dict[str, str]
) -> None:
    """Each graph in one request of its own; each that went in is counted in `Pusher.changed`."""
    for change in alone:
        try:
            if change.whole and pusher.target.gsp:
                with pusher.changing_live([change.iri]):
                    pusher.load_whole(store, change)
                loader = " to the bulk loader" if pusher.target.bulk else ""
                methods[change.iri] = f"whole graph by one Graph Store POST{loader}"
            else:
                filled = pusher.filled(store, change)
                with pusher.changing_live([change.iri]):
                    pusher.apply([filled])
                methods[change.iri] = f"{change.size} triples in one request"
        except PushError as error:
            name = graph_name(change.iri)
            partly = pusher.load_in_part() if change.whole else None
            if partly:
                how = (
                    f"Graph {name} {partly}: {pusher.drop_partial(change.iri, change.local)}. The others "
                    "go in one request each, whole or not at all"
                )
            else:
                how = "Each graph goes in one request, which the store applies whole or not at all"
            unknown = _maybe_applied(store, change, pusher) if error.unsure and not partly else ""
            changed = _changed(pusher.changed)  # after `_maybe_applied`, which may count this graph
            raise PushError(
                f"push failed at graph {name}: {error}. {how}: {changed}{unknown}; the other live graphs are "
                f"unchanged; {pusher.drop_staging()}."
            ) from None


def _changed(iris: list[str], *, capital: bool = False) -> str:
    """Which live graphs a failed push had changed (`Pusher.changed`), for its message."""
    if not iris:
        said = "no live graph had changed"
    else:
        said = "live graphs " + ", ".join(graph_name(iri) for iri in iris) + " had changed"
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
        wanted = {change.iri: change.local for change in staged}
        sent = ", ".join(f"{graph_name(iri)} {n}/{wanted[iri]}" for iri, n in pusher.staged.items())
        maybe = ", and perhaps those of the request that failed" if error.unsure else ""
        late = f"; {STAGED_LATE}" if error.unsure else ""
        raise PushError(
            f"push failed: {error}. Triples written into staging graphs before it stopped: {sent}{maybe}; "
            f"the live graphs are unchanged; {pusher.drop_staging()}{late}."
        ) from None


def _swap(store: EmbeddedStore, staged: list[GraphChange], pusher: Pusher) -> None:
    """Copy the staging graphs over the live ones in one update request, then drop them.

    Copying and dropping in separate requests keeps the one that must be atomic as small as it can
    be: Oxigraph deletes a triple more slowly than it inserts one.
    """
    copies = [
        update("replace-from-staging", graph=c.iri, staging=staging_iri(c.iri), triples=str(c.local))
        for c in staged
    ]
    names = ", ".join(graph_name(change.iri) for change in staged)
    try:
        with pusher.changing_live([change.iri for change in staged]):
            pusher.update(" ;\n".join(copies), retry=False)
    except PushError as error:
        dropped = pusher.drop_staging()  # first: a copy carried out after it finds nothing to copy
        if error.unsure:
            final = dropped == STAGING_DROPPED
            held = _now_holds(store, staged, pusher, final=final)
            now = f"applies the copy as one update, whole or not at all, and may have applied it: {held}"
        else:
            now = f"refused the copy, so the staged graphs ({names}) are as before"
        changed = _changed(pusher.changed, capital=True)
        raise PushError(
            f"push failed at the final copy from the staging graphs: {error}. {changed} before it; the store "
            f"{now}; {dropped}."
        ) from None
    pusher.drop_staging()  # a failure here is noted in the report: the live graphs are already new


def _after_one_request(
    store: EmbeddedStore, pending: list[GraphChange], pusher: Pusher, error: PushError
) -> str:
    """What the live graphs hold after the one update request failed: unchanged if the store refused
    it, else read again, as it may have applied it."""
    if not error.unsure:
        return "the live graphs are unchanged"
    held = _now_holds(store, pending, pusher, every=True, final=False)
    return f"it may have been applied, so the graphs were read again: {held}"


def _reread(store: EmbeddedStore, changes: list[GraphChange], pusher: Pusher) -> dict[str, GraphChange] | str:
    """The graphs' differences from the local ones, read again after a write the store may have
    carried out; where they cannot be read, why."""
    try:
        live = pusher.counts([change.iri for change in changes])
        return {c.iri: pusher.change(store, c.iri, c.local, live[c.iri]) for c in changes}
    except (PushError, RemoteError, RemoteQueryError) as error:
        return str(error)


def _maybe_applied(store: EmbeddedStore, change: GraphChange, pusher: Pusher) -> str:
    """After the request of one graph failed without a clear refusal: count it among the changed graphs
    if it now equals the local one, and say what it holds if it is neither that nor as before."""
    name = graph_name(change.iri)
    now = _reread(store, [change], pusher)
    if isinstance(now, str):
        return (
            f"; whether graph {name} changed is unknown, as it could not be read again ({now}): it is "
            "either as before or equal to the local graph"
        )
    found = now[change.iri]
    if found.empty:
        pusher.changed.append(change.iri)  # the store applied it; its answer was lost
        return ""
    if not _same_difference(change, found):
        return f"; graph {name} holds {found.live} triples, neither as before nor the local graph"
    return f"; graph {name} was as before when read again, but {LATE}"


def _now_holds(
    store: EmbeddedStore, changes: list[GraphChange], pusher: Pusher, *, every: bool = False, final: bool
) -> str:
    """After one request changing these graphs, which the store may have applied: read them again and
    say what they hold (the local graphs, the graphs as before, or neither); where they cannot be read,
    that it is unknown. `every`: these are all the graphs the push changes. `final`: the request can
    no longer change them (its staging graphs are gone); else graphs found as before may still change,
    as a request answered 504 by a gateway may yet reach the store."""
    names = ", ".join(graph_name(change.iri) for change in changes)
    now = _reread(store, changes, pusher)
    if isinstance(now, str):
        return (
            f"they could not be read again ({now}), so whether {names} changed is unknown: they are "
            "either all as before or all equal to the local graphs; run kg push again, which sends only "
            "what differs"
        )
    if all(change.empty for change in now.values()):
        which = (
            "every live graph now equals the local one"
            if every
            else f"graphs {names} now equal the local ones"
        )
        return f"{which} (the store applied it)"
    if all(_same_difference(change, now[change.iri]) for change in changes):
        which = "the live graphs" if every else f"graphs {names}"
        if not final:
            return f"{which} were as before when read again, but {LATE}"
        return (
            f"{which} are unchanged (the store did not apply it, and cannot now: its staging graphs are gone)"
        )
    said = []
    for change in changes:
        found = now[change.iri]
        if found.empty:
            held = "equals the local graph"
        elif _same_difference(change, found):
            held = "is as before"
        else:
            held = "is neither as before nor the local graph"
        said.append(f"{graph_name(change.iri)} holds {found.live} triples and {held}")
    return "; ".join(said)


def _same_difference(before: GraphChange, now: GraphChange) -> bool:
    """Whether the target's graph differs from the local one as it did before the push: then it is the
    graph the push found there."""
    if before.whole or now.whole:
        return before.whole and now.whole
    return (
        now.live == before.live
        and now.clear == before.clear
        and set(now.add) == set(before.add)
        and set(now.remove) == set(before.remove)
    )


def _final_counts(local: dict[str, int], pusher: Pusher) -> dict[str, int]:
    """The target's counts once every change went through; where they cannot be read, say that every
    request was acknowledged."""
    try:
        return pusher.counts(list(local))
    except PushError as error:
        raise PushError(
            f"push failed counting the graphs on the target once every change had gone: {error}; the "
            "store acknowledged every request, so the live graphs should equal the local ones; run kg push "
            "again to check (it sends only what differs)"
        ) from None
