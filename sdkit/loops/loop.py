"""One feedback loop: its variables in causal order, the signs of its links, a stable id."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import networkx as nx

from sdkit.loops.signs import Sign, multiply
from sdkit.structure import clean_name

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

    def unsigned_links(self) -> list[tuple[str, str]]:
        """The links whose sign cannot be read (they make the loop undetermined)."""
        targets = (*self.variables[1:], self.variables[0])
        return [(a, b) for a, b, sign in zip(self.variables, targets, self.signs, strict=True) if sign is None]

    def as_dict(self) -> dict:
        """``id``, ``name`` (None when unnamed), ``polarity`` and ``variables``: one loop of ``--json``."""
        return {"id": self.id, "name": self.name or None, "polarity": self.polarity, "variables": list(self.variables)}


def canonical(cycle: Sequence[str]) -> tuple[str, ...]:
    """The cycle rotated to start at its alphabetically first name (case- and space-insensitive)."""
    keys = [clean_name(name) for name in cycle]
    start = keys.index(min(keys))
    return tuple(cycle[start:]) + tuple(cycle[:start])


def loop_id(cycle: Sequence[str]) -> str:
    text = " -> ".join(clean_name(name) for name in canonical(cycle))
    return "L" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def make_loop(graph: nx.DiGraph, cycle: Sequence[str], name: str = "") -> Loop:
    """A Loop from a cycle of the graph, in causal order from the cycle's first variable."""
    ordered = tuple(cycle)
    pairs = zip(ordered, (*ordered[1:], ordered[0]), strict=True)
    return Loop(loop_id(ordered), ordered, tuple(graph.edges[a, b]["sign"] for a, b in pairs), name)
