"""Reading the files a user curates or names: what stands in the way of reading one is said in words,
at its place (file, line and column).

Every input file (Turtle, CSV tables and their descriptions, source texts, SPARQL files) is read
through here, so that a folder, a link to nothing, a FIFO or a device, a permission or bytes that are
not UTF-8 stop the command with one line naming the file, never a traceback or a read that waits
forever.
"""

from __future__ import annotations

import codecs
import errno
import os
import re
import stat
from pathlib import Path, PurePosixPath, PureWindowsPath

from kg.errors import EXIT_FAILED, KgError


class InputError(KgError):
    """Bad input at a place a curator can go to: the message starts with file:line:column."""

    def __init__(self, path: Path, line: int | None, column: int | None, problem: str) -> None:
        where = str(path)
        if line is not None:
            where += f":{line}"
            if column is not None:
                where += f":{column}"
        super().__init__(f"{visible(where, lines=False)}: {visible(problem)}", line=line, column=column)
        self.path = path
        self.problem = problem


# How RDF's line formats, Turtle and SPARQL end a line: LF, CR, or both.
_LINE_END = re.compile(r"\r\n|\r|\n")


def whole_path(name: str) -> bool:
    """Whether a path an input writes (a text file, a table's CSV) is a whole one, on any system: it
    names the machine's folders, which a project's own files never do, and would be published."""
    return PurePosixPath(name).is_absolute() or PureWindowsPath(name).is_absolute()


def text_lines(text: str) -> list[str]:
    """The lines of an RDF or SPARQL text, ended as their grammars end them. Not `str.splitlines`,
    which also ends a line at U+2028, U+2029, U+0085, a form feed, a vertical tab and the file, group
    and record separators: any of them may stand raw inside a literal, which was then cut in two."""
    lines = _LINE_END.split(text)
    if lines[-1] == "":
        lines.pop()  # the end of the last line, as splitlines reads it
    return lines


def visible(text: str, *, lines: bool = True) -> str:
    """`text` with each character a terminal would not show (a control, a byte-order mark, a space
    other than ASCII's) written as its code point, `<U+FEFF>`: a parser's message quoting one showed
    nothing where the fault was (`' ' is not allowed`, a NUL). Its line breaks are kept where it may
    have `lines` (a message's own), and written so in a name (a path given with one broke the message)."""
    return "".join(c if c.isprintable() or (lines and c == "\n") else f"<U+{ord(c):04X}>" for c in text)


def read_file(path: Path, kind: str, *, whole: bool = False) -> bytes:
    """The bytes of the input file `path` (a `kind` of file, for the message), without a UTF-8
    byte-order mark unless `whole` (a source text is quoted and digested as it is). It is opened
    without waiting, so a FIFO or a device is refused rather than read."""
    if path.is_symlink() and not path.exists():
        raise InputError(path, None, None, f"a link to {os.readlink(path)}, which does not exist")
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as error:
        raise _unreadable(path, kind, error) from None
    mode = os.fstat(descriptor).st_mode
    if not stat.S_ISREG(mode):
        os.close(descriptor)
        raise InputError(path, None, None, _not_regular(mode, kind))
    os.set_blocking(descriptor, True)
    with os.fdopen(descriptor, "rb") as file:
        try:
            data = file.read()
        except OSError as error:
            raise _unreadable(path, kind, error) from None
    return data if whole else data.removeprefix(codecs.BOM_UTF8)


def read_text(path: Path, kind: str, *, whole: bool = False) -> str:
    """The text of the input file `path`, which must be UTF-8 (see `read_file` and `utf8_text`)."""
    return utf8_text(path, read_file(path, kind, whole=whole))


def read_source_text(path: Path) -> str:
    """A report's text as the build checks its excerpts' positions in: its bytes decoded unchanged, a
    byte-order mark and CR LF line endings kept. Read with Python's newline translation (CR LF made LF),
    a text written with CR LF had every highlight of the source view shifted by a character a line."""
    return read_text(path, "source text", whole=True)


def utf8_text(path: Path, data: bytes) -> str:
    """`data` (the bytes of `path`) as text; bytes that are not UTF-8 are named at their line and
    column."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        before = data[: error.start]
        line = before.count(b"\n") + 1
        column = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
        bad = data[error.start : error.end].hex(" ")
        saved = next((f"; {said}" for mark, said in _OTHER_ENCODINGS.items() if data.startswith(mark)), "")
        raise InputError(path, line, column, f"not UTF-8 text: byte {bad} ({error.reason}){saved}") from None


# The byte-order marks of the encodings an editor may save text in instead of UTF-8 (Windows' Notepad
# calls UTF-16 "Unicode"), longest first: UTF-32's little-endian mark starts as UTF-16's does.
_OTHER_ENCODINGS = {
    mark: f"the file starts with the byte-order mark of {name} ({mark.hex(' ')}): save it as UTF-8"
    for mark, name in (
        (codecs.BOM_UTF32_LE, "UTF-32"),
        (codecs.BOM_UTF32_BE, "UTF-32"),
        (codecs.BOM_UTF16_LE, "UTF-16"),
        (codecs.BOM_UTF16_BE, "UTF-16"),
    )
}


class OutputError(KgError):
    """A file the user named for a command's output cannot be written (a full disk, a folder there)."""

    exit_code = EXIT_FAILED


def write_output(path: Path, data: bytes) -> None:
    """Write `data` to the file `path` the user named for a command's output, its folder made first;
    what stops it is said in one line naming the file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    except OSError as error:
        raise OutputError(f"cannot write {path}: {error.strerror or error}") from None


def _not_regular(mode: int, kind: str) -> str:
    """Why a file of this `mode` is not read as a `kind`."""
    if stat.S_ISDIR(mode):
        return f"is a folder, not a {kind}"
    what = "a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
    return f"is {what}, not a regular file; a {kind} must be a regular file"


def _unreadable(path: Path, kind: str, error: OSError) -> InputError:
    if error.errno == errno.EISDIR:
        return InputError(path, None, None, f"is a folder, not a {kind}")
    return InputError(path, None, None, f"cannot read: {error.strerror or error}")
