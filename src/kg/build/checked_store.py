"""Where a clean build runs its checks: a copy of the data in memory, while it is small enough.

Oxigraph answers the validation queries several times faster from its in-memory store than from
its store on disk, which looks each step of a join up in RocksDB (see docs/scale.md, "Checking in
memory"). A clean build therefore loads the data into both, from one reading of the graphs' files,
checks the copy in memory and keeps the store on disk. The copy costs memory in proportion to the
data, so past `KG_CHECK_IN_MEMORY_QUADS` quads (2,500,000 by default; 0 never) the build checks
the store on disk, as a rebuild always does.
"""

from __future__ import annotations

from kg.build.settings import whole_number

MEMORY_VARIABLE = "KG_CHECK_IN_MEMORY_QUADS"
IN_MEMORY_UP_TO = 2_500_000  # quads: about 600 MB held by the copy


def in_memory_up_to() -> int:
    """How many quads a clean build checks in memory at most: `KG_CHECK_IN_MEMORY_QUADS`, or the
    default; raises KgError when the variable is not a whole number."""
    return whole_number(MEMORY_VARIABLE, IN_MEMORY_UP_TO, least=0, unit="quads")


def checks_in_memory(quads: int) -> bool:
    """Whether a clean build of `quads` quads checks a copy in memory rather than its store on disk."""
    return quads <= in_memory_up_to()
