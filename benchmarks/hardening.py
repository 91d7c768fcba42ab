"""How the endpoint's protections cost and hold: three tables, bounded in time (about three minutes).

1. Checking a query in the web process (length and nesting, one pass) against its length, up to 1 MB,
   for text shaped to make a backtracking tokenizer slow; reading a refused text for the prefixes it
   lacks, for text shaped to make a pattern tried at each quote slow; and the worker's parse for real
   queries of growing size (this runs under the time limit, in a worker).
2. A bystander's answers and latency (p50, p99, worst) while 8 clients send queries that hit the
   time limit, the 8 from one address, then from 8 addresses: while the attack warms up (until every
   attacker ran one query to the limit) and for the given seconds after.
3. A query worker's peak memory under the memory-heavy cases, and the answer each gets.

    .venv/bin/python benchmarks/hardening.py [--seconds 15]

It needs a build (`kg build`).
"""

from __future__ import annotations

import argparse
import http.client
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

from processes import children, rss_mb

from kg.query.explain import missing_prefixes
from kg.server import guard
from kg.server.config import DEFAULT_MAX_NESTING

PROJECT = Path(__file__).resolve().parent.parent
KG = Path(sys.executable).with_name("kg")
CROSS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
SIMPLE = "ASK { ?s ?p ?o }"
VALUES = " ".join(f"<urn:x:{i}>" for i in range(3000))
HEAVY = {
    "ORDER BY over two 3,000-IRI VALUES": (
        f"SELECT ?a ?b WHERE {{ VALUES ?a {{ {VALUES} }} VALUES ?b {{ {VALUES} }} }} ORDER BY ?a ?b"
    ),
    "ORDER BY over a cross product": "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } ORDER BY ?a ?f",
    "29 chained BIND(CONCAT(?x, ?x))": (
        'SELECT (STRLEN(?x29) AS ?n) WHERE { BIND("abcdefgh" AS ?x0) '
        + " ".join(f"BIND(CONCAT(?x{i}, ?x{i}) AS ?x{i + 1})" for i in range(29))
        + " }"
    ),
}


def timed(action, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - started)
    return best


def precheck_table() -> None:
    print("\n1a. Checking in the web process (length and nesting), best of 3")
    print(f"{'shape':<28}{'length':>10}{'ms':>10}{'ns/char':>10}")
    shapes = {
        "a.a.a.… (no colon)": lambda n: "a." * (n // 2),
        "balanced {} pairs": lambda n: "{}" * (n // 2),
        "query + long literal": lambda n: 'SELECT * WHERE { ?s ?p "' + "x" * n + '" }',
    }
    for name, make in shapes.items():
        for length in (1_000, 10_000, 100_000, 1_000_000):
            text = make(length)

            def check(text: str = text) -> None:
                try:
                    guard.precheck(text, 10_000_000, DEFAULT_MAX_NESTING)
                except guard.Refused:
                    pass

            seconds = timed(check)
            print(f"{name:<28}{len(text):>10}{seconds * 1000:>10.2f}{seconds * 1e9 / len(text):>10.1f}")
    print("\n1c. Reading a refused text for the prefixes it lacks (the query page's hint), best of 3")
    print(f"{'shape':<28}{'length':>10}{'ms':>10}{'ns/char':>10}")
    open_texts = {
        "escaped quotes, left open": lambda n: '"' + '\\"' * (n // 2),
        "a string open on each line": lambda n: '"a\n' * (n // 3),
        "IRIs left open": lambda n: "<a " * (n // 3),
    }
    for name, make in open_texts.items():
        for length in (1_000, 10_000, 100_000, 1_000_000):
            text = make(length)
            seconds = timed(lambda text=text: missing_prefixes(text))
            print(f"{name:<28}{len(text):>10}{seconds * 1000:>10.2f}{seconds * 1e9 / len(text):>10.1f}")
    print("\n1b. Parsing in a worker (rdflib SPARQL 1.1 parser), best of 3")
    print(f"{'query':<28}{'length':>10}{'ms':>10}")
    for count in (10, 100, 1000, 5000):
        text = (
            "SELECT * WHERE { VALUES ?s { " + " ".join(f"<urn:x:{i}>" for i in range(count)) + " } ?s ?p ?o }"
        )
        seconds = timed(lambda text=text: guard.read(text, frozenset()))
        print(f"{f'VALUES of {count} IRIs':<28}{len(text):>10}{seconds * 1000:>10.1f}")


def request(port: int, text: str, source: str, timeout: float = 30) -> tuple[int, float]:
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout, source_address=(source, 0))
    try:
        body = urllib.parse.urlencode({"query": text}).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        connection.request("POST", "/sparql", body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status, time.monotonic() - started
    finally:
        connection.close()


def start_server(store: Path, port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [str(KG), "--project", str(PROJECT), "serve", "--store", str(store), "--port", str(port)]
        + ["--workers", "2", "--timeout", "3", "--cache-mb", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if request(port, SIMPLE, "127.0.0.1", 5)[0] == 200:
                return process
        except OSError:
            time.sleep(0.3)
    process.terminate()
    raise SystemExit("kg serve did not start")


def bystander_table(port: int, seconds: float) -> None:
    print(f"\n2. A bystander while 8 clients send time-limit queries ({seconds:g} s once under way)")
    print("   warm-up: until every attacker has run a query to the time limit once (at most 60 s)")
    print(
        f"{'attackers':<22}{'phase':<10}{'asked':>7}{'ok':>6}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}"
        f"{'attacker answers':>34}"
    )
    for label, sources in (
        ("8 from one address", ["127.0.0.2"] * 8),
        ("8 from 8 addresses", [f"127.0.0.{10 + i}" for i in range(8)]),
    ):
        stop = threading.Event()
        statuses: dict[int, int] = {}
        ran: set[str] = set()

        def attack(source: str, stop: threading.Event = stop, statuses=statuses, ran=ran) -> None:
            n = 0
            while not stop.is_set():
                status, _ = request(port, f"{CROSS}\n# {source} {n}", source)
                statuses[status] = statuses.get(status, 0) + 1
                if status == 504:
                    ran.add(source)
                n += 1

        threads = [threading.Thread(target=attack, args=(source,)) for source in sources]
        for thread in threads:
            thread.start()
        phases: dict[str, list[tuple[int, float]]] = {"warm-up": [], "attack": []}
        started, established, n = time.monotonic(), None, 0
        while established is None or time.monotonic() < established + seconds:
            if established is None and (len(ran) == len(set(sources)) or time.monotonic() > started + 60):
                established = time.monotonic()
            status, elapsed = request(port, f"{SIMPLE}\n# bystander {n} {time.time_ns()}", "127.0.0.9")
            phases["warm-up" if established is None else "attack"].append((status, elapsed * 1000))
            n += 1
            time.sleep(0.2)
        stop.set()
        for thread in threads:
            thread.join()
        answers = ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items()))
        for phase, asked in phases.items():
            if not asked:
                continue
            latencies = [ms for _, ms in asked]
            ok = sum(status == 200 for status, _ in asked)
            cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
            print(
                f"{label:<22}{phase:<10}{len(asked):>7}{ok:>6}{cuts[49]:>9.0f}{cuts[98]:>9.0f}"
                f"{max(latencies):>9.0f}{answers if phase == 'attack' else '':>34}"
            )
        time.sleep(4)  # the pool replaces the workers the runaways cost


def memory_table(server: subprocess.Popen[bytes], port: int) -> None:
    print("\n3. Query workers' peak memory under the memory-heavy cases (limit 1024 MB address space)")
    print(f"{'case':<38}{'status':>8}{'seconds':>9}{'peak RSS MB':>13}")
    for name, text in HEAVY.items():
        peak = 0.0
        done = threading.Event()

        def sample(done: threading.Event = done) -> None:
            nonlocal peak
            while not done.is_set():
                peak = max([peak] + [rss_mb(pid) for pid in children(server.pid)])
                time.sleep(0.05)

        sampler = threading.Thread(target=sample)
        sampler.start()
        status, elapsed = request(port, f"{text}\n# {time.time_ns()}", "127.0.0.3")
        done.set()
        sampler.join()
        print(f"{name:<38}{status:>8}{elapsed:>9.1f}{peak:>13.0f}")
        time.sleep(4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15, help="length of each bystander run")
    parser.add_argument("--store", type=Path, default=PROJECT / ".kg" / "store")
    options = parser.parse_args()
    precheck_table()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = start_server(options.store, port)
    try:
        bystander_table(port, options.seconds)
        memory_table(server, port)
    finally:
        server.terminate()
        server.wait(15)


if __name__ == "__main__":
    main()
