"""The explorer's parameter point: sliders, their groups and ranges, and what a point becomes.

A *slider* is one constant (or one element of a subscripted constant) keyed by the
name ``sdkit run --set`` takes: ``"supremacy claim"`` or ``"supremacy claim[liberal]"``.
A *point* is a scenario plus the slider values that differ from it. From a point come
the command that reproduces it (``sdkit run ... --set ...``) and a scenarios-file entry
that ``sdkit run --scenarios FILE --scenario NAME`` runs.

Groups come from the scenarios file: *scenario levers* are the constants its
``[_rules] levers`` lists; *order parameters* are the other constants some scenario
sets (the presets that tell one order from another); *system parameters* are the rest.
A model without a scenarios file has one group, *parameters*.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import shlex
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sdkit.check_runs import default_value
from sdkit.errors import ParameterError, ScenarioError
from sdkit.io import write_atomic
from sdkit.model import Model
from sdkit.scenarios import load_scenarios, overrides_for, read_rules, scenarios_path_for

GROUPS = ("order parameters", "system parameters", "scenario levers")
ONE_GROUP = "parameters"
#: Steps between a slider's ends.
SLIDER_STEPS = 200
_SCENARIO_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class Slider:
    """One settable number: a scalar constant or one element of a subscripted one."""

    key: str
    name: str
    py_name: str
    index: tuple[int, ...]
    units: str
    low: float
    high: float
    default: float
    description: str
    group: str
    range_from: str

    @property
    def step(self) -> float:
        return (self.high - self.low) / SLIDER_STEPS

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key, "name": self.name, "units": self.units, "low": self.low,
            "high": self.high, "step": self.step, "default": self.default,
            "description": self.description, "group": self.group, "range_from": self.range_from,
        }


def _keys_of(model: Model, py_name: str) -> list[tuple[str, tuple[int, ...]]]:
    """(slider key, element positions) for a constant: its name, or one key per element."""
    variable = model.variables[py_name]
    if not variable.dims:
        return [(variable.name, ())]
    ranges = [model.dims[d] for d in variable.dims]
    return [
        (f"{variable.name}[{','.join(r[i] for r, i in zip(ranges, index, strict=True))}]", index)
        for index in itertools.product(*(range(len(r)) for r in ranges))
    ]


def scenario_values(model: Model, scenario: str | None) -> dict[str, np.ndarray]:
    """Every constant's value (an array over its subscripts) in a scenario; None: the model's own."""
    values = {p: np.array(default_value(model, p), dtype=float) for p in model.constants}
    if scenario is not None:
        for override in overrides_for(model, model.scenarios[scenario].parameters):
            values[override.py_name][override.index(model)] = override.value
    return values


def _groups(model: Model) -> dict[str, str]:
    """Python-safe constant name -> group name."""
    if not model.scenarios:
        return {p: ONE_GROUP for p in model.constants}
    rules = read_rules(model.scenarios_file or scenarios_path_for(model.path))
    levers = {model.resolve_parameter(n) for n in rules.levers}
    preset = {o.py_name for s in model.scenarios.values() for o in overrides_for(model, s.parameters)}
    return {
        p: GROUPS[2] if p in levers else GROUPS[0] if p in preset else GROUPS[1]
        for p in model.constants
    }


def _set_counts(model: Model) -> dict[str, int]:
    """How many scenarios set each constant: the order parameters most often set come first."""
    counts: dict[str, int] = {}
    for scenario in model.scenarios.values():
        for py_name in {o.py_name for o in overrides_for(model, scenario.parameters)}:
            counts[py_name] = counts.get(py_name, 0) + 1
    return counts


def _derived_range(value: float) -> tuple[float, float]:
    """A range for a constant the model file gives none: 0 to twice its value, or -1 to 1 around 0."""
    if value == 0:
        return -1.0, 1.0
    return (0.0, 2 * value) if value > 0 else (2 * value, 0.0)


def make_sliders(model: Model) -> list[Slider]:
    """One slider per constant and element, in the model file's order (order parameters
    by how many scenarios set them), grouped; none for the constants of the time settings
    (:attr:`Model.control_constants`, which no run may set).

    The range is the model file's ``[low, high]``, widened to hold the default and every
    scenario's value; a constant without one gets 0 to twice its value (``range_from``
    says which).
    """
    groups = _groups(model)
    counts = _set_counts(model)
    per_scenario = [scenario_values(model, s) for s in [None, *model.scenarios]]
    sliders = []
    settable = [p for p in model.constants if p not in model.control_constants]
    for py_name in sorted(settable, key=lambda p: -counts.get(p, 0) if groups[p] == GROUPS[0] else 0):
        variable = model.variables[py_name]
        for key, index in _keys_of(model, py_name):
            seen = [float(v[py_name][index]) for v in per_scenario]
            low, high = variable.limits
            range_from = "model"
            if low is None or high is None:
                derived = _derived_range(seen[0])
                low = derived[0] if low is None else low
                high = derived[1] if high is None else high
                range_from = "derived"
            low, high = min(low, *seen), max(high, *seen)
            if not high > low:
                high = low + 1.0
            sliders.append(Slider(key, variable.name, py_name, index, variable.units, float(low),
                                  float(high), seen[0], variable.comment, groups[py_name], range_from))
    return sliders


@dataclass(frozen=True)
class Point:
    """A scenario (None: the model's own values) and slider values on top of it."""

    scenario: str | None
    values: dict[str, float]

    def parameters(self, model: Model) -> dict[str, Any]:
        """The scenario's parameters with the slider values on top (``--set`` semantics)."""
        base = dict(model.scenarios[self.scenario].parameters) if self.scenario else {}
        return {**base, **self.values}


def parse_point(model: Model, sliders: dict[str, Slider], body: Any) -> Point:
    """Validate a request's ``{"scenario": ..., "values": {key: number}}``; nothing is evaluated."""
    if not isinstance(body, dict):
        raise ParameterError("the request body must be a JSON object with `scenario` and `values`")
    scenario = body.get("scenario")
    if scenario is not None and (not isinstance(scenario, str) or scenario not in model.scenarios):
        raise ScenarioError(model.unknown_scenario(str(scenario)))
    given = body.get("values") or {}
    if not isinstance(given, dict):
        raise ParameterError("`values` must be an object {parameter: number}")
    values = {}
    for key, value in given.items():
        slider = sliders.get(key)
        if slider is None:
            raise ParameterError(f"{str(key)[:80]!r} is not a parameter of {model.path.name}; "
                                 "use a slider key from /api/model")
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ParameterError(f"{key!r} must be a finite number, got {str(value)[:40]!r}")
        if not slider.low <= value <= slider.high:
            raise ParameterError(f"{key!r} = {value!r} is outside its range "
                                 f"[{slider.low:g}, {slider.high:g}]; give a value inside it")
        values[key] = float(value)
    return Point(scenario, values)


def command_for(model: Model, point: Point, model_path: str | None = None) -> str:
    """The ``sdkit run`` command that reproduces a point (values written exactly, by ``repr``)."""
    words = ["sdkit", "run", model_path or str(model.path)]
    default_file = scenarios_path_for(model.path).resolve()
    if model.scenarios_file and model.scenarios_file != default_file and model.scenarios:
        words += ["--scenarios", str(model.scenarios_file)]
    if point.scenario:
        words += ["--scenario", point.scenario]
    for key, value in point.values.items():
        words += ["--set", f"{key}={value!r}"]
    return shlex.join(words)


def _toml_value(value: Any) -> str:
    if isinstance(value, list | tuple | np.ndarray):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return repr(float(value))


def scenario_entry(name: str, description: str, parameters: dict[str, Any], time: dict[str, float]) -> str:
    """A scenarios-file table for one scenario (keys quoted, numbers exact)."""
    lines = [f"[{name}]", f"description = {json.dumps(description)}", f"[{name}.parameters]"]
    lines += [f"{json.dumps(key)} = {_toml_value(np.asarray(value).tolist())}" for key, value in parameters.items()]
    if time:
        lines += [f"[{name}.time]", *(f"{key} = {float(v)!r}" for key, v in time.items())]
    return "\n".join(lines) + "\n"


def save_scenario(model: Model, point: Point, path: str | Path, name: str, description: str = "") -> Path:
    """Append a point as scenario ``name`` to a scenarios file (created if missing).

    The file is checked as ``sdkit run --scenarios FILE`` would read it before it replaces
    the old one, so a file that would not load is never written.
    """
    path = Path(path)
    if path.suffix != ".toml":
        raise ParameterError(f"{path} must be a .toml file, e.g. my.scenarios.toml")
    if not isinstance(name, str) or not _SCENARIO_NAME.match(name):
        raise ParameterError(f"scenario name {str(name)[:80]!r} must be 1-64 letters, digits, '_' or '-'")
    old = path.read_text(encoding="utf-8") if path.is_file() else ""
    try:
        existing = tomllib.loads(old)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path} is not a valid TOML file ({exc}); name another file") from None
    if name in existing:
        raise ScenarioError(f"{path} already has a scenario {name!r}; choose another name")
    time = model.scenarios[point.scenario].time if point.scenario else {}
    about = description or (f"{point.scenario} with " if point.scenario else "") + ", ".join(
        f"{k} = {v:g}" for k, v in point.values.items())
    text = old + ("\n" if old and not old.endswith("\n") else "") + ("\n" if old else "")
    text += scenario_entry(name, about or "the model's own values", point.parameters(model), time)

    def write(temporary: Path) -> None:
        temporary.write_text(text, encoding="utf-8")
        load_scenarios(temporary, model)

    write_atomic(path, write)
    return path.resolve()
