"""Queries run in worker processes that are killed at the time limit.

Oxigraph cannot be interrupted inside a thread, so a time limit that really
stops the work needs a process: each worker opens the store once, answers one
query at a time over a pipe, and is killed and replaced when a query overruns.
The server's threads keep answering while a worker is busy or being replaced.
"""

from __future__ import annotations

import queue
import socket
import subprocess
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from kg.errors import EXIT_FAILED, KgError
from kg.query.run import QueryError, binding_terms, collect, syntax_error
from kg.store.base import Store

Binding = tuple[str, str, str | None]
# A worker is a fresh interpreter that imports only this module, so it starts in a fraction of a
# second whatever program embeds the server, and a replacement never inherits a busy thread's locks.
_WORKER_MAIN = "import sys; from kg.server.workers import worker_main; worker_main(int(sys.argv[1]))"


@dataclass(frozen=True)
class Answer:
    """A serialized answer: its kind (select, ask, graph), format, bytes and whether rows were capped."""

    kind: str
    output_format: str
    body: bytes
    truncated: bool
    count: int


class ServiceError(KgError):
    """A failure with an HTTP status, a message and, for syntax errors, a line and column."""

    exit_code = EXIT_FAILED

    def __init__(self, status: int, message: str, line: int | None = None, column: int | None = None):
        super().__init__(message, status=status, line=line, column=column)


def worker_main(fd: int) -> None:
    """Entry point of a worker process: its first message is the store factory."""
    connection = Connection(fd)
    _serve(connection, connection.recv())


def _serve(connection: Connection, store_factory: Callable[[], Store]) -> None:
    """The worker's loop: open the store, then answer requests until the pipe closes."""
    store = store_factory()
    connection.send(("ready",))
    while True:
        try:
            request = connection.recv()
        except EOFError:
            return
        text, bindings, max_rows, output_format, union = request
        try:
            try:
                answer = store.query(text, binding_terms(bindings), union_default_graph=union)
                result = collect(answer, max_rows)
            except SyntaxError as error:
                raise syntax_error(error) from None
            except (RuntimeError, ValueError, OSError) as error:
                raise QueryError(str(error)) from None
            chosen = output_format or ("turtle" if result.kind == "graph" else "json")
            body = result.serialize(chosen)
            count = len(result.triples) if result.kind == "graph" else len(result.rows)
            connection.send(("ok", result.kind, chosen, body, result.truncated, count))
        except QueryError as error:
            connection.send(("error", 400, error.message, error.line, error.column))
        except Exception as error:  # noqa: BLE001 - a worker reports, it never dies on bad input
            connection.send(("error", 500, f"the query failed: {type(error).__name__}", None, None))


class _Worker:
    def __init__(self, store_factory: Callable[[], Store]) -> None:
        ours, theirs = socket.socketpair()
        self.process = subprocess.Popen(
            [sys.executable, "-c", _WORKER_MAIN, str(theirs.fileno())],
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
        )
        theirs.close()
        self.connection = Connection(ours.detach())
        self.connection.send(store_factory)

    def ready(self, seconds: float = 60) -> bool:
        """Whether the worker opened its store; a worker that cannot is stopped."""
        if self.connection.poll(seconds):
            try:
                return self.connection.recv() == ("ready",)
            except EOFError:
                return False
        return False

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(5)
        self.connection.close()


class AnswerCache:
    """Recent answers by query, parameters and format, within a byte budget.

    The store behind a server is read-only, so an answer stays right for the
    server's life; a repeated question costs no worker at all.
    """

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.used = 0
        self._answers: OrderedDict[tuple[object, ...], Answer] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[object, ...]) -> Answer | None:
        with self._lock:
            answer = self._answers.get(key)
            if answer is not None:
                self._answers.move_to_end(key)
            return answer

    def put(self, key: tuple[object, ...], answer: Answer) -> None:
        size = len(answer.body) + sum(len(str(part)) for part in key)
        if size > self.budget // 4:
            return
        with self._lock:
            if key in self._answers:
                return
            self._answers[key] = answer
            self.used += size
            while self.used > self.budget:
                old_key, old = self._answers.popitem(last=False)
                self.used -= len(old.body) + sum(len(str(part)) for part in old_key)


class WorkerPool:
    """A fixed number of query workers; a caller borrows one, or gets 503 when all stay busy."""

    def __init__(
        self, store_factory: Callable[[], Store], size: int, timeout: float, cache_bytes: int = 0
    ) -> None:
        self.store_factory = store_factory
        self.timeout = timeout
        self.cache = AnswerCache(cache_bytes) if cache_bytes > 0 else None
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        for _ in range(size):
            self._add()

    def _add(self) -> None:
        worker = _Worker(self.store_factory)
        if not worker.ready():
            worker.stop()
            raise RuntimeError(f"a query worker could not open the store (exit {worker.process.returncode})")
        with self._lock:
            self._all.add(worker)
        self._idle.put(worker)

    def _replace(self, worker: _Worker) -> None:
        with self._lock:
            self._all.discard(worker)
        worker.stop()
        self._add()

    def run(
        self,
        text: str,
        bindings: dict[str, Binding] | None = None,
        *,
        max_rows: int | None = None,
        output_format: str | None = None,
        union_default_graph: bool = True,
    ) -> Answer:
        """Answer `text` in `output_format` (None: JSON results or Turtle), within the time limit.

        The default graph is the union of the named graphs unless the query names its dataset.
        """
        key = (text, tuple(sorted((bindings or {}).items())), max_rows, output_format, union_default_graph)
        cached = self.cache.get(key) if self.cache else None
        if cached is not None:
            return cached
        answer = self._run(text, bindings, max_rows, output_format, union_default_graph)
        if self.cache is not None:
            self.cache.put(key, answer)
        return answer

    def _run(
        self,
        text: str,
        bindings: dict[str, Binding] | None,
        max_rows: int | None,
        output_format: str | None,
        union_default_graph: bool,
    ) -> Answer:
        try:
            worker = self._idle.get(timeout=self.timeout)
        except queue.Empty:
            raise ServiceError(503, "every query worker is busy; try again shortly") from None
        try:
            worker.connection.send((text, dict(bindings or {}), max_rows, output_format, union_default_graph))
            if not worker.connection.poll(self.timeout):
                threading.Thread(target=self._replace, args=(worker,), daemon=True).start()
                raise ServiceError(504, f"the query was stopped at the time limit of {self.timeout:g} s")
            reply: Any = worker.connection.recv()
        except (EOFError, OSError, BrokenPipeError):
            threading.Thread(target=self._replace, args=(worker,), daemon=True).start()
            raise ServiceError(503, "the query worker stopped; try again") from None
        self._idle.put(worker)
        if reply[0] == "error":
            raise ServiceError(*reply[1:])
        return Answer(*reply[1:])

    def close(self) -> None:
        with self._lock:
            workers, self._all = list(self._all), set()
        for worker in workers:
            worker.stop()
