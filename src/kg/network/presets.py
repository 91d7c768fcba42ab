"""Picture sizes shared by the charts and the network pictures, so a memo gets one look throughout.

The memo preset is what a memo page holds: 6.5 inches wide (8.5 in paper with
1 in margins), no text under 9 points, the legend below the picture.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Preset:
    """Sizes in inches and points."""

    width: float
    panel_height: float
    text: float  # tick labels, value labels, legend, place names
    title: float
    caption: float


PRESETS = {
    "screen": Preset(width=8.0, panel_height=3.2, text=8.0, title=12.0, caption=7.5),
    "memo": Preset(width=6.5, panel_height=2.6, text=9.0, title=10.5, caption=9.0),
}
