"""Scenarios: named sets of parameter values kept as TOML beside the model file.

A scenarios file holds one table per scenario::

    [liberal]
    description = "Liberal international order: expansive, universal rules"
    base = "balanced"                 # optional: start from another scenario
    [liberal.parameters]
    "legitimacy emphasis" = 0.6       # a constant, by its model name
    "supremacy claim[liberal]" = 0.8  # one element of a subscripted constant
    [liberal.time]                    # optional: initial_time, final_time, time_step, saveper
    final_time = 300

and optionally a rules table::

    [_rules]
    sum_to_one = ["initial adherence share"]   # shares that must add up to 1 in every scenario
    levers = ["phase start"]                   # chosen, not estimated: `sdkit check --robust` keeps them
"""

from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sdkit.errors import ParameterError, ScenarioError
from sdkit.io import read_toml
from sdkit.names import vensim_name

if TYPE_CHECKING:
    from sdkit.model import Model

DEFAULT_SCENARIO = "default"
RULES = "_rules"
_KEYS = {"description", "base", "parameters", "time"}
_SUBSCRIPTED = re.compile(r"^(?P<name>[^\[\]]+)\[(?P<subs>[^\[\]]+)\]$")


@dataclass(frozen=True)
class Target:
    """What a parameter's name points at: a constant, and one element per dimension or none."""

    py_name: str
    elements: tuple[str, ...] = ()

    def index(self, model: Model) -> tuple[int, ...]:
        """Positions of ``elements`` along the constant's subscripts; ``()`` for the whole constant."""
        dims = model.variables[self.py_name].dims if self.elements else ()
        return tuple(model.dims[d].index(e) for d, e in zip(dims, self.elements, strict=True))


@dataclass(frozen=True)
class Override:
    """A value for one constant, or for some elements of a subscripted constant.

    ``value`` is a float, or an array shaped like the constant's subscripts.
    ``elements`` selects one element per dimension, or is empty for the whole constant.
    """

    py_name: str
    value: float | np.ndarray
    elements: tuple[str, ...] = ()

    def index(self, model: Model) -> tuple[int, ...]:
        """Positions of ``elements`` along the constant's subscripts; ``()`` for the whole constant."""
        return Target(self.py_name, self.elements).index(model)


@dataclass(frozen=True)
class Scenario:
    """A named set of parameter values and optional time settings."""

    name: str
    description: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)
    time: dict[str, float] = field(default_factory=dict)

    def with_overrides(self, parameters: dict[str, Any]) -> Scenario:
        """A copy with further parameter values (``--set``) applied on top."""
        return Scenario(self.name, self.description, {**self.parameters, **parameters}, self.time)


_LARGEST = sys.float_info.max


def scenarios_path_for(model_path: str | Path) -> Path:
    """``models/x.mdl`` -> ``models/x.scenarios.toml``."""
    model_path = Path(model_path)
    return model_path.with_name(model_path.stem + ".scenarios.toml")


def _read_toml(path: Path) -> dict[str, Any]:
    return read_toml(path, "scenarios file", ScenarioError)[1]


def load_scenarios(path: str | Path, model: Model | None = None,
                   allow_outside_range: bool = False) -> dict[str, Scenario]:
    """Read a scenarios file, resolve ``base`` inheritance and validate against the model.

    Raises
    ------
    ScenarioError
        Malformed file, unknown key, unknown base, inheritance cycle, or (with ``model``)
        a parameter the model does not have, a value of the wrong type or, unless
        ``allow_outside_range``, a value outside the constant's documented range.
    """
    path = Path(path)
    tables = _read_toml(path)
    rules = _read_rules(tables.pop(RULES, {}), path)
    for name, table in tables.items():
        if not name.isprintable():
            raise ScenarioError(
                f"{path.name}: scenario name {name!r} holds a control character (NUL, newline, ...); "
                "use letters, digits and spaces"
            )
        if not isinstance(table, dict):
            raise ScenarioError(f"{path.name}: {name!r} must be a table [{name}], not a value")
        unknown = set(table) - _KEYS
        if unknown:
            raise ScenarioError(
                f"{path.name}: scenario {name!r} has unknown key {sorted(unknown)[0]!r}; "
                f"use {', '.join(sorted(_KEYS))}"
            )
        for key, kind in (("parameters", dict), ("time", dict), ("description", str), ("base", str)):
            if key in table and not isinstance(table[key], kind):
                raise ScenarioError(
                    f"{path.name}: scenario {name!r} key {key!r} must be a {kind.__name__}"
                )
    scenarios = _resolve_all(tables, path)
    if model is not None:
        for name in rules.levers:
            try:
                model.resolve_parameter(name)
            except ParameterError as exc:
                raise ScenarioError(f"{path.name}: [{RULES}] levers: {exc}") from None
        for scenario in scenarios.values():
            try:
                overrides = overrides_for(model, scenario.parameters, allow_outside_range)
                model.time.replace(scenario.time)
                for name in rules.sum_to_one:
                    _check_sum_to_one(model, name, overrides)
            except ParameterError as exc:
                raise ScenarioError(f"{path.name}: scenario {scenario.name!r}: {exc}") from None
    return scenarios


@dataclass(frozen=True)
class Rules:
    """The ``[_rules]`` table of a scenarios file.

    ``sum_to_one``: constants whose elements are shares that must add up to 1 in
    every scenario. ``levers``: constants a user chooses rather than estimates;
    with every constant some scenario sets, they are the *scenario levers* that
    ``sdkit check --robust`` never perturbs.
    """

    sum_to_one: tuple[str, ...] = ()
    levers: tuple[str, ...] = ()


def read_rules(path: str | Path) -> Rules:
    """The ``[_rules]`` of a scenarios file (empty rules when the file or table is absent)."""
    path = Path(path)
    if not path.exists():
        return Rules()
    return _read_rules(_read_toml(path).get(RULES, {}), path)


def _read_rules(rules: Any, path: Path) -> Rules:
    """The ``[_rules]`` table: ``sum_to_one = [...]`` and ``levers = [...]``, lists of constant names."""
    if not isinstance(rules, dict) or set(rules) - set(Rules.__dataclass_fields__):
        raise ScenarioError(
            f"{path.name}: [{RULES}] may hold only sum_to_one = [\"constant\", ...] and levers = [\"constant\", ...]"
        )
    found = {}
    for key in Rules.__dataclass_fields__:
        names = rules.get(key, [])
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ScenarioError(f"{path.name}: [{RULES}] {key} must be a list of constant names")
        found[key] = tuple(names)
    return Rules(**found)


def _check_sum_to_one(model: Model, name: str, overrides: list[Override]) -> None:
    """Raise ParameterError when a scenario sets shares of ``name`` that do not add up to 1."""
    py_name = model.resolve_parameter(name)
    mine = [o for o in overrides if o.py_name == py_name]
    if not mine:
        return
    values = model.variables[py_name].default
    values = None if values is None else np.array(values, dtype=float)
    for override in mine:
        if not override.elements:
            values = np.array(override.value, dtype=float)
        elif values is None:
            raise ParameterError(
                f"the file does not give every element of {model.variables[py_name].name!r} as a "
                "number, so the shares cannot be checked; set all its elements in the scenario"
            )
        else:
            values[override.index(model)] = override.value
    total = float(np.sum(values))
    if abs(total - 1.0) > 1e-9:
        raise ParameterError(
            f"the shares {model.variables[py_name].name!r} add up to {total:.6g}, not 1; "
            "make them sum to 1"
        )


def _resolve_all(tables: dict[str, Any], path: Path) -> dict[str, Scenario]:
    """Every scenario with the parameters and time settings of its chain of ``base`` scenarios.

    Each chain is walked once (a chain of thousands of scenarios takes linear time).
    """
    done: dict[str, Scenario] = {}
    for name in tables:
        chain, on_chain = [name], {name}
        while chain[-1] not in done and "base" in tables[chain[-1]]:
            base = tables[chain[-1]]["base"]
            if base in on_chain:
                loop = [*chain[chain.index(base):], base]
                shown = " -> ".join(loop) if len(loop) <= 6 else " -> ".join([*loop[:3], "...", *loop[-2:]])
                raise ScenarioError(
                    f"{path.name}: scenarios {shown} inherit in a circle ({len(loop) - 1} scenarios); "
                    "break the cycle of `base` keys"
                )
            if base not in tables:
                raise ScenarioError(
                    f"{path.name}: scenario {chain[-1]!r} has base {base!r}, which is not defined; "
                    f"define [{base}] or fix the name"
                )
            chain.append(base)
            on_chain.add(base)
        for link in reversed(chain):
            if link not in done:
                done[link] = _inherit(link, tables[link], done.get(tables[link].get("base", "")), path)
    return {name: done[name] for name in tables}


def _inherit(name: str, table: dict[str, Any], parent: Scenario | None, path: Path) -> Scenario:
    parameters = {**(parent.parameters if parent else {}), **table.get("parameters", {})}
    time = {**(parent.time if parent else {}), **table.get("time", {})}
    for key, value in time.items():
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ScenarioError(f"{path.name}: scenario {name!r} time {key!r} must be a number")
    return Scenario(name, table.get("description", ""), parameters, time)


def overrides_for(model: Model, parameters: dict[str, Any], allow_outside_range: bool = False) -> list[Override]:
    """Turn ``{model name: value}`` into validated overrides on the model's constants.

    Every value must lie in the constant's documented range (the ``[min, max]`` of its
    units field) unless ``allow_outside_range``; :func:`outside_range` lists those that do not.

    Raises
    ------
    ParameterError
        Unknown parameter, not a constant, unknown subscript element, wrong shape,
        a value that is not a finite number, or one outside the documented range.
    """
    overrides = []
    seen: dict[tuple[str, tuple[str, ...]], str] = {}
    for key, value in parameters.items():
        target = target_of(model, key)
        if (target.py_name, target.elements) in seen:
            raise ParameterError(
                f"{key!r} and {seen[target.py_name, target.elements]!r} name the same parameter; give it once"
            )
        seen[target.py_name, target.elements] = key
        refuse_time_constant(model, key, target.py_name)
        dims = model.variables[target.py_name].dims
        override = Override(target.py_name, _numeric(key, value, model, dims, target.elements), target.elements)
        if not allow_outside_range:
            refuse_outside_range(model, key, override.py_name, override.value)
        overrides.append(override)
    return overrides


def refuse_time_constant(model: Model, key: str, py_name: str) -> None:
    """Raise ParameterError when the constant ``py_name`` (given as ``key``) sets the model's time settings.

    Those are computed once, when the model is loaded (``FINAL TIME = horizon``), and every run
    of a call shares them; for a constant that a control variable changing with Time reads
    (``TIME STEP = IF THEN ELSE(Time < switch time, 1, 0.5)``) no scenario's [time] table can
    stand in for it either.
    """
    if py_name not in model.control_constants:
        return
    feeds = model.time.read_by(py_name)
    if feeds:
        name = vensim_name(feeds[0])
        raise ParameterError(
            f"parameter {key!r} shapes the time grid through {name}, which changes with Time, and sdkit "
            f"runs every run of a model on the grid of the file's values; edit {key!r} in the model file instead"
        )
    raise ParameterError(
        f"parameter {key!r} sets the model's time settings when it is loaded; "
        "set the time in a scenario's [time] table (final_time = ...) instead"
    )


def target_of(model: Model, key: Any) -> Target:
    """The constant (and elements) a parameter's name points at: ``"x"`` or ``"x[a, b]"``.

    Raises
    ------
    ParameterError
        Unknown parameter, not a constant, or unknown subscript elements.
    """
    if not isinstance(key, str):
        raise ParameterError(f"parameter name {key!r} must be text; quote it")
    match = _SUBSCRIPTED.match(key.strip())
    name, elements = (match["name"], tuple(s.strip() for s in match["subs"].split(","))) if match else (key, ())
    py_name = model.resolve_parameter(name)
    if elements:
        _check_elements(model, key, model.variables[py_name].dims, elements)
    return Target(py_name, elements)


def range_text(limits: tuple[float | None, float | None]) -> str:
    """A documented range as its units field writes it: ``[0, 1]``, ``[0, ?]``."""
    return "[" + ", ".join("?" if v is None else f"{v:g}" for v in limits) + "]"


def values_outside(limits: tuple[float | None, float | None], values: Any) -> np.ndarray:
    """The values that lie outside ``limits`` (``None``: no bound on that side)."""
    values = np.ravel(np.asarray(values, dtype=float))
    low, high = limits
    bad = np.zeros(values.shape, dtype=bool)
    if low is not None:
        bad |= values < low
    if high is not None:
        bad |= values > high
    return values[bad]


def refuse_outside_range(model: Model, key: str, py_name: str, values: Any) -> None:
    """Raise ParameterError when a value for ``key`` lies outside its constant's documented range."""
    limits = model.variables[py_name].limits
    outside = values_outside(limits, values)
    if outside.size:
        raise ParameterError(
            f"{key!r} = {outside[0]:g} is outside the documented range {range_text(limits)} of "
            f"{model.variables[py_name].name!r} (its units field in {model.path.name}); give a value in "
            "the range, or pass --allow-outside-range (allow_outside_range=True) to run it anyway"
        )


def outside_range(model: Model, parameters: dict[str, Any]) -> list[str]:
    """The settings of ``parameters`` outside their documented ranges, as ``"name = value (range [lo, hi])"``.

    What a result records in its provenance when it was allowed to leave the ranges.
    """
    found = []
    for key, value in parameters.items():
        target = target_of(model, key)
        limits = model.variables[target.py_name].limits
        outside = values_outside(limits, value)
        if outside.size:
            shown = ", ".join(f"{v:g}" for v in outside[:5]) + (", ..." if outside.size > 5 else "")
            found.append(f"{key} = {shown} (range {range_text(limits)})")
    return found


def _check_elements(model: Model, key: str, dims: tuple[str, ...], elements: tuple[str, ...]) -> None:
    if len(elements) != len(dims):
        raise ParameterError(
            f"{key!r} names {len(elements)} subscript(s) but the constant has {len(dims)} "
            f"({', '.join(dims) or 'none'})"
        )
    for dim, element in zip(dims, elements, strict=True):
        if element not in model.dims.get(dim, []):
            raise ParameterError(
                f"{key!r}: {element!r} is not an element of {dim} "
                f"({', '.join(model.dims.get(dim, []))})"
            )


def _numeric(key: str, value: Any, model: Model, dims: tuple[str, ...], elements: tuple[str, ...]) -> float | np.ndarray:
    if isinstance(value, bool) or isinstance(value, str | dict):
        raise ParameterError(f"parameter {key!r} must be a number, got {value!r}")
    if isinstance(value, int | float):
        if abs(value) > _LARGEST or not math.isfinite(value):
            raise ParameterError(f"parameter {key!r} must be finite, got {str(value)[:30]}")
        return float(value)
    expected = () if elements else tuple(len(model.dims.get(d, [])) for d in dims)
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError, OverflowError):
        raise ParameterError(f"parameter {key!r} must be numbers, got {value!r}") from None
    if array.shape != expected:
        raise ParameterError(
            f"parameter {key!r} has shape {array.shape}, but the constant is shaped {expected} "
            f"over ({', '.join(dims) or 'no subscripts'})"
        )
    if not np.all(np.isfinite(array)):
        raise ParameterError(f"parameter {key!r} must be finite numbers")
    return array
