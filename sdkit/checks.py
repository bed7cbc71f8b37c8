"""Reference-mode checks and mechanism tests: declarative statements about simulated trajectories.

A checks file (``models/<model>.checks.toml``) lists checks and knockouts::

    [[check]]
    id = "RM2.restraint-breaks"
    mode = "RM2"
    scenario = "versailles"
    description = "restraint collapses: minimum restraint below 0.2"
    measure = { fn = "min", var = "Restraint" }
    op = "<"
    than = 0.2
    # set = { "legitimacy emphasis" = 0 }   # constants on top of the scenario
    # xfail = "reason"      # only when the mode honestly does not reproduce

    [[knockout]]
    id = "KO.substitutes"
    description = "legitimacy and power as perfect substitutes: no balance mechanism"
    set = { "CES exponent" = 1 }
    must_fail = ["RM2.restraint-breaks"]

``measure`` and ``than`` are numbers or *measure tables*. A measure table names a
function ``fn`` and its arguments; arguments that are times, levels, bounds or
operands may themselves be numbers or measure tables, so measures nest. Nothing
in a checks file is ever evaluated as code: the vocabulary below is the whole
language. The functions are those of :mod:`sdkit.measures`.

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
excursion                 var, and lo or hi or both          window
param                     name
diff (a - b), ratio (a/b) a, b
abs                       of
========================  =================================  ==========================

Every measure table may also carry ``scenario = "..."`` to read another scenario
(for checks that compare two runs). ``window = [t0, t1]`` restricts a measure to
``t0 <= time <= t1``; either bound may be a measure. Variables are named by their
model name (``"Institutional Authority"``) or python-safe name. A measure that has
no value (a level never crossed) is NaN, and a check whose value is NaN fails.
``first_below``/``first_above`` interpolate the crossing linearly between the two
samples either side of it; ``years_below``/``years_above`` count the part of each
output interval in which the linearly interpolated series is beyond the level.
``settling_time`` is the time after ``after`` until every variable in ``vars``
stays within ``tolerance * |reference| + atol`` of its reference, its last value.
``excursion`` is ``max(lo - x, x - hi)`` over the run: negative when the series
stays inside ``[lo, hi]``, so ``excursion <= 0`` says "bounded"; a run that turns
NaN or infinite fails every check that reads it. ``param`` is the value of a
constant (``name = "tolerated claim"``, or ``"share[liberal]"`` for one element)
in the run the check reads, so a threshold can follow a parameter.

``set = { "constant" = value, ... }`` on a check applies those constants on top
of every scenario the check reads (extreme-condition checks: zero legitimacy,
emphasis 0 or 1). A ``[[knockout]]`` is a mechanism test: its ``set`` is applied
on top of every scenario (and of the checks' own ``set``), the checks named in
``must_fail`` are rerun, and the test passes only when every one of them fails.
A reference mode (the ``mode`` of a check) is *covered* when a knockout names one
of its checks; ``sdkit check`` lists the modes no knockout covers.

Every result carries a signed **margin**: ``measured - threshold`` for ``>`` and
``>=``, ``threshold - measured`` for ``<`` and ``<=``; positive means the check
passes by that much. ``sdkit check MODEL --robust N --spread S --seed K`` reruns
every check in N draws of the model's constants (see :mod:`sdkit.check_robust`);
``--dt-check`` reruns them at half the time step and lists verdicts that change
(see :mod:`sdkit.check_runs`). docs/checks.md describes all of it with examples.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from sdkit import measures
from sdkit.check_file import (
    FUNCTIONS,
    OPS,
    Check,
    CheckFile,
    Knockout,
    checks_path_for,
    load_checks,
    margin,
    read_check_file,
    scenarios_needed,
    validate_check,
    variables_needed,
)
from sdkit.errors import CheckError

__all__ = [
    "FUNCTIONS",
    "OPS",
    "BatchResult",
    "Check",
    "CheckFile",
    "CheckResult",
    "Knockout",
    "checks_path_for",
    "evaluate",
    "evaluate_batch",
    "load_checks",
    "margin",
    "read_check_file",
    "scenarios_needed",
    "variables_needed",
]

log = logging.getLogger(__name__)

#: ``constants(name, scenario)`` -> the value of a constant in a run, per run.
ConstantLookup = Callable[[str, str], "float | np.ndarray"]


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one check on one run.

    ``passed`` is ``op(value, threshold)``; it is False when either is NaN.
    ``note`` says why a check could not be measured (e.g. its run turned NaN).
    ``overrides`` are the constants set on top of the scenario (the check's own and,
    in a knockout, the knockout's).
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
    overrides: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    @property
    def margin(self) -> float:
        """Positive when the check passes by that much; NaN when unmeasured."""
        return float(margin(self.op, self.value, self.threshold))


@dataclass(frozen=True)
class BatchResult:
    """Outcome of one check over many runs (draws): arrays shaped ``(run,)``."""

    check: Check
    values: np.ndarray
    thresholds: np.ndarray

    @property
    def passed(self) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return np.asarray(OPS[self.check.op](self.values, self.thresholds), dtype=bool)

    @property
    def margins(self) -> np.ndarray:
        return np.asarray(margin(self.check.op, self.values, self.thresholds), dtype=float)


# ------------------------------------------------------------------------ evaluation


def evaluate(checks: Sequence[Check], dataset: xr.Dataset, constants: ConstantLookup | None = None) -> list[CheckResult]:
    """Evaluate checks on simulated trajectories.

    Parameters
    ----------
    checks : sequence of Check
    dataset : xarray.Dataset
        Dims ``(scenario, time)``; one data variable per model variable, named by
        its python-safe name, with the model name in the ``long_name`` attribute.
    constants : callable, optional
        ``constants(name, scenario)`` gives a constant's value in a run; needed
        only by ``param`` measures (:func:`sdkit.check_runs.constant_lookup`).

    Returns
    -------
    list of CheckResult
        One per check, in order.

    Raises
    ------
    CheckError
        If a check is malformed, or names a variable or scenario the dataset does not hold.
    """
    results = []
    for batch in evaluate_batch(checks, dataset, constants):
        check = batch.check
        results.append(CheckResult(
            id=check.id, mode=check.mode, scenario=check.scenario, description=check.description,
            value=float(batch.values[0]), op=check.op, threshold=float(batch.thresholds[0]),
            passed=bool(batch.passed[0]), xfail=check.xfail, overrides=check.overrides,
        ))
        log.debug("check %s: %r %s %r", check.id, results[-1].value, check.op, results[-1].threshold)
    return results


def evaluate_batch(checks: Sequence[Check], dataset: xr.Dataset, constants: ConstantLookup | None = None) -> list[BatchResult]:
    """Evaluate checks over every run of a dataset whose dims are ``(scenario, [sample,] time)``.

    Returns one :class:`BatchResult` per check, with one value per sample (one in
    all when the dataset has no ``sample`` dim).
    """
    reader = _Reader(dataset, constants)
    results = []
    for check in checks:
        validate_check(check)  # checks built in code get the same validation as those read from a file
        context = _Context(reader, check)
        values = context.operand(check.measure, check.scenario, "measure")
        thresholds = context.operand(check.than, check.scenario, "than")
        results.append(BatchResult(check, values, thresholds))
    return results


class _Reader:
    """The series and constants the checks read, by scenario; series are cached."""

    def __init__(self, dataset: xr.Dataset, constants: ConstantLookup | None) -> None:
        if "scenario" not in dataset.dims or "time" not in dataset.dims:
            raise CheckError("dataset must have dims (scenario, time); run the model with sdkit.run")
        self.dataset = dataset
        self.constants = constants
        self.n = int(dataset.sizes.get("sample", 1))
        self.scenarios = [str(s) for s in dataset["scenario"].values]
        self._cache: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}

    def series(self, var: str, scenario: str, where: str) -> tuple[np.ndarray, np.ndarray]:
        name = measures.resolve_variable(self.dataset, var)
        if name is None:
            raise CheckError(f"{where}: unknown variable {var!r}; the dataset holds no such variable")
        if scenario not in self.scenarios:
            raise CheckError(f"{where}: scenario {scenario!r} is not in the dataset; run it first")
        key = (name, scenario)
        if key not in self._cache:
            data = self.dataset[name].sel(scenario=scenario)
            if set(data.dims) - {"sample"} != {"time"}:
                raise CheckError(f"{where}: variable {var!r} has dims {data.dims}; checks need a time series")
            x = data.transpose(*(("sample",) if "sample" in data.dims else ()), "time").to_numpy().astype(float)
            x = x.reshape(-1, x.shape[-1])
            present = np.isfinite(x).any(axis=0)  # runs of different lengths are padded with NaN
            present[:1] |= not present.any()  # a run that failed entirely keeps one (NaN) sample
            t = np.asarray(data["time"].values, dtype=float)
            self._cache[key] = (t[present], np.broadcast_to(x[:, present], (self.n, int(present.sum()))))
        return self._cache[key]

    def constant(self, name: str, scenario: str, where: str) -> np.ndarray:
        if self.constants is None:
            raise CheckError(f"{where}: 'param' needs the model's constants; run the checks with sdkit check")
        return np.broadcast_to(np.asarray(self.constants(name, scenario), dtype=float), (self.n,))


#: the measures of one series over its window that take nothing else: fn -> measure(x, t, keep)
_ON_SERIES: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]] = {
    "initial": lambda x, t, keep: measures.initial(x, keep),
    "final": lambda x, t, keep: measures.final(x, keep),
    "min": lambda x, t, keep: measures.minimum(x, keep),
    "max": lambda x, t, keep: measures.maximum(x, keep),
    "mean": measures.mean,
    "time_of_max": measures.time_of_max,
    "time_of_min": measures.time_of_min,
}


class _Context:
    """Evaluate the measures of one check, one value per run."""

    def __init__(self, reader: _Reader, check: Check) -> None:
        self.reader = reader
        self.check = check

    def operand(self, spec: Any, scenario: str, where: str) -> np.ndarray:
        if isinstance(spec, int | float):
            return np.full(self.reader.n, float(spec))
        scenario = spec.get("scenario", scenario)
        where = f"check {self.check.id!r}: {where}"
        if spec["fn"] in _ON_SERIES:
            t, x, keep = self._series(spec, scenario, where)
            return np.asarray(_ON_SERIES[spec["fn"]](x, t, keep), dtype=float)
        return np.asarray(getattr(self, f"_fn_{spec['fn']}")(spec, scenario, where), dtype=float)

    def _optional(self, spec: Mapping[str, Any], key: str, scenario: str, where: str) -> np.ndarray | None:
        return self.operand(spec[key], scenario, f"{where}.{key}") if key in spec else None

    def _series(self, spec: Mapping[str, Any], scenario: str, where: str, var: str | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Times, values and the mask of the samples the measure reads (its window, finite values)."""
        t, x = self.reader.series(var or spec["var"], scenario, where)
        bounds = spec.get("window", [None, None])
        t0, t1 = (None if b is None else self.operand(b, scenario, where + ".window") for b in bounds)
        return t, x, measures.window_mask(x, t, t0, t1)

    # values (initial, final, min, max, mean: _ON_SERIES) -----------------------
    def _fn_at(self, spec, scenario, where):
        t, x, keep = self._series(spec, scenario, where)
        return measures.value_at(x, t, self.operand(spec["time"], scenario, where + ".time"), keep)

    _fn_value_at_time_of = _fn_at

    def _fn_excursion(self, spec, scenario, where):
        t, x, keep = self._series(spec, scenario, where)
        lo, hi = (self._optional(spec, key, scenario, where) for key in ("lo", "hi"))
        return measures.excursion(x, keep, lo, hi)

    def _fn_param(self, spec, scenario, where):
        return self.reader.constant(spec["name"], scenario, where)

    # times (time_of_max, time_of_min: _ON_SERIES) ------------------------------
    def _first(self, spec, scenario, where, below):
        t, x, keep = self._series(spec, scenario, where)
        level = self.operand(spec["level"], scenario, where + ".level")
        after = self._optional(spec, "after", scenario, where)
        if after is not None:
            keep = keep & (t[None, :] >= after[:, None])
        return measures.first_crossing(x, t, level, keep, below)

    def _fn_first_below(self, spec, scenario, where):
        return self._first(spec, scenario, where, below=True)

    def _fn_first_above(self, spec, scenario, where):
        return self._first(spec, scenario, where, below=False)

    def _years(self, spec, scenario, where, below):
        t, x, keep = self._series(spec, scenario, where)
        return measures.time_beyond(x, t, self.operand(spec["level"], scenario, where + ".level"), keep, below)

    def _fn_years_below(self, spec, scenario, where):
        return self._years(spec, scenario, where, below=True)

    def _fn_years_above(self, spec, scenario, where):
        return self._years(spec, scenario, where, below=False)

    def _fn_settling_time(self, spec, scenario, where):
        series = [self._series(spec, scenario, where, var=var) for var in spec["vars"]]
        if len({s[0].size for s in series}) > 1:
            raise CheckError(f"{where}: variables {spec['vars']} are saved at different times")
        return measures.settling_time(
            [x for _, x, _ in series], series[0][0], [keep for _, _, keep in series],
            after=self.operand(spec["after"], scenario, where + ".after"),
            tolerance=self.operand(spec["tolerance"], scenario, where + ".tolerance"),
            atol=self.operand(spec.get("atol", 0.0), scenario, where + ".atol"),
        )

    # arithmetic --------------------------------------------------------------
    def _fn_diff(self, spec, scenario, where):
        return self.operand(spec["a"], scenario, where + ".a") - self.operand(spec["b"], scenario, where + ".b")

    def _fn_ratio(self, spec, scenario, where):
        a = self.operand(spec["a"], scenario, where + ".a")
        b = self.operand(spec["b"], scenario, where + ".b")
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(b != 0, a / np.where(b != 0, b, 1.0), math.nan)

    def _fn_abs(self, spec, scenario, where):
        return np.abs(self.operand(spec["of"], scenario, where + ".of"))
