"""Sensitivity indices from a sample and its outputs (SALib analysers, seeded bootstrap).

Analysis takes only numbers, never a model: ``x`` (the sample matrix) and ``y`` (one
value per run). The result is an :class:`xarray.Dataset` with dims ``(output, param)``
and SALib's names:

========  ================================================================
sobol     ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` (``S2``, ``S2_conf`` with second order)
morris    ``mu``, ``mu_star``, ``mu_star_conf``, ``sigma``
efast     ``S1``, ``S1_conf``, ``ST``, ``ST_conf``
pawn      ``minimum``, ``mean``, ``median``, ``maximum``, ``CV``
delta     ``delta``, ``delta_conf``, ``S1``, ``S1_conf``
========  ================================================================

The names come from each method's record in :mod:`sdkit.sensitivity.methods`.
``delta`` is Borgonovo's moment-independent index as SALib computes it on the sample as
drawn (SALib's ``delta_raw``). eFAST confidence intervals come from SALib's bootstrap,
which SALib itself calls indicative only.

An output that does not vary over the sample has undefined indices: they are NaN.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np
import xarray as xr

from sdkit.errors import NonFiniteError, SdkitWarning
from sdkit.sensitivity.methods import METHODS

__all__ = ["analyse", "analyse_outputs", "index_problems", "warn_index_problems"]

log = logging.getLogger(__name__)

def analyse(method: str, problem: dict[str, Any], x: np.ndarray, y: np.ndarray,
            options: dict[str, Any], seed: int) -> dict[str, np.ndarray]:
    """Indices of one scalar output.

    Parameters
    ----------
    method : str
        A method of :data:`sdkit.sensitivity.methods.METHODS`.
    problem : dict
        SALib problem (``num_vars``, ``names``, ``bounds``, ``dists``).
    x : numpy.ndarray
        The sample, shape ``(runs, num_vars)``, as drawn by the method's sampler.
    y : numpy.ndarray
        One output value per run, shape ``(runs,)``.
    options : dict
        Method options (``num_resamples``, ``conf_level``, ``calc_second_order``, ``M``, ...).
    seed : int
        Seeds the bootstrap, so the confidence intervals are reproducible.

    Returns
    -------
    dict of str to numpy.ndarray
        Each index, shape ``(num_vars,)`` (``(num_vars, num_vars)`` for ``S2``); NaN when
        ``y`` is constant.
    """
    y = np.asarray(y, dtype=float)
    d = problem["num_vars"]
    names = METHODS[method].index_names(options)
    if not np.isfinite(y).all():
        raise NonFiniteError(f"{int((~np.isfinite(y)).sum())} of {y.size} outputs are not finite; "
                             "check the runs or the metric (e.g. a window outside the run)")
    if np.ptp(y) == 0:
        return {n: np.full((d, d) if n.startswith("S2") else d, np.nan) for n in names}
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        r = METHODS[method].analyser(problem, x, y, options, seed)
    return {n: np.asarray(r[n], dtype=float) for n in names}


def analyse_outputs(method: str, problem: dict[str, Any], x: np.ndarray,
                    outputs: dict[str, xr.DataArray], options: dict[str, Any], seed: int,
                    attrs: dict[str, Any] | None = None) -> xr.Dataset:
    """Indices of several outputs as one Dataset.

    Parameters
    ----------
    outputs : dict of str to xarray.DataArray
        Scalar outputs ``(sample,)``, or all time-resolved outputs ``(sample, time)``
        sharing one time axis: indices are then computed at every saved time.

    Returns
    -------
    xarray.Dataset
        Dims ``(output, param)``, plus ``time`` for time-resolved outputs and ``param_j``
        for ``S2``; attrs ``method`` plus ``attrs``.
    """
    record = METHODS[method]
    names = record.index_names(options)
    params = list(problem["names"])
    series = {k: v for k, v in outputs.items() if "time" in v.dims}
    if series and len(series) != len(outputs):
        raise ValueError("pass scalar and time-resolved outputs separately")
    per_output = []
    for name, data in outputs.items():
        if "time" in data.dims:
            values = data.transpose("sample", "time").to_numpy()
            steps = [analyse(method, problem, x, values[:, k], options, seed) for k in range(values.shape[1])]
            per_output.append({n: np.stack([s[n] for s in steps], axis=-1) for n in names})
            constant = int(sum(np.isnan(s[next(iter(names))]).all() for s in steps))
            if constant:
                log.info("output %s is constant at %d saved times; its indices there are NaN", name, constant)
        else:
            per_output.append(analyse(method, problem, x, data.to_numpy(), options, seed))
    coords: dict[str, Any] = {"output": list(outputs), "param": params}
    tail: tuple[str, ...] = ()
    if series:
        coords["time"] = next(iter(series.values()))["time"].to_numpy()
        tail = ("time",)
    data_vars = {}
    for n in names:
        dims = ("output", "param", "param_j", *tail) if n.startswith("S2") else ("output", "param", *tail)
        data_vars[n] = (dims, np.stack([p[n] for p in per_output]),
                        {"long_name": names[n], "units": "" if record.output_units else "1"})
    if any(n.startswith("S2") for n in names):
        coords["param_j"] = params
    dataset = xr.Dataset(data_vars, coords=coords)
    dataset["output"].attrs["long_name"] = "scored output"
    dataset["param"].attrs["long_name"] = "varied parameter"
    descriptions = [str(o.attrs.get("long_name", "")) for o in outputs.values()]
    dataset["output_description"] = ("output", descriptions, {"long_name": "metric and variable of each output"})
    if record.output_units:
        units = [str(o.attrs.get("units", "")) for o in outputs.values()]
        dataset["output_units"] = ("output", units, {"long_name": "units of each output (and of mu, mu_star, sigma)"})
    dataset.attrs.update({"method": method, **(attrs or {})})
    return dataset


def index_problems(indices: xr.Dataset) -> list[str]:
    """Sobol-type indices that are negative beyond their interval or above 1 beyond it.

    Returns one plain message per (output, param, index), e.g. for a warning.
    """
    problems = []
    for name in ("S1", "ST"):
        if name not in indices or f"{name}_conf" not in indices:
            continue
        value, conf = indices[name], indices[f"{name}_conf"]
        extra = [d for d in value.dims if d not in ("output", "param")]
        low = (value + conf).max(extra) if extra else value + conf
        high = (value - conf).min(extra) if extra else value - conf
        for label, bad in (("negative", low < 0), ("above 1", high > 1)):
            for output, param in zip(*np.nonzero(bad.transpose("output", "param").to_numpy()), strict=True):
                o, p = str(indices["output"].values[output]), str(indices["param"].values[param])
                problems.append(f"{name} of {p!r} for output {o!r} is {label} beyond its confidence "
                                "interval; raise the sample size")
    return problems


def warn_index_problems(indices: xr.Dataset) -> list[str]:
    """Emit an :class:`~sdkit.errors.SdkitWarning` per problem found by :func:`index_problems`."""
    problems = index_problems(indices)
    for message in problems:
        warnings.warn(message, SdkitWarning, stacklevel=2)
    return problems
