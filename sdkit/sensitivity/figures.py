"""The figures of one finished sweep, written beside its indices (``OUT/figures/``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["most_influential", "write_study_figures"]

#: Parameters named in a convergence figure (the most influential at the largest sample).
CONVERGENCE_PARAMETERS = 6


def write_study_figures(result: Any, out: Path, metadata: dict[str, str] | None = None) -> list[Path]:
    """Draw the catalogue figures a sweep's results support and save them under ``out/figures``.

    Sobol and eFAST indices: one bar chart per output; Morris: one screening plot per
    output; time-resolved indices: one heat map per output; convergence: the total
    indices of the most influential parameters against the sample size. Methods whose
    indices have no figure in the catalogue (PAWN, delta) draw none.
    """
    from sdkit import plot
    from sdkit.figures_io import write_figure

    folder = out / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    metadata = metadata or {}
    name = result.study.name
    written: list[Path] = []
    indices = result.indices
    for output in _outputs(indices):
        if "ST" in indices:
            with plot.style("single", aspect=1.1):
                written += write_figure(plot.sobol_indices({name: indices}, output), folder, f"sobol-{output}", metadata)
        elif "mu_star" in indices:
            with plot.style("single", aspect=1.0):
                written += write_figure(plot.morris(indices, output), folder, f"morris-{output}", metadata)
    for output in _outputs(result.time_resolved):
        with plot.style("double", aspect=0.5):
            written += write_figure(plot.time_resolved(result.time_resolved, output), folder, f"sobol-time-{output}", metadata)
    convergence = result.convergence
    for output in _outputs(convergence):
        with plot.style("single", aspect=0.8):
            params = most_influential(convergence, output)
            written += write_figure(plot.convergence(convergence, output, params=params), folder,
                                    f"convergence-{output}", metadata)
    return written


def most_influential(convergence: Any, output: str, count: int = CONVERGENCE_PARAMETERS) -> list[str]:
    """The `count` parameters of largest total-order index at the largest sample size."""
    final = convergence["ST"].sel(output=output).isel(size=-1)
    order = np.argsort(-np.nan_to_num(final.to_numpy(), nan=-np.inf), kind="stable")
    return [str(final["param"].values[i]) for i in order[:count]]


def _outputs(ds: Any) -> list[str]:
    if ds is None or "output" not in ds.dims:
        return []
    return [str(o) for o in ds["output"].values]
