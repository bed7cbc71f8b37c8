"""Reduce trajectories to the scalar (or time-resolved) outputs a study scores.

Each metric takes a ``(sample, time)`` array and the times, optionally restricted to a
``window = [t0, t1]``, and applies a measure of :mod:`sdkit.measures` (the same
functions, and the same interpolation rule, as reference-mode checks):

``final``, ``min``, ``max``, ``mean``
    The last value, the extremes and the time average (trapezoidal) in the window.
``first_below``, ``first_above``
    When the value first goes below (above) ``threshold``, interpolated linearly
    between the saved times either side of the crossing; a run that never crosses
    gets ``never`` (default: the end of the window, i.e. censored there).
``years_below``, ``years_above``
    Time spent below (above) ``threshold``, the series taken as linear between saved
    times (an interval the threshold crosses counts in proportion).
``series``
    The whole trajectory, for time-resolved indices (``step`` thins it).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from sdkit import measures
from sdkit.errors import ParameterError
from sdkit.sensitivity.spec import OutputSpec

__all__ = ["compute_metric", "compute_outputs", "describe", "kept_times"]


def kept_times(times: np.ndarray, output: OutputSpec) -> np.ndarray:
    """Boolean mask of the saved times an output uses (its window, thinned by ``step``)."""
    keep = np.ones(times.shape, dtype=bool)
    if output.window is not None:
        keep &= (times >= output.window[0] - 1e-9) & (times <= output.window[1] + 1e-9)
    if output.step is not None and keep.any():
        offset = (times - times[keep][0]) / output.step
        keep &= np.abs(offset - np.round(offset)) < 1e-6
    return keep


def compute_metric(values: np.ndarray, times: np.ndarray, output: OutputSpec) -> np.ndarray:
    """Apply one output's metric to trajectories.

    Parameters
    ----------
    values : numpy.ndarray
        Shape ``(sample, time)``.
    times : numpy.ndarray
        Saved times, shape ``(time,)``, increasing.
    output : OutputSpec

    Returns
    -------
    numpy.ndarray
        Shape ``(sample,)``, or ``(sample, time_in_window)`` for ``series``.
    """
    values = np.asarray(values, dtype=float)
    times = np.asarray(times, dtype=float)
    if values.ndim != 2 or values.shape[1] != times.size:
        raise ParameterError(f"output {output.name}: expected (sample, time) values with {times.size} "
                             f"times, got shape {values.shape}")
    keep = kept_times(times, output)
    if not keep.any():
        raise ParameterError(f"output {output.name}: window {list(output.window or ())} holds no saved time "
                             f"(run spans {times[0]:g}..{times[-1]:g}); move the window")
    values, times = values[:, keep], times[keep]
    if output.metric == "series":
        return values
    return _scalar_metric(values, times, output)


def _scalar_metric(values: np.ndarray, times: np.ndarray, output: OutputSpec) -> np.ndarray:
    mask = measures.window_mask(values, times)
    metric = output.metric
    if metric == "final":
        return measures.final(values, mask)
    if metric == "min":
        return measures.minimum(values, mask)
    if metric == "max":
        return measures.maximum(values, mask)
    if metric == "mean":
        return measures.mean(values, times, mask)
    below = metric.endswith("below")
    level = np.full(values.shape[0], output.threshold, dtype=float)
    if metric.startswith("years_"):
        return measures.time_beyond(values, times, level, mask, below)
    crossing = measures.first_crossing(values, times, level, mask, below)
    never = times[-1] if output.never is None else output.never
    return np.where(np.isnan(crossing), never, crossing)


_DESCRIPTIONS = {
    "final": "Final {name}",
    "min": "Minimum {name}",
    "max": "Maximum {name}",
    "mean": "Mean {name}",
    "first_below": "First {unit} {name} falls below {threshold:g}",
    "first_above": "First {unit} {name} rises above {threshold:g}",
    "years_below": "{unit}s with {name} below {threshold:g}",
    "years_above": "{unit}s with {name} above {threshold:g}",
    "series": "{name} over time",
}


def _reading_name(long_name: str) -> str:
    """A variable's name as it reads inside a sentence: lower case, acronyms kept."""
    return " ".join(w if w.isupper() and len(w) > 1 else w.lower() for w in long_name.split())


def describe(output: OutputSpec, long_name: str, time_units: str = "year") -> str:
    """An output in words, e.g. "Minimum restraint" or "First year restraint falls below 0.5"."""
    unit = time_units.strip().lower().removesuffix("s") or "year"
    text = _DESCRIPTIONS[output.metric].format(name=_reading_name(long_name), threshold=output.threshold or 0.0,
                                               unit=unit)
    if output.window is not None and output.metric != "series":
        text += f", {output.window[0]:g}-{output.window[1]:g}"
    return text[0].upper() + text[1:]


def compute_outputs(runs: xr.Dataset, outputs: list[OutputSpec], names: dict[str, str]) -> dict[str, xr.DataArray]:
    """All outputs of a study from ensemble results.

    Parameters
    ----------
    runs : xarray.Dataset
        Dims ``(sample, time)``, one variable per model variable (Python-safe names).
    outputs : list of OutputSpec
    names : dict
        Output variable as written in the study -> Python-safe name in ``runs``.

    Returns
    -------
    dict of str to xarray.DataArray
        ``(sample,)`` per scalar output, ``(sample, time)`` per series output.
    """
    times = runs["time"].to_numpy()
    result = {}
    for output in outputs:
        data = runs[names[output.variable]]
        values = compute_metric(data.transpose("sample", "time").to_numpy(), times, output)
        time_units = runs["time"].attrs.get("units", "year")
        attrs = {"long_name": describe(output, data.attrs.get("long_name", output.variable), time_units),
                 "variable": output.variable, "metric": output.metric}
        if output.metric == "series":
            kept = times[kept_times(times, output)]
            result[output.name] = xr.DataArray(values, dims=("sample", "time"), coords={"time": kept},
                                               attrs={**attrs, "units": data.attrs.get("units", "")})
        else:
            units = time_units if output.metric.startswith(("first_", "years_")) else data.attrs.get("units", "")
            result[output.name] = xr.DataArray(values, dims=("sample",), attrs={**attrs, "units": units})
    return result
