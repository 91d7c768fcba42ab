"""The interactive network picture keeps its data a string of JSON whatever a label holds.

Its data is written inline in a script; only `</` was escaped, so a place
labelled `Colombia</script><script>alert(1)</script><!--<script` left the
script unfinished (`<!--<script` opens a comment HTML reads on past the real
end) and the page drew no picture.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browser import CHROMIUM

from kg.network.interactive import interactive_html
from kg.network.views import flow_view

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium")

HOSTILE = "Colombia</script><script>alert(1)</script><!--<script> & \u2028 \u2029"


@pytest.fixture
def page(browser) -> Iterator[object]:
    context = browser.new_context()
    yield context.new_page()
    context.close()


def test_a_label_holding_markup_is_drawn_as_its_text(store, page) -> None:
    network = flow_view(store, "heroin").network.copy()
    assert "CO" in network.nodes
    network.nodes["CO"]["label"] = HOSTILE
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.set_content(interactive_html(network, title="Heroin routes", caption="Routes."))
    page.locator("#network canvas").wait_for()
    assert dialogs == []
    labels = page.evaluate("data.nodes.map(node => node.label)")
    assert HOSTILE in labels
