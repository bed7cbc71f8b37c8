"""The PySD backend: one PySD run per row, on a PySD model built from the checked text.

The runs of a call share one PySD model, so every run sets the same constants: a
constant one run overrides and another does not is set back to the file's value for
that other run, and nothing leaks from one run into the next. A scalar constant every
run sets is never read from the model (reading it before a run may need its data files).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from sdkit.errors import NonFiniteError, SdkitError
from sdkit.external_data import raw_data_names
from sdkit.runs import saved_grid, step_grid

if TYPE_CHECKING:
    from sdkit.model import Model, TimeSettings
    from sdkit.runs import Runs, Save
    from sdkit.scenarios import Override


class PysdBackend:
    """PySD, one run at a time: slow, but runs every model PySD can translate."""

    name = "pysd"
    vectorised = False

    def run(self, model: Model, runs: Runs, time: TimeSettings, variables: Sequence[str],
            save: Save) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        pysd_model = model.pysd_model()
        rows = [runs.overrides(i) for i in range(runs.n)]
        originals = {py_name: _component_value(pysd_model, py_name) for py_name in _needing_originals(model, rows)}
        checked = list(dict.fromkeys([*variables, *model.default_outputs()]))
        timestamps = saved_grid(time, save)
        pieces = []
        for i, overrides in enumerate(rows):
            params = _params(model, overrides, originals)
            times, data = _run_once(model, pysd_model, params, time, timestamps, checked, runs, i)
            pieces.append(data)
        data = {name: np.stack([piece[name] for piece in pieces]) for name in variables}
        if isinstance(save, str) and save == "final":
            data = {name: values[:, -1] for name, values in data.items()}
        return times, data


def _needing_originals(model: Model, rows: list[list[Override]]) -> list[str]:
    """Constants whose file value a run needs: subscripted ones (edited element by element)
    and those some runs set and others do not (set back to the file's value)."""
    sets = [{o.py_name for o in row} for row in rows]
    touched = set().union(*sets)
    in_every = set.intersection(*sets) if sets else set()
    return sorted(p for p in touched if p not in in_every or model.variables[p].dims)


def _component_value(pysd_model: Any, py_name: str) -> Any:
    """A constant's value as the model file gives it (scalar, or an xarray over its subscripts)."""
    component = getattr(pysd_model.components, py_name)
    if any(not hasattr(external, "data") for external in pysd_model._external_elements):
        pysd_model.initialize_external_data()  # GET XLS/DIRECT CONSTANTS are read here
    value = component()
    return value.copy() if hasattr(value, "copy") else value


def _params(model: Model, overrides: list[Override], originals: dict[str, Any]) -> dict[str, Any]:
    """PySD's ``params`` for one run: every constant the call sets, this run's values on the file's."""
    params = dict(originals)
    changed: set[str] = set()
    for override in overrides:
        if override.elements or model.variables[override.py_name].dims:
            if override.py_name not in changed:
                params[override.py_name] = params[override.py_name].copy()
                changed.add(override.py_name)
            current = params[override.py_name]
            if override.elements:
                current.loc[dict(zip(current.dims, override.elements, strict=True))] = override.value
            else:
                current.values[...] = override.value
        else:
            params[override.py_name] = override.value
    return params


def _run_once(model: Model, pysd_model: Any, params: dict[str, Any], time: TimeSettings, timestamps: np.ndarray,
              checked: list[str], runs: Runs, i: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Times and values of one run; a non-finite value raises NonFiniteError at its exact step."""
    columns = [model.variables[n].name for n in checked]
    try:
        frame = _pysd_run(pysd_model, params, time, timestamps, columns)
    except SdkitError:
        raise
    except (FloatingPointError, OverflowError, ZeroDivisionError) as exc:
        raise NonFiniteError.at(_failing_component(model, exc), i, _current_time(pysd_model)) from None
    except Exception as exc:  # PySD raises many types for models it cannot simulate
        reason = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
        raise SdkitError(
            f"PySD failed running {runs.describe(i)} of {model.path.name}: "
            f"{type(exc).__name__}: {reason}; rerun with --debug for the traceback, or try engine='engine'"
        ) from exc
    times, data, first = _columns(model, frame, checked)
    if first is not None:
        if time.saveper != time.time_step or time.varying:  # find the exact step, not the next save point
            frame = _pysd_run(pysd_model, params, time, step_grid(time)[0], columns)
            times, _, exact = _columns(model, frame, checked)
            first = exact or first
        raise NonFiniteError.at(model.variables[first[1]].name, i, float(times[first[0]]))
    return times, data


def _columns(model: Model, frame: Any, checked: list[str]) -> tuple[np.ndarray, dict[str, np.ndarray], tuple[int, str] | None]:
    """Times, values per variable, and the (time index, variable) of the first non-finite value."""
    times = frame.index.to_numpy(dtype=float)
    data = {}
    first: tuple[int, str] | None = None
    raw = raw_data_names(model.abstract_model)  # NaN off the data's times, as the engine gives too
    for name in checked:
        column = frame[model.variables[name].name]
        values = np.stack([np.asarray(getattr(v, "values", v), dtype=float) for v in column])
        bad = None if model.variables[name].name in raw else _first_non_finite(times, values)
        if bad is not None and (first is None or bad < first[0]):
            first = (bad, name)
        data[name] = values
    return times, data, first


def _failing_component(model: Model, exc: BaseException) -> str | None:
    """The model name of the innermost PySD component function in a traceback (None if none)."""
    by_py_name = {v.py_name: v.name for v in model.variables.values()}
    found = None
    trace = exc.__traceback__
    while trace is not None:
        name = trace.tb_frame.f_code.co_name
        if name in by_py_name:
            found = by_py_name[name]
        trace = trace.tb_next
    return found


def _current_time(pysd_model: Any) -> float | None:
    try:
        return float(pysd_model.time())
    except Exception:  # noqa: BLE001 - the time is a courtesy in an error message
        return None


def _pysd_run(pysd_model: Any, params: dict[str, Any], time: TimeSettings, timestamps: np.ndarray,
              columns: list[str]) -> Any:
    """PySD's run saving ``timestamps``; a control variable that changes with Time keeps its equation."""
    equations = pysd_model.components._control_vars  # PySD's own functions of the control variables
    given = {key: equations[key] if key in time.varying else value for key, value in time.as_dict().items()}
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.filterwarnings("ignore", module=r"pysd\..*")  # PySD's own deprecation notices
        return pysd_model.run(
            params=params,
            initial_condition="original" if "initial_time" in time.varying else (time.initial_time, {}),
            final_time=given["final_time"],
            time_step=given["time_step"],
            return_timestamps=timestamps,
            return_columns=columns,
            flatten_output=False,
            progress=False,
        )


def _first_non_finite(times: np.ndarray, values: np.ndarray) -> int | None:
    bad = ~np.isfinite(values.reshape(len(times), -1)).all(axis=1)
    return int(np.argmax(bad)) if bad.any() else None
