"""Robustness of checks: how often each check and each reference mode holds when the constants move.

In each of N draws, every constant that is not a *scenario lever* is multiplied by
its own factor drawn from U(1 - S, 1 + S), and the result is clipped to the
constant's documented range (``[min,max]`` in its units field) when the model gives
one. Scenario levers are the constants some scenario sets plus those listed in
``[_rules] levers = [...]`` of the scenarios file; time settings and a check's own
``set`` are never perturbed, and shares listed in ``[_rules] sum_to_one`` are
rescaled to add up to 1 again. A draw is one world: the same factors apply to every
scenario. All draws of one scenario run in one call of the vectorised engine.

A check passes in a draw when its verdict is a pass; a mode passes in a draw when
all its checks (those not marked ``xfail``) pass. The report gives, per check and
per mode, the pass rate, and per check the median margin over the draws (a draw
whose run turned non-finite counts as failing, with margin -inf).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from sdkit.check_runs import (
    Progress,
    constant_lookup,
    default_value,
    scenario_parameters,
    validate_settings,
)
from sdkit.checks import Check, evaluate_batch, scenarios_needed, variables_needed
from sdkit.errors import NonFiniteError, ParameterError
from sdkit.io import write_atomic
from sdkit.model import Model
from sdkit.provenance import versions
from sdkit.scenarios import (
    DEFAULT_SCENARIO,
    overrides_for,
    read_rules,
    scenarios_path_for,
    target_of,
)

__all__ = ["CSV_COLUMNS", "RobustReport", "draw_constants", "robust_checks", "scenario_levers", "write_robust_csv"]

CSV_COLUMNS = ("check", "mode", "pass_rate", "median_margin")
ALL_CHECKS = "*"


@dataclass(frozen=True)
class RobustReport:
    """Verdicts and margins of every check in every draw: arrays shaped ``(draw,)``."""

    model: Model
    checks: list[Check]
    draws: int
    spread: float
    seed: int
    perturbed: list[str]
    passed: dict[str, np.ndarray]
    margins: dict[str, np.ndarray]

    def check_rows(self) -> list[tuple[str, str, float, float]]:
        """``(check, mode, pass rate, median margin)`` per check, in file order."""
        rows = []
        for check in self.checks:
            margins = np.where(np.isnan(self.margins[check.id]), -np.inf, self.margins[check.id])
            rows.append((check.id, check.mode, float(self.passed[check.id].mean()), float(np.median(margins))))
        return rows

    def mode_rates(self) -> dict[str, float]:
        """Share of draws in which every (not expected-to-fail) check of a mode passes."""
        rates = {}
        for mode in dict.fromkeys(c.mode for c in self.checks):
            mine = [c for c in self.checks if c.mode == mode]
            counted = [c for c in mine if not c.xfail] or mine
            rates[mode] = float(np.logical_and.reduce([self.passed[c.id] for c in counted]).mean())
        return rates


def scenario_levers(model: Model) -> set[str]:
    """Python-safe names of the constants some scenario sets or ``[_rules] levers`` lists."""
    levers = set()
    for scenario in model.scenarios.values():
        levers.update(o.py_name for o in overrides_for(model, scenario.parameters))
    for name in read_rules(model.scenarios_file or scenarios_path_for(model.path)).levers:
        levers.add(model.resolve_parameter(name))
    return levers


def _columns_of(model: Model, py_name: str) -> list[str]:
    """Sample-table columns for a constant: its name, or ``name[element, ...]`` per element."""
    variable = model.variables[py_name]
    if not variable.dims:
        return [variable.name]
    elements = itertools.product(*(model.dims[d] for d in variable.dims))
    return [f"{variable.name}[{','.join(e)}]" for e in elements]


def draw_constants(model: Model, draws: int, spread: float, seed: int) -> pd.DataFrame:
    """One row per draw, one column per perturbed constant (or element): default x U(1-S, 1+S), clipped."""
    levers = scenario_levers(model)
    shares = {model.resolve_parameter(n) for n in read_rules(model.scenarios_file or scenarios_path_for(model.path)).sum_to_one}
    rng = np.random.default_rng(seed)
    columns: dict[str, np.ndarray] = {}
    for py_name in model.constants:
        if py_name in levers or py_name in model.control_constants:  # they set the time, shared by all draws
            continue
        names = _columns_of(model, py_name)
        base = np.asarray(default_value(model, py_name), dtype=float).ravel()
        values = base[None, :] * rng.uniform(1 - spread, 1 + spread, size=(draws, len(names)))
        low, high = model.variables[py_name].limits
        values = np.clip(values, -np.inf if low is None else low, np.inf if high is None else high)
        if py_name in shares and len(names) > 1:
            values = values / values.sum(axis=1, keepdims=True)
        columns.update(zip(names, values.T, strict=True))
    return pd.DataFrame(columns)


def robust_checks(
    model: Model, checks: Sequence[Check], draws: int, spread: float, seed: int, progress: Progress | None = None
) -> RobustReport:
    """Rerun every check in ``draws`` draws of the constants that are not scenario levers."""
    if draws < 1:
        raise ParameterError(f"draws must be at least 1, got {draws}")
    if not 0 < spread < 1:
        raise ParameterError(f"spread must be between 0 and 1, got {spread}")
    validate_settings(model, checks)
    table = draw_constants(model, draws, spread, seed)
    groups: dict[str, list[Check]] = {}
    for check in checks:
        groups.setdefault(json.dumps(check.overrides, sort_keys=True), []).append(check)
    jobs = [(g, name) for g in groups.values() for name in scenarios_needed(g)]
    runs: dict[tuple[str, str], xr.Dataset] = {}
    for group, name in progress(jobs) if progress else jobs:
        runs[json.dumps(group[0].overrides, sort_keys=True), name] = _run_draws(model, group, name, table)
    passed, margins = {}, {}
    for key, group in groups.items():
        needed = scenarios_needed(group)
        dataset = xr.concat([runs[key, n].expand_dims(scenario=[n]) for n in needed], dim="scenario", join="outer")
        for result in evaluate_batch(group, dataset, _lookup(model, group[0].overrides, table)):
            passed[result.check.id] = result.passed
            margins[result.check.id] = result.margins
    return RobustReport(model, list(checks), draws, spread, seed, list(table.columns), passed, margins)


def _lookup(model: Model, settings: dict[str, Any], table: pd.DataFrame) -> Callable[[str, str], Any]:
    """``param`` values per draw: the drawn column of a perturbed constant, else the run's fixed value."""
    fixed = constant_lookup(model, settings)
    set_here = {o.py_name for o in overrides_for(model, settings, allow_outside_range=True)}
    columns = {}
    for column in table.columns:
        override = target_of(model, column)
        columns[override.py_name, override.elements] = column

    def lookup(name: str, scenario: str) -> Any:
        value = fixed(name, scenario)  # validates the name
        wanted = target_of(model, name)
        column = columns.get((wanted.py_name, wanted.elements))
        return value if column is None or wanted.py_name in set_here else table[column].to_numpy()

    return lookup


def _run_draws(model: Model, group: list[Check], scenario: str, table: pd.DataFrame) -> xr.Dataset:
    """All draws of one scenario (with the group's ``set``), ``(sample, time)`` per variable."""
    scenario_parameters(model, scenario)  # unknown scenario: one clear error
    settings = group[0].overrides
    fixed = {o.py_name for o in overrides_for(model, settings, allow_outside_range=True)}
    kept = [c for c in table.columns if target_of(model, c).py_name not in fixed]
    frame = table[kept].copy()
    for name, value in _element_columns(model, settings).items():
        frame[name] = value
    names = [model.resolve(v) for v in variables_needed(group)]
    chosen = None if scenario == DEFAULT_SCENARIO and scenario not in model.scenarios else scenario
    return _finite_rows(model, frame, names, chosen)


def _element_columns(model: Model, settings: dict[str, Any]) -> dict[str, float]:
    """A ``set`` as one scalar column per constant or element."""
    columns = {}
    for override in overrides_for(model, settings, allow_outside_range=True):
        names = _columns_of(model, override.py_name)
        if override.elements or np.ndim(override.value) == 0 and len(names) == 1:
            key = names[0] if not override.elements else f"{model.variables[override.py_name].name}[{','.join(override.elements)}]"
            columns[key] = float(override.value)
        else:
            values = np.broadcast_to(np.asarray(override.value, dtype=float), (len(names),))
            columns.update(zip(names, values.tolist(), strict=True))
    return columns


def _finite_rows(model: Model, frame: pd.DataFrame, names: list[str], scenario: str | None) -> xr.Dataset:
    """Run every row; a row whose run turns non-finite is found by bisection and kept as NaN."""
    from sdkit.ensemble import ensemble

    try:
        return ensemble(model, frame, variables=names, scenario=scenario,
                        allow_outside_range=True).drop_vars("parameters")
    except NonFiniteError:
        if len(frame) == 1:
            time = model.time if scenario is None else model.time.replace(model.scenarios[scenario].time)
            nan = np.full((1, 1), np.nan)
            return xr.Dataset({n: (("sample", "time"), nan) for n in names},
                              coords={"sample": [0], "time": [time.initial_time]})
    half = len(frame) // 2
    parts = [_finite_rows(model, frame.iloc[rows].reset_index(drop=True), names, scenario)
             for rows in (slice(0, half), slice(half, None))]
    parts[1] = parts[1].assign_coords(sample=parts[1]["sample"] + half)
    return xr.concat(parts, dim="sample", join="outer")


def write_robust_csv(report: RobustReport, path: str | Path, command: str = "") -> list[Path]:
    """Write ``check,mode,pass_rate,median_margin`` (mode rows have check ``*``) and a JSON sidecar of provenance."""
    path = Path(path)
    lines = [",".join(CSV_COLUMNS)]
    for check, mode, rate, median in report.check_rows():
        lines.append(f"{_csv(check)},{_csv(mode)},{rate:.6g},{median:.6g}")
    for mode, rate in report.mode_rates().items():
        lines.append(f"{ALL_CHECKS},{_csv(mode)},{rate:.6g},")
    text = "\n".join(lines) + "\n"
    write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    sidecar = path.with_name(path.name + ".json")
    meta = {
        "model_file": str(report.model.path),
        "model_sha256": report.model.sha256,
        "draws": report.draws,
        "spread": report.spread,
        "seed": report.seed,
        "sdkit_version": versions()["sdkit"],
        "command": command,
        "perturbed": report.perturbed,
        "columns": "pass_rate: share of draws passing; median_margin: median signed margin "
                   "(positive passes); mode rows (check *) pass when all their checks pass",
    }
    write_atomic(sidecar, lambda tmp: tmp.write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n"))
    return [path, sidecar]


def _csv(text: str) -> str:
    if any(c in text for c in ',"\n'):
        return '"' + text.replace('"', '""') + '"'
    return text
