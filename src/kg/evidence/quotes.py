"""A quote as a reader sees it: the report's Markdown markup taken out, the words left as they are.

The excerpts in the graph are verbatim, markup included (`\\$2.9`, `**Figure 1**`,
`*National Drug Threat Assessment*`), because the build checks them against
the text file character by character. Every place that shows or cites a quote
shows it clean.
"""

from __future__ import annotations

import re

_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!$&%~|<>])")
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_EMPHASIS = re.compile(r"(?<![\w*])([*_])(?=\S)(.+?)(?<=\S)\1(?![\w*])")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+", re.MULTILINE)
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_SPACES = re.compile(r"\s+")


def clean_quote(text: str) -> str:
    """`text` without Markdown emphasis, headings, links and backslash escapes, on one line."""
    text = _HEADING.sub("", text)
    text = _LINK.sub(r"\1", text)
    text = _STRONG.sub(r"\2", text)
    text = _EMPHASIS.sub(r"\2", text)
    text = _ESCAPE.sub(r"\1", text)
    return _SPACES.sub(" ", text).strip()
