"""The balance map: a classified outcome of runs over a grid of two parameters.

Which variable is read and how a trajectory is classified are the caller's: for the
project's models, :func:`sdkit.kissinger.outcomes.restraint_map` classifies restraint
into the three outcomes of an order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from sdkit.ensemble import ensemble
from sdkit.errors import ParameterError
from sdkit.model import Model


def balance_map(
    model: Model,
    x: tuple[str, float, float],
    y: tuple[str, float, float],
    variable: str,
    classify: Callable[[xr.DataArray], xr.DataArray],
    resolution: int = 200,
    scenario: str | None = None,
    executor: Any = None,
    progress: Callable[[Iterable[Any]], Iterable[Any]] | None = None,
) -> xr.Dataset:
    """Classify the outcome of every cell of a ``resolution`` x ``resolution`` grid.

    Parameters
    ----------
    model : Model
    x, y : (name, low, high)
        The two constants and their ranges (cell centres span low..high).
    variable : str
        The model variable whose trajectory each cell classifies.
    classify : callable
        Maps the runs' trajectories of `variable` (dims ``sample, time``) to integer codes
        per sample; the attributes of what it returns (e.g. CF ``flag_meanings``) are kept.
    resolution : int
        Cells per axis.
    scenario : str, optional
        Scenario every run starts from.

    Returns
    -------
    xarray.Dataset
        ``outcome`` (int8) with dims ``(y, x)`` named by the parameters' Python-safe names.
    """
    for name, low, high in (x, y):
        if not low < high:
            raise ParameterError(f"range of {name!r} must have low < high, got [{low}, {high}]")
    if resolution < 2:
        raise ParameterError(f"resolution must be at least 2, got {resolution}")
    x_name, y_name = model.resolve_parameter(x[0]), model.resolve_parameter(y[0])
    xs, ys = np.linspace(x[1], x[2], resolution), np.linspace(y[1], y[2], resolution)
    grid_y, grid_x = np.meshgrid(ys, xs, indexing="ij")
    samples = pd.DataFrame({x_name: grid_x.ravel(), y_name: grid_y.ravel()})
    runs = ensemble(model, samples, variables=[variable], scenario=scenario, executor=executor, progress=progress)
    classified = classify(runs[model.resolve(variable)])
    outcome = classified.to_numpy().reshape(resolution, resolution)
    dataset = xr.Dataset(
        {"outcome": ((y_name, x_name), outcome)},
        coords={
            x_name: (x_name, xs, {"long_name": model.variables[x_name].name, "units": model.variables[x_name].units}),
            y_name: (y_name, ys, {"long_name": model.variables[y_name].name, "units": model.variables[y_name].units}),
        },
    )
    dataset["outcome"].attrs = dict(classified.attrs)
    dataset.attrs = dict(runs.attrs)
    dataset.attrs["scenario"] = scenario or ""
    return dataset
