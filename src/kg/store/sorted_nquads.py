"""N-Quads lines sorted in byte order, each once: the order of the build's canonical dump
(dist/opioid-kg.nq), and of the dump a server writes from a store behind (`kg.server.dump`).

The lines are sorted outside Python (`sort`, which spills to disk), so memory holds none of them.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

SORT_MEMORY = "256M"


# Each sorted line written once, and a line given n > 1 times written as "n line" into the file
# `repeated` names: `uniq` and `uniq -cd` in one pass over `sort`'s output (N-Quads lines never
# look like numbers, so awk compares them as strings).
_DISTINCT = (
    "n && $0 == last { n++; next } "
    "{ if (n > 1) print n, last > repeated; if (n) print last; last = $0; n = 1 } "
    "END { if (n > 1) print n, last > repeated; if (n) print last }"
)


def sort_nquads(unsorted: list[Path], target: Path) -> dict[bytes, int]:
    """The N-Quads lines of the `unsorted` files (removed then) into `target`, sorted and distinct;
    the lines given more than once, each with how many times (an input file gives a line once, so
    this is how many files give it: what a rebuild needs to tell whether a line a file no longer
    gives is still given by another, see `kg.build.patched`)."""
    environment = {**os.environ, "LC_ALL": "C"}  # byte order: the order of code points in UTF-8
    repeated_file = target.with_name(target.name + ".repeated")
    command = ["sort", "-S", SORT_MEMORY, "-T", str(target.parent), *map(str, unsorted)]
    with target.open("wb") as out, tempfile.TemporaryFile() as said:
        sorting = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=said, env=environment)
        assert sorting.stdout is not None
        with sorting.stdout:
            distinct = subprocess.run(
                ["awk", "-v", f"repeated={repeated_file}", _DISTINCT],
                stdin=sorting.stdout,
                stdout=out,
                stderr=said,
                env=environment,
            )
        if sorting.wait() != 0 or distinct.returncode != 0:
            said.seek(0)
            reason = said.read().decode("utf-8", "replace").strip().splitlines()
            # awk's write failure (a full disk) stops sort with SIGPIPE: what awk said comes first
            raise OSError(
                f"sorting the N-Quads into {target} failed: {'; '.join(reason) or 'no reason given'}"
            )
    for path in unsorted:
        path.unlink()
    repeated: dict[bytes, int] = {}
    if repeated_file.is_file():
        for entry in repeated_file.read_bytes().splitlines(keepends=True):  # "<count> <line>"
            count, line = entry.split(b" ", 1)
            repeated[line] = int(count)
        repeated_file.unlink()
    return repeated
