"""Feedback loops: the elementary cycles of a model's causal graph, with polarity and id.

Cycles are enumerated per strongly connected component (networkx's
``simple_cycles``, Johnson's algorithm, with an optional bound on their length)
until a budget of loops is reached; :class:`LoopReport` says when it stopped early.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import networkx as nx

from sdkit.errors import ParameterError
from sdkit.loops.graph import dependency_graph
from sdkit.loops.loop import Loop, canonical, make_loop
from sdkit.loops.named import loops_path_for, read_loops_file, resolve_named
from sdkit.structure import clean_name

if TYPE_CHECKING:
    from sdkit.model import Model

#: Loops enumerated before ``find_loops`` stops and says it truncated.
MAX_LOOPS = 10_000


@dataclass
class LoopReport:
    """The loops of a model and how they were found.

    ``found`` holds the enumerated loops (all of them unless ``truncated``, those of
    at most ``max_length`` variables when that is set); ``named_loops`` the loops a
    loops file names, found or not.
    """

    model: str
    found: list[Loop]
    named_loops: list[Loop]
    components: list[list[str]]
    truncated: bool = False
    max_loops: int = MAX_LOOPS
    max_length: int | None = None
    assumed_signs: list[str] = field(default_factory=list)

    @property
    def loops(self) -> list[Loop]:
        """The named loops (in the loops file's order), then the others found (shortest first)."""
        names = {loop.id for loop in self.named_loops}
        return [*self.named_loops, *(loop for loop in self.found if loop.id not in names)]

    def named(self) -> list[Loop]:
        return list(self.named_loops)


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


def find_loops(model: Model, max_loops: int = MAX_LOOPS, max_length: int | None = None,
               loops_file: Path | None = None) -> LoopReport:
    """Enumerate a model's feedback loops, at most ``max_loops`` of them, with their names.

    Parameters
    ----------
    model : Model
    max_loops : int
        Budget: stop after this many loops and mark the report truncated.
    max_length : int, optional
        Only loops of at most this many variables.
    loops_file : Path, optional
        The file naming loops (default: ``MODEL.loops.toml`` beside the model, if any).
        Named loops come first, in the file's order, whether or not the budget reached them.

    Raises
    ------
    LoopError
        The loops file is malformed or names a loop the model does not have.
    """
    if max_loops < 1:
        raise ParameterError(f"--max-loops must be at least 1 loop, got {max_loops}")
    if max_length is not None and max_length < 1:
        raise ParameterError(f"--max-length must be at least 1 variable, got {max_length}")
    graph = dependency_graph(model)
    path = loops_file or loops_path_for(model.path)
    named = resolve_named(model, graph, read_loops_file(path), path) if loops_file or path.exists() else []
    found = list(itertools.islice(cycles(graph, max_length), max_loops + 1))
    truncated = len(found) > max_loops
    names = {loop.id: loop.name for loop in named}
    loops = (make_loop(graph, canonical(c)) for c in found[:max_loops])
    ordered = sorted((replace(loop, name=names.get(loop.id, "")) for loop in loops),
                     key=lambda loop: (len(loop.variables), [clean_name(v) for v in loop.variables]))
    return LoopReport(model.path.name, ordered, named, feedback_components(graph), truncated, max_loops,
                      max_length, graph.graph["assumed"])
