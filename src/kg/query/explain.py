"""Syntax errors in words a SPARQL beginner can act on: "unknown prefix rdfs: — add PREFIX rdfs: <…>".

The engine's message for a prefix it does not know lists the characters it
expected; the fix is one line, so say that line.
"""

from __future__ import annotations

import re

from kg.namespaces import PREFIXES
from kg.store.sparql import replace_tokens

_DECLARED = re.compile(r"\bPREFIX\s+([A-Za-z][\w.-]*)?:", re.IGNORECASE)
_USED = re.compile(r"(?<![\w?$:.-])([A-Za-z][\w-]*(?:\.[\w-]+)*)?:(?=[\w%])")


def missing_prefixes(text: str) -> list[str]:
    """Prefixes the query uses without declaring them, in the order of first use."""
    plain = blanked(text)
    declared = {name or "" for name in _DECLARED.findall(plain)}
    used = [name or "" for name in _USED.findall(_DECLARED.sub(" ", plain))]
    return [name for name in dict.fromkeys(used) if name not in declared]


def blanked(text: str) -> str:
    """The text with its strings, IRIs and comments made spaces, by the tokenizer the server reads
    queries with (`kg.store.sparql`), which reads each once: patterns of its own, tried at each quote,
    read to the end of the line from each quote of a string left open, and 100,000 characters of `\\"`
    cost the web process half a minute."""
    return replace_tokens(text, ("string", "iri", "comment"), lambda _token: " ")


def declaration(prefix: str) -> str:
    """The line that declares `prefix`: with its IRI where the project knows the prefix."""
    return f"PREFIX {prefix}: <{PREFIXES.get(prefix, '…')}>"


def explain(text: str, message: str) -> str:
    """`message`, or what to add when the query uses a prefix it does not declare."""
    missing = missing_prefixes(text)
    if not missing:
        return message
    fixes = [declaration(name) for name in missing]
    names = ", ".join(f"{name}:" for name in missing)
    return f"unknown prefix {names} — add {'; '.join(fixes)} at the top of the query"
