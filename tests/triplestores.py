"""Real triple stores on free loopback ports for the push and remote-store tests, and a proxy that fails.

Nothing here imitates a store: each class starts the real server binary in a
temporary folder, waits until it answers, and kills it on request.
"""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BufferedIOBase
from pathlib import Path
from typing import Self

import httpx

OXIGRAPH = Path(sys.executable).with_name("oxigraph")
VIRTUOSO = shutil.which("virtuoso-t")
ISQL = shutil.which("isql-vt")  # Virtuoso's SQL client, from the same Debian package


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_answers(url: str, process: subprocess.Popen[bytes], seconds: float, log: Path) -> None:
    """Return once `process` listens on the port of `url` and answers there: another program holding
    the port would answer in its place, so the port is first checked to be the process's own."""
    port = httpx.URL(url).port
    assert port is not None
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"server exited with {process.returncode}: {log.read_text(errors='replace')[-2000:]}"
            )
        if listens_on(process.pid, port):
            try:
                httpx.get(url, timeout=2)
                return
            except httpx.HTTPError:
                pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(
        f"server did not answer {url} within {seconds} s: {log.read_text(errors='replace')[-2000:]}"
    )


def port_taken(log: str) -> bool:
    """Whether a server's log says it could not listen because its port was taken: the system's error,
    or Virtuoso's own words for its HTTP port."""
    return "Address already in use" in log or "Failed HTTP listen" in log


def listens_on(pid: int, port: int) -> bool:
    """Whether process `pid` holds the socket listening on TCP `port` (from /proc, Linux)."""
    listening = {
        fields[9]
        for fields in (line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:])
        if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port
    }
    held = set()
    for descriptor in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(descriptor)
        except OSError:
            continue
        if target.startswith("socket:["):
            held.add(target[len("socket:[") : -1])
    return bool(listening & held)


class OxigraphServer:
    """`oxigraph serve` on a data folder; it can be killed and started again on the same data."""

    def __init__(self, location: Path) -> None:
        self.location = location
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    query = property(lambda self: f"{self.base}/query")
    update = property(lambda self: f"{self.base}/update")
    gsp = property(lambda self: f"{self.base}/store")

    def start(self, attempts: int = 3) -> OxigraphServer:
        """Start on the data folder and return once it answers. A port another program took since
        (between a kill and this start, or since `free_port`) is not the server's fault: it starts
        again on a new port, and the URLs follow."""
        log = self.location.with_suffix(".log")
        written = log.stat().st_size if log.exists() else 0
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [
                    str(OXIGRAPH),
                    "serve",
                    "--location",
                    str(self.location),
                    "--bind",
                    f"127.0.0.1:{self.port}",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_until_answers(f"{self.query}?query=ASK%7B%7D", self.process, 30, log)
        except RuntimeError:
            with log.open("rb") as told:
                told.seek(written)
                if attempts <= 1 or not port_taken(told.read().decode(errors="replace")):
                    raise
            self.port = free_port()
            self.base = f"http://127.0.0.1:{self.port}"
            return self.start(attempts - 1)
        return self

    def kill(self) -> None:
        """SIGKILL: no chance to finish what it was doing."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


VIRTUOSO_INI = """\
[Database]
DatabaseFile = {dir}/virtuoso.db
ErrorLogFile = {dir}/virtuoso.log
LockFile = {dir}/virtuoso.lck
TransactionFile = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {dir}/virtuoso-temp.db
TransactionFile = {dir}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
DisableTcpSocket = 0
MaxClientConnections = 10
CheckpointInterval = 60
CaseMode = 2
DirsAllowed = ., {dir}
NumberOfBuffers = {buffers}
MaxDirtyBuffers = {dirty_buffers}
ThreadsPerQuery = 2

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {dir}
MaxClientConnections = 10
ServerThreads = 10
MaxKeepAlives = 10
KeepAliveTimeout = 10
Charset = UTF-8
EnabledGzipContent = 0

[Client]
SQL_PREFETCH_ROWS = 100
SQL_PREFETCH_BYTES = 16000
SQL_QUERY_TIMEOUT = 0
SQL_TXN_TIMEOUT = 0

[SPARQL]
ResultSetMaxRows = {max_rows}
MaxQueryCostEstimationTime = 400
MaxQueryExecutionTime = 60
"""


COST_LIMIT = "MaxQueryCostEstimationTime = 400\n"


class VirtuosoServer:
    """OpenLink Virtuoso with its own virtuoso.ini, database and ports in a temporary folder.

    A fresh database has the account dba/dba, which the SPARQL endpoints
    ending in -auth accept by HTTP Digest authentication.
    """

    def __init__(
        self, directory: Path, *, cost_limit: bool = True, buffers: int = 10_000, max_rows: int = 100_000
    ) -> None:
        """`cost_limit` False leaves out MaxQueryCostEstimationTime, as Debian's default virtuoso.ini does;
        `buffers` is NumberOfBuffers, 8 KB pages of cache (Debian's virtuoso.ini suggests 170,000 where
        2 GB of memory are free), MaxDirtyBuffers three fifths of it; `max_rows` is ResultSetMaxRows,
        the most rows of an answer (Debian's virtuoso.ini has 10,000)."""
        self.directory = directory
        self.cost_limit = cost_limit
        self.buffers = buffers
        self.max_rows = max_rows
        self.sql_port = free_port()
        self.http_port = free_port()
        self.base = f"http://127.0.0.1:{self.http_port}"
        self.process: subprocess.Popen[bytes] | None = None

    query = property(lambda self: f"{self.base}/sparql-auth")
    update = property(lambda self: f"{self.base}/sparql-auth")
    gsp = property(lambda self: f"{self.base}/sparql-graph-crud-auth")
    credentials = ("dba", "dba")

    def start(self) -> VirtuosoServer:
        return self.launch().wait()

    def launch(self) -> VirtuosoServer:
        """Start the server without waiting for it (several can start at once); `wait` follows."""
        assert VIRTUOSO is not None
        self.directory.mkdir(parents=True, exist_ok=True)
        ini = self.directory / "virtuoso.ini"
        settings = VIRTUOSO_INI if self.cost_limit else VIRTUOSO_INI.replace(COST_LIMIT, "")
        ini.write_text(
            settings.format(
                dir=self.directory,
                sql_port=self.sql_port,
                http_port=self.http_port,
                buffers=self.buffers,
                dirty_buffers=self.buffers * 3 // 5,
                max_rows=self.max_rows,
            )
        )
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [VIRTUOSO, "+foreground", "+configfile", str(ini)],
                cwd=self.directory,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    @property
    def log(self) -> Path:
        return self.directory / "stdout.log"

    def wait(self, attempts: int = 3) -> VirtuosoServer:
        """Return once the server answers. A port taken by another program between `free_port` and
        the server's start (it takes seconds) is not the server's fault: it starts again on new ports."""
        assert self.process is not None
        try:
            wait_until_answers(f"{self.base}/sparql?query=ASK%7B%7D", self.process, 120, self.log)
        except RuntimeError:
            if attempts <= 1 or not port_taken(self.log.read_text(errors="replace")):
                raise
            (self.directory / "virtuoso.lck").unlink(missing_ok=True)  # the exited server's
            self.sql_port, self.http_port = free_port(), free_port()
            self.base = f"http://127.0.0.1:{self.http_port}"
            return self.launch().wait(attempts - 1)
        return self

    def sql(self, statements: str) -> str:
        """Run SQL statements through isql, as an administrator would; what it printed, or
        RuntimeError naming the statement that failed."""
        assert ISQL is not None
        user, password = self.credentials
        ran = subprocess.run(
            [ISQL, str(self.sql_port), user, password, f"exec={statements}"],
            capture_output=True,
            text=True,
            timeout=3_600,
            check=False,
        )
        printed = ran.stdout + ran.stderr
        if ran.returncode != 0 or "*** Error" in printed:
            raise RuntimeError(f"isql failed ({ran.returncode}) on {statements!r}: {printed}")
        return printed

    def kill(self) -> None:
        """SIGKILL: no chance to finish what it was doing, nor to write a checkpoint."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)


class _Handler(BaseHTTPRequestHandler):
    """A proxy's request handler: quiet, one request per connection, and one way to answer."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def chunked(self) -> bool:
        return self.headers.get("transfer-encoding", "").lower() == "chunked"

    def answer(self, status: int, reason: str, headers: dict[str, str], content: bytes) -> None:
        self.close_connection = True  # one request per connection: no handler outlives its answer
        self.send_response(status, reason)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("content-length", str(len(content)))
        self.send_header("connection", "close")
        self.end_headers()
        self.wfile.write(content)


class _LoopbackProxy:
    """A proxy served on a loopback port by a handler class, in a thread of its own while in use."""

    def _serve(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return self.base + path

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class FailingProxy(_LoopbackProxy):
    """A loopback HTTP proxy that forwards the first `healthy` requests, then calls `on_failure`
    once and answers every later request with 503, as a store under maintenance would.

    With `cut=True` the first failing request is not refused outright: half its body goes to
    the store, which is left waiting for the rest while `on_failure` runs (a crash mid-upload).
    With `refuse_chunked=True` a body sent in chunks, without a length, is answered 501, as
    Virtuoso answers it. With `outage=N` only N requests fail, and later ones are forwarded
    again. Every request is recorded as (method, path, body bytes, chunked).
    """

    def __init__(
        self,
        upstream: str,
        healthy: int,
        on_failure: Callable[[], None] = lambda: None,
        *,
        cut: bool = False,
        refuse_chunked: bool = False,
        outage: int | None = None,
    ) -> None:
        self.upstream = httpx.URL(upstream)
        self.healthy = healthy
        self.on_failure = on_failure
        self.cut = cut
        self.refuse_chunked = refuse_chunked
        self.outage = outage
        self.forwarded = 0
        self.failed = 0
        self.requests: list[tuple[str, str, int, bool]] = []
        self.bodies: list[bytes] = []  # of the requests recorded, in the same order
        self.half_sent: http.client.HTTPConnection | None = None
        self._lock = threading.Lock()
        proxy = self

        class Handler(_Handler):
            def _any(self) -> None:
                chunked = self.chunked()
                body = read_body(self.rfile, self.headers.get("content-length"), chunked)
                with proxy._lock:
                    proxy.requests.append((self.command, self.path, len(body), chunked))
                    proxy.bodies.append(body)
                if chunked and proxy.refuse_chunked:
                    self.answer(501, "Method Not Implemented", {"content-type": "text/plain"}, b"no\n")
                    return
                with proxy._lock:
                    over = proxy.outage is not None and proxy.failed >= proxy.outage
                    forwarding = proxy.forwarded < proxy.healthy or over
                    if forwarding:
                        proxy.forwarded += 1
                    else:
                        if proxy.failed == 0:
                            if proxy.cut:
                                self._send_half(body)
                            proxy.on_failure()
                        proxy.failed += 1
                if not forwarding:
                    self.answer(503, "Service Unavailable", {"content-type": "text/plain"}, b"down\n")
                    return
                self.answer(*forward(proxy.upstream, self.command, self.path, self.headers, body))

            def _send_half(self, body: bytes) -> None:
                """The request line, every header (the full length among them) and half the body."""
                connection = http.client.HTTPConnection(proxy.upstream.host, proxy.upstream.port, timeout=60)
                connection.putrequest(self.command, self.path, skip_accept_encoding=True)
                for key, value in forwarded_headers(self.headers, body).items():
                    connection.putheader(key, value)
                connection.endheaders()
                connection.send(body[: len(body) // 2])
                time.sleep(0.5)  # the store is reading the body, inside its transaction
                proxy.half_sent = connection  # kept open until the store dies

            do_GET = do_POST = do_PUT = do_DELETE = _any

        self._serve(Handler)

    def __exit__(self, *exc: object) -> None:
        super().__exit__(*exc)
        if self.half_sent is not None:
            self.half_sent.close()

    def sent(self, method: str, path: str) -> list[int]:
        """Body sizes of the requests recorded with this method and path (its query string aside)."""
        return [size for m, p, size, _ in self.requests if m == method and p.split("?")[0] == path]


WRITE_PATHS = ("/update", "/store")  # Oxigraph's SPARQL Update and Graph Store endpoints; /query only reads


class WriteFaultProxy(_LoopbackProxy):
    """A loopback HTTP proxy that forwards every request to a real store but fails its `nth` write
    (a request to the update or Graph Store endpoint; with `match`, counting only the writes whose body
    holds it) in one of four ways:

    - "before": answers 500 without forwarding it, so the store applies nothing;
    - "after": forwards it, lets the store apply it, then answers 500;
    - "drop": forwards it, lets the store apply it, then closes the connection without an answer;
    - "hang": forwards it, lets the store apply it, then sends nothing until the proxy closes (a store
      slower than the client's time limit);
    - "late": answers 504 at once and forwards it LATE seconds later, after the client has gone on (a
      gateway past its own time limit, with the request still queued behind it); the proxy waits for
      it to be carried out before it closes.

    Every write is recorded as (method, path, answer status or 0 for none); `resent` counts the writes
    whose body is that of the failed one, sent again after it.
    """

    LATE = 1.5

    def __init__(self, upstream: str, nth: int, how: str, match: bytes | None = None) -> None:
        assert how in ("before", "after", "drop", "hang", "late")
        self._late: list[threading.Thread] = []
        self.upstream = httpx.URL(upstream)
        self.nth = nth
        self.how = how
        self.match = match
        self.failed: bytes | None = None  # the body of the write failed
        self.resent = 0
        self.writes: list[tuple[str, str, int]] = []
        self._lock = threading.Lock()
        self._seen = 0
        self._closing = threading.Event()
        proxy = self

        class Handler(_Handler):
            def _any(self) -> None:
                body = read_body(self.rfile, self.headers.get("content-length"), self.chunked())
                self.close_connection = True  # one request per connection, answered or not
                failing = proxy._count_write(self.path, body)
                if failing and proxy.how == "before":
                    proxy._record(self.command, self.path, 500)
                    self.answer(500, "Internal Server Error", {"content-type": "text/plain"}, b"failed\n")
                    return
                if failing and proxy.how == "late":
                    proxy._record(self.command, self.path, 504)
                    proxy._forward_late(self.command, self.path, self.headers, body)
                    self.answer(504, "Gateway Timeout", {"content-type": "text/plain"}, b"timed out\n")
                    return
                status, reason, headers, content = forward(
                    proxy.upstream, self.command, self.path, self.headers, body
                )
                if not failing:
                    if _writes(self.path):
                        proxy._record(self.command, self.path, status)
                    self.answer(status, reason, headers, content)
                elif proxy.how == "after":
                    proxy._record(self.command, self.path, 500)
                    self.answer(
                        500, "Internal Server Error", {"content-type": "text/plain"}, b"failed late\n"
                    )
                else:  # "drop" or "hang": the store applied it; its answer never comes back
                    proxy._record(self.command, self.path, 0)
                    if proxy.how == "hang":
                        proxy._closing.wait()

            do_GET = do_POST = do_PUT = do_DELETE = _any

        self._serve(Handler)

    def __exit__(self, *exc: object) -> None:
        self._closing.set()
        for late in self._late:
            late.join()
        super().__exit__(*exc)

    def _forward_late(self, method: str, path: str, headers: Message, body: bytes) -> None:
        """Send the request on to the store LATE seconds from now, in a thread of its own."""

        def send() -> None:
            time.sleep(self.LATE)
            forward(self.upstream, method, path, headers, body)

        late = threading.Thread(target=send, name="late-write")
        late.start()
        self._late.append(late)

    def _count_write(self, path: str, body: bytes) -> bool:
        """Count a write (with `match`, one whose body holds it); whether it is the one to fail."""
        if not _writes(path) or (self.match is not None and self.match not in body):
            return False
        with self._lock:
            self.resent += body == self.failed
            self._seen += 1
            if self._seen == self.nth:
                self.failed = body
            return self._seen == self.nth

    def _record(self, method: str, path: str, status: int) -> None:
        with self._lock:
            self.writes.append((method, path.split("?")[0], status))


def _writes(path: str) -> bool:
    return path.split("?")[0] in WRITE_PATHS


def read_body(rfile: BufferedIOBase, length: str | None, chunked: bool) -> bytes:
    """A request body, whether its length is given or it comes in chunks."""
    if not chunked:
        return rfile.read(int(length or 0))
    chunks = []
    while size := int(rfile.readline().split(b";")[0], 16):
        chunks.append(rfile.read(size))
        rfile.readline()
    while rfile.readline() not in (b"\r\n", b"\n", b""):  # trailer fields
        pass
    return b"".join(chunks)


def forward(
    upstream: httpx.URL, method: str, path: str, received: Message, body: bytes
) -> tuple[int, str, dict[str, str], bytes]:
    """Send a request on to the store, with its length rather than in chunks; its whole answer."""
    connection = http.client.HTTPConnection(upstream.host, upstream.port, timeout=60)
    try:
        connection.request(method, path, body=body, headers=forwarded_headers(received, body))
        response = connection.getresponse()
        content = response.read()
        kept = {k: v for k, v in response.getheaders() if k.lower() in ("content-type", "www-authenticate")}
        return response.status, response.reason, kept, content
    finally:
        connection.close()


def forwarded_headers(received: Message, body: bytes) -> dict[str, str]:
    """The headers a request goes on to the store with: its own, with the body's length, not chunked."""
    dropped = ("host", "connection", "transfer-encoding", "content-length")
    headers = {k: v for k, v in received.items() if k.lower() not in dropped}
    headers["content-length"] = str(len(body))
    return headers
