"""Run a model for one or many scenarios and get labelled results.

The result is an :class:`xarray.Dataset` with dims ``(scenario, time)`` (plus the
model's subscripts), one data variable per model variable under its Python-safe
name, with the model's name as ``long_name`` and its ``units``. Every run starts
from the model file's own values: nothing leaks from one run into the next.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from sdkit.errors import NonFiniteError, ParameterError, ScenarioError, SdkitError, SdkitWarning
from sdkit.model import Model, TimeSettings, load_model
from sdkit.provenance import provenance_attrs
from sdkit.scenarios import DEFAULT_SCENARIO, Override, Scenario, outside_range, overrides_for

log = logging.getLogger(__name__)

ENGINES = ("auto", "engine", "pysd")


def select_scenarios(model: Model, names: Sequence[str] | None, set: dict[str, Any] | None = None) -> list[Scenario]:
    """The scenarios to run: by name, or the model's defaults when ``names`` is None.

    ``set`` holds parameter values applied on top of every scenario.
    """
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
    return [s.with_overrides(set) if set else s for s in chosen]


def run(
    model: Model | str | Path,
    scenarios: Sequence[str] | None = None,
    set: dict[str, Any] | None = None,
    variables: Sequence[str] | None = None,
    engine: str = "auto",
    progress: Callable[[Iterable[Any]], Iterable[Any]] | None = None,
    allow_outside_range: bool = False,
) -> xr.Dataset:
    """Simulate scenarios of a model.

    Parameters
    ----------
    model : Model or path
        A loaded model or the path of a ``.mdl`` file.
    scenarios : list of str, optional
        Scenario names from the model's scenarios file; ``None`` runs the model's own
        values as the scenario ``"default"``.
    set : dict, optional
        Parameter values (model names) applied on top of every scenario.
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
    if engine not in ENGINES:
        raise ParameterError(f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}")
    if not isinstance(model, Model):
        model = load_model(model, allow_outside_range=allow_outside_range)
    chosen = select_scenarios(model, scenarios, set)
    names = [model.resolve(v) for v in variables] if variables else model.default_outputs()
    plans = [(s, overrides_for(model, s.parameters, allow_outside_range), model.time.replace(s.time))
             for s in chosen]
    _warn_time_step(model, plans)
    use_engine = engine == "engine" or (engine == "auto" and model.engine_supported())
    if engine == "engine":
        model.kernel  # noqa: B018 - raises UnsupportedFeature with the function it cannot compile
    _check_calendar(model, plans)
    simulate = _simulate_engine if use_engine else _simulate_pysd
    pieces = []
    groups = _group_by_time(plans) if use_engine else [(t, [(s, o)]) for s, o, t in plans]
    for time, group in progress(groups) if progress else groups:
        pieces.append(simulate(model, group, time, names))
    dataset = xr.concat(pieces, dim="scenario", join="outer") if len(pieces) > 1 else pieces[0]
    dataset = dataset.sel(scenario=[s.name for s in chosen])
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
        engine="engine" if use_engine else "pysd",
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
        message = model.check_time_step(time.time_step, {o.py_name: o.value for o in overrides})
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


def _group_by_time(plans: list) -> list[tuple[TimeSettings, list]]:
    groups: dict[TimeSettings, list] = {}
    for scenario, overrides, time in plans:
        groups.setdefault(time, []).append((scenario, overrides))
    return list(groups.items())


def _to_dataset(model: Model, scenario_names: list[str], times: np.ndarray, data: dict[str, np.ndarray]) -> xr.Dataset:
    coords: dict[str, Any] = {"scenario": scenario_names, "time": times}
    data_vars = {}
    for name, values in data.items():
        dims = model.variables[name].dims
        for dim in dims:
            coords[dim] = model.dims[dim]
        data_vars[name] = (("scenario", "time", *dims), values)
    return xr.Dataset(data_vars, coords=coords)


def save_times(time: TimeSettings) -> np.ndarray:
    """The times a run saves: every SAVEPER from INITIAL TIME, and FINAL TIME whatever SAVEPER says."""
    from sdkit.timing import saveper_mask, time_grid

    grid = np.asarray(time_grid(time.initial_time, time.final_time, time.time_step))
    mask = saveper_mask(grid, time.initial_time, time.time_step, time.saveper)
    mask[-1] = True
    return grid[mask]


def _engine_params(model: Model, group: list[tuple[Scenario, list[Override]]]) -> dict[str, np.ndarray]:
    """One array per overridden constant, shaped (n_scenarios, *subscripts)."""
    kernel = model.kernel
    n = len(group)
    params: dict[str, np.ndarray] = {}
    for row, (_, overrides) in enumerate(group):
        for override in overrides:
            if override.py_name not in params:
                params[override.py_name] = kernel.default_values(override.py_name, n)
            params[override.py_name][(row, *override.index(model))] = override.value
    return params


def _simulate_engine(model: Model, group: list, time: TimeSettings, names: list[str]) -> xr.Dataset:
    kernel = model.kernel
    params = _engine_params(model, group)
    try:
        result = kernel.simulate(params, len(group), names, save=save_times(time), time=time.__dict__)
    except NonFiniteError as exc:
        message = str(exc)
        if time.saveper != time.time_step:  # the kernel checks where it saves: find the exact step
            try:
                kernel.simulate(
                    params, len(group), names, save="all",
                    time={**time.__dict__, "saveper": time.time_step},
                )
            except NonFiniteError as exact:
                message = str(exact)
        found = re.search(r"\bsample (\d+)", message)
        if found and int(found[1]) < len(group):
            message += f" (sample {found[1]} is scenario {group[int(found[1])][0].name!r})"
        raise NonFiniteError(message) from None
    return _to_dataset(model, [s.name for s, _ in group], np.asarray(result.times), result.data)


def _simulate_pysd(model: Model, group: list, time: TimeSettings, names: list[str]) -> xr.Dataset:
    pieces = [_run_pysd_once(model, scenario, overrides, time, names) for scenario, overrides in group]
    times = pieces[0][0]
    data = {name: np.stack([p[1][name] for p in pieces]) for name in names}
    return _to_dataset(model, [s.name for s, _ in group], times, data)


def _run_pysd_once(model: Model, scenario: Scenario, overrides: list[Override], time: TimeSettings, names: list[str]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    pysd_model = model.pysd_model()
    params: dict[str, Any] = {}
    for override in overrides:
        if override.elements or model.variables[override.py_name].dims:
            current = params.get(override.py_name)
            if current is None:
                current = getattr(pysd_model.components, override.py_name)().copy()
            if override.elements:
                current.loc[dict(zip(current.dims, override.elements, strict=True))] = override.value
            else:
                current.values[...] = override.value
            params[override.py_name] = current
        else:
            params[override.py_name] = override.value
    checked = list(dict.fromkeys([*names, *model.default_outputs()]))
    try:
        frame = _pysd_run(pysd_model, params, time, [model.variables[n].name for n in checked])
    except SdkitError:
        raise
    except (FloatingPointError, OverflowError, ZeroDivisionError) as exc:
        variable = _failing_component(model, exc)
        at = _current_time(pysd_model)
        raise NonFiniteError(
            f"variable {variable!r} became NaN or infinite ({type(exc).__name__}: {exc}) at time "
            f"{at} in scenario {scenario.name!r}; check divisions, LN/SQRT arguments and parameter ranges"
        ) from None
    except Exception as exc:  # PySD raises many types for models it cannot simulate
        reason = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
        raise SdkitError(
            f"PySD failed running scenario {scenario.name!r} of {model.path.name}: "
            f"{type(exc).__name__}: {reason}; rerun with --debug for the traceback, or try engine='engine'"
        ) from exc
    times, data, first = _columns(model, frame, checked)
    if first is not None:
        if time.saveper != time.time_step:  # find the exact step, not the next save point
            every_step = TimeSettings(time.initial_time, time.final_time, time.time_step, time.time_step)
            columns = [model.variables[n].name for n in checked]
            times, _, exact = _columns(model, _pysd_run(model.pysd_model(), params, every_step, columns), checked)
            first = exact or first
        raise NonFiniteError(
            f"variable {model.variables[first[1]].name!r} became NaN or infinite at time "
            f"{times[first[0]]:g} in scenario {scenario.name!r}; check divisions, LN/SQRT "
            "arguments and parameter ranges"
        )
    return times, {name: data[name] for name in names}


def _columns(model: Model, frame: Any, checked: list[str]) -> tuple[np.ndarray, dict[str, np.ndarray], tuple[int, str] | None]:
    """Times, values per variable, and the (time index, variable) of the first non-finite value."""
    times = frame.index.to_numpy(dtype=float)
    data = {}
    first: tuple[int, str] | None = None
    for name in checked:
        column = frame[model.variables[name].name]
        values = np.stack([np.asarray(getattr(v, "values", v), dtype=float) for v in column])
        bad = _first_non_finite(times, values)
        if bad is not None and (first is None or bad < first[0]):
            first = (bad, name)
        data[name] = values
    return times, data, first


def _failing_component(model: Model, exc: BaseException) -> str:
    """The model name of the innermost PySD component function in a traceback ("?" if none)."""
    by_py_name = {v.py_name: v.name for v in model.variables.values()}
    found = "?"
    trace = exc.__traceback__
    while trace is not None:
        name = trace.tb_frame.f_code.co_name
        if name in by_py_name:
            found = by_py_name[name]
        trace = trace.tb_next
    return found


def _current_time(pysd_model: Any) -> str:
    try:
        return f"{float(pysd_model.time()):g}"
    except Exception:  # noqa: BLE001 - the time is a courtesy in an error message
        return "unknown"


def _pysd_run(pysd_model: Any, params: dict[str, Any], time: TimeSettings, columns: list[str]) -> Any:
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return pysd_model.run(
            params=params,
            initial_condition=(time.initial_time, {}),
            final_time=time.final_time,
            time_step=time.time_step,
            return_timestamps=save_times(time),
            return_columns=columns,
            flatten_output=False,
            progress=False,
        )


def _first_non_finite(times: np.ndarray, values: np.ndarray) -> int | None:
    bad = ~np.isfinite(values.reshape(len(times), -1)).all(axis=1)
    return int(np.argmax(bad)) if bad.any() else None
