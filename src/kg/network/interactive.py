"""An interactive page of a flow network (drag, zoom, hover for evidence) that works offline.

Its JavaScript is vis-network as shipped inside the installed `pyvis` package:
inlined into the page by default, or linked from a URL that serves that same file.
"""

from __future__ import annotations

import html
import importlib.util
import json
from collections import defaultdict
from collections.abc import Callable
from functools import cache
from pathlib import Path

import networkx as nx

from kg.errors import EXIT_FAILED, KgError
from kg.literals import controls_shown

from .layout import as_drawn, layered_positions, line_kinds, substance_colours, substance_labels

VIS_VERSION = "9.1.2"
Link = Callable[[str], str | None]  # where a page links an IRI; None: not linked
X_SPACING = 320
Y_SPACING = 150


class ScriptMissing(KgError, FileNotFoundError):
    """The package that ships vis-network is not installed."""

    exit_code = EXIT_FAILED
    status = 500


def vis_network_path(suffix: str = "min.js") -> Path:
    """vis-network's minified script (or, with suffix "css", its stylesheet) inside the installed pyvis
    package, found without importing it."""
    spec = importlib.util.find_spec("pyvis")
    if spec is None or not spec.submodule_search_locations:
        raise ScriptMissing("interactive pages need the pyvis package, which ships vis-network")
    folder = Path(list(spec.submodule_search_locations)[0]) / "lib" / f"vis-{VIS_VERSION}"
    path = folder / f"vis-network.{suffix}"
    if not path.exists():
        raise ScriptMissing(f"no vis-network file at {path}")
    return path


@cache
def vis_network_file(suffix: str) -> str:
    return vis_network_path(suffix).read_text(encoding="utf-8")


def network_data(network: nx.MultiDiGraph) -> dict[str, list[dict[str, object]]]:
    """Nodes and edges in vis-network's format, placed in the same columns as the static picture."""
    positions, _columns = layered_positions(network)
    colours = substance_colours(network)
    nodes = []
    for node, data in network.nodes(data=True):
        x, y = positions[node]
        details = [data.get("label", node), data.get("type", "")]
        if data.get("iso"):
            details.append(f"ISO 3166: {data['iso']}")
        nodes.append(
            {
                "id": node,
                "label": data.get("label", node),
                "title": "\n".join(details + [data.get("iri", "")]),
                "x": x * X_SPACING,
                "y": -y * Y_SPACING,
                "shape": "dot",
                "size": 16,
                "color": {"background": "#ffffff", "border": "#333333"},
            }
        )
    parallel: dict[tuple[str, str], int] = defaultdict(int)
    edges = []
    for u, v, key, data in sorted(network.edges(keys=True, data=True), key=lambda e: (e[0], e[1], e[2])):
        rank = parallel[(u, v)]
        parallel[(u, v)] += 1
        edges.append(
            {
                "id": key,
                "from": u,
                "to": v,
                "arrows": "to",
                "color": {
                    "color": colours[data["substance"]],
                    "opacity": 0.4 if data.get("temporal") == "historical" else 1,
                },
                "dashes": data.get("status") == "suspected",
                "width": 2,
                "smooth": {"type": "curvedCW" if rank % 2 else "curvedCCW", "roundness": 0.08 + 0.1 * rank},
                "title": _evidence_text(data, network.graph.get("excerpt_quotes", {})),
            }
        )
    return {"nodes": nodes, "edges": edges}


def _leg_quotes(data: dict, excerpt_quotes: dict[str, str]) -> list[str]:
    """The words of a leg's excerpts, each once: read by excerpt, as a quote may hold the " | " that
    joins them in `evidence_text` (which exports keep, as a graph's values are plain)."""
    return sorted({excerpt_quotes[e] for e in data.get("evidence", "").split() if e in excerpt_quotes})


def _evidence_text(data: dict, excerpt_quotes: dict[str, str]) -> str:
    lines = [
        f"{data.get('substance_label', data.get('substance'))}: {data.get('flow_label', '')}",
        f"mode: {data.get('mode_label') or 'not stated'}; {data.get('status')}; {data.get('temporal')}",
    ]
    if data.get("period"):
        lines.append(f"period: {data['period']}")
    if data.get("attributed_to"):
        lines.append(f"attributed to: {data['attributed_to']}")
    # The quotes alone: a tooltip cannot be clicked, and the table below links each to its excerpt.
    for quote in _leg_quotes(data, excerpt_quotes):
        lines.append(f"\u201c{quote}\u201d")
    return controls_shown("\n".join(lines))


# What JSON may hold that HTML reads inside a script (`</script`, `<!--<script`, which keeps the script open
# past its end) or that ends a line in older JavaScript, written as JSON's escapes: the same text to JSON.
_IN_SCRIPT = {ord(character): f"\\u{ord(character):04x}" for character in "<>&\u2028\u2029"}


def script_json(value: object) -> str:
    """`value` as JSON to write inside a <script>: a label is data, and only `</` was escaped, so a
    label holding `<!--<script` left the picture's script unfinished and the page drew nothing."""
    return json.dumps(value, ensure_ascii=False).translate(_IN_SCRIPT)


def interactive_html(
    network: nx.MultiDiGraph,
    *,
    title: str,
    caption: str,
    script_url: str | None = None,
    style_url: str | None = None,
    link: Link = str,
) -> str:
    """A whole HTML page; without `script_url` and `style_url` vis-network's script and stylesheet (which
    shows the evidence tooltip above the picture) are inlined so the file works on its own. Each quote
    links where `link` sends its excerpt's IRI: the IRI itself by default, which resolves on the web."""
    drawn = as_drawn(network)  # the evidence table below gives each label whole
    colours = substance_colours(drawn)
    names = substance_labels(drawn)
    legend = "".join(
        f'<li><span class="swatch" style="background:{colour}"></span>{html.escape(names[s])}</li>'
        for s, colour in colours.items()
    )
    looks = {"reported": "", "suspected": " dashed", "historical": " faded"}
    legend += "".join(
        f'<li><span class="swatch{looks[kind]}"></span>{kind}</li>' for kind in line_kinds(network)
    )
    data = script_json(network_data(drawn))
    if script_url is None:
        script = "<script>" + vis_network_file("min.js").replace("</script", "<\\/script") + "</script>"
    else:
        script = f'<script src="{html.escape(script_url)}"></script>'
    if style_url is None:
        style = "<style>" + vis_network_file("css").replace("</style", "<\\/style") + "</style>"
    else:
        style = f'<link rel="stylesheet" href="{html.escape(style_url)}">'
    return PAGE.format(
        title=_shown(title),
        caption=_shown(caption),
        legend=legend,
        script=script,
        style=style,
        data=data,
        rows=evidence_rows(network, link),
    )


def evidence_rows(network: nx.MultiDiGraph, link: Link = str) -> str:
    """One focusable table row a leg, in the picture's order: what a tooltip shows, for the keyboard
    and for screen readers, each quote linked to its excerpt."""
    label = {node: str(data.get("label", node)) for node, data in network.nodes(data=True)}
    rows = []
    for u, v, key, data in sorted(network.edges(keys=True, data=True), key=lambda e: (e[0], e[1], e[2])):
        cells = [
            _shown(str(data.get("substance_label", data["substance"]))),
            _shown(f"{label[u]} \u2192 {label[v]}"),
            _shown(data.get("mode_label") or "not stated"),
            _shown(f"{data.get('status')}, {data.get('temporal')}"),
            _shown(str(data.get("attributed_to", ""))),
            _quotes(data, network.graph.get("excerpt_quotes", {}), link),
        ]
        rows.append(
            f'<tr tabindex="0" data-leg="{html.escape(str(key))}">'
            + "".join(f"<td>{c}</td>" for c in cells)
            + "</tr>"
        )
    return "\n".join(rows)


def _quotes(data: dict, excerpt_quotes: dict[str, str], link: Link) -> str:
    """A leg's quotes, each linked to the first excerpt (by IRI) that gives it; a route its library's
    sources restate alike gives the same words in many excerpts, which are counted."""
    saying: dict[str, list[str]] = defaultdict(list)
    for excerpt in data.get("evidence", "").split():
        if excerpt in excerpt_quotes:
            saying[excerpt_quotes[excerpt]].append(excerpt)
    shown = []
    for quote, excerpts in sorted(saying.items()):
        target, words = link(excerpts[0]), _shown(quote)
        text = f'<q><a href="{html.escape(target)}">{words}</a></q>' if target else f"<q>{words}</q>"
        if len(excerpts) > 1:
            text += f' <span class="more">and {len(excerpts) - 1:,} more excerpts with these words</span>'
        shown.append(text)
    return " ".join(shown)


def _shown(text: str) -> str:
    """Words of the graph as the page shows them: escaped, a direction override written as its code
    point (`kg.literals.controls_shown`), as every page of the server shows it."""
    return html.escape(controls_shown(text))


PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: sans-serif; margin: 1rem 2rem; color: #222; }}
#network {{ width: 100%; height: 560px; border: 1px solid #ddd; }}
.legend {{ list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 1.2rem; font-size: 0.9rem; }}
.swatch {{ display: inline-block; width: 2rem; height: 0; border-top: 3px solid #444; margin-right: 0.4rem;
  vertical-align: middle; }}
.swatch[style] {{ border-top-color: transparent; height: 3px; }}
.swatch.dashed {{ border-top-style: dashed; }}
.swatch.faded {{ opacity: 0.4; }}
.caption {{ font-size: 0.85rem; color: #444; }}
div.vis-tooltip {{ white-space: pre-wrap; max-width: 460px; font-size: 0.8rem; font-family: sans-serif; }}
table {{ border-collapse: collapse; font-size: 0.85rem; margin-top: 1rem; }}
th, td {{ border-bottom: 1px solid #ddd; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }}
tr[data-leg]:focus {{ outline: 3px solid #0072B2; outline-offset: -3px; background: #eef5fb; }}
q {{ display: block; }}
</style>
{style}
{script}
</head>
<body>
<h1>{title}</h1>
<ul class="legend">{legend}</ul>
<div id="network"></div>
<noscript><style>#network {{ display: none; }}</style>
<p class="noscript">The picture is drawn by JavaScript, which is off here: each leg of the network and its
evidence is in the table below.</p></noscript>
<p class="caption">{caption} Drag to move places, scroll to zoom, hover over a leg for its evidence;
with the keyboard, move through the legs in the table below (the picture selects the leg in focus).</p>
<table>
<caption>Each leg and its evidence</caption>
<thead><tr><th scope="col">Substance</th><th scope="col">Leg</th><th scope="col">Mode</th>
<th scope="col">Status</th><th scope="col">Attributed to</th><th scope="col">Evidence</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
<script>
const data = {data};
const nodes = new vis.DataSet(data.nodes);
const edges = new vis.DataSet(data.edges);
window.network = new vis.Network(document.getElementById("network"), {{nodes, edges}}, {{
  physics: false,
  interaction: {{hover: true, tooltipDelay: 100}},
  nodes: {{font: {{size: 14}}}},
}});
for (const row of document.querySelectorAll("tr[data-leg]")) {{
  row.addEventListener("focus", () => window.network.selectEdges([row.dataset.leg]));
}}
</script>
</body>
</html>
"""
