"""`kg validate FILE` on a built project: from its build, and from the whole project read again.

Takes a project kept by `scale.py --keep DIR` (built, so a build can serve), validates one file of
each kind (a curated file of one source, a file of graph/common/, a new file, a curated file with a
violation) both ways in a process of its own, and prints each one's wall and CPU time and whether
the two reports are the same. The file with a violation is restored afterwards.

    .venv/bin/python benchmarks/validate_files.py /tmp/kept-600
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

# One validation in a child process: its report's text and exit status as `kg validate` prints them.
CHILD = """
import sys
from pathlib import Path
from kg.build.files_in_build import validate_from_build
from kg.build.files_in_project import validate_in_project
root, how, files = Path(sys.argv[1]), sys.argv[2], [Path(f) for f in sys.argv[3:]]
if how == "build":
    report = validate_from_build(root, files, root / ".kg" / "store", root / "dist")
    if report is None:
        sys.exit("the build did not serve")
else:
    report = validate_in_project(root, files, "store")
print(report.as_text())
"""
NEW = """@prefix kg: <https://w3id.org/opioid-kg/ontology#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .

<https://w3id.org/opioid-kg/id/country/XX> a kg:Country ; skos:prefLabel "Nowhere"@en .
"""
WRONG = ("kg:substance id:substance\\/illicit-fentanyl ;", "kg:substance id:country\\/MX ;")


def timed(root: Path, how: str, file: Path) -> tuple[float, float, str]:
    """Wall and CPU seconds of one validation, and its report."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(root), how, str(file)], capture_output=True, text=True, check=True
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall, cpu, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", type=Path, help="a project kept by scale.py --keep, built")
    root = parser.parse_args().project.resolve()
    source = sorted(path for path in (root / "graph").iterdir() if path.name.startswith("s"))[0]
    flows = source / "data" / "flows.ttl"
    new = source / "data" / "new.ttl"
    kinds = {
        "a curated file of one source": flows,
        "a file of graph/common/": root / "graph" / "common" / "data" / "places.ttl",
        "a new file": new,
        "a curated file with a violation": flows,
    }
    text = flows.read_text("utf-8")
    print(f"{'file':<34} {'from the build':>16} {'whole project':>16}  same report  violations")
    try:
        for kind, file in kinds.items():
            if file == new:
                new.write_text(NEW, "utf-8")
            if kind.endswith("violation"):
                flows.write_text(text.replace(*WRONG, 1), "utf-8")
            fast = timed(root, "build", file)
            whole = timed(root, "whole", file)
            times = [f"{wall:6.1f} / {cpu:5.1f} s" for wall, cpu, _ in (fast, whole)]
            found = whole[2].count("Violation:")
            print(f"{kind:<34} {times[0]:>16} {times[1]:>16}  {str(fast[2] == whole[2]):<11}  {found:>10}")
            new.unlink(missing_ok=True)
    finally:
        flows.write_text(text, "utf-8")
        new.unlink(missing_ok=True)
    print("(wall / CPU seconds, each in a process of its own)")


if __name__ == "__main__":
    main()
