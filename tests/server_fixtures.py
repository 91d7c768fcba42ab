"""A real `kg serve` process on a free loopback port, a plain HTTP client that never raises on status,
and, for an app made in the test's process, the search index's reading delayed, broken or refused.

The server tests start the command exactly as a user would (waitress, worker
processes, a built store), so nothing here stands in for the server.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from kg.query.internal import internal

PROJECT = Path(__file__).resolve().parent.parent
KG = Path(sys.executable).with_name("kg")
# A product of five patterns over the whole graph: a query that runs into any time limit a test sets.
EXPLOSIVE = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n2 ?o }"


# The line `kg serve` writes once it listens: "serving … on http://127.0.0.1:PORT/ (SPARQL at /sparql)".
_SERVING = re.compile(r" on (http://127\.0\.0\.1:\d+)/ \(SPARQL at /sparql\)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> object:
        return json.loads(self.body)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip()


@dataclass
class RunningServer:
    base: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def endpoint(self) -> str:
        return self.base + "/sparql"

    def request(
        self,
        path: str,
        *,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
        params: dict[str, str | list[str]] | None = None,
        timeout: float = 30,
        source: str = "127.0.0.1",
        follow: bool = True,
    ) -> Reply:
        """One request from the loopback address `source` (127.0.0.x: distinct clients to the server);
        with `follow` False a redirect is the reply, as a client that looks at it sees it."""
        target = path + ("?" + urllib.parse.urlencode(params, doseq=True) if params else "")
        parsed = urllib.parse.urlsplit(self.base)
        for _ in range(5):
            connection = http.client.HTTPConnection(
                parsed.hostname, parsed.port, timeout=timeout, source_address=(source, 0)
            )
            try:
                method = "POST" if data is not None else "GET"
                connection.request(method, target, body=data, headers=headers or {})
                response = connection.getresponse()
                headers_read = {k.lower(): v for k, v in response.getheaders()}
                reply = Reply(response.status, headers_read, response.read())
            finally:
                connection.close()
            if not (follow and reply.status in (301, 302, 303, 307, 308)):
                return reply
            moved = urllib.parse.urlsplit(urllib.parse.urljoin(target, reply.headers["location"]))
            target = moved.path + ("?" + moved.query if moved.query else "")
            if reply.status == 303:
                data = None
        return reply

    def get(
        self, path: str, accept: str | None = None, source: str = "127.0.0.1", **params: str | list[str]
    ) -> Reply:
        """A GET with `params` in its URL, a parameter given as a list once for each of its values."""
        return self.request(
            path, headers={"Accept": accept} if accept else {}, params=params or None, source=source
        )

    def get_unfollowed(self, path: str, accept: str) -> Reply:
        return self.request(path, headers={"Accept": accept}, follow=False)

    def post_form(
        self, path: str, fields: dict[str, str], accept: str | None = None, source: str = "127.0.0.1"
    ) -> Reply:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if accept:
            headers["Accept"] = accept
        return self.request(
            path, data=urllib.parse.urlencode(fields).encode(), headers=headers, source=source
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def start_server(
    store: Path | str, log_dir: Path, *options: str, launcher: Sequence[str] = (), ready: int = 200
) -> RunningServer:
    """`kg serve` on `store`, a folder (with the build output beside it, where there is one) or an
    endpoint's URL, on a port the system picks (`--port 0`, read back from its log, so that parallel
    tests never race for one); returns once /sparql answers a client's query with status `ready`, or
    fails with the server's log. `launcher` is a command that runs the rest, as the test of Ctrl-C
    starts it in the foreground."""
    if isinstance(store, Path) and (store.parent / "dist").is_dir():
        options = ("--dist", str(store.parent / "dist"), *options)
    handle, name = tempfile.mkstemp(prefix="serve-", suffix=".log", dir=log_dir)
    log = Path(name)
    with os.fdopen(handle, "wb") as output:
        process = subprocess.Popen(
            [*launcher, str(KG), "--project", str(PROJECT), "serve", "--store", str(store), "--port", "0"]
            + list(options),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    server: RunningServer | None = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"kg serve exited with {process.returncode}: {log.read_text(errors='replace')}"
            )
        if server is None:
            found = _SERVING.search(log.read_text(errors="replace"))
            if found:
                server = RunningServer(found.group(1), process, log)
        if server is not None:
            try:
                if server.get("/sparql", "application/sparql-results+json", query="ASK {}").status == ready:
                    return server
            except (OSError, http.client.HTTPException):  # not listening yet
                pass
        time.sleep(0.2)
    process.terminate()
    process.wait(15)
    raise RuntimeError(f"kg serve did not answer within 60 s: {log.read_text(errors='replace')}")


def serving(store: Path, log_dir: Path, *options: str) -> Iterator[RunningServer]:
    """A fixture's body: `kg serve` on `store` with `options` while the fixture lasts (`yield from`)."""
    running = start_server(store, log_dir, *options)
    yield running
    running.stop()


def on_reading_the_index(app, meanwhile: Callable[[], object]) -> list[str]:
    """Each reading of the search index's texts by `app`'s query workers, recorded, `meanwhile` done
    first (it may wait or raise); deleting the pool's `run` ends it."""
    pool = app.extensions["kg"].current.services.pool
    texts = internal("search-texts").text
    run = pool.run
    read: list[str] = []

    def reading(query, client=None):
        if query.text == texts:
            read.append(query.text)
            meanwhile()
        return run(query, client)

    pool.run = reading
    return read
