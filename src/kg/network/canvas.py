"""matplotlib's drawing classes, imported when a picture is first drawn.

Importing matplotlib costs about half a second of CPU, which every `kg serve`
process, query worker host and `create_app` would otherwise pay at start-up
whether or not it ever draws. The drawing modules reach matplotlib through this
module (`canvas.Figure`, `canvas.Line2D`, ...); the type checker sees the real
classes.
"""

from __future__ import annotations

import functools
import importlib
import threading
from collections.abc import Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from kg.errors import KgError

if TYPE_CHECKING:
    from matplotlib import rc_context as rc_context
    from matplotlib.artist import Artist as Artist
    from matplotlib.axes import Axes as Axes
    from matplotlib.backends.backend_agg import FigureCanvasAgg as FigureCanvasAgg
    from matplotlib.figure import Figure as Figure
    from matplotlib.lines import Line2D as Line2D
    from matplotlib.patches import FancyArrowPatch as FancyArrowPatch
    from matplotlib.patches import Patch as Patch
    from matplotlib.patches import PathPatch as PathPatch
    from matplotlib.path import Path as Path
    from matplotlib.transforms import Bbox as Bbox

# Each name this module gives, and the matplotlib module that defines it.
MODULE_OF = {
    "rc_context": "matplotlib",
    "Artist": "matplotlib.artist",
    "Axes": "matplotlib.axes",
    "FigureCanvasAgg": "matplotlib.backends.backend_agg",
    "Figure": "matplotlib.figure",
    "Line2D": "matplotlib.lines",
    "FancyArrowPatch": "matplotlib.patches",
    "Patch": "matplotlib.patches",
    "PathPatch": "matplotlib.patches",
    "Path": "matplotlib.path",
    "Bbox": "matplotlib.transforms",
}


P = ParamSpec("P")
R = TypeVar("R")
_DRAWING = threading.RLock()  # see `one_at_a_time`
_TURN_WAIT: ContextVar[float | None] = ContextVar("turn_wait", default=None)  # see `waiting_at_most`
_IMPORTING = threading.Lock()  # matplotlib's modules import one another: two threads must not start at once

if not TYPE_CHECKING:  # the type checker reads the imports above, so that a misspelt name is an error

    def __getattr__(name: str) -> Any:
        """The matplotlib object `name`; the first use imports every one of them, once, and keeps them."""
        if name not in MODULE_OF:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        _import_all()
        return globals()[name]


def _import_all() -> None:
    """Every matplotlib object this module gives, imported and kept, once its texts are data: a
    drawing that finds a name given does not wait for the rest."""
    with _IMPORTING:
        found = {each: getattr(importlib.import_module(module), each) for each, module in MODULE_OF.items()}
        _texts_as_data()
        globals().update(found)


def _texts_as_data() -> None:
    """The project's texts are data, never formulas. matplotlib would read "$2.9 billion to $59 million"
    in a label as mathtext (dropping the dollar signs), and its mathtext module turns on pyparsing's
    memo for every grammar of the process, which makes rdflib's SPARQL parser (the server's query
    guard, the build's reach analyses) more than twice as slow. Both are turned off."""
    import matplotlib
    import pyparsing

    matplotlib.rcParams["text.parse_math"] = False
    pyparsing.ParserElement.disable_memoization()


def import_in_background() -> None:
    """Import matplotlib in a thread of its own, for a server that will draw: the first picture asked
    for imported it (a second of CPU) while requests waited, and a bystander's static file, asked as
    sixteen connections wanted charts, took 3 s."""
    threading.Thread(target=_import_all, name="import-matplotlib", daemon=True).start()


def one_at_a_time(draw: Callable[P, R]) -> Callable[P, R]:
    """`draw`, run by one thread of the process at a time (a drawing within another goes on). Drawing
    holds Python's lock, so two at once are no quicker than one after the other; seven at once, a
    server's threads for costly work, left its one other thread so little of it that a static file
    took 2-3 s. matplotlib's settings are global too: a save's own, changed and put back, are not
    changed by another thread meanwhile."""

    @functools.wraps(draw)
    def drawing(*args: P.args, **kwargs: P.kwargs) -> R:
        wait = _TURN_WAIT.get()
        if not _DRAWING.acquire(timeout=-1 if wait is None else wait):
            raise DrawingBusy(f"other pictures were being drawn for {wait:g} s; ask again in a moment")
        try:
            return draw(*args, **kwargs)
        finally:
            _DRAWING.release()

    return drawing


class DrawingBusy(KgError):
    """Other pictures were drawn for as long as a drawing may wait for its turn."""

    status = 503
    retry_after = 1


def waiting_at_most(seconds: float, draw: Callable[[], R]) -> R:
    """`draw()`, each drawing it makes waiting at most `seconds` for its turn (then DrawingBusy): a
    server's request is refused, to ask again, rather than wait out a queue of pictures (seven in
    line, drawn one after the other on a busy machine, outlasted their clients' 30 s)."""
    token = _TURN_WAIT.set(seconds)
    try:
        return draw()
    finally:
        _TURN_WAIT.reset(token)
