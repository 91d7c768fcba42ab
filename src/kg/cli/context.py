"""What every sub-command shares: the project, the store it names, and the one way to fail.

Every command reaches the context the same way (`pass_context`), names its
store with the same `--store` option (an embedded store's folder or a SPARQL
endpoint URL), and ends on an error the same way: a `KgError` raised anywhere
reaches the root group, which prints its one-line message and exits with its
status (`kg.errors`: 1 when the work failed, 2 when the input is wrong or missing).
"""

from __future__ import annotations

import io
import os
import signal
import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import NoReturn, TypeVar, cast

import click

from kg.errors import KgError
from kg.store.base import DEFAULT_STORE, ENDPOINT_TIMEOUT, Store, shown_url
from kg.store.embedded import EmbeddedStore, check_built
from kg.store.integrity import check_intact
from kg.store.opening import is_endpoint, open_store

F = TypeVar("F", bound=Callable[..., object])


class StoreSpec(click.ParamType):
    """A store as the user names it: an embedded store's folder, or an http(s) SPARQL endpoint URL."""

    name = "PATH|URL"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> str:
        return str(value)


class Seconds(click.ParamType):
    """A number of seconds (or worker-seconds), above 0 unless `zero` is allowed, and at most the
    longest wait Python's threads take: a negative number, a NaN, an infinity or a longer wait would
    break a limit or turn it off without a word."""

    name = "SECONDS"

    def __init__(self, zero: bool = False) -> None:
        self.zero = zero

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> float:
        try:
            number = float(cast(str, value))
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if not 0 <= number <= threading.TIMEOUT_MAX or (number == 0 and not self.zero):
            least = "0 or more" if self.zero else "above 0"
            most = f"{threading.TIMEOUT_MAX:.0f}"
            self.fail(f"{value!r} is not a number of seconds {least}, at most {most}", param, ctx)
        return number


def count_option(flag: str, default: int | None, help: str) -> Callable[[F], F]:
    """An option that takes a whole number of at least 1: a count or a limit, never 0 or below."""
    shown = default is not None
    return click.option(flag, type=click.IntRange(min=1), default=default, show_default=shown, help=help)


def choice_option(flag: str, name: str, choices: list[str], default: str, help: str) -> Callable[[F], F]:
    """An option that takes one of `choices`, its default shown in --help."""
    return click.option(flag, name, type=click.Choice(choices), default=default, show_default=True, help=help)


def store_option(
    help: str = "Store to read: an embedded store's folder or a SPARQL endpoint URL",
    *,
    endpoint_timeout: bool = True,
    folder_only: bool = False,
) -> Callable[[F], F]:
    """The one `--store` option of every command that reads or writes a store; with `endpoint_timeout`,
    also `--store-timeout`, which the command reads through its `Context` (`open_store`). A command
    that needs the store's folder (`folder_only`: to write it, to read it whole) shows it as a PATH."""
    store = click.option(
        "--store",
        "store_spec",
        type=StoreSpec(),
        default=None,
        metavar="PATH" if folder_only else None,
        help=f"{help} [default: PROJECT/{DEFAULT_STORE}].",
    )
    if folder_only or not endpoint_timeout:
        return store
    waits = click.option(
        "--store-timeout",
        type=Seconds(),
        default=ENDPOINT_TIMEOUT,
        show_default=True,
        expose_value=False,
        callback=_set_store_timeout,
        help="Seconds a SPARQL endpoint's whole answer may take, from the request to its last byte "
        "(a --store URL only: an embedded store's query runs to its end).",
    )
    return lambda command: store(waits(command))


def _set_store_timeout(ctx: click.Context, param: click.Parameter, seconds: float) -> None:
    ctx.ensure_object(Context).store_timeout = seconds


class Context:
    """Where the project and its build outputs are, shared by every sub-command."""

    def __init__(self, project: Path) -> None:
        self.project = project
        self.dist = project / "dist"
        self.store = project / DEFAULT_STORE
        self.store_timeout = ENDPOINT_TIMEOUT  # seconds an endpoint's answer may take (`--store-timeout`)

    def store_spec(self, given: str | None) -> str:
        """The store named on the command line, else the project's embedded store."""
        return given if given is not None else str(self.store)

    def open_store(self, given: str | None) -> Store:
        """The store to read, embedded or remote; an embedded one as its build left it (`check_intact`:
        a damaged store is answered wrongly, or read until memory runs out)."""
        spec = self.store_spec(given)
        if not is_endpoint(spec):
            _check_embedded(Path(spec))
        return open_store(spec, self.store_timeout)

    def store_path(self, given: str | None, needs: str) -> Path:
        """The folder of an embedded store, for a command that `needs` one (to write it, to stream it)."""
        spec = self.store_spec(given)
        if is_endpoint(spec):
            raise KgError(
                shown_url(f"{needs} needs an embedded store's folder, not the endpoint {spec}", spec)
            )
        return Path(spec)

    def embedded_store(self, given: str | None, needs: str) -> EmbeddedStore:
        """The embedded store a command `needs` to read whole (a push, a validation), as its build left
        it, every file read to be compared: the engine may read a damaged block past all memory."""
        path = self.store_path(given, needs)
        _check_embedded(path, whole=True)
        return EmbeddedStore(path)


def _check_embedded(path: Path, *, whole: bool = False) -> None:
    """The embedded store at `path` built and as its build left it, checked before it is opened (a
    FIFO among its files would hold the opening): by each file's size and time, and its digest
    where its time differs, since a command may read only a little of it; or every file `whole`."""
    check_built(path)
    check_intact(path, whole=whole)


pass_context = click.make_pass_decorator(Context)
# The file a command writes (a folder there is refused as click refuses any wrong value; a file that
# cannot be written is said by `kg.files.write_output`).
output_option = click.option(
    "-o", "--output", type=click.Path(path_type=Path, dir_okay=False), required=True, help="File to write."
)


def file_format_option(
    extensions: Mapping[str, str], default: str | None, help: str | None = None
) -> Callable[[F], F]:
    """--format of a command that writes `-o FILE`: one of the formats `extensions` maps file
    extensions to, left to FILE's extension when not given (see `file_format`)."""
    choices = list(dict.fromkeys(extensions.values()))
    shown = "the extension of -o FILE" + (f", else {default}" if default else "")
    said = f"{help.rstrip('.')} [default: {shown}]." if help else f"[default: {shown}]."
    return click.option("--format", "fmt", type=click.Choice(choices), default=None, help=said)


def file_format(
    output: Path, given: str | None, extensions: Mapping[str, str], default: str | None, packed: str = ""
) -> str:
    """The format to write `output` in: --format's, else the one its extension names (the one before
    `packed`, `.gz`, where it ends so), else `default`. A --format its extension contradicts is
    refused: `-o chart.png` holding SVG opens nowhere, and so is a name ending `.gz` where the
    command does not compress (`packed` empty): a plain file so named unpacks nowhere."""
    if not packed and output.suffix.lower() == ".gz":
        raise KgError(f"-o {output}: this command writes no gzip file; name it without .gz")
    named_by = output.with_suffix("") if packed and output.suffix.lower() == packed else output
    named = extensions.get(named_by.suffix.lower().lstrip("."))
    if given is not None and named is not None and given != named:
        said = f"the name says {named}, --format says {given}; make them agree or leave --format out"
        raise KgError(f"-o {output}: {said}")
    chosen = given or named or default
    if chosen is None:
        endings = ", ".join(f".{extension}" for extension in extensions)
        raise KgError(f"-o {output}: give --format, or a name ending in one of {endings}")
    return chosen


STDOUT = 1  # standard output's file descriptor
T = TypeVar("T")


def interrupt(signum: int, frame: object) -> NoReturn:
    """A signal handler that stops the command as Ctrl-C does: a KeyboardInterrupt naming the signal,
    so that what the command leaves is cleaned up and said (`kg build` removes what it staged)."""
    raise KeyboardInterrupt(signal.Signals(signum).name)


def interruptible(work: Callable[[], T]) -> T:
    """`work()`, worked out in a thread of its own while this one waits, so that Ctrl-C and SIGTERM stop
    the command at once: the store answers a query without returning to Python, which handles a signal
    only between its own steps (a query of 28 s held Ctrl-C off to its end). The store lets go of
    Python's lock while it works; the thread is a daemon, left to end with the process."""
    done: list[T] = []
    failed: list[BaseException] = []

    def run() -> None:
        try:
            done.append(work())
        except BaseException as error:  # handed to the waiting thread, which raises it
            failed.append(error)

    worker = threading.Thread(target=run, name="kg-work", daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(0.1)  # a signal is handled between two waits
    if failed:
        raise failed[0]
    return done[0]


def fail(error: KgError) -> NoReturn:
    """End the command: the error's one line on stderr, its exit status."""
    click.echo(f"error: {error.message}", err=True)
    sys.exit(error.exit_code)


def written_to_output(error: OSError) -> bool:
    """Whether `error` came from writing the command's standard output (a full disk, a reader that
    closed its pipe): every command writes it with click.echo, whose frame the error passed through,
    holding the file it wrote to."""
    traceback = error.__traceback__
    while traceback is not None:
        frame = traceback.tb_frame
        if frame.f_code is click.echo.__code__:
            written = frame.f_locals.get("file")
            try:
                return written is not None and written.fileno() == STDOUT
            except (OSError, ValueError, AttributeError):  # a stream of no file (a test's output)
                return False
        traceback = traceback.tb_next
    return False


def buffer_output() -> None:
    """Standard output through a buffered writer, line by line, where Python left it unbuffered
    (PYTHONUNBUFFERED, `-u`): an unbuffered stream drops what a pipe did not take when its reader
    stops mid-answer, and the command ended as if all was written. A buffered writer writes all or
    fails (see `written_to_output`)."""
    stream = sys.stdout
    if isinstance(stream, io.TextIOWrapper) and isinstance(stream.buffer, io.RawIOBase):
        encoding, errors = stream.encoding, stream.errors
        raw = stream.detach()  # the file is the new writer's now: the old stream must not close it
        sys.stdout = io.TextIOWrapper(io.BufferedWriter(raw), encoding, errors, line_buffering=True)


def silence_output() -> None:
    """Point standard output at /dev/null once it cannot be written: what it holds unwritten would
    fail again, with a traceback, as Python flushes it at exit."""
    nowhere = os.open(os.devnull, os.O_WRONLY)
    os.dup2(nowhere, STDOUT)
    os.close(nowhere)
