"""The query workers are forked from a fork server: a fresh interpreter that has loaded the
worker's code and built rdflib's SPARQL grammar once.

Started as a new interpreter, a worker cost about 0.2 s of CPU before it could answer (importing
rdflib and building that grammar take most of it), and a pool starts a worker after every query
stopped at the time limit: a client sending such queries made the server pay that on each request.
A fork costs milliseconds. The fork server forks from a single thread and opens no store, so a worker
never inherits a lock another thread held, and opens its own store as before. It reaps the workers
and tells the pool how each one ended, which only a parent can learn.

A fork server may instead hold a store in memory (`kg serve --in-memory`, see `kg.server.held`): it
copies the store before it forks any worker, and its workers read that copy. A child process reads
the store on disk for it (`kg.store.memory`), so the store's engine never runs in the fork server;
while it copies, one more thread ends the fork server at once if the pool hangs up (a copy of a large
store takes minutes, and the fork server reads no request meanwhile), and that thread is gone before
the first fork.
"""

from __future__ import annotations

import atexit
import logging
import os
import select
import selectors
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import suppress

from kg.processes import die_with

from . import guard, held
from .log_lines import configure_logging
from .sandbox import no_core_files, worker_environment

log = logging.getLogger(__name__)

_MAIN = (
    "import sys; from kg.server.forkserver import serve; from kg.server.worker import worker_main; "
    "serve(int(sys.argv[1]), worker_main, *sys.argv[2:])"
)
# A report of the fork server: b"r" once it is ready to fork (its store held, if it holds one), b"f"
# with the pid of a worker it forked (and a pidfd of it), b"e" with the errno of a fork that failed,
# or b"x" with the pid and exit code (negative: the signal that killed it) of a worker that ended.
_REPORT = struct.Struct("!cii")


class _ForkFailed(OSError):
    """The fork server is well but could not fork (no memory or process left): it goes on serving."""


class _NeverReady(OSError):
    """The fork server ended before it could fork: the store it was to hold could not be copied."""


HOLD_RETRY = 30.0  # seconds before a store that could not be held is copied again


class ForkServer:
    """The pool's side: asks for workers, learns how they ended; a fork server that died is started
    again on the next fork. Pools use the process's `shared` one, or one of their own holding their
    store in memory (`holding`: the built store's path). A store that could not be held, or whose
    fork server died within HOLD_RETRY seconds of its start, is copied again only HOLD_RETRY seconds
    later: each try reads the whole store, and every worker the pool starts meanwhile asks for one."""

    def __init__(self, holding: str | None = None) -> None:
        self._lock = threading.Lock()  # one fork at a time: the next "forked" report is its pid
        self._running: _Running | None = None
        self._closed = False
        self._holding = holding
        # when holding the store last failed (or the fork server holding it last started, if it ended
        # since), and why: no copy is started again within HOLD_RETRY seconds of it
        self._unready: tuple[float, str] | None = None

    def fork(self, connection: socket.socket) -> Forked:
        """A new worker process that will run `kg.server.worker.worker_main` over `connection` (the
        caller closes its copy); OSError if it could not be forked. A fork server that ended meanwhile
        may have forked it: the caller must not give the same connection again."""
        with self._lock:
            if self._closed:
                raise OSError("the pool is closed")
            if self._running is not None and self._running.ended:
                ended, self._running = self._running, None
                ended.stop()
                if self._holding is not None:  # a copy dying soon after it was made is not made again at once
                    self._unready = (ended.started, ended.why_ended())
            if self._running is None:
                if self._unready is not None and time.monotonic() - self._unready[0] < HOLD_RETRY:
                    raise _NeverReady(self._unready[1])
                self._running = _Running(self._holding)
                if self._closed:  # closed as it started: `close` may not have seen it
                    self._running.stop()
                    raise OSError("the pool is closed")
            running = self._running
            try:
                return running.fork(connection)
            except _ForkFailed:
                raise
            except _NeverReady as never:
                self._unready = (time.monotonic(), str(never))
                running.stop()
                raise
            except OSError:
                running.stop()
                raise

    def close(self) -> None:
        """Stop the fork server for good; its workers die with it (see `serve`). Without waiting for a
        fork under way: one waiting for a store to be copied fails as the fork server ends."""
        self._closed = True
        running = self._running
        if running is not None:
            running.stop()


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

    def __init__(self, holding: str | None) -> None:
        self.holding = holding
        self.started = time.monotonic()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.process = subprocess.Popen(
            [sys.executable, "-c", _MAIN, str(theirs.fileno()), *([holding] if holding else [])],
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
            env=worker_environment(),
        )
        theirs.close()
        self.control = ours
        self.reported = threading.Condition()
        self.ready = False  # it reported that it forks now (a held store takes a while to copy)
        self.forked: list[tuple[int, int | None]] = []  # pid and pidfd of each worker not yet claimed
        self.failed: list[int] = []  # the errno of each fork that failed
        self.codes: dict[int, int] = {}  # exit codes of ended workers, until their owner reads them
        self.finished = False  # every report read: the fork server ended and told all it will tell
        threading.Thread(target=self._read, daemon=True).start()

    def fork(self, connection: socket.socket) -> Forked:
        socket.send_fds(self.control, [b"f"], [connection.fileno()])
        with self.reported:
            # as long as it takes to copy a held store; a fork server that dies doing it is finished
            self.reported.wait_for(lambda: self.ready or self.finished)
            if not self.ready:
                raise _NeverReady(self.why_ended())
            if not self.reported.wait_for(lambda: self.forked or self.failed or self.finished, timeout=30):
                raise OSError("the fork server did not answer within 30 s")
            if self.failed:
                number = self.failed.pop()
                raise _ForkFailed(number, f"the fork server could not fork: {os.strerror(number)}")
            if not self.forked:
                raise OSError(f"the fork server ended (exit {self.process.poll()})")
            return Forked(self, *self.forked.pop())

    @property
    def ended(self) -> bool:
        return self.process.poll() is not None

    def why_ended(self) -> str:
        """Why this fork server ended, from how it ended and whether it was ready to fork."""
        code = self.process.poll()
        if code is None or code >= 0:
            how = f"exit {code}" if code is not None else "it stopped answering"
        else:
            name = signal.Signals(-code).name
            likely = " (most likely out of memory)" if -code in (signal.SIGABRT, signal.SIGKILL) else ""
            how = f"killed by {name}{likely}"
        if self.ready:
            holding = f" holding the store at {self.holding}" if self.holding else ""
            return f"the fork server{holding} ended ({how})"
        if self.holding is None:
            return f"the fork server ended before it could fork ({how})"
        said = "; the server's log says why" if code is not None and code > 0 else ""
        return f"the store at {self.holding} could not be held in memory ({how}{said})"

    def exit_code(self, pid: int, seconds: float) -> int | None:
        """The exit code of worker `pid` once reported, waiting at most `seconds`; None meanwhile, or
        if this fork server ended first and every report it sent is read (given once: `Forked` keeps
        it)."""
        with self.reported:
            self.reported.wait_for(lambda: pid in self.codes or self.finished, timeout=seconds)
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
            while True:
                report, fds, _, _ = socket.recv_fds(self.control, _REPORT.size, 1, socket.MSG_CMSG_CLOEXEC)
                if not report:
                    break
                kind, pid, code = _REPORT.unpack(report)
                with self.reported:
                    if kind == b"r":
                        self.ready = True
                    elif kind == b"f":
                        self.codes.pop(pid, None)  # an earlier process's code, if its pid came back
                        self.forked.append((pid, fds[0] if fds else None))
                    elif kind == b"e":
                        self.failed.append(code)
                    else:
                        self.codes[pid] = code
                    self.reported.notify_all()
        with suppress(subprocess.TimeoutExpired):
            self.process.wait(5)  # so that `ended` holds for whoever waits on a report
        with self.reported:
            self.finished = True
            self.reported.notify_all()


class Forked:
    """A worker process forked by a fork server: what `subprocess.Popen` offers of a child, for a
    process that is not the pool's own child. It is signalled through a pidfd, which names this
    process and no later one that gets its pid."""

    def __init__(self, parent: _Running, pid: int, pidfd: int | None) -> None:
        self.parent = parent
        self.pid = pid
        self.pidfd = pidfd
        self.returncode: int | None = None
        self.released = False
        self._signalling = threading.Lock()  # a kill from another thread never uses a closed pidfd

    def wait(self, seconds: float) -> int | None:
        """The exit code once the worker ended, waiting at most `seconds`; None if it still runs, or
        if it outlived its fork server, which alone could tell."""
        if self.returncode is None:
            self.returncode = self.parent.exit_code(self.pid, seconds)
        return self.returncode

    def alive(self) -> bool:
        """Whether the process still runs and will: one whose fork server ended is dying with it, though
        it may not have ended yet (a pidfd becomes readable when it has)."""
        if self.parent.ended:
            return False
        if self.pidfd is None:
            return self.wait(0) is None
        return not select.select([self.pidfd], [], [], 0)[0]

    def kill(self) -> None:
        with self._signalling, suppress(ProcessLookupError):
            if self.released:
                return  # stopped already: its pid (or the number of its pidfd) may be another's by now
            if self.pidfd is not None:
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
            elif self.wait(0) is None:  # without a pidfd: only while its exit is not reported
                os.kill(self.pid, signal.SIGKILL)

    def close(self) -> None:
        """Let go of the pidfd (after `kill` and `wait`); the process is not signalled again."""
        with self._signalling:
            self.released = True
            if self.pidfd is not None:
                os.close(self.pidfd)
                self.pidfd = None


def serve(fd: int, worker_main: Callable[[int], None], holding: str | None = None) -> None:
    """The fork server's loop over its control socket `fd`: fork a worker running `worker_main` for
    each socket received, report its pid (with a pidfd) or why it could not fork, and report each
    worker's exit as it is reaped; return when the pool closes. Its workers die with it. With
    `holding`, the store at that path is first copied into memory for every worker to read."""
    # Here and in every worker, what a client's query makes a library log, into the server's log as it
    # was; what a worker writes on its stderr past the log (the two lines of Oxigraph's allocator as it
    # aborts, past the worker's memory) comes back here through a pipe, and is logged as a record is:
    # timed, one line, each place once a minute. It had gone into the log raw, once per such query.
    configure_logging(logging.WARNING, os.fdopen(os.dup(2), "w", buffering=1))
    written, writer = os.pipe()
    os.set_blocking(written, False)
    no_core_files()  # inherited by every worker from its fork, before it runs anything
    guard.read("ASK {}", frozenset())  # rdflib's SPARQL grammar is built once, for every worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C stops the server, which closes the pipes
    control = socket.socket(fileno=fd)
    if holding is not None:
        _hold(holding, control)
    try:
        control.send(_REPORT.pack(b"r", 0, 0))
    except OSError:
        return  # the pool hung up as the copy ended
    woken, wake = os.pipe()
    os.set_blocking(woken, False)
    os.set_blocking(wake, False)
    signal.set_wakeup_fd(wake)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # a handler, so that the wake-up byte is written
    selector = selectors.DefaultSelector()
    selector.register(control, selectors.EVENT_READ)
    selector.register(woken, selectors.EVENT_READ)
    selector.register(written, selectors.EVENT_READ)
    server = os.getpid()
    unended = b""  # the start of a line a worker has not ended yet
    while True:
        for key, _ in selector.select():
            if key.fileobj == written:
                unended = _log_written(written, unended)
            elif key.fileobj is control:
                message, fds, _, _ = socket.recv_fds(control, 1, 1)
                if not message:
                    return
                try:
                    pid = os.fork()
                except OSError as error:
                    os.close(fds[0])
                    control.send(_REPORT.pack(b"e", 0, error.errno or 0))
                    continue
                if pid == 0:
                    os.dup2(writer, 2)
                    _run_worker(
                        worker_main, fds[0], server, (selector, (woken, wake, written, writer), control)
                    )
                os.close(fds[0])
                _report_fork(control, pid)
            else:
                with suppress(BlockingIOError):
                    os.read(woken, 4096)
                _reap(control)


def _hold(path: str, control: socket.socket) -> None:
    """Copy the store at `path` into memory for the workers to come; exit 1 saying why if it cannot be
    copied (every fork waiting then fails with the exit), and at once if the pool hangs up meanwhile."""
    copied = threading.Event()
    watcher = threading.Thread(target=_end_on_hangup, args=(control, copied), daemon=True)
    watcher.start()
    try:
        held.hold(path)
    except (OSError, MemoryError) as error:
        log.error("the store at %s could not be held in memory: %s", path, error)
        sys.exit(1)
    finally:
        copied.set()
        watcher.join()  # before the first fork: a worker inherits a process of one thread


def _end_on_hangup(control: socket.socket, copied: threading.Event) -> None:
    """End this process if the pool's end of `control` closes before `copied` is set: the server
    stopped or died while a store was copied, and nothing else would stop the copy."""
    poller = select.poll()
    poller.register(control, select.POLLRDHUP)  # a hang-up is reported whatever is asked
    while not copied.is_set():
        for _, events in poller.poll(200):
            if events & (select.POLLHUP | select.POLLRDHUP | select.POLLERR):
                os._exit(0)


def _report_fork(control: socket.socket, pid: int) -> None:
    """Report a new worker, with a pidfd of it where the system has them: taken before it is reaped
    (only this process reaps it, and not before this returns), so it names that worker."""
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        control.send(_REPORT.pack(b"f", pid, 0))
        return
    try:
        socket.send_fds(control, [_REPORT.pack(b"f", pid, 0)], [pidfd])
    finally:
        os.close(pidfd)


def _run_worker(
    main: Callable[[int], None],
    fd: int,
    server: int,
    inherited: tuple[selectors.BaseSelector, tuple[int, ...], socket.socket],
) -> None:
    """In a forked child: die with the fork server (so no worker outlives the one process that can
    reap it), let go of what the fork server holds, reset the signals it handles (SIGINT stays
    ignored: the server stops its workers), run the worker; never return."""
    code = 0
    try:
        if not die_with(server):
            os._exit(1)  # the fork server died already
        selector, pipes, control = inherited
        selector.close()
        control.close()
        for held_open in pipes:
            os.close(held_open)
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        main(fd)
    except BaseException:  # noqa: BLE001 - whatever ends the worker, the process must end here
        log.exception("a query worker failed")
        code = 1
    finally:
        os._exit(code)


WRITTEN_LINE = 4096  # bytes of a line a worker writes past the log, at which it is logged cut


def _log_written(fd: int, unended: bytes) -> bytes:
    """Log each line the workers ended on their stderr (see `serve`), as one record each; return the
    start of a line not ended yet."""
    with suppress(BlockingIOError):
        unended += os.read(fd, 1 << 16)
    *lines, unended = unended.split(b"\n")
    if len(unended) >= WRITTEN_LINE:
        lines, unended = [*lines, unended], b""
    for line in lines:
        if line.strip():
            log.warning("a query worker wrote: %s", line.decode("utf-8", "replace"))
    return unended


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
