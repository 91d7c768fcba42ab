"""Syntax errors in words a SPARQL beginner can act on: "unknown prefix rdfs: — add PREFIX rdfs: <…>".

The engine's message for a prefix it does not know lists the characters it
expected; the fix is one line, so say that line.
"""

from __future__ import annotations

import re

from kg.namespaces import PREFIXES

_IRI = re.compile(r"<[^<>\"{}|^`\\\s]*>")
_DECLARED = re.compile(r"\bPREFIX\s+([A-Za-z][\w.-]*)?:", re.IGNORECASE)
_USED = re.compile(r"(?<![\w?$:.-])([A-Za-z][\w-]*(?:\.[\w-]+)*)?:(?=[\w%])")


def missing_prefixes(text: str) -> list[str]:
    """Prefixes the query uses without declaring them, in the order of first use."""
    plain = blanked(text)
    declared = {name or "" for name in _DECLARED.findall(plain)}
    used = [name or "" for name in _USED.findall(_DECLARED.sub(" ", plain))]
    return [name for name in dict.fromkeys(used) if name not in declared]


def blanked(text: str) -> str:
    """The text with its strings, IRIs and comments made spaces, in one pass over it. A pattern per
    kind, tried at every quote, read to the end of the line from each quote of a string left open,
    which made 100,000 characters of `\\"` cost the web process half a minute."""
    pieces: list[str] = []
    open_until = {'"': -1, "'": -1}  # a quote before this opens no string: one from before it ran out
    done = at = 0
    while at < len(text):
        char = text[at]
        end = -1
        if char == "#":
            end = _end_of_line(text, at)
        elif char == "<":
            iri = _IRI.match(text, at)
            end = iri.end() if iri else -1
        elif char in open_until and at >= open_until[char]:
            end, ran_out = _string_end(text, at, char)
            if end == -1:
                open_until[char] = ran_out
        if end == -1:
            at += 1
            continue
        pieces += [text[done:at], " "]
        done = at = end
    pieces.append(text[done:])
    return "".join(pieces)


def _end_of_line(text: str, at: int) -> int:
    newline = text.find("\n", at)
    return len(text) if newline == -1 else newline


def _string_end(text: str, at: int, quote: str) -> tuple[int, int]:
    """Where the string opened at `at` ends (past its closing quote), and -1 with where the reading
    ran out when it does not end. A long string runs to its closing triple quote; a short one to its
    quote on the same line, a backslash escaping the character after it. No quote of the same kind
    in between opens a string that ends: each is escaped, so reading from it reads the same rest."""
    if text.startswith(quote * 3, at):
        closing = text.find(quote * 3, at + 3)
        return (-1, len(text)) if closing == -1 else (closing + 3, 0)
    here = at + 1
    while here < len(text) and text[here] != "\n":
        if text[here] == "\\" and text.startswith("\n", here + 1):
            break  # a backslash escapes no line break: the string ends there, unended
        if text[here] == "\\":
            here += 2
        elif text[here] == quote:
            return here + 1, 0
        else:
            here += 1
    return -1, here


def explain(text: str, message: str) -> str:
    """`message`, or what to add when the query uses a prefix it does not declare."""
    missing = missing_prefixes(text)
    if not missing:
        return message
    fixes = [f"PREFIX {name}: <{PREFIXES.get(name, '…')}>" for name in missing]
    names = ", ".join(f"{name}:" for name in missing)
    return f"unknown prefix {names} — add {'; '.join(fixes)} at the top of the query"
