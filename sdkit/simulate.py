"""One simulation interface: a model's runs -> an :class:`xarray.Dataset`, on the engine or on PySD.

The decay model of the tests, two residence times, on both backends:

>>> from pathlib import Path
>>> import sdkit
>>> from sdkit.scenarios import overrides_for
>>> model = sdkit.load_model(Path(sdkit.__file__).parents[1] / "tests" / "data" / "decay.mdl")
>>> runs = Runs.of_scenarios([("slow", overrides_for(model, {"decay time": 8})),
...                           ("fast", overrides_for(model, {"decay time": 2}))])
>>> by_engine = simulate(model, runs, model.time, ["stock"], engine="engine")
>>> by_engine["stock"].dims
('scenario', 'time')
>>> [round(v, 2) for v in by_engine["stock"].isel(time=-1).values.tolist()]  # 100 (1 - 0.125 / T)^160
[8.05, 0.0]
>>> by_pysd = simulate(model, runs, model.time, ["stock"], engine="pysd")
>>> bool((by_pysd["stock"] == by_engine["stock"]).all())
True

``run``, ``ensemble`` and sweeps all run models through here; the backends live in
:mod:`sdkit.backends` (a third backend is one new module and one entry in its registry).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from xarray.indexes import PandasIndex

from sdkit.backends import BACKENDS
from sdkit.dask_probe import answer_lazily
from sdkit.errors import NonFiniteError, ParameterError
from sdkit.model import Model, TimeSettings
from sdkit.runs import Runs, Save, save_times, saved_grid

__all__ = ["BACKENDS", "Runs", "choose_engine", "label_nonfinite", "run_rows", "save_times", "saved_grid", "simulate", "to_dataset"]


def simulate(model: Model, runs: Runs, time: TimeSettings, variables: Sequence[str], *, save: Save = "all",
             engine: str = "engine") -> xr.Dataset:
    """Simulate every run of ``runs`` with time settings ``time``.

    Parameters
    ----------
    model : Model
    runs : Runs
        One row of overrides per scenario or sample.
    time : TimeSettings
    variables : list of str
        Python-safe names of the variables to keep.
    save : "all", "final" or a list of times
        Every SAVEPER time, the final values only, or the given times.
    engine : {"engine", "pysd"}
        A key of :data:`sdkit.backends.BACKENDS`.

    Returns
    -------
    xarray.Dataset
        Dims ``(runs.dim, time, *subscripts)`` (no ``time`` for ``save="final"``), labelled
        by ``runs.labels``; each variable carries its model name and units.

    Raises
    ------
    NonFiniteError
        A run produced NaN or infinity; ``.sample`` is the run's position, and the message
        names its label.
    """
    times, data = run_rows(model, runs, time, variables, save, engine)
    return to_dataset(model, runs.dim, list(runs.labels), times, data, final=isinstance(save, str) and save == "final")


def choose_engine(model: Model, engine: str) -> str:
    """The backend's name for ``engine``: ``"auto"`` is the engine when it compiles the model, else
    PySD with a warning; ``"engine"`` raises UnsupportedFeature naming what it cannot compile."""
    if engine != "auto" and engine not in BACKENDS:
        raise ParameterError(f"unknown engine {engine!r}; use one of auto, {', '.join(BACKENDS)}")
    if engine == "engine":
        model.kernel  # noqa: B018 - compiling is the test
    if engine != "auto":
        return engine
    return "engine" if model.engine_supported() else "pysd"


def run_rows(model: Model, runs: Runs, time: TimeSettings, variables: Sequence[str], save: Save = "all",
             engine: str = "engine") -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """What :func:`simulate` returns, as saved times and ``{variable: (runs, times, *subscripts)}`` arrays."""
    if engine not in BACKENDS:
        raise ParameterError(f"unknown engine {engine!r}; use one of {', '.join(BACKENDS)}")
    try:
        return BACKENDS[engine].run(model, runs, time, variables, save)
    except NonFiniteError as exc:
        raise label_nonfinite(exc, runs) from None


def label_nonfinite(error: NonFiniteError, runs: Runs) -> NonFiniteError:
    """``error`` (``.sample`` a row of ``runs``) restated with the run's label.

    For samples of an ensemble the sample number becomes the global one; for scenarios the
    message names the scenario instead of the row.
    """
    row = error.sample
    known = row is not None and 0 <= row < runs.n
    if runs.dim != "scenario":
        if not known:
            return NonFiniteError(f"{error} (chunk starting at sample {runs.labels[0]} of the ensemble)")
        if error.time is None:
            return NonFiniteError(f"{error} (sample {runs.labels[row]} of the ensemble)")
        return NonFiniteError.at(error.variable, runs.labels[row], error.time)
    if not known:
        return error
    return NonFiniteError.at(error.variable, row, error.time, runs.describe(row))


def to_dataset(model: Model, dim: str, labels: Any, times: np.ndarray, data: dict[str, np.ndarray],
               final: bool = False, extra_vars: dict[str, Any] | None = None,
               extra_coords: dict[str, Any] | None = None) -> xr.Dataset:
    """A Dataset of ``(dim, time, *subscripts)`` values (``(dim, *subscripts)`` when ``final``).

    ``extra_vars`` and ``extra_coords`` (e.g. an ensemble's parameter table) follow the
    model's variables and coordinates.
    """
    answer_lazily()
    coords: dict[str, Any] = {dim: labels}
    if not final:
        coords["time"] = times
    data_vars = {}
    for name, values in data.items():
        variable = model.variables[name]
        for subscript in variable.dims:
            coords[subscript] = model.dims[subscript]
        dims = (dim, *(() if final else ("time",)), *variable.dims)
        data_vars[name] = (dims, values, {"long_name": variable.name, "units": variable.units})
    dataset = xr.Dataset({**data_vars, **(extra_vars or {})}, coords=indexed_coordinates({**coords, **(extra_coords or {})}))
    if final:
        dataset.attrs["final_time"] = float(times[-1]) if np.ndim(times) else float(times)
    return dataset


def indexed_coordinates(labels: dict[str, Any]) -> xr.Coordinates:
    """One indexed coordinate per ``{dim: labels}``: what ``xr.Dataset(coords=labels)`` makes,
    built from pandas indexes, for which xarray does not look for pint's arrays (importing
    pint, about 0.15 s of a one-run process)."""
    variables: dict[str, Any] = {}
    indexes: dict[str, PandasIndex] = {}
    for dim, values in labels.items():
        array = np.asarray(values)
        indexes[dim] = PandasIndex(pd.Index(array), dim, coord_dtype=array.dtype)
        variables.update(indexes[dim].create_variables())
    return xr.Coordinates(variables, indexes)
