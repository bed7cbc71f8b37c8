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
import operator
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from sdkit import measures
from sdkit.errors import CheckError

__all__ = [
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

#: Comparison operators a check may use.
OPS: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}

_SERIES = frozenset({"var"})
_WINDOW = frozenset({"window"})
# fn -> (required keys, optional keys); "fn" and "scenario" are always allowed.
FUNCTIONS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "initial": (_SERIES, _WINDOW),
    "final": (_SERIES, _WINDOW),
    "min": (_SERIES, _WINDOW),
    "max": (_SERIES, _WINDOW),
    "mean": (_SERIES, _WINDOW),
    "at": (frozenset({"var", "time"}), frozenset()),
    "value_at_time_of": (frozenset({"var", "time"}), frozenset()),
    "time_of_max": (_SERIES, _WINDOW),
    "time_of_min": (_SERIES, _WINDOW),
    "first_below": (frozenset({"var", "level"}), frozenset({"after", "window"})),
    "first_above": (frozenset({"var", "level"}), frozenset({"after", "window"})),
    "years_below": (frozenset({"var", "level"}), _WINDOW),
    "years_above": (frozenset({"var", "level"}), _WINDOW),
    "settling_time": (frozenset({"vars", "tolerance", "after"}), frozenset({"atol", "window"})),
    "excursion": (_SERIES, frozenset({"lo", "hi", "window"})),
    "param": (frozenset({"name"}), frozenset()),
    "diff": (frozenset({"a", "b"}), frozenset()),
    "ratio": (frozenset({"a", "b"}), frozenset()),
    "abs": (frozenset({"of"}), frozenset()),
}
# Keys whose value is a number or a nested measure.
_OPERAND_KEYS = ("time", "level", "after", "tolerance", "atol", "lo", "hi", "a", "b", "of")

_CHECK_REQUIRED = ("id", "mode", "scenario", "description", "measure", "op", "than")
_CHECK_OPTIONAL = ("xfail", "set")
_KNOCKOUT_KEYS = ("id", "description", "set", "must_fail")

#: ``constants(name, scenario)`` -> the value of a constant in a run, per run.
ConstantLookup = Callable[[str, str], "float | np.ndarray"]


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
    set : dict
        Constants (model names) applied on top of every scenario the check reads.
    """

    id: str
    mode: str
    scenario: str
    description: str
    measure: float | dict[str, Any]
    op: str
    than: float | dict[str, Any]
    xfail: str | None = None
    set: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Knockout:
    """A mechanism test: constants that switch a mechanism off, and the checks that must then fail."""

    id: str
    description: str
    set: dict[str, Any]
    must_fail: tuple[str, ...]


@dataclass(frozen=True)
class CheckFile:
    """The checks and knockouts of one checks file, in file order."""

    checks: list[Check]
    knockouts: list[Knockout] = field(default_factory=list)

    def modes_without_knockout(self) -> list[str]:
        """Reference modes none of whose checks a knockout names, in file order."""
        mode_of = {c.id: c.mode for c in self.checks}
        covered = {mode_of[i] for k in self.knockouts for i in k.must_fail}
        return [m for m in dict.fromkeys(c.mode for c in self.checks) if m not in covered]


def margin(op: str, value: Any, threshold: Any) -> Any:
    """Signed distance to failing: positive when ``value op threshold`` holds by that much."""
    return np.subtract(value, threshold) if op in (">", ">=") else np.subtract(threshold, value)


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one check on one run.

    ``passed`` is ``op(value, threshold)``; it is False when either is NaN.
    ``note`` says why a check could not be measured (e.g. its run turned NaN).
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
    set: dict[str, Any] = field(default_factory=dict)
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


# --------------------------------------------------------------------------- loading


def checks_path_for(model_path: str | Path) -> Path:
    """``models/x.mdl`` -> ``models/x.checks.toml`` (the file need not exist)."""
    path = Path(model_path)
    return path.with_name(f"{path.stem}.checks.toml")


def load_checks(path: str | Path) -> list[Check]:
    """The checks of a checks file (see :func:`read_check_file`)."""
    return read_check_file(path).checks


def read_check_file(path: str | Path) -> CheckFile:
    """Read and validate a checks file.

    Raises
    ------
    CheckError
        If the file is missing or not TOML, a check or knockout has a missing or
        unknown key, an unknown function or operator, a duplicate id, or a knockout
        names a check the file does not hold. The message names the entry and the key.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CheckError(f"cannot read checks file {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise CheckError(f"checks file {path} is not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CheckError(f"checks file {path} is not valid TOML: {exc}") from exc
    extra = set(data) - {"check", "knockout"}
    if extra:
        raise CheckError(f"{path}: unknown top-level key(s) {sorted(extra)}; use [[check]] and [[knockout]] tables")
    tables = data.get("check")
    if not isinstance(tables, list) or not tables:
        raise CheckError(f"{path}: no [[check]] tables found")
    checks = [_parse_check(table, where=f"{path.name} check #{i + 1}") for i, table in enumerate(tables)]
    knockout_tables = data.get("knockout", [])
    if not isinstance(knockout_tables, list):
        raise CheckError(f"{path.name}: 'knockout' must be [[knockout]] tables")
    knockouts = [_parse_knockout(t, f"{path.name} knockout #{i + 1}") for i, t in enumerate(knockout_tables)]
    _check_ids(path, checks, knockouts)
    return CheckFile(checks, knockouts)


def _check_ids(path: Path, checks: list[Check], knockouts: list[Knockout]) -> None:
    seen: set[str] = set()
    for entry in [*checks, *knockouts]:
        if entry.id in seen:
            raise CheckError(f"{path.name}: duplicate check id {entry.id!r}; give every check and knockout its own id")
        seen.add(entry.id)
    ids = {c.id for c in checks}
    for knockout in knockouts:
        unknown = [i for i in knockout.must_fail if i not in ids]
        if unknown:
            raise CheckError(
                f"knockout {knockout.id!r}: must_fail names unknown check(s) {unknown}; "
                "use ids of [[check]] tables in this file"
            )


def _parse_set(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise CheckError(f"{where}: 'set' must be a table of constants, e.g. set = {{ \"name\" = 0.5 }}")
    for name, number in value.items():
        if isinstance(number, bool) or not isinstance(number, int | float | list):
            raise CheckError(f"{where}: set {name!r} must be a number, got {number!r}")
    return dict(value)


def _parse_knockout(table: Any, where: str) -> Knockout:
    if not isinstance(table, Mapping):
        raise CheckError(f"{where}: must be a table")
    if isinstance(table.get("id"), str) and table["id"]:
        where = f"knockout {table['id']!r}"
    for key in _KNOCKOUT_KEYS:
        if key not in table:
            raise CheckError(f"{where}: missing key {key!r}")
    unknown = set(table) - set(_KNOCKOUT_KEYS)
    if unknown:
        raise CheckError(f"{where}: unknown key(s) {sorted(unknown)}; use {list(_KNOCKOUT_KEYS)}")
    for key in ("id", "description"):
        if not isinstance(table[key], str) or not table[key]:
            raise CheckError(f"{where}: {key!r} must be a non-empty string")
    must_fail = table["must_fail"]
    if not isinstance(must_fail, list) or not must_fail or not all(isinstance(i, str) for i in must_fail):
        raise CheckError(f"{where}: 'must_fail' must be a non-empty list of check ids")
    settings = _parse_set(table["set"], where)
    if not settings:
        raise CheckError(f"{where}: 'set' is empty; a knockout changes at least one constant")
    return Knockout(table["id"], table["description"], settings, tuple(must_fail))


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
    xfail = table.get("xfail")
    if xfail is not None and (not isinstance(xfail, str) or not xfail):
        raise CheckError(f"{where}: 'xfail' must be a non-empty reason string")
    check = Check(
        id=table["id"],
        mode=table["mode"],
        scenario=table["scenario"],
        description=table["description"],
        measure=table["measure"],
        op=table["op"],
        than=table["than"],
        xfail=xfail,
        set=_parse_set(table.get("set", {}), where),
    )
    _validate(check)
    return check


def _validate(check: Check) -> None:
    where = f"check {check.id!r}"
    if check.op not in OPS:
        raise CheckError(f"{where}: unknown op {check.op!r}; use one of {list(OPS)}")
    _validate_operand(check.measure, f"{where}: measure")
    _validate_operand(check.than, f"{where}: than")


def _validate_operand(spec: Any, where: str) -> None:
    if isinstance(spec, bool):
        raise CheckError(f"{where}: expected a number or a measure table, got a boolean")
    if isinstance(spec, int | float):
        return
    if not isinstance(spec, Mapping):
        raise CheckError(f"{where}: expected a number or a measure table, got {type(spec).__name__}")
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
    if fn == "excursion" and not {"lo", "hi"} & set(spec):
        raise CheckError(f"{where}: fn 'excursion' needs 'lo', 'hi' or both")
    for key in ("scenario", "var", "name"):
        if key in spec and (not isinstance(spec[key], str) or not spec[key]):
            raise CheckError(f"{where}: {key!r} must be a non-empty string")
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


def _walk(spec: Any, scenario: str, found: Callable[[Mapping[str, Any], str], None]) -> None:
    """Call ``found(table, scenario)`` for every measure table in ``spec``, with the scenario it reads."""
    if isinstance(spec, Mapping):
        scenario = spec.get("scenario", scenario)
        found(spec, scenario)
        for value in spec.values():
            _walk(value, scenario, found)
    elif isinstance(spec, list):
        for value in spec:
            _walk(value, scenario, found)


def scenarios_needed(checks: Sequence[Check]) -> list[str]:
    """The scenarios a list of checks reads, in first-use order (each check's and those its measures name)."""
    names: dict[str, None] = {}
    for check in checks:
        names[check.scenario] = None
        for spec in (check.measure, check.than):
            _walk(spec, check.scenario, lambda _, scenario: names.setdefault(scenario))
    return list(names)


def variables_needed(checks: Sequence[Check]) -> list[str]:
    """The variables a list of checks reads, as written in the checks, in first-use order."""
    names: dict[str, None] = {}

    def add(spec: Mapping[str, Any], _: str) -> None:
        for name in ([spec["var"]] if "var" in spec else []) + list(spec.get("vars", [])):
            names.setdefault(name)

    for check in checks:
        for spec in (check.measure, check.than):
            _walk(spec, check.scenario, add)
    return list(names)


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
            passed=bool(batch.passed[0]), xfail=check.xfail, set=check.set,
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
        _validate(check)  # checks built in code get the same validation as those read from a file
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
        return np.asarray(getattr(self, f"_fn_{spec['fn']}")(spec, scenario, where), dtype=float)

    def _optional(self, spec: Mapping[str, Any], key: str, scenario: str, where: str) -> np.ndarray | None:
        return self.operand(spec[key], scenario, f"{where}.{key}") if key in spec else None

    def _series(self, spec: Mapping[str, Any], scenario: str, where: str, var: str | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Times, values and the mask of the samples the measure reads (its window, finite values)."""
        t, x = self.reader.series(var or spec["var"], scenario, where)
        bounds = spec.get("window", [None, None])
        t0, t1 = (None if b is None else self.operand(b, scenario, where + ".window") for b in bounds)
        return t, x, measures.window_mask(x, t, t0, t1)

    # values ------------------------------------------------------------------
    def _fn_initial(self, spec, scenario, where):
        t, x, keep = self._series(spec, scenario, where)
        return measures.initial(x, keep)

    def _fn_final(self, spec, scenario, where):
        t, x, keep = self._series(spec, scenario, where)
        return measures.final(x, keep)

    def _fn_min(self, spec, scenario, where):
        t, x, keep = self._series(spec, scenario, where)
        return measures.minimum(x, keep)

    def _fn_max(self, spec, scenario, where):
        t, x, keep = self._series(spec, scenario, where)
        return measures.maximum(x, keep)

    def _fn_mean(self, spec, scenario, where):
        t, x, keep = self._series(spec, scenario, where)
        return measures.mean(x, t, keep)

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

    # times -------------------------------------------------------------------
    def _fn_time_of_max(self, spec, scenario, where):
        t, x, keep = self._series(spec, scenario, where)
        return measures.time_of_max(x, t, keep)

    def _fn_time_of_min(self, spec, scenario, where):
        t, x, keep = self._series(spec, scenario, where)
        return measures.time_of_min(x, t, keep)

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

    def _fn_years_below(self, spec, scenario, where):
        t, x, keep = self._series(spec, scenario, where)
        return measures.time_beyond(x, t, self.operand(spec["level"], scenario, where + ".level"), keep, below=True)

    def _fn_years_above(self, spec, scenario, where):
        t, x, keep = self._series(spec, scenario, where)
        return measures.time_beyond(x, t, self.operand(spec["level"], scenario, where + ".level"), keep, below=False)

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
