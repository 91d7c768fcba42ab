"""The build's settings given by environment variables: whole numbers, refused by name otherwise."""

from __future__ import annotations

import os

from kg.errors import KgError


def whole_number(variable: str, default: int, *, least: int, unit: str) -> int:
    """The whole number `variable` gives (ASCII digits only), or `default` when it is unset or empty;
    raises KgError naming the variable when it gives anything else or less than `least`."""
    given = os.environ.get(variable, "").strip()
    if not given:
        return default
    if not (given.isascii() and given.isdigit()) or int(given) < least:
        raise KgError(f"{variable}={given!r}: give a whole number of {unit}, {least} or more")
    return int(given)
