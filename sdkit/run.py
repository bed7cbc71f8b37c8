"""Run a model for one or many scenarios and get labelled results.

The result is an :class:`xarray.Dataset` with dims ``(scenario, time)`` (plus the
model's subscripts), one data variable per model variable under its Python-safe
name, with the model's name as ``long_name`` and its ``units``. Every run starts
from the model file's own values: nothing leaks from one run into the next.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import xarray as xr

from sdkit.errors import ParameterError, ScenarioError, SdkitWarning
from sdkit.model import Model, TimeSettings, load_model
from sdkit.provenance import provenance_attrs
from sdkit.scenarios import DEFAULT_SCENARIO, Scenario, outside_range, overrides_for
from sdkit.simulate import BACKENDS, Runs, choose_engine, save_times, simulate

log = logging.getLogger(__name__)

ENGINES = ("auto", *BACKENDS)


def select_scenarios(model: Model, names: Sequence[str] | None, overrides: dict[str, Any] | None = None,
                     **legacy: Any) -> list[Scenario]:
    """The scenarios to run: by name, or the model's defaults when ``names`` is None.

    ``overrides`` holds parameter values applied on top of every scenario (``set=`` is
    its earlier name, still accepted).
    """
    overrides = overrides_argument(overrides, legacy, "select_scenarios")
    if not names:
        chosen = [Scenario(DEFAULT_SCENARIO, "the model file's own values")]
    else:
        chosen = []
        for name in names:
            if name == DEFAULT_SCENARIO and name not in model.scenarios:
                chosen.append(Scenario(DEFAULT_SCENARIO, "the model file's own values"))
                continue
            if name not in model.scenarios:
                raise ScenarioError(model.unknown_scenario(name))
            chosen.append(model.scenarios[name])
    if len({s.name for s in chosen}) != len(chosen):
        raise ScenarioError("a scenario is named twice; give each scenario once")
    return [s.with_overrides(overrides) if overrides else s for s in chosen]


def overrides_argument(overrides: dict[str, Any] | None, legacy: dict[str, Any], function: str) -> dict[str, Any] | None:
    """``overrides``, or the same values given under their earlier name ``set``."""
    unknown = sorted(set(legacy) - {"set"})
    if unknown:
        raise TypeError(f"{function}() got an unexpected keyword argument {unknown[0]!r}")
    if "set" in legacy:
        if overrides is not None:
            raise ParameterError("give the parameter values once, as overrides= (set= is its earlier name)")
        return legacy["set"]
    return overrides


def run(
    model: Model | str | Path,
    scenarios: Sequence[str] | None = None,
    overrides: dict[str, Any] | None = None,
    variables: Sequence[str] | None = None,
    engine: str = "auto",
    progress: Callable[[Iterable[Any]], Iterable[Any]] | None = None,
    allow_outside_range: bool = False,
    **legacy: Any,
) -> xr.Dataset:
    """Simulate scenarios of a model.

    Parameters
    ----------
    model : Model or path
        A loaded model or the path of a ``.mdl`` file.
    scenarios : list of str, optional
        Scenario names from the model's scenarios file; ``None`` runs the model's own
        values as the scenario ``"default"``.
    overrides : dict, optional
        Parameter values (model names) applied on top of every scenario. ``set=`` is its
        earlier name and still works.
    variables : list of str, optional
        Variables to return (model or Python-safe names); default: stocks and auxiliaries.
    engine : {"auto", "engine", "pysd"}
        ``"engine"`` is sdkit's vectorised engine, ``"pysd"`` runs PySD; ``"auto"`` uses the
        engine and falls back to PySD, with a warning, for models it cannot compile.
    progress : callable, optional
        Wraps the iterable of scenario groups, e.g. ``tqdm.tqdm``.
    allow_outside_range : bool
        Run values outside a constant's documented range (the ``[min, max]`` of its
        units field) instead of refusing them; the attribute ``outside_range`` lists them.

    Returns
    -------
    xarray.Dataset
        Dims ``(scenario, time)`` plus subscripts; provenance in ``attrs``.
    """
    overrides = overrides_argument(overrides, legacy, "run")
    if engine not in ENGINES:
        raise ParameterError(f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}")
    if not isinstance(model, Model):
        model = load_model(model, allow_outside_range=allow_outside_range)
    chosen = select_scenarios(model, scenarios, overrides)
    names = [model.resolve(v) for v in variables] if variables else model.default_outputs()
    plans = [(s, overrides_for(model, s.parameters, allow_outside_range), model.time.replace(s.time))
             for s in chosen]
    _warn_time_step(model, plans)
    backend = choose_engine(model, engine)
    _check_calendar(model, plans)
    groups = _group_by_time(plans, BACKENDS[backend].vectorised)
    pieces = [
        simulate(model, Runs.of_scenarios(group), time, names, save=save_times(time), engine=backend)
        for time, group in (progress(groups) if progress else groups)
    ]
    dataset = xr.concat(pieces, dim="scenario", join="outer") if len(pieces) > 1 else pieces[0]
    order = [s.name for s in chosen]
    if list(dataset["scenario"].values) != order:
        dataset = dataset.sel(scenario=order)
    for name in names:  # on the variables themselves: dataset[name] would cost O(variables) each
        variable = model.variables[name]
        dataset.variables[name].attrs = {"long_name": variable.name, "units": variable.units}
    dataset["time"].attrs = {"long_name": "Time", "units": model.variables["time_step"].units or "Year"}
    if len(pieces) > 1:
        dataset["time"].attrs["comment"] = (
            "union of the time points of every scenario; a scenario's variables are NaN "
            "outside its own INITIAL TIME to FINAL TIME"
        )
    dataset.attrs = provenance_attrs(
        model,
        engine=backend,
        scenarios={
            s.name: {"description": s.description, "parameters": s.parameters, "time": s.time}
            for s in chosen
        },
        **_outside_range_attrs(model, chosen),
    )
    return dataset


def _outside_range_attrs(model: Model, chosen: list[Scenario]) -> dict[str, Any]:
    """``{"outside_range": {scenario: [settings]}}`` when a scenario ran values outside their ranges, else {}."""
    found = {s.name: outside_range(model, s.parameters) for s in chosen}
    found = {name: settings for name, settings in found.items() if settings}
    return {"outside_range": found} if found else {}


def _warn_time_step(model: Model, plans: list) -> None:
    """Warn (once per distinct problem) when a scenario's TIME STEP is too large for its time constants."""
    seen = set()
    for scenario, overrides, time in plans:
        message = model.check_time_step(time.largest_step, {o.py_name: o.value for o in overrides})
        if message and message not in seen:
            seen.add(message)
            warnings.warn(f"scenario {scenario.name!r}: {message}", SdkitWarning, stacklevel=3)


def _check_calendar(model: Model, plans: list) -> None:
    """Refuse a run that leaves the time range of a lookup the model reads at Time."""
    for scenario, _, time in plans:
        for py_name, (low, high) in model.time_lookups.items():
            for label, value in (("initial_time", time.initial_time), ("final_time", time.final_time)):
                if not low <= value <= high:
                    raise ScenarioError(
                        f"scenario {scenario.name!r}: {label} {value:g} is outside {low:g}-{high:g}, the "
                        f"range of the lookup that {model.variables[py_name].name!r} reads at Time; "
                        "run within that range or extend the lookup"
                    )


def _group_by_time(plans: list, together: bool) -> list[tuple[TimeSettings, list]]:
    """Scenarios sharing time settings in one group (``together``), or one group per scenario."""
    if not together:
        return [(time, [(scenario.name, overrides)]) for scenario, overrides, time in plans]
    groups: dict[TimeSettings, list] = {}
    for scenario, overrides, time in plans:
        groups.setdefault(time, []).append((scenario.name, overrides))
    return list(groups.items())
