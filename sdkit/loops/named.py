"""Named loops: ``MODEL.loops.toml`` beside a model names the loops that matter.

Each table is one loop, named by its key, defined by its variables in causal order
(any starting point)::

    [stick-bending]
    description = "a threat bends the stick towards power; power deters; the stick swings back"
    polarity = "balancing"          # optional: what the theory says
    variables = ["Perceived Revisionism", "Threat Signal", "Indicated Emphasis", ...]

A loop whose links no longer all exist in the model, a variable the model lacks,
or a declared polarity its links contradict is a one-line :class:`LoopError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sdkit.errors import LoopError, ParameterError
from sdkit.io import read_toml
from sdkit.loops.loop import POLARITY, Loop, make_loop

if TYPE_CHECKING:
    import networkx as nx

    from sdkit.model import Model

POLARITIES = (*POLARITY.values(), "undetermined")
_KEYS = {"variables", "description", "polarity"}


@dataclass(frozen=True)
class NamedLoop:
    """A loop as a loops file names it."""

    name: str
    variables: tuple[str, ...]
    description: str = ""
    polarity: str = ""


def loops_path_for(model_path: str | Path) -> Path:
    """``models/x.mdl`` -> ``models/x.loops.toml``."""
    model_path = Path(model_path)
    return model_path.with_name(model_path.stem + ".loops.toml")


def read_loops_file(path: Path) -> list[NamedLoop]:
    """The named loops of a loops file, in the file's order."""
    _, data = read_toml(path, "loops file", LoopError)
    named = []
    for name, table in data.items():
        where = f"{path.name}: loop {name!r}"
        if not isinstance(table, dict):
            raise LoopError(f"{where} must be a table ([{name}]) with a variables list")
        unknown = sorted(set(table) - _KEYS)
        if unknown:
            raise LoopError(f"{where} has the unknown key {unknown[0]!r}; use {', '.join(sorted(_KEYS))}")
        variables = table.get("variables")
        if not isinstance(variables, list) or not variables or not all(isinstance(v, str) for v in variables):
            raise LoopError(f"{where} needs variables = [\"A\", \"B\", ...], the model names in causal order")
        polarity = table.get("polarity", "")
        if polarity and polarity not in POLARITIES:
            raise LoopError(f"{where} has polarity {polarity!r}; use one of {', '.join(POLARITIES)}")
        named.append(NamedLoop(name, tuple(variables), str(table.get("description", "")), polarity))
    return named


def resolve_named(model: Model, graph: nx.DiGraph, named: list[NamedLoop], source: Path) -> list[Loop]:
    """The model's loop for each named loop; a LoopError names the first that does not fit."""
    loops: dict[str, Loop] = {}
    for entry in named:
        where = f"loop {entry.name!r} of {source.name}"
        variables = [_model_name(model, name, where) for name in entry.variables]
        for a, b in zip(variables, [*variables[1:], variables[0]], strict=True):
            if not graph.has_edge(a, b):
                raise LoopError(
                    f"{where} no longer exists in {model.path.name}: {a!r} does not act on {b!r}; "
                    f"update its variables (`sdkit loops {model.path}` lists the loops)")
        if len(set(variables)) != len(variables):
            raise LoopError(f"{where} passes through a variable twice; list each variable of the loop once")
        loop = make_loop(graph, variables, entry.name)
        if loop.id in loops:
            raise LoopError(f"{where} is the same loop as {loops[loop.id].name!r}; keep one of the two names")
        if entry.polarity and loop.polarity != "undetermined" and loop.polarity != entry.polarity:
            raise LoopError(f"{where} is declared {entry.polarity} but its links make it {loop.polarity}; "
                            "fix the declared polarity or the model's equations")
        loops[loop.id] = loop
    return list(loops.values())


def _model_name(model: Model, name: str, where: str) -> str:
    try:
        return model.variables[model.resolve(name)].name
    except ParameterError:
        raise LoopError(f"{where} names {name!r}, which {model.path.name} does not have; "
                        f"fix the name (`sdkit params {model.path}` lists the constants)") from None
