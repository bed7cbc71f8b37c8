"""Vensim's sketch (the diagram Vensim shows) written into a model file from a graphviz layout.

Only the sketch section changes: the bytes before the first ``\\\\\\---///`` line
(every equation) and after the ``///---\\\\\\`` line (Vensim's settings) are kept as
they are. One view holds every variable (not the time controls): stocks as boxes
(shape 3), flows as a valve (record ``11``) with the flow's name under it and pipes
to their stocks or to clouds (``12``), auxiliaries, constants and lookups as plain
names (shape 8), and one arrow (``1``) per causal link with its polarity (``+`` or
``-``, none where no sign can be read). A stock's initial value makes no arrow, as
it makes no link in ``sdkit loops``.
"""

from __future__ import annotations

import itertools
import json
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import graphviz

from sdkit.diagram.draw import FONT, dot_path, stock_rows, wrap
from sdkit.diagram.structure import Structure, read_structure
from sdkit.errors import ModelFileError
from sdkit.io import write_atomic
from sdkit.structure import clean_name

if TYPE_CHECKING:
    from sdkit.model import Model

START = b"\\\\\\---///"
END = b"///---\\\\\\"
HEADER = ("\\\\\\---/// Sketch information - do not modify anything except names",
          "V300  Do not put anything below this section - it will be ignored",
          "*View 1",
          "$192-192-192,0,Times New Roman|12||0-0-0|0-0-0|0-0-255|-1--1--1|-1--1--1|96,96,100,0")
POINTS = 72.0  # graphviz gives sizes in inches, positions in points; Vensim's sketch is in points
MARGIN = 40
CLOUD = 70  # a cloud's distance from its valve
POLARITY = {1: 43, -1: 45, None: 0}  # the polarity's character code: '+', '-', none


@dataclass(frozen=True)
class Place:
    x: int
    y: int
    half_width: int
    half_height: int


def all_references(node: Any) -> Iterator[str]:
    """Every name an equation reads (PySD's clean names), its initial values and the
    functions it calls (lookups among them) included: Vensim wants an arrow from each."""
    from pysd.translators.structures import abstract_expressions as ae

    if isinstance(node, ae.ReferenceStructure):
        yield node.reference
    elif isinstance(node, tuple | list):
        for child in node:
            yield from all_references(child)
    elif hasattr(node, "__dataclass_fields__"):
        for name in node.__dataclass_fields__:
            yield from all_references(getattr(node, name))


def with_every_reference(model: Model, structure: Structure) -> Structure:
    """The structure with an unsigned link for each reference the causal graph leaves
    out (initial values, lookups), so that every input of an equation has its arrow."""
    names = {clean_name(name): name for name in structure.kinds}
    known = {(a, b) for a, b, _ in structure.links}
    extra = []
    for element in model.abstract_model.sections[0].elements:
        target = names.get(clean_name(element.name))
        if target is None:
            continue
        for reference in dict.fromkeys(all_references([c.ast for c in element.components])):
            source = names.get(clean_name(reference))
            if source is not None and source != target and (source, target) not in known:
                known.add((source, target))
                extra.append((source, target, None))
    return replace(structure, links=[*structure.links, *extra])


def layout(structure: Structure) -> dict[str, Place]:
    """Each variable's centre and half size in Vensim's coordinates (y down), from dot."""
    dot = graphviz.Digraph(strict=True)
    dot.attr(rankdir="TB", newrank="true", nodesep="0.5", ranksep="0.6")
    dot.attr("node", fontname=FONT, fontsize="10", shape="plaintext", height="0", width="0")
    for name, kind in structure.kinds.items():
        dot.node(name, wrap(name), shape="box" if kind == "stock" else "plaintext",
                 width="1.1" if kind == "flow" else "0")
    stock_rows(dot, structure)
    for source, target, _ in structure.links:
        dot.edge(source, target, weight="8" if structure.is_pipe(source, target) else "1")
    done = subprocess.run([dot_path(), "-Tjson0"], input=dot.source.encode("utf-8"), capture_output=True, check=True)
    laid = json.loads(done.stdout)
    height = float(laid["bb"].split(",")[3])
    places: dict[str, Place] = {}
    for node in (o for o in laid.get("objects", []) if "pos" in o):
        x, y = (float(v) for v in node["pos"].split(","))
        places[node["name"]] = Place(round(x) + MARGIN, round(height - y) + MARGIN,
                                     round(float(node["width"]) * POINTS / 2), round(float(node["height"]) * POINTS / 2))
    return places


def sketch_lines(structure: Structure, places: dict[str, Place]) -> list[str]:
    """The records of one view: variables, valves, clouds, pipes and arrows."""
    ids: dict[str, int] = {}
    lines: list[str] = []
    new_id = itertools.count(1).__next__

    flows_last = sorted(structure.kinds.items(), key=lambda item: item[1] == "flow")
    for name, kind in flows_last:
        place = places[name]
        if kind == "stock":
            ids[name] = new_id()
            lines.append(f"10,{ids[name]},{name},{place.x},{place.y},{max(place.half_width, 30)},{max(place.half_height, 18)},3,3,0,0,0,0,0,0")
        elif kind == "flow":
            lines.extend(_flow_records(structure, name, places, ids, new_id))
        else:
            ids[name] = new_id()
            lines.append(f"10,{ids[name]},{name},{place.x},{place.y},{place.half_width},{place.half_height},8,3,0,0,0,0,0,0")
    for source, target, sign in structure.links:
        if source == target or structure.is_pipe(source, target):
            continue
        a, b = places[source], places[target]
        lines.append(f"1,{new_id()},{ids[source]},{ids[target]},0,0,{POLARITY[sign]},0,0,64,0,-1--1--1,,1|({(a.x + b.x) // 2},{(a.y + b.y) // 2})|")
    return lines


def _flow_records(structure: Structure, flow: str, places: dict[str, Place], ids: dict[str, int],
                  new_id: Callable[[], int]) -> list[str]:
    """A flow: its valve, its name under the valve, and a pipe to each end (a stock or a cloud)."""
    place = places[flow]
    signs = {target: sign for source, target, sign in structure.links if source == flow and structure.is_pipe(source, target)}
    into = [stock for stock, sign in signs.items() if sign != -1][:1]
    out_of = [stock for stock, sign in signs.items() if sign == -1][:1]
    lines: list[str] = []
    valve, ids[flow] = new_id(), new_id()
    lines.append(f"11,{valve},48,{place.x},{place.y},6,8,34,3,0,0,1,0,0,0")
    lines.append(f"10,{ids[flow]},{flow},{place.x},{place.y + 16},{max(place.half_width, 20)},8,40,3,0,0,-1,0,0,0")
    anchor = places[(into or out_of)[0]]
    for end, head in ((into, 4), (out_of, 100)):
        if end:
            stock, target = places[end[0]], ids[end[0]]
        else:  # a cloud on the far side of the valve from the stock
            side = 1 if place.x >= anchor.x else -1
            stock = Place(place.x + side * CLOUD, place.y, 10, 8)
            target = new_id()
            lines.append(f"12,{target},48,{stock.x},{stock.y},10,8,0,3,0,0,-1,0,0,0")
        lines.append(f"1,{new_id()},{valve},{target},{head},0,0,22,0,0,0,-1--1--1,,1|({(place.x + stock.x) // 2},{(place.y + stock.y) // 2})|")
    return lines


def sketch_section(structure: Structure, newline: str = "\n") -> bytes:
    """The whole sketch section, from its first line to ``///---\\\\\\``."""
    lines = [*HEADER, *sketch_lines(structure, layout(structure)), END.decode()]
    return newline.join(lines).encode("utf-8") + newline.encode()


def with_sketch(data: bytes, sketch: bytes, where: str) -> bytes:
    """``data`` (a model file) with its sketch section replaced by ``sketch``."""
    start = data.find(START)
    if start < 0:  # no sketch yet: append one after the equations
        return data + (b"" if data.endswith(b"\n") else b"\n") + sketch
    end = data.find(END, start)
    if end < 0:
        raise ModelFileError(f"{where}: its sketch section has no closing ///---\\\\\\ line; save it from Vensim once")
    after = data[end + len(END):]
    after = after[after.find(b"\n") + 1:] if b"\n" in after else b""
    return data[:start] + sketch + after


def write_sketch(path: str | Path) -> str:
    """Rewrite the sketch section of the model file at ``path`` (atomically); a summary."""
    from sdkit.model import load_model

    path = Path(path)
    model = load_model(path, numba=False)
    structure = with_every_reference(model, read_structure(model, constants=True, outputs=True, lookups=True))
    data = path.read_bytes()
    newline = "\r\n" if b"\r\n" in data[: data.find(START)] else "\n"
    write_atomic(path, lambda temporary: Path(temporary).write_bytes(with_sketch(data, sketch_section(structure, newline), path.name)))
    stocks = sum(kind == "stock" for kind in structure.kinds.values())
    return f"{len(structure.kinds)} variables, {stocks} stock{'s' * (stocks != 1)}, {len(structure.links)} arrows"
