"""Country outlines from the packaged boundary set, projected with Equal Earth.

The boundaries are Natural Earth's 1:110m countries as TopoJSON (see
`boundaries/README.md`); they ship inside the package so a map is drawn without
the network. Countries are found by the ISO 3166-1 alpha-2 code the graph states
(`kg:isoCode`), through the numeric code the boundary file uses as its id.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

BOUNDARIES = Path(__file__).resolve().parent / "boundaries"
TOPOLOGY = BOUNDARIES / "countries-110m.json"
CODES = BOUNDARIES / "iso3166-numeric.tsv"

# Equal Earth (Šavrič, Patterson and Jenny, 2018): an equal-area projection with closed formulas.
A1, A2, A3, A4 = 1.340264, -0.081106, 0.000893, 0.003796
M = math.sqrt(3) / 2

Ring = np.ndarray  # an (n, 2) array of longitude, latitude in degrees


@dataclass(frozen=True)
class Country:
    """One country of the boundary set: its numeric id, its alpha-2 code if it has one, its polygons."""

    numeric: str
    alpha2: str
    name: str
    polygons: tuple[tuple[Ring, ...], ...]  # each polygon: its outer ring, then its holes

    @property
    def main_ring(self) -> Ring:
        """The outer ring of the largest polygon: where arrows start and end (not Alaska, not Hawaii)."""
        return max((polygon[0] for polygon in self.polygons), key=_area)


def _area(ring: Ring) -> float:
    x, y = ring[:, 0], ring[:, 1]
    return abs(float(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1)))) / 2


@cache
def countries() -> dict[str, Country]:
    """Every country of the boundary set, keyed by alpha-2 code (by numeric id where it has none)."""
    topology = json.loads(TOPOLOGY.read_text("utf-8"))
    arcs = _decode_arcs(topology)
    with CODES.open(encoding="utf-8", newline="") as table:
        alpha2 = {row["numeric"]: row["alpha2"] for row in csv.DictReader(table, delimiter="\t")}
    found: dict[str, Country] = {}
    for geometry in topology["objects"]["countries"]["geometries"]:
        numeric = geometry.get("id", "")
        name = geometry.get("properties", {}).get("name", numeric)
        polygons = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
        country = Country(
            numeric,
            alpha2.get(numeric, ""),
            name,
            tuple(tuple(_ring(arcs, ring) for ring in polygon) for polygon in polygons),
        )
        found[country.alpha2 or numeric or name] = country
    return found


def _decode_arcs(topology: dict) -> list[Ring]:
    """TopoJSON's quantised arcs: delta-encoded integer positions, scaled and translated to degrees."""
    scale = np.array(topology["transform"]["scale"])
    translate = np.array(topology["transform"]["translate"])
    return [np.cumsum(np.array(arc, dtype=float), axis=0) * scale + translate for arc in topology["arcs"]]


def _ring(arcs: list[Ring], indices: list[int]) -> Ring:
    """A closed ring from its arcs; `~i` is arc i reversed, and each arc repeats the last point of the one
    before it."""
    parts = []
    for n, index in enumerate(indices):
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        parts.append(arc if n == 0 else arc[1:])
    return np.concatenate(parts)


def central_meridian(rings: list[Ring]) -> float:
    """The meridian to centre a map on so that no ring is cut: opposite the widest empty band of longitudes.

    Routes from China to the Americas then cross the Pacific, as the mail does, not Europe.
    """
    spans = sorted((float(r[:, 0].min()), float(r[:, 0].max())) for r in rings)
    if not spans:
        return 0.0
    merged: list[list[float]] = []
    for west, east in spans:
        if merged and west <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], east)
        else:
            merged.append([west, east])
    gaps = [(merged[i + 1][0] - merged[i][1], merged[i][1]) for i in range(len(merged) - 1)]
    gaps.append((merged[0][0] + 360 - merged[-1][1], merged[-1][1]))
    width, start = max(gaps)
    return _wrap(start + width / 2 + 180)


def _wrap(longitude: float) -> float:
    return (longitude + 180) % 360 - 180


def unwrap(ring: Ring, centre: float) -> Ring:
    """The ring's longitudes relative to `centre`, kept continuous where it crosses the map's edge (the
    caller clips to the outline)."""
    shifted = ring.copy()
    shifted[:, 0] = np.degrees(np.unwrap(np.radians((ring[:, 0] - centre + 180) % 360 - 180)))
    mean = float(shifted[:, 0].mean())
    if mean > 180 or mean < -180:
        shifted[:, 0] -= 360 * round(mean / 360)
    return shifted


def project(points: Ring) -> Ring:
    """Equal Earth: longitude (relative to the central meridian) and latitude in degrees to plane x, y."""
    lam, phi = np.radians(points[:, 0]), np.radians(points[:, 1])
    theta = np.arcsin(M * np.sin(phi))
    t2, t6 = theta**2, theta**6
    x = 2 * math.sqrt(3) * lam * np.cos(theta) / (3 * (A1 + 3 * A2 * t2 + t6 * (7 * A3 + 9 * A4 * t2)))
    y = theta * (A1 + A2 * t2 + t6 * (A3 + A4 * t2))
    return np.column_stack((x, y))


def outline(steps: int = 90) -> Ring:
    """The edge of the whole world in Equal Earth, to clip countries that run past the map's edge."""
    latitudes = np.linspace(-90, 90, steps)
    east = np.column_stack((np.full(steps, 180.0), latitudes))
    west = np.column_stack((np.full(steps, -180.0), latitudes[::-1]))
    return project(np.concatenate((east, west)))
