"""Peak memory of the web process while clients download /data made from the store behind it.

`kg serve --store URL` in front of `oxigraph serve` holding a build's dataset has no build files of
its own, so /data is made from the store's graphs. For each number of clients a fresh `kg serve`
starts and reads ahead; that many clients then ask for the N-Quads dump at once, and the table gives the web
process's resident memory before, its peak (VmHWM, the kernel's high-water mark, reset once the
server has read ahead: no sampling), the
bytes each client read and the wall time:

    .venv/bin/python benchmarks/dump.py --project DIR [--clients 1 3] [--format nquads]

It needs a build (`kg build`, or a kept synthetic project: `benchmarks/scale.py --sources 600 --keep
DIR`) and the `oxigraph` binary beside the Python interpreter.
"""

from __future__ import annotations

import argparse
import http.client
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from processes import rss_mb  # benchmarks/processes.py, beside this script
from server import BIN, PROJECT, free_port, wait_for  # benchmarks/server.py

MEDIA = {"nquads": "application/n-quads", "trig": "application/trig", "jsonld": "application/ld+json"}


def download(port: int, media: str, address: str, read: list[int]) -> None:
    """One client, from a loopback address of its own, reading /data to its end in pieces, keeping none;
    a 503 with Retry-After (the dump being written) is asked again when it says."""
    while True:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600, source_address=(address, 0))
        connection.request("GET", "/data", headers={"Accept": media})
        reply = connection.getresponse()
        wait = reply.getheader("Retry-After")
        if reply.status != 503 or wait is None:
            break
        reply.read()
        connection.close()
        time.sleep(float(wait))
    total = 0
    while piece := reply.read(1 << 20):
        total += len(piece)
    read.append(total if reply.status == 200 else -reply.status)


def _read_ahead(log: Path, serving: subprocess.Popen[bytes]) -> None:
    """Wait until the server has read ahead (its answers, pictures and search index: memory of its
    own), so that the growth measured is the dump's."""
    while not re.search(rb"read ahead of generation \S+ in ", log.read_bytes()):
        if serving.poll() is not None:
            raise SystemExit(f"kg serve stopped: {log.read_text()}")
        time.sleep(0.5)


def measure(endpoint: str, clients: int, media: str, options: argparse.Namespace, logs: Path) -> str:
    port = free_port()
    command = [str(BIN / "kg"), "--project", str(PROJECT), "serve", "--store", endpoint, "--port", str(port)]
    command += ["--workers", str(options.workers), "--timeout", str(options.timeout)]
    said = logs / f"serve-{clients}.log"
    with said.open("wb") as log:
        serving = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(port, "/sparql?query=ASK%7B%7D", serving)
        _read_ahead(said, serving)
        Path(f"/proc/{serving.pid}/clear_refs").write_text("5")  # the high-water mark from here on
        before = rss_mb(serving.pid)
        read: list[int] = []
        started = time.monotonic()
        threads = [
            threading.Thread(target=download, args=(port, media, f"127.0.1.{1 + n}", read))
            for n in range(clients)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.monotonic() - started
        peak = rss_mb(serving.pid, "VmHWM")  # the kernel's high-water mark
    finally:
        serving.terminate()
        serving.wait(30)
    sizes = ", ".join(f"{size / 2**20:.1f}" if size >= 0 else f"HTTP {-size}" for size in sorted(read))
    growth = peak - before
    return f"| {clients:>7} | {before:>9.0f} | {peak:>7.0f} | {growth:>6.0f} | {seconds:>6.1f} | {sizes} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project", type=Path, required=True, help="a built project (its dist/)")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 3])
    parser.add_argument("--format", choices=sorted(MEDIA), default="nquads")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=120, help="kg serve's time limit: a graph's answer")
    options = parser.parse_args()
    dump = options.project / "dist" / "opioid-kg.nq"
    with tempfile.TemporaryDirectory(prefix="kg-dump-") as folder:
        location = Path(folder) / "oxigraph"
        subprocess.run([str(BIN / "oxigraph"), "load", "--location", location, "--file", dump], check=True)
        port = free_port()
        oxigraph = subprocess.Popen(
            [str(BIN / "oxigraph"), "serve-read-only", "--location", location, "--bind", f"127.0.0.1:{port}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for(port, "/query?query=ASK%7B%7D", oxigraph)
            print(f"{dump.stat().st_size / 2**20:.0f} MB of N-Quads behind; /data as {options.format}")
            print("| clients | before MB | peak MB | growth | wall s | MB read by each |")
            print("|--------:|----------:|--------:|-------:|-------:|-----------------|")
            for clients in options.clients:
                line = measure(
                    f"http://127.0.0.1:{port}/query",
                    clients,
                    MEDIA[options.format],
                    options,
                    Path(folder),
                )
                print(line, flush=True)
        finally:
            oxigraph.terminate()
            oxigraph.wait(30)


if __name__ == "__main__":
    sys.exit(main())
