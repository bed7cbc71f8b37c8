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

from sdkit.check_runs import constant_lookup
from sdkit.checks import BatchResult, Check, CheckResult, evaluate, evaluate_batch, scenarios_needed
from sdkit.errors import CheckError
from sdkit.model import Model
from sdkit.scenarios import DEFAULT_SCENARIO, overrides_for

__all__ = ["answerable", "checks_on_runs", "checks_over_samples", "samples_checks_table", "skipped_note"]


def answerable(checks: Sequence[Check], scenarios: Sequence[str]) -> tuple[list[Check], list[Check]]:
    """The checks that set nothing and read only ``scenarios``, and the others."""
    ran = set(scenarios)
    chosen = [c for c in checks if not c.set and set(scenarios_needed([c])) <= ran]
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
              for column, values in varied.items() for o in overrides_for(model, {column: 0.0})}

    def lookup(name: str, scenario: str) -> Any:
        [wanted] = overrides_for(model, {name: 0.0})
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
