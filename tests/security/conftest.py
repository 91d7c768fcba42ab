"""A real `kg serve` for the security suite: two workers, short limits, its log kept for the report."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from exposed_limits import CONNECTIONS_PER_CLIENT, IDLE_TIMEOUT, REQUEST_TIMEOUT, TIMEOUT
from server_fixtures import RunningServer, serving


@pytest.fixture(scope="package")
def exposed(built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    yield from serving(
        built.store_path,
        tmp_path_factory.mktemp("exposed"),
        "--workers",
        "2",
        "--timeout",
        str(TIMEOUT),
        "--queue-wait",
        "4",
        "--worker-memory-mb",
        "1024",
        "--request-timeout",
        str(REQUEST_TIMEOUT),
        "--idle-timeout",
        str(IDLE_TIMEOUT),
        "--connections-per-client",
        str(CONNECTIONS_PER_CLIENT),
    )
