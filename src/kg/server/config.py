"""Settings of a running server: where the data is and the limits that protect it."""

from __future__ import annotations

import ipaddress
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from kg.query.run import MAX_NESTING

from ..namespaces import BASE

DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_ROWS = 10_000
# The server's own reads (network pictures, charts, search index) grow with the data, not with what a
# client asks: at a million triples the flow network reads 24,600 rows.
DEFAULT_OWN_MAX_ROWS = 1_000_000
DEFAULT_MAX_QUERY_LENGTH = 100_000
DEFAULT_MAX_BODY = 1_000_000
DEFAULT_CACHE_MB = 64
DEFAULT_MAX_NESTING = MAX_NESTING
DEFAULT_WORKER_MEMORY_MB = 1024
DEFAULT_QUEUE_WAIT = 2.0
DEFAULT_STORE_REFRESH = 300.0  # seconds: a store given by URL is read again, as a new generation
DEFAULT_CLIENT_BUDGET = 60.0
DEFAULT_HTML_ROWS = 500
THREADS_PER_WORKER = 4
DEFAULT_MAX_ANSWER_MB = 16  # of a client's query's answer as written: a short text makes long values


@dataclass(frozen=True)
class ServerConfig:
    """Everything create_app needs; the limits are reported by the service description and /api.

    `store` is an embedded store's folder (or the link to the current generation
    of one, which the server follows to each new build) or a SPARQL endpoint's
    URL. `base_url` is where clients reach this server, written into the VoID
    and service descriptions instead of whatever Host a request names.
    """

    store: str
    base_url: str = "http://127.0.0.1:5000/"
    project: Path = Path(".")
    built: Path | None = None  # the build output holding the dataset's description; PROJECT/dist if None
    timeout: float = DEFAULT_TIMEOUT
    max_rows: int = DEFAULT_MAX_ROWS
    own_max_rows: int = DEFAULT_OWN_MAX_ROWS
    max_query_length: int = DEFAULT_MAX_QUERY_LENGTH
    max_body: int = DEFAULT_MAX_BODY
    workers: int = field(default_factory=lambda: max(2, os.cpu_count() or 2))
    cache_mb: int = DEFAULT_CACHE_MB
    canonical_base: str = BASE
    max_nesting: int = DEFAULT_MAX_NESTING
    worker_memory_mb: int = DEFAULT_WORKER_MEMORY_MB
    queue_wait: float = DEFAULT_QUEUE_WAIT
    client_queries: int = 0  # 0: half the workers, at least one
    client_budget: float = DEFAULT_CLIENT_BUDGET  # worker-seconds, halving every minute
    html_rows: int = DEFAULT_HTML_ROWS
    max_answer_mb: int = DEFAULT_MAX_ANSWER_MB
    isolate_network: bool = True
    in_memory: bool = False  # each generation's store copied into memory once, read by every worker
    threads: int = 0  # HTTP threads; 0: THREADS_PER_WORKER for each worker
    store_refresh: float = DEFAULT_STORE_REFRESH  # a store given by URL; 0: read once

    @property
    def page_rows(self) -> int:
        """Rows a page shows of an answer, or a picture is drawn from: `html_rows`, but never more than
        a client's answer may hold (`max_rows`), which the page's downloads hold."""
        return min(self.html_rows, self.max_rows)

    @property
    def http_threads(self) -> int:
        return self.threads or THREADS_PER_WORKER * self.workers

    @property
    def costly_threads(self) -> tuple[int, int, int]:
        """The HTTP threads costly work (queries, pictures, searches) may hold at once: of all clients,
        of one, and more for light clients. A quarter of them, at least two, are kept from all but light
        clients, and one thread from those too, for pages, files and cached answers; one client takes at
        most half the rest (at least two), or the queries it may run, if more."""
        kept = max(2, self.http_threads // 4)
        costly = max(1, self.http_threads - kept)
        reserve = max(0, self.http_threads - costly - 1)  # of the threads kept, one stays for light work
        return costly, min(costly, max(2, costly // 2, self.queries_per_client)), reserve

    @property
    def queries(self) -> Path:
        return self.project / "queries"

    @property
    def dist(self) -> Path:
        return self.built if self.built is not None else self.project / "dist"

    @property
    def sources(self) -> Path:
        return self.project / "sources"

    @property
    def queries_per_client(self) -> int:
        """Queries one client may run at once: by default half the workers, so others are answered."""
        return self.client_queries or max(1, self.workers // 2)

    def settings(self) -> dict[str, float | int]:
        """The limits as named settings, as the API and the docs report them."""
        return {
            "timeout_s": self.timeout,
            "max_rows": self.max_rows,
            "max_answer_mb": self.max_answer_mb,
            "own_max_rows": self.own_max_rows,
            "max_query_length": self.max_query_length,
            "max_nesting": self.max_nesting,
            "max_body_bytes": self.max_body,
            "workers": self.workers,
            "worker_memory_mb": self.worker_memory_mb,
            "queries_per_client": self.queries_per_client,
            "queue_wait_s": self.queue_wait,
            "client_budget_s": self.client_budget,
            "html_rows": self.html_rows,
            "cache_mb": self.cache_mb,
            "store_refresh_s": self.store_refresh,
        }


def public_base(given: str | None, host: str, port: int) -> str:
    """The server's public base URL, ending in `/`: the one given, or the address it listens on.

    Raises ValueError for anything but an absolute http(s) URL without query or fragment, and where
    none is given for a server listening on every address (0.0.0.0, ::): `http://0.0.0.0:PORT/` in a
    citation names no server a reader can open.
    """
    if given is None:
        if _every_address(host):
            raise ValueError(
                f"--host {host} listens on every address, so no address of it names this server in the"
                " citations, VoID and API it writes: give --base-url, the URL readers reach it by"
            )
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}/"
    parts = urlsplit(given)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"{given!r} is not an absolute http(s) URL without query or fragment")
    return given if given.endswith("/") else given + "/"


def _every_address(host: str) -> bool:
    """Whether `host` is the address that stands for every address of the machine, however it is
    written: the system reads `0` (and `0.0`) as 0.0.0.0 too."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_unspecified
    except ValueError:
        pass
    try:
        return socket.inet_aton(host) == bytes(4)
    except OSError:
        return host == ""
