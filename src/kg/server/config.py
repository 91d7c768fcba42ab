"""Settings of a running server: where the data is and the limits that protect it."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kg.query.run import MAX_NESTING
from kg.store.base import Store

from ..namespaces import BASE

DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_ROWS = 10_000
DEFAULT_MAX_QUERY_LENGTH = 100_000
DEFAULT_MAX_BODY = 1_000_000
DEFAULT_CACHE_MB = 64
DEFAULT_MAX_NESTING = MAX_NESTING
DEFAULT_WORKER_MEMORY_MB = 1024
DEFAULT_QUEUE_WAIT = 2.0
DEFAULT_HTML_ROWS = 500


@dataclass(frozen=True)
class ServerConfig:
    """Everything create_app needs; the limits are reported by the service description and /api.

    `store_factory` is called once in each query worker process, so it must be
    picklable (a class or functools.partial) and return anything that follows
    the Store protocol.
    """

    store_factory: Callable[[], Store]
    project: Path = Path(".")
    built: Path | None = None  # the build output holding the dataset's description; PROJECT/dist if None
    timeout: float = DEFAULT_TIMEOUT
    max_rows: int = DEFAULT_MAX_ROWS
    max_query_length: int = DEFAULT_MAX_QUERY_LENGTH
    max_body: int = DEFAULT_MAX_BODY
    workers: int = field(default_factory=lambda: max(2, os.cpu_count() or 2))
    cache_mb: int = DEFAULT_CACHE_MB
    canonical_base: str = BASE
    max_nesting: int = DEFAULT_MAX_NESTING
    worker_memory_mb: int = DEFAULT_WORKER_MEMORY_MB
    queue_wait: float = DEFAULT_QUEUE_WAIT
    client_queries: int = 0  # 0: half the workers, at least one
    html_rows: int = DEFAULT_HTML_ROWS
    isolate_network: bool = True

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
            "max_query_length": self.max_query_length,
            "max_nesting": self.max_nesting,
            "max_body_bytes": self.max_body,
            "workers": self.workers,
            "worker_memory_mb": self.worker_memory_mb,
            "queries_per_client": self.queries_per_client,
            "queue_wait_s": self.queue_wait,
            "html_rows": self.html_rows,
            "cache_mb": self.cache_mb,
        }
