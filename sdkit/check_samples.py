"""Checks read off runs already made: the scenarios of ``sdkit run``, the samples of an
ensemble or a sweep (``--checks FILE`` on those commands).

Only the checks those runs can answer are evaluated: a check that sets constants
(``set``) or reads a scenario that was not run needs runs of its own, which
``sdkit check`` makes. Over many samples a check gets a pass share and its margins,
as under ``sdkit check --robust``; a ``param`` measure reads each sample's own value
of a constant the samples vary.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from sdkit.check_file import CheckFile, find_checks_file, read_check_file, variables_needed
from sdkit.check_runs import constant_lookup, validate_settings
from sdkit.checks import BatchResult, Check, CheckResult, evaluate, evaluate_batch, scenarios_needed
from sdkit.errors import CheckError, ParameterError
from sdkit.model import Model
from sdkit.scenarios import DEFAULT_SCENARIO, target_of

__all__ = [
    "answerable", "checks_on_runs", "checks_over_samples", "read_suite", "run_checks_report",
    "samples_checks_table", "skipped_note", "suite_for_samples", "with_check_variables",
]


def read_suite(model: Model, given: str | None) -> CheckFile:
    """The checks file given (``--checks FILE``) or the one beside the model, read and checked against
    it (constants a check sets, variables it reads) before anything runs."""
    suite = read_check_file(find_checks_file(model.path, given))
    validate_settings(model, [*suite.checks, *suite.knockouts])
    for check in suite.checks:  # before any run: a misnamed variable costs nothing computed
        for variable in variables_needed([check]):
            try:
                model.resolve(variable)
            except ParameterError as exc:
                raise CheckError(f"check {check.id!r}: {exc}") from None
    return suite


def suite_for_samples(model: Model, given: str, scenario: str | None) -> CheckFile:
    """The checks file of an ensemble or sweep from ``scenario``: refused, before any run, when
    none of its checks reads that scenario alone."""
    suite = read_suite(model, given)
    name = scenario or DEFAULT_SCENARIO
    if not answerable(suite.checks, [name])[0]:
        raise ParameterError(f"no check of {given} reads scenario {name!r} alone without 'set', so the runs "
                             "answer none; start from a scenario its checks read (--scenario, or the study's)")
    return suite


def with_check_variables(model: Model, variables: Sequence[str] | None, suite: CheckFile | None) -> list[str] | None:
    """``variables`` plus those the checks read (None, with no checks, keeps a command's default outputs)."""
    if variables is None or suite is None:
        return None if variables is None else list(variables)
    return list(dict.fromkeys(model.resolve(v) for v in [*variables, *variables_needed(suite.checks)]))


def run_checks_report(model: Model, suite: CheckFile, dataset: xr.Dataset, path: Any) -> tuple[str, bool]:
    """The text of the checks a :func:`sdkit.run.run` result answers, and whether one failed
    that is not expected to."""
    from sdkit.report import checks_table

    results, skipped = checks_on_runs(model, suite.checks, dataset)
    if results:
        text = f"checks of {path} that these runs answer:\n{checks_table(results)}"
    else:
        text = (f"no check of {path} reads only the scenarios run; run the scenarios the checks read "
                "(drop --scenario/--all) or use `sdkit check`")
    failed = [r for r in results if not r.passed and not r.xfail]
    expected = sum(bool(r.xfail) for r in results)
    text += f"\n{len(results) - len(failed) - expected} passed, {len(failed)} failed, {expected} expected to fail"
    return text + skipped_note(skipped), bool(failed)


def answerable(checks: Sequence[Check], scenarios: Sequence[str]) -> tuple[list[Check], list[Check]]:
    """The checks that set nothing and read only ``scenarios``, and the others."""
    ran = set(scenarios)
    chosen = [c for c in checks if not c.overrides and set(scenarios_needed([c])) <= ran]
    return chosen, [c for c in checks if c not in chosen]


def checks_on_runs(model: Model, checks: Sequence[Check], dataset: xr.Dataset) -> tuple[list[CheckResult], list[Check]]:
    """Verdicts of the checks ``dataset`` (a :func:`sdkit.run.run` result) can answer, and the rest."""
    chosen, rest = answerable(checks, [str(s) for s in dataset["scenario"].values])
    recorded = _recorded_parameters(dataset)
    return evaluate(chosen, dataset, constant_lookup(model, {}, recorded)), rest


def checks_over_samples(model: Model, checks: Sequence[Check], runs: xr.Dataset, scenario: str | None,
                        varied: Mapping[str, Any]) -> tuple[list[BatchResult], list[Check]]:
    """Each answerable check over every sample of ``runs`` (dims ``(sample, time)``), and the rest.

    ``varied`` maps the constants the samples set (as named in the samples) to one value per sample.
    """
    name = scenario or DEFAULT_SCENARIO
    chosen, rest = answerable(checks, [name])
    if "time" not in runs.dims:
        raise CheckError("checks read whole trajectories, but the runs keep some times only; "
                         "drop --final and --times to use --checks")
    return evaluate_batch(chosen, runs.expand_dims(scenario=[name]), _sample_lookup(model, varied)), rest


def _sample_lookup(model: Model, varied: Mapping[str, Any]) -> Any:
    fixed = constant_lookup(model, {})
    by_key = {(o.py_name, o.elements): np.asarray(values, dtype=float)
              for column, values in varied.items() for o in [target_of(model, column)]}

    def lookup(name: str, scenario: str) -> Any:
        wanted = target_of(model, name)
        found = by_key.get((wanted.py_name, wanted.elements))
        return found if found is not None else fixed(name, scenario)

    return lookup


def _recorded_parameters(dataset: xr.Dataset) -> dict[str, dict[str, Any]] | None:
    import json

    try:
        return {name: run["parameters"] for name, run in json.loads(dataset.attrs["scenarios"]).items()}
    except (KeyError, ValueError, TypeError):
        return None


def samples_checks_table(results: Sequence[BatchResult], skipped: Sequence[Check], runs: int, path: Any) -> str:
    """Pass share and margins of each check over the samples, and which checks were left to ``sdkit check``."""
    from sdkit.report import signed, table

    rows = []
    for result in results:
        margins = np.where(np.isnan(result.margins), -np.inf, result.margins)
        rows.append([result.check.id, result.check.mode, f"{result.passed.mean():.0%}",
                     signed(float(np.median(margins))), signed(float(margins.min()))])
    text = (f"checks of {path} over the {runs} runs (a run whose measure is NaN fails, with margin -inf):\n"
            + table(["check", "mode", "pass share", "median margin", "smallest margin"], rows))
    return text + skipped_note(skipped)


def skipped_note(skipped: Sequence[Check]) -> str:
    if not skipped:
        return ""
    return (f"\n{len(skipped)} check(s) set constants or read other scenarios, so these runs cannot answer "
            f"them ({', '.join(c.id for c in skipped[:3])}{', ...' if len(skipped) > 3 else ''}); "
            "`sdkit check` runs them")
