"""Settings of a running server: where the data is and the limits that protect it."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kg.store.base import Store

from ..namespaces import BASE

DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_ROWS = 10_000
DEFAULT_MAX_QUERY_LENGTH = 100_000
DEFAULT_MAX_BODY = 1_000_000
DEFAULT_CACHE_MB = 64


@dataclass(frozen=True)
class ServerConfig:
    """Everything create_app needs; the limits are reported by the service description and /api.

    `store_factory` is called once in each query worker process, so it must be
    picklable (a class or functools.partial) and return anything that follows
    the Store protocol.
    """

    store_factory: Callable[[], Store]
    project: Path = Path(".")
    timeout: float = DEFAULT_TIMEOUT
    max_rows: int = DEFAULT_MAX_ROWS
    max_query_length: int = DEFAULT_MAX_QUERY_LENGTH
    max_body: int = DEFAULT_MAX_BODY
    workers: int = field(default_factory=lambda: max(2, os.cpu_count() or 2))
    cache_mb: int = DEFAULT_CACHE_MB
    canonical_base: str = BASE

    @property
    def queries(self) -> Path:
        return self.project / "queries"

    @property
    def sources(self) -> Path:
        return self.project / "sources"

    def settings(self) -> dict[str, float | int]:
        """The limits as named settings, as the API and the docs report them."""
        return {
            "timeout_s": self.timeout,
            "max_rows": self.max_rows,
            "max_query_length": self.max_query_length,
            "max_body_bytes": self.max_body,
            "workers": self.workers,
            "cache_mb": self.cache_mb,
        }
