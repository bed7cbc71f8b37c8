"""Run a model's checks: the runs they read, mechanism tests (knockouts) and dt invariance.

Checks are grouped by the constants they set (their own ``set``, plus a knockout's);
each group runs the scenarios its checks read once, with those constants on top of
every scenario. A run that turns NaN or infinite fails every check that reads it,
with a note naming what went wrong, instead of stopping the whole command.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from sdkit.checks import Check, CheckFile, CheckResult, Knockout, evaluate, scenarios_needed
from sdkit.errors import CheckError, NonFiniteError, ParameterError
from sdkit.model import Model
from sdkit.scenarios import DEFAULT_SCENARIO, Scenario, overrides_for, target_of

__all__ = [
    "KnockoutResult",
    "constant_lookup",
    "dt_differences",
    "dt_pairs",
    "margin_moves",
    "run_checks",
    "run_knockouts",
    "validate_settings",
]

Progress = Callable[[Iterable[Any]], Iterable[Any]]


@dataclass(frozen=True)
class KnockoutResult:
    """A mechanism test: the named checks rerun under the knockout; it passes when all of them fail."""

    knockout: Knockout
    results: list[CheckResult]
    failing_without: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return all(not r.passed for r in self.results)


def scenario_parameters(model: Model, name: str) -> dict[str, Any]:
    """The constants a scenario sets (none for the model's own values)."""
    if name == DEFAULT_SCENARIO and name not in model.scenarios:
        return {}
    if name not in model.scenarios:
        raise CheckError(f"a check reads a scenario the model lacks: {model.unknown_scenario(name)}")
    return model.scenarios[name].parameters


def default_value(model: Model, py_name: str) -> np.ndarray:
    """A constant's value in the model file (an array shaped like its subscripts)."""
    variable = model.variables[py_name]
    if variable.default is not None:
        return np.asarray(variable.default, dtype=float)
    return np.asarray(model.kernel.constants[py_name], dtype=float)


def constant_lookup(model: Model, settings: dict[str, Any], recorded: dict[str, dict[str, Any]] | None = None) -> Callable[[str, str], float]:
    """``lookup(name, scenario)``: a constant's value in a scenario run with ``settings`` on top.

    ``recorded`` gives the parameters each scenario ran with (a result's provenance);
    by default they are read from the model's scenarios.
    """

    def lookup(name: str, scenario: str) -> float:
        try:
            wanted = target_of(model, name)
            values = np.array(default_value(model, wanted.py_name), dtype=float)
            given = recorded[scenario] if recorded and scenario in recorded else scenario_parameters(model, scenario)
            for override in overrides_for(model, {**given, **settings}, allow_outside_range=True):
                if override.py_name == wanted.py_name:
                    values[override.index(model)] = override.value
        except ParameterError as exc:
            raise CheckError(f"param {name!r}: {exc}") from None
        chosen = values[wanted.index(model)]
        if np.ndim(chosen):
            raise CheckError(f"param {name!r} is subscripted; name one element, e.g. '{name}[element]'")
        return float(chosen)

    return lookup


def validate_settings(model: Model, entries: Sequence[Check | Knockout]) -> None:
    """Raise CheckError (exit 2) when a check's or knockout's ``set`` names something that is not a constant."""
    for entry in entries:
        if entry.overrides:
            kind = "knockout" if isinstance(entry, Knockout) else "check"
            try:
                overrides_for(model, entry.overrides, allow_outside_range=True)
            except ParameterError as exc:
                raise CheckError(f"{kind} {entry.id!r}: set: {exc}") from None


def _key(settings: dict[str, Any]) -> str:
    return json.dumps(settings, sort_keys=True, default=lambda v: np.asarray(v).tolist())


def run_checks(
    model: Model,
    checks: Sequence[Check],
    engine: str = "auto",
    extra: dict[str, Any] | None = None,
    progress: Progress | None = None,
    dataset: xr.Dataset | None = None,
) -> list[CheckResult]:
    """Run the scenarios the checks read and evaluate them, in the checks' order.

    Parameters
    ----------
    model : Model
    checks : sequence of Check
    engine : str
        As for :func:`sdkit.run.run`.
    extra : dict, optional
        Constants on top of every check's own ``set`` (a knockout's ``set``).
    progress : callable, optional
        Wraps the iterable of scenario groups of each run.
    dataset : xarray.Dataset, optional
        Runs already made of the model's scenarios as they are; reused for the
        checks that set nothing when ``extra`` is empty.
    """
    validate_settings(model, checks)
    groups: dict[str, list[Check]] = {}
    for check in checks:
        groups.setdefault(_key({**check.overrides, **(extra or {})}), []).append(check)
    by_id: dict[str, CheckResult] = {}
    for group in groups.values():
        settings = {**group[0].overrides, **(extra or {})}
        reuse = dataset if not settings else None
        for result in _run_group(model, group, settings, engine, progress, reuse):
            by_id[result.id] = result
    return [by_id[c.id] for c in checks]


def _run_group(model: Model, group: list[Check], settings: dict[str, Any], engine: str, progress: Progress | None, dataset: xr.Dataset | None) -> list[CheckResult]:
    from sdkit.run import run

    needed = scenarios_needed(group)
    for name in needed:
        scenario_parameters(model, name)  # unknown scenario: one clear error
    if dataset is not None and set(needed) <= {str(s) for s in dataset.scenario.values}:
        pieces, broken = [dataset], {}
    else:
        pieces, broken = [], {}
        try:
            pieces.append(run(model, scenarios=needed, overrides=settings, engine=engine, progress=progress,
                              allow_outside_range=True))
        except NonFiniteError:  # find which scenario broke: run them one by one
            for name in needed:
                try:
                    pieces.append(run(model, scenarios=[name], overrides=settings, engine=engine,
                                      allow_outside_range=True))
                except NonFiniteError as exc:
                    broken[name] = str(exc)
    ran = xr.concat(pieces, dim="scenario", join="outer") if len(pieces) > 1 else (pieces[0] if pieces else None)
    lookup = constant_lookup(model, settings)
    results = []
    for check in group:
        failed = [broken[s] for s in scenarios_needed([check]) if s in broken]
        if failed:
            results.append(_unmeasured(check, f"run not finite: {failed[0]}"))
        else:
            results.extend(evaluate([check], ran, lookup))
    return [CheckResult(**{**r.__dict__, "overrides": settings}) for r in results]


def _unmeasured(check: Check, note: str) -> CheckResult:
    return CheckResult(
        id=check.id, mode=check.mode, scenario=check.scenario, description=check.description,
        value=float("nan"), op=check.op, threshold=float("nan"), passed=False, xfail=check.xfail,
        overrides=check.overrides, note=note,
    )


def run_knockouts(model: Model, suite: CheckFile, baseline: Sequence[CheckResult], engine: str = "auto", progress: Progress | None = None) -> list[KnockoutResult]:
    """Rerun each knockout's named checks with its constants set; ``baseline`` marks checks failing without it."""
    validate_settings(model, suite.knockouts)
    by_id = {c.id: c for c in suite.checks}
    failing = {r.id for r in baseline if not r.passed}
    out = []
    for knockout in suite.knockouts:
        checks = [by_id[i] for i in knockout.must_fail]
        results = run_checks(model, checks, engine=engine, extra=knockout.overrides, progress=progress)
        out.append(KnockoutResult(knockout, results, tuple(i for i in knockout.must_fail if i in failing)))
    return out


def half_step_model(model: Model) -> Model:
    """A copy of ``model`` whose every scenario runs at half its TIME STEP (saved at the same times)."""
    if "time_step" in model.time.varying:
        raise ParameterError(f"the time-step check halves TIME STEP, but the TIME STEP of {model.path.name} changes "
                             "with Time; halve the numbers in its equation in a copy of the model and compare instead")
    scenarios = dict(model.scenarios)
    scenarios.setdefault(DEFAULT_SCENARIO, Scenario(DEFAULT_SCENARIO, "the model file's own values"))
    return model.with_scenarios(
        {name: Scenario(name, s.description, s.parameters, {**s.time, "time_step": model.time.replace(s.time).time_step / 2})
         for name, s in scenarios.items()},
        time=model.time.replace({"time_step": model.time.time_step / 2}))


def dt_pairs(model: Model, checks: Sequence[Check], results: Sequence[CheckResult], engine: str = "auto", progress: Progress | None = None) -> list[tuple[CheckResult, CheckResult]]:
    """Rerun every check at half the time step: (result at dt, result at dt/2) per check."""
    halved = run_checks(half_step_model(model), checks, engine=engine, progress=progress)
    return list(zip(results, halved, strict=True))


def dt_differences(model: Model, checks: Sequence[Check], results: Sequence[CheckResult], engine: str = "auto", progress: Progress | None = None) -> list[tuple[CheckResult, CheckResult]]:
    """The (result at dt, result at dt/2) pairs whose verdicts differ."""
    return [(a, b) for a, b in dt_pairs(model, checks, results, engine, progress) if a.passed != b.passed]


def margin_moves(pairs: Sequence[tuple[CheckResult, CheckResult]], fraction: float = 0.5) -> list[tuple[CheckResult, CheckResult]]:
    """Pairs with the same verdict whose margin moves by more than ``fraction`` of itself at dt/2."""
    return [(a, b) for a, b in pairs if a.passed == b.passed and abs(a.margin - b.margin) > fraction * abs(a.margin)]
