"""Feedback loops: the elementary cycles of a model's causal graph, with polarity and id.

Cycles are enumerated per strongly connected component (networkx's
``simple_cycles``, Johnson's algorithm, with an optional bound on their length)
until a budget of loops is reached; :class:`LoopReport` says when it stopped early.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import networkx as nx

from sdkit.loops.graph import dependency_graph
from sdkit.loops.signs import Sign, multiply
from sdkit.structure import clean_name

if TYPE_CHECKING:
    from sdkit.model import Model

#: Loops enumerated before ``find_loops`` stops and says it truncated.
MAX_LOOPS = 10_000
POLARITY = {1: "reinforcing", -1: "balancing"}


@dataclass(frozen=True)
class Loop:
    """One feedback loop.

    Attributes
    ----------
    id : str
        ``L`` and 8 hex digits of the SHA-256 of the cycle (names in causal order,
        case- and space-insensitive, starting from the alphabetically first): the
        same loop has the same id in every version of the model that keeps it.
    variables : tuple of str
        Model names in causal order: each one acts on the next, the last on the first.
    signs : tuple of (+1, -1 or None)
        The sign of each link, ``variables[i] -> variables[i + 1]`` (the last closes the loop).
    name : str
        The name a ``.loops.toml`` file gives it ("" when it has none).
    """

    id: str
    variables: tuple[str, ...]
    signs: tuple[Sign, ...]
    name: str = ""

    @property
    def polarity(self) -> str:
        """``reinforcing`` (an even number of negative links), ``balancing`` (odd), or
        ``undetermined`` (a link whose sign cannot be read)."""
        return POLARITY.get(multiply(*self.signs), "undetermined")

    def as_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "polarity": self.polarity, "variables": list(self.variables)}


@dataclass
class LoopReport:
    """The loops of a model and how they were found."""

    model: str
    loops: list[Loop]
    components: list[list[str]]
    truncated: bool = False
    max_loops: int = MAX_LOOPS
    max_length: int | None = None
    assumed_signs: list[str] = field(default_factory=list)

    def named(self) -> list[Loop]:
        return [loop for loop in self.loops if loop.name]


def canonical(cycle: Sequence[str]) -> tuple[str, ...]:
    """The cycle rotated to start at its alphabetically first name (case- and space-insensitive)."""
    keys = [clean_name(name) for name in cycle]
    start = keys.index(min(keys))
    return tuple(cycle[start:]) + tuple(cycle[:start])


def loop_id(cycle: Sequence[str]) -> str:
    text = " -> ".join(clean_name(name) for name in canonical(cycle))
    return "L" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def make_loop(graph: nx.DiGraph, cycle: Sequence[str], name: str = "") -> Loop:
    """A Loop from a cycle of the graph, in causal order."""
    ordered = canonical(cycle)
    pairs = zip(ordered, (*ordered[1:], ordered[0]), strict=True)
    return Loop(loop_id(ordered), ordered, tuple(graph.edges[a, b]["sign"] for a, b in pairs), name)


def feedback_components(graph: nx.DiGraph) -> list[list[str]]:
    """Strongly connected components that hold a loop, largest first (names sorted)."""
    components = [sorted(c, key=clean_name) for c in nx.strongly_connected_components(graph)
                  if len(c) > 1 or graph.has_edge(next(iter(c)), next(iter(c)))]
    return sorted(components, key=lambda c: (-len(c), clean_name(c[0])))


def cycles(graph: nx.DiGraph, max_length: int | None = None) -> Iterable[list[str]]:
    """Elementary cycles of the graph, component by component (deterministic order)."""
    for component in feedback_components(graph):
        subgraph = nx.DiGraph(graph.subgraph(component))
        yield from nx.simple_cycles(subgraph, length_bound=max_length)


def find_loops(model: Model, max_loops: int = MAX_LOOPS, max_length: int | None = None) -> LoopReport:
    """Enumerate a model's feedback loops, at most ``max_loops`` of them.

    Parameters
    ----------
    model : Model
    max_loops : int
        Budget: stop after this many loops and mark the report truncated.
    max_length : int, optional
        Only loops of at most this many variables.
    """
    graph = dependency_graph(model)
    found = list(itertools.islice(cycles(graph, max_length), max_loops + 1))
    truncated = len(found) > max_loops
    loops = sorted((make_loop(graph, c) for c in found[:max_loops]),
                   key=lambda loop: (len(loop.variables), [clean_name(v) for v in loop.variables]))
    return LoopReport(model.path.name, loops, feedback_components(graph), truncated, max_loops, max_length,
                      graph.graph["assumed"])
