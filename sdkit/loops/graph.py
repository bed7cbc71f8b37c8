"""The causal links of a model: who uses whom, with each link's sign.

Read from the model's own equations (PySD's abstract model, as :class:`~sdkit.model.Model`
parses it), never from generated code, so any model sdkit loads has a graph even
where the engine cannot compile it. A variable's initial value (``INTEG``'s second
argument, ``INITIAL``, a delay's or smooth's initial value) makes no link: it acts
only at the initial time. Subscripted variables are one node each; a link's sign
holds for all their elements or is unknown.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np

from sdkit.loops import intervals as iv
from sdkit.loops.intervals import Interval
from sdkit.loops.signs import Sign, Signs
from sdkit.structure import clean_name

if TYPE_CHECKING:
    from sdkit.model import Model, Variable

#: Fields of stateful structures (INTEG, DELAY, SMOOTH, TREND, ...) that only set the
#: value at the initial time.
_INITIAL_FIELDS = {"initial", "initial_trend"}


@dataclass(frozen=True)
class Link:
    """A causal link ``source -> target`` (model names) and its sign (+1, -1 or None)."""

    source: str
    target: str
    sign: Sign


def dynamic_references(node: Any) -> Iterator[str]:
    """References a node's value depends on after the initial time (PySD's clean names)."""
    from pysd.translators.structures import abstract_expressions as ae

    if isinstance(node, ae.ReferenceStructure):
        yield node.reference
        return
    if isinstance(node, ae.InitialStructure):
        return
    if isinstance(node, ae.CallStructure):  # the called name is a function or a lookup, not an input
        for argument in node.arguments:
            yield from dynamic_references(argument)
        return
    if isinstance(node, tuple | list):
        for child in node:
            yield from dynamic_references(child)
    elif hasattr(node, "__dataclass_fields__"):
        for name in node.__dataclass_fields__:
            if name not in _INITIAL_FIELDS:
                yield from dynamic_references(getattr(node, name))


class ModelSigns:
    """The values a model's variables can take, and its lookups' points, by PySD reference.

    A constant takes the values of its documented range (``[min, max]`` in its
    units field) and its own value; a lookup the range of its y values; an auxiliary
    the interval its equation gives, narrowed to its documented range; a stock its
    documented range, or, when it has none, the sign of its initial value (an
    assumption, listed in :attr:`assumed`).
    """

    def __init__(self, model: Model) -> None:
        self.model = model
        self.elements = {clean_name(e.name): e for e in model.abstract_model.sections[0].elements}
        self.variables = {clean_name(v.name): v for v in model.variables.values()}
        self.assumed: list[str] = []
        self._values: dict[str, Interval] = {}
        self._busy: set[str] = set()
        self.signs = Signs(self.interval_of, self.lookup_of)

    def lookup_of(self, reference: str) -> tuple | None:
        """A lookup's (x, y) points, or None when the name is not a lookup written as points."""
        from pysd.translators.structures import abstract_expressions as ae

        variable = self.variables.get(clean_name(reference))
        if variable is None or variable.kind != "lookup":
            return None
        element = self.elements[clean_name(reference)]
        ast = element.components[0].ast if len(element.components) == 1 else None
        return (ast.x, ast.y) if isinstance(ast, ae.LookupsStructure) else ((), ())

    def interval_of(self, reference: str) -> Interval:
        """The values a variable can take (the whole line when nothing tells)."""
        key = clean_name(reference)
        if key == "time":
            return (self.model.time.initial_time, self.model.time.final_time)
        if key not in self._values:
            if key in self._busy:
                return iv.UNKNOWN
            self._busy.add(key)
            try:
                self._values[key] = self._interval(key)
            finally:
                self._busy.discard(key)
        return self._values[key]

    def _interval(self, key: str) -> Interval:
        variable = self.variables.get(key)
        if variable is None:
            return iv.UNKNOWN
        documented = documented_range(variable)
        if variable.kind in ("constant", "control"):
            if variable.default is None:
                return documented
            value = iv.of_values(np.ravel(variable.default))
            return value if documented == iv.UNKNOWN else iv.hull(documented, value)
        element = self.elements[key]
        if variable.kind == "stock":
            return documented if documented != iv.UNKNOWN else self._assumed_stock(variable, element)
        return iv.narrow(iv.hull(*(self.signs.value(c.ast) for c in element.components)), documented)

    def _assumed_stock(self, variable: Variable, element: Any) -> Interval:
        initial = iv.hull(*(self.signs.value(c.ast.initial) for c in element.components))
        keeps = iv.sign(initial)
        if keeps is None:
            return iv.UNKNOWN
        self.assumed.append(variable.name)
        return (0.0, math.inf) if keeps >= 0 else (-math.inf, 0.0)


def documented_range(variable: Variable) -> Interval:
    """The ``[min, max]`` of a variable's units field (an open end for a missing bound)."""
    low, high = variable.limits
    return (-math.inf if low is None else low, math.inf if high is None else high)


def links(model: Model, reader: ModelSigns | None = None) -> list[Link]:
    """Every causal link between the model's variables, in the order of the file."""
    reader = reader or ModelSigns(model)
    found: list[Link] = []
    for element in model.abstract_model.sections[0].elements:
        target = reader.variables.get(clean_name(element.name))
        if target is None or target.kind in ("lookup", "control"):
            continue
        sources: dict[str, None] = {}
        for component in element.components:
            sources.update(dict.fromkeys(dynamic_references(component.ast)))
        for reference in sources:
            source = reader.variables.get(clean_name(reference))
            if source is None or source.kind == "lookup":
                continue
            slope = iv.hull(*(reader.signs.derivative(c.ast, reference) for c in element.components))
            sign = iv.sign(slope)
            found.append(Link(source.name, target.name, sign))
    return found


def dependency_graph(model: Model) -> nx.DiGraph:
    """The model's causal graph: one node per variable (model names), edges with a ``sign``.

    ``graph.graph["assumed"]`` lists the stocks whose sign was taken from their
    initial value (no documented range).
    """
    reader = ModelSigns(model)
    graph = nx.DiGraph()
    graph.add_nodes_from(v.name for v in model.variables.values() if v.kind not in ("lookup", "control"))
    for link in links(model, reader):
        graph.add_edge(link.source, link.target, sign=link.sign)
    graph.graph["assumed"] = sorted(set(reader.assumed), key=clean_name)
    return graph
