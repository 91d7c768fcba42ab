"""matplotlib's drawing classes, imported when a picture is first drawn.

Importing matplotlib costs about half a second of CPU, which every `kg serve`
process, query worker host and `create_app` would otherwise pay at start-up
whether or not it ever draws. The drawing modules reach matplotlib through this
module (`canvas.Figure`, `canvas.Line2D`, ...); the type checker sees the real
classes.
"""

from __future__ import annotations

import importlib
import threading
from typing import TYPE_CHECKING, Any

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


_IMPORTING = threading.Lock()  # matplotlib's modules import one another: two threads must not start at once

if not TYPE_CHECKING:  # the type checker reads the imports above, so that a misspelt name is an error

    def __getattr__(name: str) -> Any:
        """The matplotlib object `name`; the first use imports every one of them, once, and keeps them."""
        if name not in MODULE_OF:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        with _IMPORTING:
            for each, module in MODULE_OF.items():
                globals()[each] = getattr(importlib.import_module(module), each)
            _texts_as_data()
        return globals()[name]


def _texts_as_data() -> None:
    """The project's texts are data, never formulas. matplotlib would read "$2.9 billion to $59 million"
    in a label as mathtext (dropping the dollar signs), and its mathtext module turns on pyparsing's
    memo for every grammar of the process, which makes rdflib's SPARQL parser (the server's query
    guard, the build's reach analyses) more than twice as slow. Both are turned off."""
    import matplotlib
    import pyparsing

    matplotlib.rcParams["text.parse_math"] = False
    pyparsing.ParserElement.disable_memoization()
