"""What a diagram shows: the model's variables by kind, its signed links, the named loops.

Read from the causal graph :mod:`sdkit.loops.graph` builds (the same links and signs
``sdkit loops`` reads), so the diagram and the loop list never disagree. A *flow* is
a variable a stock's ``INTEG`` rate adds or subtracts as a whole term; its link into
the stock is the pipe of a stock-and-flow diagram.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import networkx as nx

from sdkit.errors import ParameterError
from sdkit.loops.graph import dependency_graph
from sdkit.loops.loop import Loop
from sdkit.structure import clean_name

if TYPE_CHECKING:
    from sdkit.model import Model

KINDS = ("stock", "flow", "auxiliary", "constant", "lookup")


@dataclass(frozen=True)
class Structure:
    """The variables to draw (model name -> kind), the links (source, target, sign)
    among them, and the named loops whose links all are drawn."""

    model: str
    kinds: dict[str, str]
    links: list[tuple[str, str, int | None]]
    loops: list[Loop] = field(default_factory=list)

    def flows_into(self, stock: str) -> list[str]:
        return [s for s, t, _ in self.links if t == stock and self.kinds.get(s) == "flow"]

    def is_pipe(self, source: str, target: str) -> bool:
        """A flow's link into its stock."""
        return self.kinds.get(source) == "flow" and self.kinds.get(target) == "stock"


def flow_terms(node: Any) -> set[str]:
    """The names a stock's rate adds or subtracts as whole terms (PySD's clean names):
    ``INTEG(births - deaths, ...)`` has the flows births and deaths; a name inside a
    product (``INTEG(rate * (1 - x), ...)``) is an input of the rate, not a flow."""
    from pysd.translators.structures import abstract_expressions as ae

    if isinstance(node, ae.ReferenceStructure):
        return {node.reference}
    if isinstance(node, ae.ArithmeticStructure) and set(node.operators) <= {"+", "-", "negative"}:
        return set().union(*(flow_terms(argument) for argument in node.arguments))
    return set()


def variable_kinds(model: Model, lookups: bool = False) -> dict[str, str]:
    """Each variable to draw (not the time controls; lookups if ``lookups``) and its kind."""
    drop = ("control",) if lookups else ("lookup", "control")
    kinds = {v.name: v.kind for v in model.variables.values() if v.kind not in drop}
    by_key = {clean_name(name): name for name in kinds}
    for element in model.abstract_model.sections[0].elements:
        if kinds.get(by_key.get(clean_name(element.name), "")) != "stock":
            continue
        for term in set().union(*(flow_terms(c.ast.flow) for c in element.components)):
            name = by_key.get(clean_name(term))
            if kinds.get(name) == "auxiliary":
                kinds[name] = "flow"
    return kinds


def read_structure(model: Model, *, constants: bool = False, outputs: bool = False, focus: str | None = None,
                   depth: int = 2, loops: list[Loop] | None = None, lookups: bool = False) -> Structure:
    """The structure to draw: every variable but constants (unless ``constants``),
    outputs (auxiliaries nothing else uses, unless ``outputs``) and lookups (unless
    ``lookups``), or only those within ``depth`` links of ``focus``."""
    graph = dependency_graph(model)
    kinds = variable_kinds(model, lookups)
    keep = {name for name, kind in kinds.items() if (constants or kind != "constant")
            and (outputs or kind != "auxiliary" or graph.out_degree(name) > 0)}
    if focus is not None:
        keep &= _around(model, graph, focus, depth)
    order = {name: i for i, name in enumerate(kinds)}
    links = sorted(((a, b, graph.edges[a, b]["sign"]) for a, b in graph.edges if a in keep and b in keep),
                   key=lambda link: (order[link[0]], order[link[1]]))
    kept = {name: kind for name, kind in kinds.items() if name in keep}
    drawn = {(a, b) for a, b, _ in links}
    shown = [loop for loop in loops or [] if all(pair in drawn for pair in loop_links(loop))]
    return Structure(model.path.name, kept, links, shown)


def loop_links(loop: Loop) -> list[tuple[str, str]]:
    return list(zip(loop.variables, (*loop.variables[1:], loop.variables[0]), strict=True))


def _around(model: Model, graph: nx.DiGraph, focus: str, depth: int) -> set[str]:
    names = {clean_name(name): name for name in graph.nodes}
    name = names.get(clean_name(focus))
    if name is None:
        raise ParameterError(f"--focus {focus!r} is not a variable of {model.path.name}; "
                             "`sdkit loops` and the model file list its names")
    if depth < 1:
        raise ParameterError(f"--depth must be at least 1 link, got {depth}")
    lengths = nx.single_source_shortest_path_length(graph.to_undirected(as_view=True), name, cutoff=depth)
    return set(lengths)
