"""The README documents every sub-command, and every documented command exists."""

from __future__ import annotations

import re

from kg.cli import COMMANDS


def test_every_command_is_in_the_readme_table(project_root) -> None:
    readme = (project_root / "README.md").read_text("utf-8")
    documented = set(re.findall(r"^\| `kg ([a-z-]+)", readme, flags=re.MULTILINE))
    assert documented == set(COMMANDS)
