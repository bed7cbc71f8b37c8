"""The project's figures: the data each needs, then the plot, then the files.

Each ``figure_*`` function takes what the reproduce pipeline has computed, draws one
figure in the publication style, and saves it (300-dpi PNG, PDF and SVG with its text
kept as text) under a stem in
the output folder. Computing stays here and in the modules it calls; drawing stays in
:mod:`sdkit.plot`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from sdkit.ensemble import ensemble
from sdkit.figures_io import save_figure
from sdkit.model import Model

ORDERS = ("liberal", "transformative", "mercantilist", "sovereign")


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


def _save(fig: Any, out: Path, stem: str, metadata: Mapping[str, str]) -> list[Path]:
    import matplotlib.pyplot as plt

    paths = save_figure(fig, out / stem, formats=("png", "pdf", "svg"), metadata=metadata)
    plt.close(fig)
    return paths


def figure_trajectories(ds: xr.Dataset, out: Path, metadata: Mapping[str, str]) -> list[Path]:
    """The four stocks for the four orders, small multiples."""
    from sdkit import plot

    with plot.style("double"):
        fig = plot.trajectories(ds, scenarios=[s for s in ORDERS if s in ds.scenario])
        return _save(fig, out, "trajectories-four-orders", metadata)


def figure_phase(ds: xr.Dataset, region: xr.DataArray, out: Path, metadata: Mapping[str, str]) -> list[Path]:
    """Legitimacy against power, the region where restraint holds shaded."""
    from sdkit import plot

    with plot.style("single", aspect=1.0):
        ax = plot.phase_portrait(ds, scenarios=[s for s in ORDERS if s in ds.scenario], restraint_region=region)
        return _save(ax.figure, out, "phase-portrait", metadata)


def figure_reference_modes(ds: xr.Dataset, results: Sequence[Any], checks: Sequence[Any], out: Path, stem: str, metadata: Mapping[str, str]) -> list[Path]:
    """One figure per reference mode: a panel per variable its checks read, thresholds drawn."""
    from sdkit import plot

    written: list[Path] = []
    # modes whose checks all set constants on top of their scenarios were measured on runs ds does not hold
    for mode in dict.fromkeys(r.mode for r in results if not getattr(r, "set", None)):
        with plot.style("double"):
            fig, _ = plot.reference_mode_figure(ds, results, mode, checks=checks)
            written += _save(fig, out, f"{stem}-{mode.lower()}", metadata)
    return written


def figure_balance_map(ds_map: xr.Dataset, out: Path, metadata: Mapping[str, str]) -> list[Path]:
    """Regime map over two parameters."""
    from sdkit import plot

    with plot.style("single", aspect=0.9):
        ax = plot.balance_map(ds_map)
        return _save(ax.figure, out, "balance-map", metadata)


def figure_fan(ensembles: Mapping[str, xr.Dataset], variable: str, out: Path, metadata: Mapping[str, str]) -> list[Path]:
    """Median with 50 % and 90 % bands of one variable, per order."""
    from sdkit import plot

    with plot.style("double"):
        fig = plot.fan_chart(dict(ensembles), variable)
        return _save(fig, out, f"fan-{variable.replace('_', '-')}", metadata)


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
                written += _save(plot.sobol_indices(sobol, output), out, f"sobol-{output}", metadata)
        if morris:
            written += _save(_morris_panels(morris, output), out, f"morris-{output}", metadata)
        if "cross_order_sobol" in sweeps:
            cross = {"all orders": sweeps["cross_order_sobol"].indices}
            with plot.style("single", aspect=1.2):
                written += _save(plot.sobol_indices(cross, output), out, f"sobol-cross-order-{output}", metadata)
    for order in ORDERS:
        result = sweeps.get(f"{order}_sobol")
        if result is None:
            continue
        if result.time_resolved is not None:
            with plot.style("double", aspect=0.5):
                ax = plot.time_resolved(result.time_resolved)
                written += _save(ax.figure, out, f"sobol-time-{order}", metadata)
        if result.convergence is not None:
            with plot.style("single", aspect=0.8):
                ax = plot.convergence(result.convergence, "min_restraint",
                                      params=_most_influential(result.convergence, "min_restraint"))
                written += _save(ax.figure, out, f"convergence-{order}", metadata)
    return written


def _morris_panels(morris: Mapping[str, xr.Dataset], output: str) -> Any:
    """Morris screening of each order in its own panel, the most influential parameters named."""
    from sdkit import plot
    from sdkit.plot._common import grid_shape, hide_unused, new_figure

    with plot.style("double"):
        nrows, ncols = grid_shape(len(morris))
        fig, grid = new_figure(nrows, ncols, panel_aspect=0.8)
        hide_unused(grid, len(morris))
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


def _most_influential(convergence: xr.Dataset, output: str, count: int = 6) -> list[str]:
    """The `count` parameters of largest total-order index at the largest sample size."""
    final = convergence["ST"].sel(output=output).isel(size=-1)
    order = np.argsort(-np.nan_to_num(final.to_numpy(), nan=-np.inf), kind="stable")
    return [str(final["param"].values[i]) for i in order[:count]]
