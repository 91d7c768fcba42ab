"""How fast `kg push` fills an Oxigraph server, next to `oxigraph load` of the same N-Quads file.

Run: .venv/bin/python benchmarks/push.py [--triples 1000000] [--changed 1000] [--graph-store-only]
[--bulk-only] [--tls]

It writes a synthetic dataset in a temporary folder (two named graphs, IRIs,
typed and language-tagged literals, a few blank nodes), loads it into an
embedded store as `kg build` would, then times the bulk loader and, each into a
fresh server data folder, plain Graph Store POSTs of the graphs (what the
store itself takes to load them in a transaction, without `kg push`), a push by
Graph Store POST (a whole graph per request), then two pushes onto the store the
first push filled: with nothing changed, and with `--changed` triples changed; a
push by Graph Store POST to the server's bulk loader (`--bulk`); and, unless
`--graph-store-only`, pushes by one INSERT DATA request per graph and by INSERT
DATA batches of 10,000 triples through staging graphs. `--bulk-only` keeps the
bulk loader and the bulk push alone, for sizes at which a load in one
transaction takes too long. Each server row gives the server's peak resident
memory (the bulk loader's row, that of `oxigraph load`).
The target is a push within 3x of the bulk loader's time.

With `--virtuoso` (where virtuoso-opensource is installed), the same N-Quads file
is also loaded into a fresh Virtuoso by its bulk loader, as docs/triple-stores.md
says (`ld_dir`, `rdf_loader_run` and a checkpoint through isql, the file in a
folder the server may read), with `--virtuoso-buffers` pages of cache; the row
gives the server's peak memory, and the counts of its graphs are checked
against the local ones.

With `--tls` (where nginx and openssl are installed), every server is reached
through nginx terminating TLS on 127.0.0.1 with a certificate made for the run,
which the push trusts through `SSL_CERT_FILE`: the cost of a handshake per
request, since a push keeps no connection alive.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from kg.exchange.push import PushReport, Target, push
from kg.query.counts import triples_per_graph
from kg.store.embedded import EmbeddedStore, create_store
from kg.store.remote import RemoteStore

OXIGRAPH = Path(sys.executable).with_name("oxigraph")
TARGET_RATIO = 3.0
GRAPHS = ("https://w3id.org/opioid-kg/graph/bench-a", "https://w3id.org/opioid-kg/graph/bench-b")


def synthetic_nquads(path: Path, triples: int, changed: int = 0) -> None:
    """`triples` distinct statements, ten per subject, spread over two named graphs; the objects of
    the first `changed` statements differ from those of a dataset written with `changed` 0."""
    xsd = "http://www.w3.org/2001/XMLSchema#"
    with path.open("w", encoding="utf-8") as out:
        for i in range(triples):
            graph = GRAPHS[i % 2]
            subject = f"<https://w3id.org/opioid-kg/id/bench/{i // 10}>"
            predicate = f"<https://w3id.org/opioid-kg/ontology#p{i % 10}>"
            kind = i % 5
            if kind == 0:
                obj = f'"{i}"^^<{xsd}integer>'
            elif kind == 1:
                obj = f'"label {i}"@en'
            elif kind == 2:
                obj = f'"{i / 7:.3f}"^^<{xsd}decimal>'
            elif kind == 3 and i % 1000 == 3:
                subject, obj = f"_:b{i}", f"<https://w3id.org/opioid-kg/id/bench/{i}>"
            else:
                obj = f"<https://w3id.org/opioid-kg/id/bench/{(i * 7919) % triples}>"
            if i < changed and not subject.startswith("_:"):
                obj = f'"changed {i}"'
            out.write(f"{subject} {predicate} {obj} <{graph}> .\n")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
TLS_PROXY = """daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {folder}/client_body;
    proxy_temp_path {folder}/proxy;
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {folder}/certificate.pem;
        ssl_certificate_key {folder}/key.pem;
        client_max_body_size 0;
        proxy_request_buffering off;
        proxy_buffering off;
        proxy_read_timeout 3600s;
        proxy_send_timeout 3600s;
        proxy_http_version 1.1;
        location / {{ proxy_pass http://127.0.0.1:{upstream}; }}
    }}
}}
"""


def trust_a_new_certificate(folder: Path) -> None:
    """A certificate for 127.0.0.1 (the tests' own, made by openssl) in `folder`, which every TLS
    client this process makes from now on trusts."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from certificate import self_signed

    _, certificate = self_signed(folder)
    os.environ["SSL_CERT_FILE"] = str(certificate)


class Server:
    """`oxigraph serve` on a fresh data folder, for as long as the `with` block lasts; with `tls`,
    reached through nginx terminating TLS with the certificate in `tls`'s folder."""

    def __init__(self, location: Path, tls: Path | None = None) -> None:
        self.location = location
        self.tls = tls
        self.proxy: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        port = free_port()
        self.process = subprocess.Popen(
            [str(OXIGRAPH), "serve", "--location", str(self.location), "--bind", f"127.0.0.1:{port}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.base = f"http://127.0.0.1:{port}"
        if self.tls is not None:
            self.base = self._behind_tls(port)
        for _ in range(150):
            try:
                httpx.get(f"{self.base}/query", params={"query": "ASK {}"}, timeout=2).raise_for_status()
                return self
            except httpx.HTTPError:
                time.sleep(0.2)
        self.__exit__()
        raise RuntimeError("the Oxigraph server did not start")

    def _behind_tls(self, upstream: int) -> str:
        """Start nginx terminating TLS in front of the server on `upstream`; the base URL it serves."""
        assert self.tls is not None and NGINX is not None  # checked by main
        folder = self.location.with_suffix(".nginx")
        folder.mkdir()
        for name in ("certificate.pem", "key.pem"):
            os.link(self.tls / name, folder / name)
        port = free_port()
        config = folder / "nginx.conf"
        config.write_text(TLS_PROXY.format(folder=folder, port=port, upstream=upstream), encoding="utf-8")
        self.proxy = subprocess.Popen(
            [NGINX, "-p", str(folder), "-e", str(folder / "error.log"), "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return f"https://127.0.0.1:{port}"

    def __exit__(self, *exc: object) -> None:
        for process in (self.proxy, self.process):
            if process is not None:
                process.terminate()
                process.wait(30)

    def peak_mb(self) -> float:
        """The server's peak resident memory so far, from /proc."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        [line] = [line for line in status.splitlines() if line.startswith("VmHWM:")]
        return int(line.split()[1]) / 1024

    def post_graphs(self, store: EmbeddedStore) -> float:
        """Seconds for plain Graph Store POSTs of every graph, no `kg push`: the store's own floor."""
        bodies = {iri: store.graph_ntriples(iri) for iri in triples_per_graph(store)}
        started = time.perf_counter()
        for iri, body in bodies.items():
            httpx.post(
                f"{self.base}/store",
                params={"graph": iri},
                content=body,
                headers={"content-type": "application/n-triples"},
                timeout=3600,
            ).raise_for_status()
        return time.perf_counter() - started

    def push(
        self, store: EmbeddedStore, gsp: bool, batch_size: int | None = None, *, bulk: bool = False
    ) -> PushReport:
        base = self.base
        gsp_url = f"{base}/store" if gsp else None
        target = Target(
            f"{base}/query", f"{base}/update", gsp_url, timeout=3600, batch_size=batch_size, bulk=bulk
        )
        report = push(store, target)
        if not report.verified:
            raise RuntimeError(f"counts differ after the push: {report.counts}")
        return report


Row = tuple[str, float, float | None]  # what, seconds, peak resident MB


def timed(command: str, report: PushReport, peak: float | None = None) -> Row:
    """A table row: the command, how it sent the graphs, its time and the server's peak memory."""
    return f"{command}: {'; '.join(sorted(set(report.methods.values())))}", report.seconds, peak


def local_store(folder: Path, triples: int, changed: int = 0) -> EmbeddedStore:
    data = folder.with_suffix(".nq")
    synthetic_nquads(data, triples, changed)
    create_store(folder, data)
    return EmbeddedStore(folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=1_000_000)
    parser.add_argument("--changed", type=int, default=1_000, help="Triples changed for the last push.")
    parser.add_argument("--graph-store-only", action="store_true", help="Skip the pushes by SPARQL Update.")
    parser.add_argument(
        "--bulk-only", action="store_true", help="Only the bulk loader and the push to it (no transactions)."
    )
    parser.add_argument(
        "--virtuoso", action="store_true", help="Also load the file into Virtuoso's bulk loader."
    )
    parser.add_argument(
        "--virtuoso-buffers", type=int, default=170_000, help="Virtuoso's NumberOfBuffers (8 KB pages)."
    )
    parser.add_argument("--tls", action="store_true", help="Reach every server through nginx over TLS.")
    args = parser.parse_args()
    if args.tls and NGINX is None:
        parser.error("--tls needs nginx")
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        tls = folder / "tls" if args.tls else None
        if tls is not None:
            tls.mkdir()
            trust_a_new_certificate(tls)
        store = local_store(folder / "local", args.triples)
        total = sum(triples_per_graph(store).values())
        started = time.perf_counter()
        subprocess.run(
            [str(OXIGRAPH), "load", "--location", str(folder / "bulk"), "--file", str(folder / "local.nq")],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        loaded = time.perf_counter() - started
        rows.append(
            (
                "oxigraph load (bulk loader)",
                loaded,
                resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
            )
        )
        with Server(folder / "bulk-push", tls) as server:
            rows.append(timed("kg push --gsp --bulk", server.push(store, True, bulk=True), server.peak_mb()))
        if args.virtuoso:
            rows.append(virtuoso_bulk_load(folder, store, args.virtuoso_buffers))
        if not args.bulk_only:
            rows += transactional_rows(folder, store, total, args, tls)
    print_table(rows, total, "through nginx over TLS" if args.tls else "over plain HTTP")


def virtuoso_bulk_load(folder: Path, store: EmbeddedStore, buffers: int) -> Row:
    """The N-Quads file loaded by Virtuoso's bulk loader into a fresh server (the tests' Virtuoso, in
    tests/triplestores.py), its graphs' counts checked against the local ones."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from triplestores import VirtuosoServer

    server = VirtuosoServer(folder / "virtuoso", buffers=buffers).start()
    try:
        data = server.directory / "local.nq"
        os.link(folder / "local.nq", data)
        started = time.perf_counter()
        server.sql(
            f"ld_dir('{server.directory}', '{data.name}', 'urn:unused'); rdf_loader_run(); checkpoint;"
        )
        seconds = time.perf_counter() - started
        failed = server.sql("select ll_file, ll_error from DB.DBA.load_list where ll_error is not null;")
        if "0 Rows." not in failed:
            raise RuntimeError(f"Virtuoso's bulk loader failed: {failed}")
        assert server.process is not None  # started
        status = Path(f"/proc/{server.process.pid}/status").read_text()
        [line] = [line for line in status.splitlines() if line.startswith("VmHWM:")]
        auth = httpx.DigestAuth(*server.credentials)
        counts = triples_per_graph(RemoteStore(server.query, graphs=list(GRAPHS), auth=auth, timeout=3600))
        if counts != triples_per_graph(store):
            raise RuntimeError(f"Virtuoso's graphs hold {counts}, not {triples_per_graph(store)}")
    finally:
        server.stop()
    return (
        f"Virtuoso ld_dir + rdf_loader_run, NumberOfBuffers {buffers:,}",
        seconds,
        int(line.split()[1]) / 1024,
    )


def transactional_rows(
    folder: Path, store: EmbeddedStore, total: int, args: argparse.Namespace, tls: Path | None
) -> list[Row]:
    """The loads in transactions: plain POSTs, kg push --gsp (then again, unchanged and changed), and
    unless --graph-store-only the pushes by SPARQL Update."""
    rows: list[Row] = []
    with Server(folder / "floor", tls) as server:
        seconds = server.post_graphs(store)
        rows.append(("Oxigraph's own load of the same graphs, one POST each", seconds, server.peak_mb()))
    with Server(folder / "gsp", tls) as server:
        rows.append(timed("kg push --gsp", server.push(store, True), server.peak_mb()))
        rows.append(timed("  again, nothing changed", server.push(store, True)))
        edited = local_store(folder / "edited", args.triples, args.changed)
        rows.append(timed(f"  again, {args.changed:,} triples changed", server.push(edited, True)))
    if args.graph_store_only:
        return rows
    with Server(folder / "whole", tls) as server:
        batch = total // len(GRAPHS) + 1
        report = server.push(store, False, batch)
        rows.append(timed(f"kg push --update --batch-size {batch:,}", report, server.peak_mb()))
    with Server(folder / "staged", tls) as server:
        rows.append(timed("kg push --update", server.push(store, False), server.peak_mb()))
    return rows


def print_table(rows: list[Row], total: int, reached: str) -> None:
    bulk = rows[0][1]
    print(f"{total:,} triples in {len(GRAPHS)} named graphs; Oxigraph server on 127.0.0.1, {reached}\n")
    width = max(len(name) for name, _, _ in rows)
    print(
        f"| {'method':<{width}} | {'seconds':>8} | {'triples/s':>10} | {'× bulk load':>11} | {'peak MB':>8} |"
    )
    print(f"|{'-' * (width + 2)}|{'-' * 10}|{'-' * 12}|{'-' * 13}|{'-' * 10}|")
    for name, seconds, peak in rows:
        memory = f"{peak:,.0f}" if peak is not None else ""
        print(
            f"| {name:<{width}} | {seconds:>8.1f} | {total / seconds:>10,.0f} | {seconds / bulk:>10.1f}× "
            f"| {memory:>8} |"
        )
    for name, seconds, _ in rows:
        if name.startswith("kg push --gsp"):
            ratio = seconds / bulk
            verdict = "within" if ratio <= TARGET_RATIO else "outside"
            command = name.split(":")[0]
            print(f"{command}: {ratio:.1f}× the bulk loader's time; target ≤ {TARGET_RATIO:.0f}×: {verdict}")


if __name__ == "__main__":
    main()
