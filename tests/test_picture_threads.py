"""Pictures drawn at once by the server's threads: each SVG keeps its text as text.

`kg serve` answers on several threads, and a page (the charts, a network) asks
for several pictures at the same time; none may come out with its words drawn as
outlines, which a reader cannot search and a screen reader cannot read.
"""

from __future__ import annotations

import threading

from matplotlib.figure import Figure

from kg.network.draw import save

THREADS = 8
PICTURES = 4


def picture(number: int) -> bytes:
    figure = Figure(figsize=(3, 2))
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
