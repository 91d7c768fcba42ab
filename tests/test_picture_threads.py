"""Pictures drawn at once by the server's threads: each SVG keeps its text as text.

`kg serve` answers on several threads, and a page (the charts, a network) asks
for several pictures at the same time; none may come out with its words drawn as
outlines, which a reader cannot search and a screen reader cannot read.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import subprocess
import sys
import threading
import time

import pytest

from kg.network import canvas
from kg.network.draw import save

THREADS = 8
PICTURES = 4


def picture(number: int) -> bytes:
    figure = canvas.Figure(figsize=(3, 2))
    figure.add_subplot().set_title(f"picture {number}")
    return save(figure, "svg", title=f"picture {number}")


def test_pictures_saved_on_many_threads_at_once_keep_their_text_as_text() -> None:
    drawn: list[tuple[int, bytes]] = []
    start = threading.Barrier(THREADS)

    def draw(thread: int) -> None:
        start.wait()
        for n in range(PICTURES):
            number = thread * PICTURES + n
            drawn.append((number, picture(number)))

    threads = [threading.Thread(target=draw, args=(t,)) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(drawn) == THREADS * PICTURES
    outlined = [number for number, svg in drawn if f">picture {number}</text>".encode() not in svg]
    assert outlined == []


# A fresh interpreter in which threads ask for different matplotlib names at once, as a page's pictures
# do on a server that has drawn nothing yet; prints how many failed, and the first failure.
FIRST_DRAWINGS = """
import threading
import time

import pytest
from kg.network import canvas
NAMES = ["Line2D", "Bbox", "Figure", "PathPatch", "FigureCanvasAgg", "Axes", "Path", "rc_context"]
start = threading.Barrier(len(NAMES))
failures = []
def take(name):
    start.wait()
    try:
        getattr(canvas, name)
    except Exception as error:
        failures.append(repr(error))
threads = [threading.Thread(target=take, args=(name,)) for name in NAMES]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(len(failures), failures[:1])
"""


def test_the_first_pictures_of_a_fresh_server_drawn_at_once_all_import_matplotlib() -> None:
    """matplotlib's modules import one another: imported from several threads at once, one thread saw
    a module another had begun, and every picture of the page failed."""
    shown = subprocess.run(
        [sys.executable, "-c", FIRST_DRAWINGS], capture_output=True, text=True, timeout=120
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == "0 []", shown.stdout


def test_the_names_the_type_checker_reads_are_the_names_given_when_drawing() -> None:
    """kg.network.canvas names its matplotlib objects twice, for the type checker (imports it reads
    only) and for the first drawing (where each is imported from): the two lists agree, object for
    object."""
    tree = ast.parse(inspect.getsource(canvas))
    checked = {
        alias.asname or alias.name: (node.module, alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("matplotlib")
        for alias in node.names
    }
    assert checked == {name: (module, name) for name, module in canvas.MODULE_OF.items()}
    for name, (module, original) in checked.items():
        assert getattr(canvas, name) is getattr(importlib.import_module(module), original)


def test_a_drawing_waits_for_its_turn_at_most_as_long_as_it_is_told() -> None:
    """Pictures are drawn one at a time; a server's drawing waited for its turn for as long as those
    before it took (seven in line outlasted their clients' 30 s), and is now refused past its wait."""
    drawing, release = threading.Event(), threading.Event()

    @canvas.one_at_a_time
    def slow() -> None:
        drawing.set()
        release.wait(30)

    holder = threading.Thread(target=slow)
    holder.start()
    try:
        assert drawing.wait(30)
        started = time.monotonic()
        with pytest.raises(canvas.DrawingBusy, match="other pictures were being drawn for 0.3 s") as busy:
            canvas.waiting_at_most(0.3, lambda: picture(1))
        assert time.monotonic() - started < 10 and busy.value.status == 503 and busy.value.retry_after == 1
    finally:
        release.set()
        holder.join(30)
    assert b"picture 1" in canvas.waiting_at_most(0.3, lambda: picture(1))  # its turn, once free
