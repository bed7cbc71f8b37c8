"""Convergence of the indices: recompute them on growing prefixes of one sample.

A Saltelli sample of base size N built on a Sobol' sequence starts with the Saltelli
sample of every smaller power of two, and a Morris sample of N trajectories starts with
its first n trajectories, so one evaluation at the largest size serves every size.
An output has converged when the widest confidence half-width at the largest size
(``ST_conf`` for Sobol, ``mu_star_conf`` relative to the largest ``mu_star`` for Morris)
is below the study's threshold.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from sdkit.sensitivity.analyse import analyse_outputs
from sdkit.sensitivity.methods import METHODS
from sdkit.sensitivity.spec import Study, n_runs, problem

__all__ = ["convergence", "verdicts"]


def convergence(study: Study, x: np.ndarray, outputs: dict[str, xr.DataArray],
                sizes: tuple[int, ...] | None = None) -> xr.Dataset:
    """Indices of the scalar outputs at increasing base sample sizes.

    Parameters
    ----------
    study : Study
        A ``sobol`` or ``morris`` study.
    x : numpy.ndarray
        The study's full sample (base size ``study.samples``).
    outputs : dict of str to xarray.DataArray
        Scalar outputs ``(sample,)`` of every run in ``x``.
    sizes : tuple of int, optional
        Base sizes; default the study's ``[convergence] sizes``.

    Returns
    -------
    xarray.Dataset
        Dims ``(size, output, param)``, the method's indices with their bootstrap
        half-widths, ``widest_conf`` ``(size, output)`` and ``converged`` ``(output,)``;
        attrs ``threshold`` and ``criterion``.
    """
    if METHODS[study.method].convergence is None:
        raise ValueError(f"convergence is not computed for {study.method} studies")
    if sizes is None:
        if study.convergence is None:
            raise ValueError(f"study {study.name} has no [convergence] table; pass sizes")
        sizes = study.convergence.sizes
    threshold = study.convergence.threshold if study.convergence else 0.1
    spec = problem(study)
    pieces = []
    for n in sizes:
        rows = n_runs(study.method, n, len(study.parameters), study.options)
        if rows > x.shape[0]:
            raise ValueError(f"size {n} needs {rows} runs but the sample has {x.shape[0]}")
        subset = {k: v.isel(sample=slice(0, rows)) for k, v in outputs.items()}
        pieces.append(analyse_outputs(study.method, spec, x[:rows], subset, study.options, study.seed))
    per_output = [k for k in pieces[0].data_vars if pieces[0][k].dims == ("output",)]
    dataset = xr.concat([p.drop_vars(per_output) for p in pieces],
                        dim=xr.DataArray(list(sizes), dims="size", name="size"),
                        data_vars="all", coords="minimal", compat="override", join="override")
    for name in per_output:
        dataset[name] = pieces[0][name]
    dataset["size"].attrs = {"long_name": "base sample size N", "units": "1"}
    widest = _widest(dataset, study.method)
    dataset["widest_conf"] = widest
    dataset["converged"] = ("output", (widest.isel(size=-1) < threshold).to_numpy().astype(np.int8),
                            {"long_name": "1 when the widest interval at the largest size is below threshold"})
    dataset.attrs.update({"method": study.method, "threshold": threshold,
                          "criterion": _criterion(study.method), "scenario": study.scenario or ""})
    return dataset


def _criterion(method: str) -> str:
    index, relative = METHODS[method].convergence
    if relative:
        return f"max over parameters of {index}_conf / max over parameters of {index}"
    return f"max over parameters of {index}_conf"


def _widest(dataset: xr.Dataset, method: str) -> xr.DataArray:
    index, relative = METHODS[method].convergence
    widest = dataset[f"{index}_conf"].max("param")
    if relative:
        scale = dataset[index].max("param")
        widest = widest / scale.where(scale > 0)
    widest.attrs = {"long_name": _criterion(method), "units": "1"}
    return widest.fillna(np.inf)


def verdicts(conv: xr.Dataset) -> dict[str, dict[str, Any]]:
    """Per output: ``converged`` (bool), ``widest_conf`` at the largest size, ``threshold``."""
    result = {}
    for i, output in enumerate(conv["output"].values):
        result[str(output)] = {
            "converged": bool(conv["converged"].values[i]),
            "widest_conf": float(conv["widest_conf"].isel(size=-1).values[i]),
            "threshold": float(conv.attrs["threshold"]),
        }
    return result
