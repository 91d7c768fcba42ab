"""A build of one source (`kg build --source ID`) on a kept library: wall and CPU time, peak memory.

A build of one source reads the other sources' files for what its own facts and graph/common/ reach
(docs/curating.md), so its cost grows with the library as well as with the source. Each run starts
cold: the source's own build folder (`.kg/sources/ID/`) is removed first.

    .venv/bin/python benchmarks/scale.py --sources 600 --keep DIR
    .venv/bin/python benchmarks/one_source.py DIR [--source s0299] [--runs 2]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from scale import phases_in, run_bounded, timing, triples_in  # beside this script


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("project", type=Path, help="a kept library (`scale.py --keep DIR`)")
    parser.add_argument("--source", default="s0001", help="the source built (a folder of sources/)")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--limit-s", type=float, default=600)
    parser.add_argument("--limit-mb", type=float, default=4096)
    options = parser.parse_args()
    if not (options.project / "sources" / options.source).is_dir():
        raise SystemExit(f"{options.project / 'sources' / options.source} is not a source of that project")
    kg = str(Path(sys.executable).with_name("kg"))
    print(f"{'source':<8} {'triples':>11} {'wall':>9} {'CPU':>8} {'peak MB':>8}  {'status':<22} phases")
    for _ in range(options.runs):
        shutil.rmtree(options.project / ".kg" / "sources" / options.source, ignore_errors=True)
        command = [kg, "--project", str(options.project), "build", "--source", options.source]
        run = run_bounded(command, options.project, options.limit_s, options.limit_mb)
        print(
            f"{options.source:<8} {triples_in(run.summary):>11} {timing(run)} {phases_in(run.summary)}",
            flush=True,
        )


if __name__ == "__main__":
    main()
