"""The one root of every error a user can see, and what it means to the command line and the server.

Each error says in its class what it is to the two front ends: the exit status
of `kg` and the HTTP status of `kg serve`. Both read these fields and nothing
else, so a new error needs no new handler.
"""

from __future__ import annotations

import signal

EXIT_FAILED = 1  # the input was understood but the work failed: violations, a push that did not verify
EXIT_BAD_INPUT = 2  # the input is wrong or missing: a file, a name, a parameter, a store


def signal_exit(name: str) -> int:
    """The status a shell reports for a command the signal `name` stopped: 128 + its number (130 for
    Ctrl-C, 143 for SIGTERM, 141 for a closed pipe)."""
    return 128 + signal.Signals[name].value


def stopped_by(error: KeyboardInterrupt) -> str:
    """The signal behind an interrupt: SIGINT, unless a handler named another (`kg build` turns
    SIGTERM into an interrupt, so that what it wrote is removed)."""
    named = error.args[0] if error.args else "SIGINT"
    return named if named in signal.Signals.__members__ else "SIGINT"


class KgError(Exception):
    """An error meant for the user: a one-line message naming the place, an exit status and an HTTP
    status; `line` and `column` locate a syntax error in the text the user gave."""

    exit_code: int = EXIT_BAD_INPUT
    status: int = 400
    retry_after: int | None = None  # seconds before asking again is worth it (HTTP Retry-After)

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        exit_code: int | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        if exit_code is not None:  # this error's own status, where its class's does not fit
            self.exit_code = exit_code
        self.line = line
        self.column = column
        self.public = message  # what a client of the server may be told (see kg.store.base.StoreFailed)
