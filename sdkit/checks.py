"""Reference-mode checks: declarative statements about simulated trajectories.

A checks file (``models/<model>.checks.toml``) lists checks as an array of tables::

    [[check]]
    id = "RM2.restraint-breaks"
    mode = "RM2"
    scenario = "versailles"
    description = "restraint collapses: minimum restraint below 0.2"
    measure = { fn = "min", var = "Restraint" }
    op = "<"
    than = 0.2
    # xfail = "reason"      # only when the mode honestly does not reproduce

``measure`` and ``than`` are numbers or *measure tables*. A measure table names a
function ``fn`` and its arguments; arguments that are times, levels or operands
may themselves be numbers or measure tables, so measures nest. Nothing in a
checks file is ever evaluated as code: the vocabulary below is the whole language.

========================  =================================  ==========================
fn                        required keys                      optional keys
========================  =================================  ==========================
initial, final            var                                window
min, max, mean            var                                window
at, value_at_time_of      var, time                          (linear interpolation)
time_of_max, time_of_min  var                                window
first_below, first_above  var, level                         after, window
years_below, years_above  var, level                         window
settling_time             vars, tolerance, after             atol, window
diff (a - b), ratio (a/b) a, b
abs                       of
========================  =================================  ==========================

Every measure table may also carry ``scenario = "..."`` to read another scenario of
the same dataset (for checks that compare two runs). ``window = [t0, t1]`` restricts
a measure to ``t0 <= time <= t1``; either bound may be a measure. Variables are
named by their model name (``"Institutional Authority"``) or python-safe name
(``institutional_authority``). A measure that has no value (a level never crossed)
is NaN, and a check whose value is NaN fails. ``first_below`` and ``first_above``
interpolate the crossing time linearly between the two samples either side of it;
``years_below`` and ``years_above`` likewise count the part of each output
interval in which the linearly interpolated series is beyond the level.

``settling_time`` is the time after ``after`` until every variable in ``vars`` stays
within ``tolerance * |reference| + atol`` of its reference, the value at the end of
the window (its equilibrium when the run has settled).
"""

from __future__ import annotations

import logging
import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from sdkit.errors import CheckError
from sdkit.io import read_toml

__all__ = [
    "Check",
    "CheckResult",
    "checks_path_for",
    "evaluate",
    "load_checks",
    "scenarios_needed",
]

log = logging.getLogger(__name__)

#: Comparison operators a check may use.
OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}

_SERIES = {"var"}
# fn -> (required keys, optional keys); "fn" and "scenario" are always allowed.
FUNCTIONS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "initial": (frozenset(_SERIES), frozenset({"window"})),
    "final": (frozenset(_SERIES), frozenset({"window"})),
    "min": (frozenset(_SERIES), frozenset({"window"})),
    "max": (frozenset(_SERIES), frozenset({"window"})),
    "mean": (frozenset(_SERIES), frozenset({"window"})),
    "at": (frozenset({"var", "time"}), frozenset()),
    "value_at_time_of": (frozenset({"var", "time"}), frozenset()),
    "time_of_max": (frozenset(_SERIES), frozenset({"window"})),
    "time_of_min": (frozenset(_SERIES), frozenset({"window"})),
    "first_below": (frozenset({"var", "level"}), frozenset({"after", "window"})),
    "first_above": (frozenset({"var", "level"}), frozenset({"after", "window"})),
    "years_below": (frozenset({"var", "level"}), frozenset({"window"})),
    "years_above": (frozenset({"var", "level"}), frozenset({"window"})),
    "settling_time": (frozenset({"vars", "tolerance", "after"}), frozenset({"atol", "window"})),
    "diff": (frozenset({"a", "b"}), frozenset()),
    "ratio": (frozenset({"a", "b"}), frozenset()),
    "abs": (frozenset({"of"}), frozenset()),
}
# Keys whose value is a number or a nested measure.
_OPERAND_KEYS = ("time", "level", "after", "tolerance", "atol", "a", "b", "of")

_CHECK_REQUIRED = ("id", "mode", "scenario", "description", "measure", "op", "than")
_CHECK_OPTIONAL = ("xfail",)


@dataclass(frozen=True)
class Check:
    """One reference-mode check, as read from a checks file.

    Attributes
    ----------
    id : str
        Unique identifier, e.g. ``"RM2.restraint-breaks"``.
    mode : str
        Reference mode the check belongs to, e.g. ``"RM2"``.
    scenario : str
        Scenario whose trajectories the measure reads by default.
    description : str
        One line saying what the check asserts.
    measure : float or dict
        Number or measure table (see the module docstring).
    op : str
        One of ``<``, ``<=``, ``>``, ``>=``.
    than : float or dict
        Threshold: a number or a measure table.
    xfail : str or None
        Reason the check is expected to fail, or None.
    """

    id: str
    mode: str
    scenario: str
    description: str
    measure: float | dict[str, Any]
    op: str
    than: float | dict[str, Any]
    xfail: str | None = None


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one check on one dataset.

    ``passed`` is ``op(value, threshold)``; it is False when either is NaN.
    """

    id: str
    mode: str
    scenario: str
    description: str
    value: float
    op: str
    threshold: float
    passed: bool
    xfail: str | None


# --------------------------------------------------------------------------- loading


def checks_path_for(model_path: str | Path) -> Path:
    """Return the checks file that belongs to a model file.

    Parameters
    ----------
    model_path : str or Path
        Path of the model, e.g. ``models/x.mdl``.

    Returns
    -------
    Path
        ``models/x.checks.toml`` (the file need not exist).
    """
    path = Path(model_path)
    return path.with_name(f"{path.stem}.checks.toml")


def load_checks(path: str | Path) -> list[Check]:
    """Read and validate a checks file.

    Parameters
    ----------
    path : str or Path
        TOML file with an array of ``[[check]]`` tables.

    Returns
    -------
    list of Check
        In file order.

    Raises
    ------
    CheckError
        If the file is missing or not TOML, or a check has a missing or unknown
        key, an unknown function or operator, or a duplicate id. The message
        names the check and the key.
    """
    path = Path(path)
    data = read_toml(path, "checks file", CheckError)[1]
    extra = set(data) - {"check"}
    if extra:
        raise CheckError(f"{path}: unknown top-level key(s) {sorted(extra)}; use [[check]] tables")
    tables = data.get("check")
    if not isinstance(tables, list) or not tables:
        raise CheckError(f"{path}: no [[check]] tables found")
    checks: list[Check] = []
    seen: set[str] = set()
    for i, table in enumerate(tables):
        check = _parse_check(table, where=f"{path.name} check #{i + 1}")
        if check.id in seen:
            raise CheckError(f"{path.name}: duplicate check id {check.id!r}")
        seen.add(check.id)
        checks.append(check)
    return checks


def _parse_check(table: Mapping[str, Any], where: str) -> Check:
    if not isinstance(table, Mapping):
        raise CheckError(f"{where}: must be a table")
    cid = table.get("id")
    if isinstance(cid, str) and cid:
        where = f"check {cid!r}"
    for key in _CHECK_REQUIRED:
        if key not in table:
            raise CheckError(f"{where}: missing key {key!r}")
    unknown = set(table) - set(_CHECK_REQUIRED) - set(_CHECK_OPTIONAL)
    if unknown:
        raise CheckError(f"{where}: unknown key(s) {sorted(unknown)}")
    for key in ("id", "mode", "scenario", "description"):
        if not isinstance(table[key], str) or not table[key]:
            raise CheckError(f"{where}: {key!r} must be a non-empty string")
    if table["op"] not in OPS:
        raise CheckError(f"{where}: unknown op {table['op']!r}; use one of {list(OPS)}")
    xfail = table.get("xfail")
    if xfail is not None and (not isinstance(xfail, str) or not xfail):
        raise CheckError(f"{where}: 'xfail' must be a non-empty reason string")
    _validate_operand(table["measure"], f"{where}: measure")
    _validate_operand(table["than"], f"{where}: than")
    return Check(
        id=table["id"],
        mode=table["mode"],
        scenario=table["scenario"],
        description=table["description"],
        measure=table["measure"],
        op=table["op"],
        than=table["than"],
        xfail=xfail,
    )


def _validate_operand(spec: Any, where: str) -> None:
    if isinstance(spec, bool):
        raise CheckError(f"{where}: expected a number or a measure table, got a boolean")
    if isinstance(spec, int | float):
        return
    if not isinstance(spec, Mapping):
        raise CheckError(
            f"{where}: expected a number or a measure table, got {type(spec).__name__}"
        )
    fn = spec.get("fn")
    if fn is None:
        raise CheckError(f"{where}: measure table has no 'fn'")
    if fn not in FUNCTIONS:
        raise CheckError(f"{where}: unknown fn {fn!r}; use one of {sorted(FUNCTIONS)}")
    required, optional = FUNCTIONS[fn]
    missing = required - set(spec)
    if missing:
        raise CheckError(f"{where}: fn {fn!r} needs key(s) {sorted(missing)}")
    unknown = set(spec) - required - optional - {"fn", "scenario"}
    if unknown:
        raise CheckError(f"{where}: fn {fn!r} does not take key(s) {sorted(unknown)}")
    if "scenario" in spec and (not isinstance(spec["scenario"], str) or not spec["scenario"]):
        raise CheckError(f"{where}: 'scenario' must be a non-empty string")
    if "var" in spec and (not isinstance(spec["var"], str) or not spec["var"]):
        raise CheckError(f"{where}: 'var' must be a variable name")
    if "vars" in spec:
        names = spec["vars"]
        if not isinstance(names, list) or not names or not all(isinstance(v, str) and v for v in names):
            raise CheckError(f"{where}: 'vars' must be a non-empty list of variable names")
    if "window" in spec:
        window = spec["window"]
        if not isinstance(window, list) or len(window) != 2:
            raise CheckError(f"{where}: 'window' must be [t0, t1]")
        for bound in window:
            _validate_operand(bound, f"{where}: window")
        if all(isinstance(b, int | float) for b in window) and not window[0] < window[1]:
            raise CheckError(f"{where}: window [{window[0]}, {window[1]}] must have t0 < t1; swap the bounds")
    for key in _OPERAND_KEYS:
        if key in spec:
            _validate_operand(spec[key], f"{where}: {fn}.{key}")


def scenarios_needed(checks: Sequence[Check]) -> list[str]:
    """Return the scenarios that a list of checks reads, in first-use order.

    Parameters
    ----------
    checks : sequence of Check

    Returns
    -------
    list of str
        Each check's scenario and every ``scenario`` named inside its measures.
    """
    names: list[str] = []

    def add(name: str) -> None:
        if name not in names:
            names.append(name)

    def walk(spec: Any) -> None:
        if isinstance(spec, Mapping):
            if "scenario" in spec:
                add(spec["scenario"])
            for value in spec.values():
                walk(value)
        elif isinstance(spec, list):
            for value in spec:
                walk(value)

    for check in checks:
        add(check.scenario)
        walk(check.measure)
        walk(check.than)
    return names


# ------------------------------------------------------------------------ evaluation


def evaluate(checks: Sequence[Check], dataset: xr.Dataset) -> list[CheckResult]:
    """Evaluate checks on simulated trajectories.

    Parameters
    ----------
    checks : sequence of Check
        As returned by :func:`load_checks`.
    dataset : xarray.Dataset
        Dims ``(scenario, time)``; one data variable per model variable, named by
        its python-safe name, with the model name in the ``long_name`` attribute.

    Returns
    -------
    list of CheckResult
        One per check, in order.

    Raises
    ------
    CheckError
        If a check is malformed, or names a variable or scenario the dataset does
        not hold.
    """
    resolver = _Resolver(dataset)
    results = []
    for check in checks:
        # checks built in code rather than read by load_checks get the same validation
        if check.op not in OPS:
            raise CheckError(f"check {check.id!r}: unknown op {check.op!r}; use one of {list(OPS)}")
        _validate_operand(check.measure, f"check {check.id!r}: measure")
        _validate_operand(check.than, f"check {check.id!r}: than")
        ctx = _Context(resolver, check)
        value = ctx.operand(check.measure, check.scenario, "measure")
        threshold = ctx.operand(check.than, check.scenario, "than")
        passed = bool(
            not (math.isnan(value) or math.isnan(threshold)) and OPS[check.op](value, threshold)
        )
        results.append(
            CheckResult(
                id=check.id,
                mode=check.mode,
                scenario=check.scenario,
                description=check.description,
                value=value,
                op=check.op,
                threshold=threshold,
                passed=passed,
                xfail=check.xfail,
            )
        )
        log.debug("check %s: %g %s %g -> %s", check.id, value, check.op, threshold, passed)
    return results


def _safe_name(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


class _Resolver:
    """Map model or python-safe variable names to data variables; cache series."""

    def __init__(self, dataset: xr.Dataset) -> None:
        if "scenario" not in dataset.dims or "time" not in dataset.dims:
            raise CheckError(
                "dataset must have dims (scenario, time); run the model with sdkit.run"
            )
        self.dataset = dataset
        self.names: dict[str, str] = {}
        for var in dataset.data_vars:
            self.names[str(var)] = str(var)
            self.names[_safe_name(str(var))] = str(var)
            long_name = dataset[var].attrs.get("long_name")
            if isinstance(long_name, str):
                self.names.setdefault(long_name, str(var))
                self.names.setdefault(_safe_name(long_name), str(var))
        self.scenarios = [str(s) for s in dataset["scenario"].values]
        self._cache: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}

    def series(self, var: str, scenario: str, where: str) -> tuple[np.ndarray, np.ndarray]:
        name = self.names.get(var) or self.names.get(_safe_name(var))
        if name is None:
            raise CheckError(
                f"{where}: unknown variable {var!r}; the dataset holds no such variable"
            )
        if scenario not in self.scenarios:
            raise CheckError(f"{where}: scenario {scenario!r} is not in the dataset; run it first")
        key = (name, scenario)
        if key not in self._cache:
            data = self.dataset[name].sel(scenario=scenario)
            if set(data.dims) != {"time"}:
                raise CheckError(
                    f"{where}: variable {var!r} has dims {data.dims}; checks need a time series"
                )
            t = np.asarray(data["time"].values, dtype=float)
            x = np.asarray(data.values, dtype=float)
            keep = np.isfinite(x)  # runs of different lengths are padded with NaN
            self._cache[key] = (t[keep], x[keep])
        return self._cache[key]


class _Context:
    """Evaluate the measures of one check."""

    def __init__(self, resolver: _Resolver, check: Check) -> None:
        self.resolver = resolver
        self.check = check

    def operand(self, spec: Any, scenario: str, where: str) -> float:
        if isinstance(spec, int | float):
            return float(spec)
        scenario = spec.get("scenario", scenario)
        return float(
            getattr(self, f"_fn_{spec['fn']}")(spec, scenario, f"check {self.check.id!r}: {where}")
        )

    # helpers ---------------------------------------------------------------
    def _series(
        self, spec: Mapping[str, Any], scenario: str, where: str, var: str | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        t, x = self.resolver.series(var or spec["var"], scenario, where)
        if "window" in spec:
            t0 = self.operand(spec["window"][0], scenario, where + ".window")
            t1 = self.operand(spec["window"][1], scenario, where + ".window")
            if math.isnan(t0) or math.isnan(t1):
                return t[:0], x[:0]
            keep = (t >= t0) & (t <= t1)
            t, x = t[keep], x[keep]
        return t, x

    @staticmethod
    def _reduce(t: np.ndarray, x: np.ndarray, fn: Callable[[np.ndarray], float]) -> float:
        return float(fn(x)) if x.size else math.nan

    # value functions -------------------------------------------------------
    def _fn_initial(self, spec: Mapping[str, Any], scenario: str, where: str) -> float:
        return self._reduce(*self._series(spec, scenario, where), lambda x: x[0])

    def _fn_final(self, spec: Mapping[str, Any], scenario: str, where: str) -> float:
        return self._reduce(*self._series(spec, scenario, where), lambda x: x[-1])

    def _fn_min(self, spec: Mapping[str, Any], scenario: str, where: str) -> float:
        return self._reduce(*self._series(spec, scenario, where), np.min)

    def _fn_max(self, spec: Mapping[str, Any], scenario: str, where: str) -> float:
        return self._reduce(*self._series(spec, scenario, where), np.max)

    def _fn_mean(self, spec: Mapping[str, Any], scenario: str, where: str) -> float:
        t, x = self._series(spec, scenario, where)
        if x.size < 2:
            return self._reduce(t, x, np.mean)
        return float(np.trapezoid(x, t) / (t[-1] - t[0]))

    def _fn_at(self, spec: Mapping[str, Any], scenario: str, where: str) -> float:
        t, x = self._series(spec, scenario, where)
        when = self.operand(spec["time"], scenario, where + ".time")
        if math.isnan(when) or not x.size or when < t[0] or when > t[-1]:
            return math.nan
        return float(np.interp(when, t, x))

    _fn_value_at_time_of = _fn_at

    # time functions --------------------------------------------------------
    def _fn_time_of_max(self, spec: Mapping[str, Any], scenario: str, where: str) -> float:
        t, x = self._series(spec, scenario, where)
        return float(t[np.argmax(x)]) if x.size else math.nan

    def _fn_time_of_min(self, spec: Mapping[str, Any], scenario: str, where: str) -> float:
        t, x = self._series(spec, scenario, where)
        return float(t[np.argmin(x)]) if x.size else math.nan

    def _first(self, spec: Mapping[str, Any], scenario: str, where: str, below: bool) -> float:
        t, x = self._series(spec, scenario, where)
        level = self.operand(spec["level"], scenario, where + ".level")
        if "after" in spec:
            after = self.operand(spec["after"], scenario, where + ".after")
            if math.isnan(after):
                return math.nan
            keep = t >= after
            t, x = t[keep], x[keep]
        hits = np.flatnonzero(x < level if below else x > level)
        if not hits.size:
            return math.nan
        i = hits[0]
        if i == 0:
            return float(t[0])
        # interpolate the crossing linearly between the samples either side of it
        return float(t[i - 1] + (level - x[i - 1]) * (t[i] - t[i - 1]) / (x[i] - x[i - 1]))

    def _fn_first_below(self, spec: Mapping[str, Any], scenario: str, where: str) -> float:
        return self._first(spec, scenario, where, below=True)

    def _fn_first_above(self, spec: Mapping[str, Any], scenario: str, where: str) -> float:
        return self._first(spec, scenario, where, below=False)

    def _years(self, spec: Mapping[str, Any], scenario: str, where: str, below: bool) -> float:
        t, x = self._series(spec, scenario, where)
        if x.size < 2:
            return 0.0 if x.size else math.nan
        level = self.operand(spec["level"], scenario, where + ".level")
        # margin > 0 where the condition holds; between samples the series is taken
        # as linear, so an interval the level crosses counts in proportion
        margin = level - x if below else x - level
        a, b = margin[:-1], margin[1:]
        with np.errstate(divide="ignore", invalid="ignore"):
            fraction = np.where(
                (a > 0) & (b > 0),
                1.0,
                np.where((a <= 0) & (b <= 0), 0.0, np.where(a > 0, a / (a - b), b / (b - a))),
            )
        return float(np.sum(np.diff(t) * fraction))

    def _fn_years_below(self, spec: Mapping[str, Any], scenario: str, where: str) -> float:
        return self._years(spec, scenario, where, below=True)

    def _fn_years_above(self, spec: Mapping[str, Any], scenario: str, where: str) -> float:
        return self._years(spec, scenario, where, below=False)

    def _fn_settling_time(self, spec: Mapping[str, Any], scenario: str, where: str) -> float:
        after = self.operand(spec["after"], scenario, where + ".after")
        tolerance = self.operand(spec["tolerance"], scenario, where + ".tolerance")
        atol = self.operand(spec.get("atol", 0.0), scenario, where + ".atol")
        if math.isnan(after):
            return math.nan
        worst = 0.0
        for var in spec["vars"]:
            t, x = self._series(spec, scenario, where, var=var)
            keep = t >= after
            t, x = t[keep], x[keep]
            if not x.size:
                return math.nan
            reference = x[-1]
            outside = np.flatnonzero(np.abs(x - reference) > tolerance * abs(reference) + atol)
            if outside.size:
                last = outside[-1]
                # settled from the sample after the last one outside the band
                settled_at = t[last + 1] if last + 1 < t.size else math.inf
                worst = max(worst, settled_at - after)
        return worst

    # arithmetic ------------------------------------------------------------
    def _fn_diff(self, spec: Mapping[str, Any], scenario: str, where: str) -> float:
        return self.operand(spec["a"], scenario, where + ".a") - self.operand(
            spec["b"], scenario, where + ".b"
        )

    def _fn_ratio(self, spec: Mapping[str, Any], scenario: str, where: str) -> float:
        a = self.operand(spec["a"], scenario, where + ".a")
        b = self.operand(spec["b"], scenario, where + ".b")
        return a / b if b != 0 else math.nan

    def _fn_abs(self, spec: Mapping[str, Any], scenario: str, where: str) -> float:
        return abs(self.operand(spec["of"], scenario, where + ".of"))
