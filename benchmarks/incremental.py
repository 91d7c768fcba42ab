"""A rebuild after one source changed, beside the clean build of the same project.

Writes N sources (the generator of `scale.py`), builds them with the real `kg build`, changes one
word of one synthetic source's Turtle, builds again, changes it back and builds a third time (the
analyses of the shape queries are kept between builds, so the third is the steady state); then
takes the last source out of the library (its folders under sources/ and graph/) and builds, and
puts it back and builds: a source removed and a source added. Prints each build's wall and CPU
time, phases and what it reused.

    .venv/bin/python benchmarks/incremental.py --sources 100 250
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path

from scale import PROJECT, generate, phases_in, run_bounded, timing, triples_in  # beside this script

WORD = ('"the domestic opioid epidemic', '"the national opioid epidemic')


def edit(project: Path, old: str, new: str) -> None:
    path = project / "graph" / "s0001" / "data" / "findings.ttl"
    text = path.read_text("utf-8")
    assert old in text, f"{path} does not hold {old!r}"
    path.write_text(text.replace(old, new, 1), "utf-8")


def move_last_source(project: Path, aside: Path, out: bool) -> None:
    """The last source's folders moved out of the library into `aside`, or back."""
    last = sorted((project / "sources").iterdir())[-1].name if out else sorted(aside.iterdir())[0].name
    for part in ("sources", "graph"):
        inside, outside = project / part / last, aside / last / part
        outside.parent.mkdir(parents=True, exist_ok=True)
        (inside if out else outside).rename(outside if out else inside)
    if not out:
        (aside / last).rmdir()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, nargs="*", default=[100])
    parser.add_argument("--limit-s", type=float, default=1800)
    parser.add_argument("--limit-mb", type=float, default=4096)
    options = parser.parse_args()
    kg = str(Path(sys.executable).with_name("kg"))
    head = f"{'sources':>7} {'triples':>11} {'build':<10} {'wall':>9} {'CPU':>8} {'peak MB':>8}"
    print(f"{head}  {'status':<22} phases")
    for count in options.sources:
        with tempfile.TemporaryDirectory(prefix=f"kg-incremental-{count}-") as folder:
            project = Path(folder) / "project"
            aside = Path(folder) / "aside"
            generate(PROJECT, project, count)
            steps: list[tuple[str, Callable[[], None]]] = [
                ("clean", lambda: None),
                ("changed", partial(edit, project, *WORD)),
                ("reverted", partial(edit, project, *WORD[::-1])),
                ("removed", partial(move_last_source, project, aside, out=True)),
                ("added", partial(move_last_source, project, aside, out=False)),
            ]
            for name, change in steps:
                change()
                run = run_bounded(
                    [kg, "--project", str(project), "build"], project, options.limit_s, options.limit_mb
                )
                how = re.sub(r".*; CPU [\d.]+ s \([^)]*\); ", "", run.summary) if run.status == "ok" else ""
                row = f"{count:>7} {triples_in(run.summary):>11} {name:<10} {timing(run)}"
                print(f"{row}  {phases_in(run.summary)}")
                print(f"{'':>30}{how}", flush=True)
                if run.status != "ok":
                    print(run.summary, file=sys.stderr)
                    break


if __name__ == "__main__":
    main()
