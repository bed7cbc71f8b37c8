"""Summaries of an ensemble: quantiles over its samples."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from sdkit.errors import ParameterError

__all__ = ["DEFAULT_QUANTILES", "final_quantiles_table", "summarise"]

#: The median and the bounds of the central 50 % and 90 % of the runs.
DEFAULT_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def summarise(ds: xr.Dataset, quantiles: Sequence[float] = DEFAULT_QUANTILES, *, dim: str = "sample",
              final: bool = False) -> xr.Dataset:
    """Quantiles of every variable over the runs of an ensemble.

    Parameters
    ----------
    ds : xarray.Dataset
        An ensemble (:func:`sdkit.ensemble.ensemble`) with a ``sample`` dimension.
    quantiles : sequence of float
        Quantiles in [0, 1] (default: 5, 25, 50, 75 and 95 %).
    dim : str
        The dimension to summarise over (default ``"sample"``).
    final : bool
        Summarise only the last saved time.

    Returns
    -------
    xarray.Dataset
        The same variables with ``dim`` replaced by ``quantile``; runs that blew up
        (NaN) are left out, and ``runs`` counts those that did not, per variable.
        The input's provenance attributes are kept.
    """
    if dim not in ds.dims:
        raise ParameterError(f"the dataset has no {dim!r} dimension to summarise over (it has "
                             f"{', '.join(map(str, ds.dims)) or 'none'}); pass an ensemble")
    levels = np.asarray(quantiles, dtype=float)
    if levels.ndim != 1 or levels.size == 0 or not np.all((levels >= 0) & (levels <= 1)):
        raise ParameterError(f"quantiles must be numbers in [0, 1], got {list(quantiles)!r}")
    if final and "time" in ds.dims:
        ds = ds.isel(time=-1)
    numeric = ds[[v for v in ds.data_vars if dim in ds[v].dims and np.issubdtype(ds[v].dtype, np.number)]]
    summary = numeric.quantile(levels, dim=dim, skipna=True)
    for name in numeric.data_vars:
        summary[name].attrs = dict(ds[name].attrs)
        summary[f"runs_{name}"] = numeric[name].notnull().sum(dim).assign_attrs(
            long_name=f"runs with a value of {ds[name].attrs.get('long_name', name)}")
    summary.attrs = {**ds.attrs, "summary": f"quantiles over {dim}"}
    return summary


def final_quantiles_table(ds: xr.Dataset, quantiles: Sequence[float] = DEFAULT_QUANTILES) -> str:
    """A text table of the quantiles of each variable's final value over the samples."""
    from sdkit.report import table

    summary = summarise(ds, quantiles, final=True)
    names = [v for v in summary.data_vars if not str(v).startswith("runs_") and summary[v].ndim == 1]
    header = ["variable", *(f"q{q:g}" for q in summary["quantile"].values), "runs"]
    rows = [[str(summary[v].attrs.get("long_name", v)), *(f"{x:.4g}" for x in summary[v].values),
             str(int(summary[f"runs_{v}"]))] for v in names]
    return table(header, rows)
