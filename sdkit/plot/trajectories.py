"""Small multiples of stocks over time, one line per order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from sdkit.plot.common import (
    figure_legend,
    finite_span,
    panel_edges,
    panel_grid,
    require_dims,
    require_one_calendar,
    require_vars,
    scenario_names,
)
from sdkit.plot.style import PlotError, order_styles, select_names, time_label, units_text

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr
    from matplotlib.figure import Figure

__all__ = ["default_variables", "trajectories"]

#: How many variables are drawn when none are named.
DEFAULT_PANELS = 4


def default_variables(ds: xr.Dataset) -> list[str]:
    """The first four variables of `ds` that change over time: the panels drawn by default."""
    return [str(v) for v in ds.data_vars if "time" in ds[v].dims][:DEFAULT_PANELS]


def trajectories(
    ds: xr.Dataset,
    scenarios: Sequence[str] | None = None,
    variables: Sequence[str] | None = None,
    *,
    axes: Sequence | np.ndarray | None = None,
    ncols: int | None = None,
    ylim: tuple[float, float] | None = (0.0, 1.0),
    legend: bool = True,
) -> Figure:
    """Draw each variable against time in its own panel, one line per order.

    Parameters
    ----------
    ds : xarray.Dataset
        A run dataset with dims ``(scenario, time)`` (``scenario`` optional);
        variables carry ``long_name`` and ``units`` attributes.
    scenarios : sequence of str, optional
        Scenarios (orders) to draw, in this order (default: all).
    variables : sequence of str
        Python-safe variable names, one panel each (default: the first four
        variables of `ds` with a ``time`` dimension).
    axes : sequence of matplotlib Axes, optional
        Panels to draw into, at least one per variable; default: a new figure
        with shared axes.
    ncols : int, optional
        Number of panel columns for a new figure (default: 2 for four panels).
    ylim : (float, float) or None
        Shared y range (default ``(0, 1)``, the range of every index); None
        lets matplotlib choose.
    legend : bool
        Add one legend of the orders above the panels.

    Returns
    -------
    matplotlib.figure.Figure
        The figure; ``fig.axes[i]`` is the panel of ``variables[i]``.

    Raises
    ------
    PlotError
        If a variable or scenario is missing, the data have no ``time`` dimension, or
        the scenarios cover different spans of time (see ``run --all``).
    """
    if variables is None:
        variables = default_variables(ds)
    variables = [variables] if isinstance(variables, str) else list(variables)
    require_vars(ds, variables, "run dataset")
    require_dims(ds, ["time"], "run dataset")
    has_scen = "scenario" in ds.dims
    names = select_names(scenario_names(ds), scenarios, "scenario") if has_scen else [None]
    if has_scen:
        require_one_calendar(ds, names)
    styles = order_styles([n for n in names if n is not None])

    fig, panel_list, bottom, left = _panels(axes, len(variables), ncols, ylim)

    time = ds["time"]
    tlabel = time_label(time)
    for ax, var in zip(panel_list, variables, strict=False):
        da = ds[var]
        _draw_series(ax, da, var, names, styles)
        ax.set_title(da.attrs.get("long_name", var))
        if ax in left:
            ax.set_ylabel(_units_label(da))
        if ax in bottom:
            ax.set_xlabel(tlabel)
            ax.xaxis.set_tick_params(labelbottom=True)
        if ylim is not None:
            ax.set_ylim(*ylim)
        drawn = [da.sel(scenario=name).values if name is not None else da.values for name in names]
        ax.set_xlim(*finite_span(time.values, *drawn))

    if axes is None and len({_units_label(ds[v]) for v in variables}) > 1:
        for ax, var in zip(panel_list, variables, strict=False):  # units differ: label every panel
            ax.set_ylabel(_units_label(ds[var]))
    if legend and names != [None]:
        handles, labels = panel_list[0].get_legend_handles_labels()
        figure_legend(fig, handles, labels, loc="outside upper center")
    return fig


def _units_label(da: xr.DataArray) -> str:
    if "units" not in da.attrs:
        return ""
    units = units_text(da.attrs["units"])
    return f"[{units}]" if units else "Index"


def _panels(axes: Any, n: int, ncols: int | None, ylim: tuple[float, float] | None):
    """(figure, panels, the panels labelled with time, those labelled with units)."""
    if axes is None:
        fig, grid = panel_grid(n, ncols, sharex=True, sharey=ylim is not None, panel_aspect=0.85)
        bottom, left = panel_edges(grid, n)
        return fig, list(grid.ravel()), bottom, left
    panel_list = list(np.ravel(axes))
    if len(panel_list) < n:
        raise PlotError(
            f"`axes` has {len(panel_list)} panels for {n} variables; pass more"
        )
    return panel_list[0].get_figure(), panel_list, panel_list, panel_list


def _draw_series(ax: Any, da: xr.DataArray, var: str, names: list, styles: dict) -> None:
    """One line per scenario (or one black line without scenarios)."""
    for name in names:
        series = da.sel(scenario=name) if name is not None else da
        kw = styles[name] if name is not None else {"color": "k", "linestyle": "-"}
        ax.plot(
            np.asarray(series["time"].values),
            np.asarray(series.values),
            color=kw["color"],
            linestyle=kw["linestyle"],
            label=name if name is not None else da.attrs.get("long_name", var),
        )
