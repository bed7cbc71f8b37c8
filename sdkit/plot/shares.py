"""Shares that sum to one, stacked over time, and outputs over a scanned parameter."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from sdkit.plot import common
from sdkit.plot.style import OKABE_ITO, order_styles, pretty_name, select_names, time_label

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr
    from matplotlib.figure import Figure

__all__ = ["scan_lines", "stacked_shares"]


def stacked_shares(ds: xr.Dataset, variable: str, dim: str, scenarios: Sequence[str] | None = None,
                   *, ncols: int | None = None) -> Figure:
    """One panel per scenario: the elements of `variable` along `dim`, stacked over time.

    Parameters
    ----------
    ds : xarray.Dataset
        A run dataset with dims ``(scenario, time, dim)``.
    variable : str
        The shares (e.g. ``adherence_share``), one per element of `dim`.
    dim : str
        The subscript whose elements are stacked (e.g. ``Order``); each gets its
        order style's colour when it names an order, else a fallback colour.
    scenarios : sequence of str, optional
        Scenarios to draw, one panel each (default: all).

    Returns
    -------
    matplotlib.figure.Figure
        ``fig.axes[i]`` is the panel of ``scenarios[i]``; one legend of the elements.
    """
    common.require_vars(ds, [variable], "run dataset")
    common.require_dims(ds[variable], ["scenario", "time", dim], f"variable {variable!r}")
    names = select_names([str(s) for s in ds["scenario"].values], scenarios, "scenario")
    elements = [str(e) for e in ds[dim].values]
    colours = [style["color"] for style in order_styles(elements).values()]
    fig, grid = common.panel_grid(len(names), ncols, sharey=True, panel_aspect=0.7)
    bottom, left = common.panel_edges(grid, len(names))
    da = ds[variable]
    for ax, name in zip(grid.ravel(), names, strict=False):
        shares = da.sel(scenario=name).transpose(dim, "time")
        time = np.asarray(shares["time"].values, dtype=float)
        ax.stackplot(time, np.nan_to_num(np.asarray(shares.values, dtype=float)), labels=elements,
                     colors=colours, alpha=0.9, linewidth=0)
        ax.set_xlim(*common.finite_span(time, shares.values))
        ax.set_ylim(0.0, 1.0)
        ax.set_title(name)
        if ax in bottom:
            ax.set_xlabel(time_label(ds["time"]))
        if ax in left:
            ax.set_ylabel(pretty_name(str(da.attrs.get("long_name", variable))))
    handles, labels = grid[0, 0].get_legend_handles_labels()
    common.figure_legend(fig, handles, labels, loc="outside lower center")
    return fig


def scan_lines(ds: xr.Dataset, variable: str, x: str, by: str, *,
               reference: tuple[float, str] | None = None) -> Figure:
    """`variable` against the scanned parameter `x`, one line per element of `by`.

    `reference` = (level, label) draws a dashed horizontal line, e.g. a threshold.
    """
    common.require_vars(ds, [variable], "scan dataset")
    common.require_dims(ds[variable], [x, by], f"variable {variable!r}")
    fig, grid = common.new_figure(1, 1)
    ax = grid[0, 0]
    markers = ("o", "s", "^", "D", "v")
    colours = [OKABE_ITO[k] for k in ("blue", "vermillion", "bluish_green", "reddish_purple", "orange")]
    for i, label in enumerate(ds[by].values):
        ax.plot(ds[x].values, ds[variable].sel({by: label}).values, marker=markers[i % len(markers)],
                markersize=3, color=colours[i % len(colours)], label=str(label))
    if reference is not None:
        ax.axhline(reference[0], color="0.4", linestyle="--", linewidth=0.7, label=reference[1])
    ax.set_xlabel(str(ds[x].attrs.get("long_name", pretty_name(x))))
    ax.set_ylabel(str(ds[variable].attrs.get("long_name", pretty_name(variable))))
    ax.legend(loc="best")
    return fig
