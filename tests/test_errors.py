"""Every error the package raises for a user shares one root, which both front ends read."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import kg
from kg.errors import EXIT_BAD_INPUT, EXIT_FAILED, KgError


def error_classes() -> list[type[BaseException]]:
    found: list[type[BaseException]] = []
    for module in pkgutil.walk_packages(kg.__path__, "kg."):
        loaded = importlib.import_module(module.name)
        for _, value in inspect.getmembers(loaded, inspect.isclass):
            # A private class is a signal inside one module, never shown to a user.
            if (
                issubclass(value, BaseException)
                and value.__module__ == module.name
                and not value.__name__.startswith("_")
            ):
                found.append(value)
    return found


def test_every_error_class_is_a_kg_error() -> None:
    classes = error_classes()
    assert len(classes) >= 15
    assert [c.__qualname__ for c in classes if not issubclass(c, KgError)] == []


def test_every_error_says_its_exit_status_and_http_status() -> None:
    for error in error_classes():
        assert error.exit_code in (EXIT_FAILED, EXIT_BAD_INPUT), error  # a signal's: the error's own
        assert 400 <= error.status < 600, error


def test_a_kg_error_carries_its_place() -> None:
    error = KgError("query.rq:3:7: SPARQL syntax error", status=400, line=3, column=7)
    assert (error.message, error.status, error.line, error.column) == (
        "query.rq:3:7: SPARQL syntax error",
        400,
        3,
        7,
    )
    assert str(error) == error.message and error.exit_code == EXIT_BAD_INPUT
