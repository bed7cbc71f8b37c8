"""The figures of the Kissinger studies that ``sdkit reproduce`` writes into ``figures/``.

Each ``figure_*`` function takes what the reproduce steps computed, draws it with
:mod:`sdkit.plot` in the publication style and writes it through
:func:`sdkit.figures_io.write_figure` (300-dpi PNG, PDF, SVG with text as text).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from sdkit import figures_io
from sdkit.ensemble import ensemble
from sdkit.kissinger import ORDERS, STOCKS
from sdkit.model import Model
from sdkit.sensitivity.figures import most_influential


def restraint_region(model: Model, scenario: str | None, resolution: int = 120) -> xr.DataArray:
    """Restraint at the initial time over a grid of initial legitimacy and initial power.

    Every other stock starts where the scenario starts it, so the grid shows where the
    restraint sigmoid holds for the order as it begins.
    """
    levels = np.linspace(0.0, 1.0, resolution)
    grid_power, grid_legitimacy = np.meshgrid(levels, levels, indexing="ij")
    samples = pd.DataFrame({"initial legitimacy": grid_legitimacy.ravel(), "initial power": grid_power.ravel()})
    runs = ensemble(model, samples, variables=["Restraint"], scenario=scenario, save=[model.time.initial_time])
    values = runs["restraint"].isel(time=0).to_numpy().reshape(resolution, resolution)
    return xr.DataArray(
        values,
        dims=("power", "legitimacy"),
        coords={"power": levels, "legitimacy": levels},
        attrs={"long_name": "Restraint", "units": "Dmnl"},
    )


def figure_trajectories(ds: xr.Dataset, out: Path, metadata: Mapping[str, str]) -> list[Path]:
    """The four stocks for the four orders, small multiples."""
    from sdkit import plot

    with plot.style("double"):
        fig = plot.trajectories(ds, scenarios=[s for s in ORDERS if s in ds.scenario], variables=STOCKS)
        return figures_io.write_figure(fig, out, "trajectories-four-orders", metadata)


def figure_phase(ds: xr.Dataset, region: xr.DataArray, out: Path, metadata: Mapping[str, str]) -> list[Path]:
    """Legitimacy against power, the region where restraint holds shaded."""
    from sdkit import plot

    with plot.style("single", aspect=1.0):
        ax = plot.phase_portrait(ds, scenarios=[s for s in ORDERS if s in ds.scenario], region=region, region_label="restraint holds")
        return figures_io.write_figure(ax.figure, out, "phase-portrait", metadata)


SENSITIVITY_OUTPUTS = ("min_restraint", "first_collapse", "final_authority")


def figure_sensitivity(sweeps: Mapping[str, Any], out: Path, metadata: Mapping[str, str]) -> list[Path]:
    """Sobol indices per order side by side, Morris screening, the cross-order study,
    time-resolved indices and convergence, from the shipped studies' results."""
    from sdkit import plot

    written: list[Path] = []
    sobol = {o: sweeps[f"{o}_sobol"].indices for o in ORDERS if f"{o}_sobol" in sweeps}
    morris = {o: sweeps[f"{o}_morris"].indices for o in ORDERS if f"{o}_morris" in sweeps}
    for output in SENSITIVITY_OUTPUTS:
        if sobol:
            with plot.style("double", aspect=0.75):
                written += figures_io.write_figure(plot.sobol_indices(sobol, output), out, f"sobol-{output}", metadata)
        if morris:
            written += figures_io.write_figure(_morris_panels(morris, output), out, f"morris-{output}", metadata)
        if "cross_order_sobol" in sweeps:
            cross = {"all orders": sweeps["cross_order_sobol"].indices}
            with plot.style("single", aspect=1.2):
                written += figures_io.write_figure(plot.sobol_indices(cross, output), out, f"sobol-cross-order-{output}", metadata)
    for order in ORDERS:
        result = sweeps.get(f"{order}_sobol")
        if result is None:
            continue
        if result.time_resolved is not None:
            with plot.style("double", aspect=0.5):
                ax = plot.time_resolved(result.time_resolved)
                written += figures_io.write_figure(ax.figure, out, f"sobol-time-{order}", metadata)
        if result.convergence is not None:
            with plot.style("single", aspect=0.8):
                ax = plot.convergence(result.convergence, "min_restraint",
                                      params=most_influential(result.convergence, "min_restraint"))
                written += figures_io.write_figure(ax.figure, out, f"convergence-{order}", metadata)
    return written


def _morris_panels(morris: Mapping[str, xr.Dataset], output: str) -> Any:
    """Morris screening of each order in its own panel, the most influential parameters named."""
    from sdkit import plot
    from sdkit.plot.common import panel_grid

    with plot.style("double"):
        fig, grid = panel_grid(len(morris), panel_aspect=0.8)
        panels = list(zip(grid.ravel(), morris.items(), strict=False))
        for ax, (order, indices) in panels:
            plot.morris({order: indices}, output, ax=ax, labels=False)
            output_title = ax.get_title()
            ax.set_title(order)
            ax.get_legend().remove()
        fig.suptitle(output_title)
        for ax, (order, indices) in panels:
            plot.morris_labels({order: indices}, output, ax=ax, top=4)
        return fig

