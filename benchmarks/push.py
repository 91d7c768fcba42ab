"""How fast `kg push` fills an Oxigraph server, next to `oxigraph load` of the same N-Quads file.

Run: .venv/bin/python benchmarks/push.py [--triples 1000000] [--batch-size N]

It writes a synthetic dataset in a temporary folder (two named graphs, IRIs,
typed and language-tagged literals, a few blank nodes), loads it into an
embedded store as `kg build` would, then times, each into a fresh server data
folder: the bulk loader, a push by Graph Store PUT, a push by INSERT DATA
batches (both through staging graphs and a final MOVE), and a push of the whole
dataset as one update request. The target is a push within 3x of the bulk
loader's time.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from kg.push import Target, push
from kg.store import EmbeddedStore, create_store

OXIGRAPH = Path(sys.executable).with_name("oxigraph")
TARGET_RATIO = 3.0
GRAPHS = ("https://w3id.org/opioid-kg/graph/bench-a", "https://w3id.org/opioid-kg/graph/bench-b")


def synthetic_nquads(path: Path, triples: int) -> None:
    """`triples` distinct statements, ten per subject, spread over two named graphs."""
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
            out.write(f"{subject} {predicate} {obj} <{graph}> .\n")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(location: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [str(OXIGRAPH), "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            httpx.get(f"{base}/query", params={"query": "ASK {}"}, timeout=2)
            return process, base
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the Oxigraph server did not start")


def timed_push(store: EmbeddedStore, folder: Path, gsp: bool, batch_size: int | None) -> tuple[float, float]:
    """Seconds for the whole push, and for its staging part (upload and check, before the MOVE)."""
    process, base = serve(folder)
    try:
        target = Target(f"{base}/query", f"{base}/update", f"{base}/store" if gsp else None, timeout=600)
        target.batch_size = batch_size
        report = push(store, target)
        if not report.verified:
            raise RuntimeError(f"counts differ after the push: {report.counts}")
        return report.seconds, report.staged_seconds
    finally:
        process.terminate()
        process.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=None, help="Triples per request (push default).")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        data = folder / "bench.nq"
        synthetic_nquads(data, args.triples)
        create_store(folder / "local", data)
        store = EmbeddedStore(folder / "local")
        total = sum(store.triples_per_graph().values())

        started = time.perf_counter()
        subprocess.run(
            [str(OXIGRAPH), "load", "--location", str(folder / "bulk"), "--file", str(data)],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        bulk = time.perf_counter() - started
        gsp = timed_push(store, folder / "gsp", True, args.batch_size)
        update = timed_push(store, folder / "update", False, args.batch_size)
        whole = timed_push(store, folder / "whole", False, total)

    print(f"{total:,} triples in {len(GRAPHS)} named graphs; Oxigraph server on 127.0.0.1\n")
    print(f"| {'method':<46} | {'seconds':>8} | {'triples/s':>10} | {'× bulk load':>11} |")
    print(f"|{'-' * 48}|{'-' * 10}|{'-' * 12}|{'-' * 13}|")
    rows = [
        ("oxigraph load (bulk loader)", bulk),
        ("kg push --gsp: whole push", gsp[0]),
        ("    of which PUT/POST into staging + check", gsp[1]),
        ("kg push --update: whole push", update[0]),
        ("    of which INSERT DATA into staging + check", update[1]),
        ("kg push --update --batch-size ALL (1 request)", whole[0]),
    ]
    for name, seconds in rows:
        print(f"| {name:<46} | {seconds:>8.1f} | {total / seconds:>10,.0f} | {seconds / bulk:>10.1f}× |")
    best = min(gsp[0], update[0], whole[0]) / bulk
    verdict = "within" if best <= TARGET_RATIO else "outside"
    print(f"\nbest whole push: {best:.1f}× the bulk loader's time; target ≤ {TARGET_RATIO:.0f}×: {verdict}")


if __name__ == "__main__":
    main()
