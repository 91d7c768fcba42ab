"""The query workers are forked from a fork server: a fresh interpreter that has loaded the
worker's code and built rdflib's SPARQL grammar once.

Started as a new interpreter, a worker cost about 0.2 s of CPU before it could answer (importing
rdflib and building that grammar take most of it), and a pool starts a worker after every query
stopped at the time limit: a client sending such queries made the server pay that on each request.
A fork costs milliseconds. The fork server runs a single thread and opens no store, so a worker never
inherits a lock another thread held, and opens its own store as before. It reaps the workers and
tells the pool how each one ended, which only a parent can learn.
"""

from __future__ import annotations

import atexit
import os
import selectors
import signal
import socket
import struct
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable
from contextlib import suppress

from . import guard
from .sandbox import worker_environment

_MAIN = (
    "import sys; from kg.server.forkserver import serve; from kg.server.workers import worker_main; "
    "serve(int(sys.argv[1]), worker_main)"
)
# A report of the fork server: b"f" with the pid of a worker it forked, or b"x" with the pid and exit
# code (negative: the signal that killed it) of a worker that ended.
_REPORT = struct.Struct("!cii")


class ForkServer:
    """The pool's side: asks for workers, learns how they ended; a fork server that died is started
    again on the next fork. Pools use the process's `shared` one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # one fork at a time: the next "forked" report is its pid
        self._running: _Running | None = None
        self._closed = False

    def fork(self, connection: socket.socket) -> Forked:
        """A new worker process that will run `kg.server.workers.worker_main` over `connection` (the
        caller closes its copy); OSError if the fork server could not fork it. A fork server that
        ended meanwhile may have forked it: the caller must not give the same connection again."""
        with self._lock:
            if self._closed:
                raise OSError("the pool is closed")
            if self._running is not None and self._running.ended:
                self._running.stop()
                self._running = None
            if self._running is None:
                self._running = _Running()
            try:
                return self._running.fork(connection)
            except OSError:
                self._running.stop()
                raise

    def close(self) -> None:
        """Stop the fork server for good; workers it forked stop when their pool closes their pipes."""
        with self._lock:
            self._closed = True
            if self._running is not None:
                self._running.stop()


_shared: ForkServer | None = None
_shared_lock = threading.Lock()


def shared() -> ForkServer:
    """The process's fork server, started on first use and stopped when the process exits: every pool
    of the process forks from it, so a new generation's workers start in milliseconds too."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = ForkServer()
            atexit.register(_shared.close)
        return _shared


class _Running:
    """One fork server process, its control socket, and what it reported."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.process = subprocess.Popen(
            [sys.executable, "-c", _MAIN, str(theirs.fileno())],
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
            env=worker_environment(),
        )
        theirs.close()
        self.control = ours
        self.reported = threading.Condition()
        self.forked: list[int] = []
        self.codes: dict[int, int] = {}  # exit codes of ended workers, until their owner reads them
        threading.Thread(target=self._read, daemon=True).start()

    def fork(self, connection: socket.socket) -> Forked:
        socket.send_fds(self.control, [b"f"], [connection.fileno()])
        with self.reported:
            if not self.reported.wait_for(lambda: self.forked or self.ended, timeout=30):
                raise OSError("the fork server did not answer within 30 s")
            if not self.forked:
                raise OSError(f"the fork server ended (exit {self.process.poll()})")
            return Forked(self, self.forked.pop())

    @property
    def ended(self) -> bool:
        return self.process.poll() is not None

    def exit_code(self, pid: int, seconds: float) -> int | None:
        """The exit code of worker `pid` once reported, waiting at most `seconds`; None meanwhile, or
        if this fork server ended first (given once: `Forked` keeps it)."""
        with self.reported:
            self.reported.wait_for(lambda: pid in self.codes or self.ended, timeout=seconds)
            return self.codes.pop(pid, None)

    def stop(self) -> None:
        """Close the control socket, so that the fork server ends, and wait for it."""
        with suppress(OSError):  # shut down first: the reading thread holds the socket open
            self.control.shutdown(socket.SHUT_RDWR)
        self.control.close()
        with suppress(subprocess.TimeoutExpired):
            self.process.wait(5)
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)

    def _read(self) -> None:
        """Hand each report of the fork server to whoever waits for it, until it ends."""
        with suppress(OSError):
            while report := self.control.recv(_REPORT.size):
                kind, pid, code = _REPORT.unpack(report)
                with self.reported:
                    if kind == b"f":
                        self.forked.append(pid)
                    else:
                        self.codes[pid] = code
                    self.reported.notify_all()
        with suppress(subprocess.TimeoutExpired):
            self.process.wait(5)  # so that `ended` holds for whoever waits on a report
        with self.reported:
            self.reported.notify_all()


class Forked:
    """A worker process forked by a fork server: what `subprocess.Popen` offers of a child, for a
    process that is not the pool's own child."""

    def __init__(self, parent: _Running, pid: int) -> None:
        self.parent = parent
        self.pid = pid
        self.returncode: int | None = None

    def wait(self, seconds: float) -> int | None:
        """The exit code once the worker ended, waiting at most `seconds`; None if it still runs."""
        if self.returncode is None:
            self.returncode = self.parent.exit_code(self.pid, seconds)
        return self.returncode

    def kill(self) -> None:
        if self.wait(0) is None:  # not reaped yet, so its pid is still its own
            with suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)


def serve(fd: int, worker_main: Callable[[int], None]) -> None:
    """The fork server's loop over its control socket `fd`: fork a worker running `worker_main` for
    each socket received, report its pid, and report each worker's exit as it is reaped; return when
    the pool closes."""
    guard.read("ASK {}", frozenset())  # rdflib's SPARQL grammar is built once, for every worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C stops the server, which closes the pipes
    control = socket.socket(fileno=fd)
    woken, wake = os.pipe()
    os.set_blocking(woken, False)
    os.set_blocking(wake, False)
    signal.set_wakeup_fd(wake)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # a handler, so that the wake-up byte is written
    selector = selectors.DefaultSelector()
    selector.register(control, selectors.EVENT_READ)
    selector.register(woken, selectors.EVENT_READ)
    while True:
        for key, _ in selector.select():
            if key.fileobj is control:
                message, fds, _, _ = socket.recv_fds(control, 1, 1)
                if not message:
                    return
                pid = os.fork()
                if pid == 0:
                    selector.close()
                    for open_fd in (woken, wake, control.fileno()):
                        os.close(open_fd)
                    _run_worker(worker_main, fds[0])
                os.close(fds[0])
                control.send(_REPORT.pack(b"f", pid, 0))
            else:
                with suppress(BlockingIOError):
                    os.read(woken, 4096)
                _reap(control)


def _run_worker(main: Callable[[int], None], fd: int) -> None:
    """In a forked child: undo the fork server's signal set-up, run the worker, and never return."""
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    code = 0
    try:
        main(fd)
    except BaseException:  # noqa: BLE001 - whatever ends the worker, the process must end here
        traceback.print_exc()
        code = 1
    finally:
        os._exit(code)


def _reap(control: socket.socket) -> None:
    """Report the exit of every worker that ended."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        control.send(_REPORT.pack(b"x", pid, os.waitstatus_to_exitcode(status)))
