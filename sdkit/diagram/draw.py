"""Draw a model's structure with graphviz: stocks as boxes, flows, auxiliaries and
constants as text, links signed (+/−, unsigned where no sign can be read), the named
loops' links coloured with a legend naming each loop and its polarity.

The layout and the drawing are graphviz's ``dot``; the text is DejaVu Sans, the font
of :mod:`sdkit.plot`, kept as text in SVG and PDF. Same model, same options: the same
bytes (SVG, PNG, and PDF, whose date is fixed at the epoch).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import graphviz

from sdkit.diagram.structure import Structure, loop_links
from sdkit.errors import PlotError
from sdkit.io import write_atomic
from sdkit.plot.style import FALLBACK_STYLES, OKABE_ITO

FORMATS = ("svg", "pdf", "png")
FONT = "DejaVu Sans"
MINUS = "\u2212"
INSTALL = "install graphviz (Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz)"
#: One colour per named loop, in the loops file's order (colour-blind-safe first).
LOOP_COLOURS = (OKABE_ITO["vermillion"], OKABE_ITO["blue"], OKABE_ITO["bluish_green"],
                OKABE_ITO["reddish_purple"], OKABE_ITO["orange"], OKABE_ITO["sky_blue"],
                *(style["color"] for style in FALLBACK_STYLES[2:4]), "#8C564B", "#6A3D9A")
LETTER = {"reinforcing": "R", "balancing": "B", "undetermined": "?"}
_NODE_STYLE = {
    "stock": {"shape": "box", "fontsize": "10", "penwidth": "1.0", "margin": "0.08,0.04"},
    "flow": {"shape": "plaintext", "fontsize": "9", "margin": "0.02"},
    "auxiliary": {"shape": "plaintext", "fontsize": "9", "margin": "0.02"},
    "constant": {"shape": "plaintext", "fontsize": "8", "fontcolor": "#555555", "margin": "0.02"},
}


def dot_path() -> str:
    """The ``dot`` executable, or a one-line PlotError saying how to install it."""
    found = shutil.which("dot")
    if found is None:
        raise PlotError(f"sdkit diagram needs graphviz's dot program, which is not on PATH; {INSTALL}")
    return found


def wrap(name: str, width: int = 16) -> str:
    return "\n".join(textwrap.wrap(name, width)) or name


def to_dot(structure: Structure, *, mark_loops: bool = False) -> graphviz.Digraph:
    """The graphviz description of the diagram (``.source`` is the DOT text)."""
    dot = graphviz.Digraph(structure.model, strict=True)
    dot.attr(rankdir="TB", newrank="true", nodesep="0.25", ranksep="0.3", splines="true",
             fontname=FONT, fontsize="9", pad="0.1", outputorder="edgesfirst")
    dot.attr("node", fontname=FONT, height="0", width="0")
    dot.attr("edge", fontname=FONT, arrowsize="0.5", penwidth="0.6", labelfontsize="10",
             labeldistance="1.4", labelangle="-35")
    for name, kind in structure.kinds.items():
        dot.node(name, wrap(name), **_NODE_STYLE[kind])
    stock_rows(dot, structure)
    colours = _link_colours(structure) if mark_loops else {}
    for source, target, sign in structure.links:
        attributes = {"headlabel": {1: "+", -1: MINUS}.get(sign, "")}
        if structure.is_pipe(source, target):
            attributes.update(penwidth="1.8", arrowsize="0.7", weight="8")
        if (source, target) in colours:
            attributes["color"] = ":".join(colours[source, target])
            attributes["penwidth"] = "1.4" if "penwidth" not in attributes else attributes["penwidth"]
        dot.edge(source, target, **attributes)
    if mark_loops and structure.loops:
        dot.attr(label=_legend(structure), labelloc="b", labeljust="l")
    return dot


def stock_rows(dot: graphviz.Digraph, structure: Structure) -> None:
    """Each stock in one row with the flows into and out of it, kept together (an
    invisible cluster), so that a pipe runs sideways into its stock."""
    placed: set[str] = set()
    stocks = [name for name, kind in structure.kinds.items() if kind == "stock"]
    for number, stock in enumerate(stocks):
        flows = [flow for flow in structure.flows_into(stock) if flow not in placed]
        placed.update(flows)
        with dot.subgraph(name=f"cluster_stock{number}") as row:
            row.attr(rank="same", peripheries="0", margin="2")
            for name in (stock, *flows):
                row.node(name)


def _link_colours(structure: Structure) -> dict[tuple[str, str], list[str]]:
    colours: dict[tuple[str, str], list[str]] = {}
    for number, loop in enumerate(structure.loops):
        for pair in loop_links(loop):
            colours.setdefault(pair, []).append(LOOP_COLOURS[number % len(LOOP_COLOURS)])
    return colours


def _legend(structure: Structure) -> str:
    rows = "".join(
        f'<tr><td><font color="{LOOP_COLOURS[i % len(LOOP_COLOURS)]}">\u2501\u2501\u2501</font></td>'
        f'<td align="left">{LETTER[loop.polarity]}  {loop.name} ({loop.polarity})</td></tr>'
        for i, loop in enumerate(structure.loops))
    return f'<<table border="0" cellspacing="0" cellpadding="1"><tr><td colspan="2" align="left"><b>named loops</b></td></tr>{rows}</table>>'


def render(dot: graphviz.Digraph, fmt: str, dpi: int = 300) -> bytes:
    """The drawing in ``fmt`` (svg, pdf or png at ``dpi``), made by graphviz's dot."""
    if fmt not in FORMATS:
        raise PlotError(f"cannot draw a diagram as .{fmt}; use --out FILE.svg, FILE.pdf or FILE.png")
    command = [dot_path(), f"-T{fmt}", *([f"-Gdpi={dpi}"] if fmt == "png" else [])]
    done = subprocess.run(command, input=dot.source.encode("utf-8"), capture_output=True, check=False)
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise PlotError(f"graphviz's dot failed to draw the diagram: {message[-1] if message else done.returncode}")
    return _fixed_pdf_date(done.stdout) if fmt == "pdf" else done.stdout


def _fixed_pdf_date(data: bytes) -> bytes:
    """cairo writes the time of drawing into a PDF; write the epoch instead (same length,
    so the cross-reference offsets stay right): same model, same bytes."""
    return re.sub(rb"/CreationDate \(D:\d{14}Z\)", b"/CreationDate (D:19700101000000Z)", data)


def write_diagram(dot: graphviz.Digraph, out: str | Path) -> Path:
    """Draw into ``out`` (format from its suffix), atomically."""
    data = render(dot, Path(out).suffix.lstrip(".").lower())
    return write_atomic(out, lambda temporary: Path(temporary).write_bytes(data))
