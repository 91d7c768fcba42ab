"""The server's log, in every one of its processes (the web process, the fork server, each query worker):
one line per record, a bounded number of them per place in the code.

A client's text reaches libraries that log: rdflib warns, with its traceback,
for each literal it cannot read as its datatype, so one query of 200 such
literals wrote 1,801 lines through Python's last-resort handler of a worker,
which had no logging set up. Here no record is longer than a line, none carries
a traceback (the exception's type, first line and place instead; the server's
own reading of a new build, which no client asks for, keeps its tracebacks), and
a place in the code logs at most once a minute (the request log and the reading
of a build aside), saying how many it left out.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import time
import traceback
from typing import TextIO

ACCESS = "kg.access"  # one line per request, never left out
QUIET = ("matplotlib", "PIL", "fontTools", "urllib3", "httpx", "httpcore", "waitress.queue")
# The server's reading of a build it takes up: no client's request leads there, and a defect found there
# is best read with its traceback.
WHOLE = ("kg.server.generation", "kg.server.read_ahead")
AGAIN = 60.0  # seconds before a place in the code is logged again
LONGEST = 1000  # characters of a record's line
# What a log line must not hold as it is: line breaks and controls (a forged line, a terminal's escape
# sequence).
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def shown(text: str) -> str:
    """`text` with its control characters written as escapes (`\\x0a`)."""
    return _CONTROLS.sub(lambda control: f"\\x{ord(control.group()):02x}", text)


class OneLine(logging.Formatter):
    """A record as one line: time, message, and an exception's type, first line and place."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(message)s", "%Y-%m-%d %H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        if record.name.startswith(WHOLE):
            return super().format(record)
        message = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            message += f" ({_summary(record.exc_info[1])})"
        line = f"{self.formatTime(record, self.datefmt)} {shown(message)}"
        return line if len(line) <= LONGEST else line[: LONGEST - 1] + "…"


def _summary(error: BaseException) -> str:
    """An exception in a few words: its type, its message's first line and where it was raised."""
    said = str(error).strip().splitlines()
    place = traceback.extract_tb(error.__traceback__)[-1:] if error.__traceback__ else []
    where = f" at {place[0].filename}:{place[0].lineno}" if place else ""
    return f"{type(error).__name__}: {said[0][:200] if said else ''}{where}"


class Seldom(logging.Filter):
    """Each place in the code logs at most once every AGAIN seconds, the request log and the reading of
    a build aside (one line per request, per page read); the next record from a place says how many of
    its records were left out meanwhile."""

    def __init__(self) -> None:
        super().__init__()
        self._last: dict[tuple[str, int], float] = {}
        self._left_out: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == ACCESS or record.name.startswith(WHOLE):
            return True
        place, now = (record.pathname, record.lineno), time.monotonic()
        with self._lock:
            if now - self._last.get(place, -AGAIN) < AGAIN:
                self._left_out[place] = self._left_out.get(place, 0) + 1
                return False
            self._last[place] = now
            left_out = self._left_out.pop(place, 0)
        if left_out:
            record.msg = f"{record.getMessage()} ({left_out} more like it left out)"
            record.args = None
        return True


def configure_logging(level: int = logging.INFO, stream: TextIO | None = None) -> None:
    """Requests and warnings on stderr (or `stream`), one line each, in the process that calls it and
    those it forks; Python's warnings among them; the noisy libraries at WARNING. The query workers log
    from WARNING (`level`): httpx, reaching a store behind, logs each request at INFO with its URL,
    password and all."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(OneLine())
    handler.addFilter(Seldom())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.captureWarnings(True)
