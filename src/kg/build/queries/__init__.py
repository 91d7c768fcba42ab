"""The build's own questions of its store, kept as SPARQL files beside this module.

They check the build before any reader exists (excerpts, source texts, declared
terms, the Data Cube hierarchies, the shapes' classes), so they live in the build's
package; the same loader as the public catalogue reads them, binds their typed
parameters, and the tests run them on both engines.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from kg.store.queryfiles import NamedQuery, packaged_queries

FOLDER = Path(__file__).resolve().parent
# The validators of the SHACL constraint components the build compiles shapes into (see shape_queries).
SHACL = FOLDER / "shacl"


def build_queries() -> dict[str, NamedQuery]:
    """Every query of the build, by name."""
    return packaged_queries(FOLDER)


def shacl_queries() -> dict[str, NamedQuery]:
    """Every SHACL validator, by name."""
    return packaged_queries(SHACL)


def sparql(name: str, **given: str | Sequence[str]) -> str:
    """Build query `name` with `given` values, checked against its parameters' types, as VALUES."""
    return build_queries()[name].standalone(given)
