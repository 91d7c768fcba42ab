"""How long a new build takes to publish and to be taken up by a running `kg serve`, and what clients
see meanwhile.

Run: .venv/bin/python benchmarks/generations.py [--switches 4] [--clients 4]

It builds the project once into a temporary folder, starts `kg serve` on its
`.kg/store` link, and then publishes `--switches` new generations (the build's
real build of each new generation, each with its own marker triple) while `--clients`
threads ask a small question over and over. For each generation it prints the
seconds the publishing took, the seconds from the switch of the `current` link
to the first answer naming the new generation, the p50/p99 latency and
error count of the clients' answers during that time, and the peak resident
memory of the server with all its query workers (both generations' while the
new one starts and the old one drains).
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from processes import tree_rss_mb

from kg.build.pipeline import build, publish, stage
from kg.build.project import input_files, source_ids
from kg.build.tables import write_tables
from kg.store.generations import Generations, generation_id

PROJECT = Path(__file__).resolve().parent.parent
KG = Path(sys.executable).with_name("kg")
MARKER = "https://w3id.org/opioid-kg/id/build-marker"
QUESTION = urllib.parse.urlencode({"query": f"SELECT ?m WHERE {{ <{MARKER}> ?p ?m }}"})


def ask(base: str) -> tuple[float, str | None]:
    """Seconds for one answer and the generation it names (None on an error)."""
    started = time.perf_counter()
    request = urllib.request.Request(f"{base}/sparql?{QUESTION}", headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
            return time.perf_counter() - started, response.headers["KG-Generation"]
    except (urllib.error.URLError, OSError):
        return time.perf_counter() - started, None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--switches", type=int, default=4)
    parser.add_argument("--clients", type=int, default=4)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        store, dist = root / ".kg" / "store", root / "dist"
        build(PROJECT, dist, store)
        files = input_files(PROJECT)
        tables = write_tables([PROJECT / "graph" / found for found in source_ids(PROJECT)], root)
        for name, paths in tables.items():  # as `kg build` adds them
            files.setdefault(name, []).extend(paths)
        marking = root / "marker.ttl"
        files["data"].append(marking)
        port = free_port()
        with (root / "serve.log").open("wb") as log:
            server = subprocess.Popen(
                # The clients share one address: the per-client limit lets them all ask at once.
                [str(KG), "--project", str(PROJECT), "serve", "--store", str(store), "--port", str(port)]
                + ["--queries-per-client", str(options.clients)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        base = f"http://127.0.0.1:{port}"
        try:
            while ask(base)[1] is None:
                time.sleep(0.2)
            answers: list[tuple[float, float, str | None]] = []  # when, seconds, generation
            stop = threading.Event()

            def client() -> None:
                while not stop.is_set():
                    seconds, generation = ask(base)
                    answers.append((time.monotonic(), seconds, generation))

            peak = [tree_rss_mb(server.pid)]

            def sample() -> None:
                while not stop.is_set():
                    peak[0] = max(peak[0], tree_rss_mb(server.pid))
                    time.sleep(0.05)

            threads = [threading.Thread(target=client) for _ in range(options.clients)]
            threads.append(threading.Thread(target=sample))
            for thread in threads:
                thread.start()
            print(f"server and workers at rest: {peak[0]:.0f} MB resident")
            header = ("generation", "publish s", "taken up s", "p50 ms", "p99 ms", "errors", "peak MB")
            print(
                f"{header[0]:<20} {header[1]:>9} {header[2]:>10} {header[3]:>7} {header[4]:>7} {header[5]:>6}"
                f" {header[6]:>8}"
            )
            for number in range(options.switches):
                label = f'"switch {number}"'
                marking.write_text(
                    f"<{MARKER}> <http://www.w3.org/2000/01/rdf-schema#label> {label} .\n", "utf-8"
                )
                started = time.monotonic()
                peak[0] = tree_rss_mb(server.pid)
                publish(Generations(store, dist), lambda staging: stage(PROJECT, files, staging))
                switched = time.monotonic()
                new = generation_id(store)
                while not [a for a in answers[-50:] if a[2] == new]:
                    time.sleep(0.05)
                taken = next(a[0] for a in answers if a[0] >= switched and a[2] == new) - switched
                window = sorted(a[1] for a in answers if started <= a[0])
                errors = sum(1 for a in answers if started <= a[0] and a[2] is None)
                p99 = window[min(len(window) - 1, int(len(window) * 0.99))]
                time.sleep(1)  # the old generation's workers stop once its last request is answered
                print(
                    f"{new:<20} {switched - started:>9.2f} {taken:>10.2f} "
                    f"{statistics.median(window) * 1000:>7.0f} {p99 * 1000:>7.0f} {errors:>6}"
                    f" {peak[0]:>8.0f}"
                )
            stop.set()
            for thread in threads:
                thread.join()
        finally:
            server.terminate()
            server.wait(30)


if __name__ == "__main__":
    main()
