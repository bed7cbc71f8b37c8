"""What the explorer computes at a parameter point: a run, a fan, checks, loops, a figure.

The model is compiled once (:meth:`Explorer.warm_up`); every request after that hands
the compiled kernel new numbers through :func:`sdkit.simulate.run_rows`, as
:func:`sdkit.run.run` and :func:`sdkit.ensemble.ensemble` do, and never recompiles. A run is the kernel's run of ``sdkit run MODEL --scenario S
--set ...`` (the same parameter arrays, the same save times, so the same numbers); the
fan is the kernel's run of :func:`sdkit.ensemble.ensemble` on a table of draws.
"""

from __future__ import annotations

import io
import itertools
import threading
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sdkit.check_file import CheckFile, checks_path_for, find_checks_file, read_check_file
from sdkit.check_robust import draw_constants
from sdkit.check_runs import run_checks, validate_settings
from sdkit.errors import NonFiniteError, ParameterError, ScenarioError, UnsupportedFeature
from sdkit.explore.point import Point, Slider, make_sliders, scenario_values
from sdkit.model import Model, TimeSettings
from sdkit.runs import Runs, step_grid
from sdkit.scenarios import Override, overrides_for, target_of
from sdkit.simulate import run_rows, save_times

#: Variables drawn by default, when the model has them.
DEFAULT_VARIABLES = ("Legitimacy", "Power", "Institutional Authority", "Civil Society Pressure",
                     "Restraint", "Disorder")
#: Quantiles of the fan: the 90 % band, the 50 % band and the median.
FAN_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
BAND_KEYS = ("q05", "q25", "q50", "q75", "q95")
MAX_SAMPLES = 20_000
#: The variable whose run gives the balance map's outcome class (models that have it).
OUTCOME_VARIABLE = "restraint"


class Explorer:
    """A loaded model, its sliders and checks, and the computations the page asks for.

    Computations are serialised per lane (``locks``): single runs in ``"run"``, fans
    in ``"fan"``, checks, loops, figures and saving in ``"slow"``, so neither a fan nor a
    check that takes a second delays a slider's run. The kernel's threads release
    the GIL, so lanes may call it at once; one computation per lane keeps memory
    flat however many requests arrive.
    """

    def __init__(self, model: Model, scenario: str | None = None, checks: str | Path | None = None) -> None:
        if scenario is not None and scenario not in model.scenarios:
            raise ScenarioError(model.unknown_scenario(scenario))
        beside = checks_path_for(model.path)
        self.checks_file = find_checks_file(model.path, checks) if checks else beside if beside.exists() else None
        self.model = model
        self.scenario = scenario
        self.locks = {"run": threading.Lock(), "fan": threading.Lock(), "slow": threading.Lock()}
        self.sliders: dict[str, Slider] = {}
        self.suite: CheckFile | None = None
        self.variables = self._default_variables()
        self._loop_report: Any = None
        self._draw_cache: dict[tuple[int, float, int], tuple[pd.DataFrame, list[tuple[str, Override]]]] = {}

    def _default_variables(self) -> list[str]:
        """The six of :data:`DEFAULT_VARIABLES` the model has (by name, or a stock whose
        name ends with one, such as "Order Legitimacy"), in that order; else its stocks."""
        rank = {}
        for variable in self.model.variables.values():
            name = variable.name.lower()
            for i, wanted in enumerate(w.lower() for w in DEFAULT_VARIABLES):
                if variable.kind in ("stock", "auxiliary") and name == wanted or (
                        variable.kind == "stock" and name.endswith(" " + wanted)):
                    rank[variable.py_name] = i
        chosen = sorted(rank, key=rank.get)
        return chosen or self.model.stocks[:6] or self.model.default_outputs()[:6]

    def warm_up(self, step: Callable[[str], None] = lambda _: None) -> None:
        """Compile the kernel (and its numba form) once, read the checks, run the baseline."""
        step("compiling the model into the engine's kernel")
        kernel = self.model.kernel
        step("compiling the kernel to machine code (numba)")
        kernel.simulate({}, 2, self.variables[:1], save="final", backend="numba")
        step("reading sliders and checks")
        self.sliders = {s.key: s for s in make_sliders(self.model)}
        if self.checks_file is not None:
            suite = read_check_file(self.checks_file)
            validate_settings(self.model, suite.checks)
            self.suite = suite
        step("running the baseline")
        self.run(Point(self.scenario, {}))

    # ------------------------------------------------------------------ description

    def describe(self) -> dict[str, Any]:
        model = self.model
        return {
            "model": model.path.name,
            "scenario": self.scenario,
            "time": model.time.as_dict(),
            "sliders": [s.as_json() for s in self.sliders.values()],
            "variables": [_variable_json(model, p) for p in self.variables],
            "outputs": [_variable_json(model, p) for p in model.default_outputs()],
            "has_checks": self.suite is not None,
            "fan_defaults": {"samples": 1000, "spread": 0.1, "seed": 0},
        }

    def scenarios(self) -> list[dict[str, Any]]:
        """Each scenario's description and the value of every slider in it."""
        found = []
        for name in [None, *self.model.scenarios]:
            values = scenario_values(self.model, name)
            description = self.model.scenarios[name].description if name else "the model file's own values"
            found.append({
                "name": name, "description": description,
                "values": {k: float(values[s.py_name][s.index]) for k, s in self.sliders.items()},
            })
        return found

    # ------------------------------------------------------------------ simulation

    def _plan(self, point: Point) -> tuple[list[Override], TimeSettings]:
        scenario = self.model.scenarios[point.scenario] if point.scenario else None
        overrides = overrides_for(self.model, point.parameters(self.model))
        return overrides, self.model.time.replace(scenario.time if scenario else {})

    def _variables(self, names: list[str] | None) -> list[str]:
        if not names:
            return self.variables
        if not isinstance(names, list) or len(names) > 24:
            raise ParameterError("`variables` must be a list of at most 24 variable names")
        return [self.model.resolve(str(n)) for n in names]

    def run(self, point: Point, variables: list[str] | None = None) -> dict[str, Any]:
        """One run at the point: times and each variable's trajectory."""
        names = self._variables(variables)
        overrides, time = self._plan(point)
        outcome = [OUTCOME_VARIABLE] if OUTCOME_VARIABLE in self.model.variables and OUTCOME_VARIABLE not in names else []
        runs = Runs(range(1), "sample", tuple(overrides))
        times, data = run_rows(self.model, runs, time, [*names, *outcome], _save_for(time))
        lines = {n: _lines(data[n][0]) for n in [*names, *outcome]}
        return {
            "times": np.asarray(times, dtype=float).tolist(),
            "series": {n: [_json(v) for v in lines[n]] for n in names},
            "elements": {n: self._elements(n) for n in names},
            "outcome": _outcome(lines[OUTCOME_VARIABLE][0] if OUTCOME_VARIABLE in lines else None),
        }

    def _elements(self, py_name: str) -> list[str]:
        """Labels of a variable's lines: its elements ("liberal", "a,b"), or [""] for a scalar."""
        dims = self.model.variables[py_name].dims
        return [",".join(e) for e in itertools.product(*(self.model.dims[d] for d in dims))] if dims else [""]

    def _draws(self, samples: int, spread: float, seed: int) -> tuple[pd.DataFrame, list[tuple[str, Override]]]:
        """The seeded draws of every constant that is not a scenario lever, as a table and as
        overrides (kept for the last few settings: the same inputs give the same draws)."""
        if isinstance(samples, bool) or not isinstance(samples, int) or not 2 <= samples <= MAX_SAMPLES:
            raise ParameterError(f"`samples` must be a whole number from 2 to {MAX_SAMPLES:,}")
        if isinstance(spread, bool) or not isinstance(spread, int | float) or not 0 < spread < 1:
            raise ParameterError("`spread` must be a fraction between 0 and 1, e.g. 0.1 for 10 %")
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
            raise ParameterError("`seed` must be a whole number from 0 to 2**32 - 1")
        key = (samples, float(spread), seed)
        if key not in self._draw_cache:
            while len(self._draw_cache) >= 4:
                self._draw_cache.pop(next(iter(self._draw_cache)))
            table = draw_constants(self.model, samples, float(spread), seed)
            self._draw_cache[key] = (table, _columns(self.model, table))
        return self._draw_cache[key]

    def fan_table(self, point: Point, samples: int, spread: float, seed: int) -> pd.DataFrame:
        """The draws around a point: every constant that is not a scenario lever and that the
        point does not set, times U(1 - spread, 1 + spread) (as ``sdkit check --robust``)."""
        table, columns = self._draws(samples, spread, seed)
        held = {o.py_name for o in overrides_for(self.model, point.values)}
        return table[[name for name, o in columns if o.py_name not in held]]

    def fan(self, point: Point, samples: int = 1000, spread: float = 0.1, seed: int = 0,
            variables: list[str] | None = None) -> dict[str, Any]:
        """Median and the 50 % and 90 % bands of ``samples`` runs around the point."""
        names = self._variables(variables)
        table, all_columns = self._draws(samples, spread, seed)
        held = {o.py_name for o in overrides_for(self.model, point.values)}
        columns = [(name, o) for name, o in all_columns if o.py_name not in held]
        overrides, time = self._plan(point)
        try:
            data, broken = run_rows(self.model, _draw_runs(overrides, columns, len(table)), time, names,
                                    _save_for(time))[1], 0
        except NonFiniteError:
            data, broken = self._finite_runs(overrides, time, columns, len(table), names)
        bands = {}
        for n in names:
            values = np.asarray(data[n], dtype=float)
            values = values.reshape(values.shape[0], values.shape[1], -1)
            q = np.nanquantile(values, FAN_QUANTILES, axis=0) if broken else sample_quantiles(values, FAN_QUANTILES)
            bands[n] = [dict(zip(BAND_KEYS, (_json(q[i, :, e]) for i in range(len(FAN_QUANTILES))), strict=True))
                        for e in range(q.shape[2])]
        return {"times": save_times(time).tolist(), "bands": bands, "samples": len(table),
                "non_finite": broken, "spread": spread, "seed": seed}

    def _finite_runs(self, overrides: list[Override], time: TimeSettings, columns: list, n: int,
                     names: list[str]) -> tuple[dict, int]:
        """Runs of every draw, one at a time, with NaN for those that turn non-finite."""
        runs = _draw_runs(overrides, columns, n)
        save = save_times(time)
        shapes = {v: tuple(len(self.model.dims[d]) for d in self.model.variables[v].dims) for v in names}
        data = {v: np.full((runs.n, len(save), *shapes[v]), np.nan) for v in names}
        broken = 0
        for row in range(runs.n):
            try:
                one = run_rows(self.model, runs.take(row, row + 1), time, names, _save_for(time))[1]
            except NonFiniteError:
                broken += 1
                continue
            for v in names:
                data[v][row] = one[v][0]
        return data, broken

    def checks(self, point: Point) -> dict[str, Any]:
        """The model's checks with the point's slider values on top of every scenario they read."""
        if self.suite is None:
            return {"checks": [], "passed": 0, "failed": 0, "set": point.values}
        results = run_checks(self.model, self.suite.checks, extra=point.values)
        rows = [{
            "id": r.id, "mode": r.mode, "scenario": r.scenario, "description": r.description,
            "value": _number(r.value), "op": r.op, "threshold": _number(r.threshold),
            "margin": _number(r.margin), "passed": r.passed, "xfail": r.xfail, "note": r.note,
        } for r in results]
        failed = sum(not r.passed and not r.xfail for r in results)
        return {"checks": rows, "passed": sum(r.passed for r in results), "failed": failed,
                "expected_to_fail": sum(bool(r.xfail) for r in results), "set": point.values}

    def dominant_loops(self, point: Point, top: int = 3) -> dict[str, Any]:
        """Loops That Matter at the point (:mod:`sdkit.loops.dominance`): the loops that have
        the largest |loop score| longest, with their share of the run's time steps."""
        from sdkit.loops.dominance import score_scenario
        from sdkit.loops.find import find_loops

        try:
            if self._loop_report is None:
                self._loop_report = find_loops(self.model)
            samples = pd.DataFrame({k: [v] for k, v in point.values.items()}) if point.values else None
            scored = score_scenario(self.model, point.scenario, self._loop_report.loops, samples, keep=[])
        except UnsupportedFeature as exc:
            return {"available": False, "reason": str(exc), "loops": []}
        leader = np.asarray(scored["dominant_loop"].values).reshape(-1, scored.sizes["time"])[0, 1:]
        by_id = {loop.id: loop for loop in self._loop_report.loops}
        ids, counts = np.unique(leader[leader != ""], return_counts=True)
        ranked = sorted(zip(ids, counts, strict=True), key=lambda pair: -pair[1])[:top]
        return {"available": True, "loops": [
            {"id": str(i), "name": by_id[i].name, "polarity": by_id[i].polarity,
             "variables": list(by_id[i].variables), "share": float(c) / len(leader)} for i, c in ranked]}

    def figure(self, point: Point, fmt: str, fan: dict[str, Any] | None = None,
               variables: list[str] | None = None) -> bytes:
        """The current view drawn by :mod:`sdkit.plot` in the publication style, as file bytes."""
        from sdkit.explore.export import draw_view

        if fmt not in ("png", "pdf", "svg"):
            raise ParameterError(f"figure format {str(fmt)[:20]!r} is not one of png, pdf, svg")
        names = self._variables(variables)
        buffer = io.BytesIO()
        draw_view(self, point, names, fan, buffer, fmt)
        return buffer.getvalue()


def sample_quantiles(values: np.ndarray, quantiles: tuple[float, ...]) -> np.ndarray:
    """``np.quantile(values, quantiles, axis=0)`` (its default, linear method) for finite
    values, by one sort: several times faster than numpy's partition for a fan's few
    quantiles of many series. Same numbers: numpy's virtual index and its two-sided lerp."""
    ordered = np.sort(values, axis=0)
    n = ordered.shape[0]
    found = []
    for q in quantiles:
        virtual = (n - 1) * q
        below = int(np.floor(virtual))
        above = min(below + 1, n - 1)
        t = virtual - below
        a, b = ordered[below], ordered[above]
        diff = b - a
        found.append(b - diff * (1 - t) if t >= 0.5 else a + diff * t)
    return np.stack(found)


def _variable_json(model: Model, py_name: str) -> dict[str, str]:
    variable = model.variables[py_name]
    return {"key": py_name, "name": variable.name, "units": variable.units, "description": variable.comment}


def _columns(model: Model, table: pd.DataFrame) -> list[tuple[str, Override]]:
    """Sample-table columns as overrides whose values are the columns."""
    found = []
    for column in table.columns:
        override = target_of(model, column)
        found.append((column, Override(override.py_name, table[column].to_numpy(dtype=float), override.elements)))
    return found


def _draw_runs(overrides: list[Override], columns: list[tuple[str, Override]], n: int) -> Runs:
    """The fan's runs: the point's values shared by all, then one draw per run."""
    return Runs(range(n), "sample", tuple(overrides), columns=tuple(o for _, o in columns))


@lru_cache(maxsize=16)
def _save_for(time: TimeSettings) -> str | tuple[float, ...]:
    """The kernel's ``save`` for :func:`sdkit.run.save_times`: ``"all"`` when that is the same grid."""
    if step_grid(time)[1][-1]:
        return "all"
    return tuple(save_times(time))


def _lines(values: np.ndarray) -> list[np.ndarray]:
    """One trajectory per element of a variable shaped (time, *subscripts)."""
    values = np.asarray(values, dtype=float)
    return list(values.reshape(values.shape[0], -1).T)


def _json(values: np.ndarray) -> list[float | None]:
    """A trajectory as JSON numbers (None for NaN)."""
    values = np.asarray(values, dtype=float)
    if np.isfinite(values).all():
        return values.tolist()
    return [float(v) if np.isfinite(v) else None for v in values]


def _number(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _outcome(restraint: np.ndarray | None) -> str | None:
    """The balance map's outcome class of a run, for a model with Restraint."""
    if restraint is None:
        return None
    import xarray as xr

    from sdkit.kissinger.outcomes import OUTCOME_MEANINGS, classify_outcome

    code = int(classify_outcome(xr.DataArray(restraint, dims=("time",))).item())
    return OUTCOME_MEANINGS[code]
