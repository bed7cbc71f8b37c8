"""Checks files: the [[check]] and [[knockout]] tables, read and validated (the language is in :mod:`sdkit.checks`)."""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sdkit.errors import CheckError
from sdkit.io import read_toml

__all__ = [
    "FUNCTIONS",
    "OPS",
    "Check",
    "CheckFile",
    "Knockout",
    "checks_path_for",
    "find_checks_file",
    "load_checks",
    "margin",
    "read_check_file",
    "scenarios_needed",
    "validate_check",
    "variables_needed",
]

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
    overrides : dict
        Constants (model names) applied on top of every scenario the check reads: the
        check file's ``set`` key.
    """

    id: str
    mode: str
    scenario: str
    description: str
    measure: float | dict[str, Any]
    op: str
    than: float | dict[str, Any]
    xfail: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Knockout:
    """A mechanism test: constants that switch a mechanism off, and the checks that must then fail.

    ``overrides`` holds those constants (the knockout's ``set`` key in the check file).
    """

    id: str
    description: str
    overrides: dict[str, Any]
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


# --------------------------------------------------------------------------- loading


def checks_path_for(model_path: str | Path) -> Path:
    """``models/x.mdl`` -> ``models/x.checks.toml`` (the file need not exist)."""
    path = Path(model_path)
    return path.with_name(f"{path.stem}.checks.toml")


def find_checks_file(model_path: str | Path, given: str | Path | None = None) -> Path:
    """The checks file to read: ``given`` (``--checks FILE``) or the one beside the model.

    Raises
    ------
    CheckError
        The file does not exist; the message names where sdkit looked and the option.
    """
    from sdkit.io import looked_for

    if given is not None:
        path = Path(given)
        if not path.exists():  # a folder or a FIFO is reported by the reader
            raise CheckError(f"no checks file {path} ({looked_for(path)}); check the path given to --checks")
        return path
    path = checks_path_for(Path(model_path).absolute())
    if not path.exists():
        raise CheckError(f"no checks file for {Path(model_path).name}: looked for {path}; "
                         "write one there or pass --checks FILE")
    return path


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
    data = read_toml(path, "checks file", CheckError)[1]  # a regular UTF-8 file, size-limited
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
        overrides=_parse_set(table.get("set", {}), where),
    )
    validate_check(check)
    return check


def validate_check(check: Check) -> None:
    """Raise CheckError when a check has an unknown operator or a malformed measure."""
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
    _validate_names(spec, where)
    if "window" in spec:
        _validate_window(spec["window"], where)
    for key in _OPERAND_KEYS:
        if key in spec:
            _validate_operand(spec[key], f"{where}: {fn}.{key}")


def _validate_names(spec: Mapping[str, Any], where: str) -> None:
    """The scenario, variable and name keys of a measure table: non-empty text."""
    for key in ("scenario", "var", "name"):
        if key in spec and (not isinstance(spec[key], str) or not spec[key]):
            raise CheckError(f"{where}: {key!r} must be a non-empty string")
    if "vars" in spec:
        names = spec["vars"]
        if not isinstance(names, list) or not names or not all(isinstance(v, str) and v for v in names):
            raise CheckError(f"{where}: 'vars' must be a non-empty list of variable names")


def _validate_window(window: Any, where: str) -> None:
    """A measure's ``window = [t0, t1]``: two operands, in order when both are numbers."""
    if not isinstance(window, list) or len(window) != 2:
        raise CheckError(f"{where}: 'window' must be [t0, t1]")
    for bound in window:
        _validate_operand(bound, f"{where}: window")
    if all(isinstance(b, int | float) for b in window) and not window[0] < window[1]:
        raise CheckError(f"{where}: window [{window[0]}, {window[1]}] must have t0 < t1; swap the bounds")


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


