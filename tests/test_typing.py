"""Type checking is kept honest: every `type: ignore` says why on its own line."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IGNORE = re.compile(r"#\s*type:\s*ignore(\[[\w,\s-]+\])?(?P<rest>.*)$")


def test_every_type_ignore_gives_a_reason() -> None:
    bare = []
    for folder in ("src", "tests", "benchmarks"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
                match = IGNORE.search(line)
                if match and not re.match(r"\s*#\s*\S", match.group("rest")):
                    bare.append(f"{path.relative_to(ROOT)}:{number}")
    assert bare == []
