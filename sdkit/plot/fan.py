"""Fan charts of an ensemble: median with central bands, one panel per order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from sdkit.plot.common import (
    figure_legend,
    given_panels,
    panel_edges,
    panel_grid,
    require_dims,
    require_vars,
)
from sdkit.plot.style import PlotError, axis_label, order_styles, select_names, time_label

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr
    from matplotlib.figure import Figure

__all__ = ["fan_chart"]


def _by_order(ens: Any) -> dict[str, xr.Dataset]:
    """Normalise the accepted ensemble inputs to ``{order: Dataset(sample, time)}``."""
    if not hasattr(ens, "data_vars") and isinstance(ens, Mapping):
        if not ens:
            raise PlotError("ensemble dict is empty; pass {order_name: Dataset}")
        return {str(k): v for k, v in ens.items()}
    if not hasattr(ens, "data_vars"):
        raise PlotError(
            f"ensemble must be an xarray.Dataset or a dict of them, got {type(ens).__name__}"
        )
    if "scenario" in ens.dims:
        return {str(s): ens.sel(scenario=s) for s in ens["scenario"].values}
    return {str(ens.attrs.get("scenario", "ensemble")): ens}


def fan_chart(
    ens: xr.Dataset | Mapping[str, xr.Dataset],
    variable: str,
    *,
    orders: Sequence[str] | None = None,
    axes: Sequence | np.ndarray | None = None,
    ncols: int | None = None,
    bands: tuple[float, float] = (0.5, 0.9),
    ylim: tuple[float, float] | None = (0.0, 1.0),
    legend: bool = True,
) -> Figure:
    """Draw the ensemble median of one variable with central 50 % and 90 % bands, per order.

    Parameters
    ----------
    ens : xarray.Dataset or dict of str to xarray.Dataset
        Ensemble results with dims ``(sample, time)``: a dict ``{order: Dataset}``,
        or one Dataset with an extra ``scenario`` dimension, or one Dataset
        (a single panel, titled by its ``scenario`` attribute).
    variable : str
        Python-safe variable name, e.g. ``"institutional_authority"``.
    orders : sequence of str, optional
        Orders to draw, in this order (default: all).
    axes : sequence of matplotlib Axes, optional
        Panels to draw into, one per order (default: a new figure, shared axes).
    ncols : int, optional
        Panel columns of a new figure.
    bands : (float, float)
        Widths of the inner and outer central bands (default 50 % and 90 %).
    ylim : (float, float) or None
        Shared y range (default ``(0, 1)``).
    legend : bool
        Add a legend explaining median and bands.

    Returns
    -------
    matplotlib.figure.Figure
        The figure; panel ``i`` shows ``orders[i]`` with one median line and
        two filled bands.

    Raises
    ------
    PlotError
        If the variable, an order or the ``sample``/``time`` dimension is missing,
        or a band width is not in (0, 1).
    """
    data = _by_order(ens)
    names = select_names(list(data), orders, "order")
    inner, outer = (float(b) for b in bands)
    if not (0.0 < inner < outer < 1.0):
        raise PlotError(f"`bands` must satisfy 0 < inner < outer < 1, got {bands!r}")
    for name in names:
        require_vars(data[name], [variable], f"ensemble {name!r}")
        require_dims(data[name][variable], ["sample", "time"], f"ensemble {name!r} {variable!r}")
    styles = order_styles(names)

    fig, panel_list, created, left_column, bottom_row = _panels(axes, len(names), ncols, ylim)

    qs = [(1 - outer) / 2, (1 - inner) / 2, 0.5, (1 + inner) / 2, (1 + outer) / 2]
    first = data[names[0]][variable]
    for ax, name in zip(panel_list, names, strict=False):
        da = data[name][variable].transpose("sample", "time")
        t = _draw_fan(ax, da, qs, styles[name], inner, outer)
        ax.set_title(name)
        ax.set_xlim(t[0], t[-1])
        if ylim is not None:
            ax.set_ylim(*ylim)
        if not created or ax in bottom_row:
            ax.set_xlabel(time_label(da["time"]))
        if not created or ax in left_column:
            ax.set_ylabel(axis_label(first))
    if legend:
        _legend(fig, panel_list[0], created, inner, outer)
    return fig


def _panels(axes: Any, n: int, ncols: int | None, ylim: tuple[float, float] | None):
    """(figure, panels, whether the figure is new, its left column, its bottom row)."""
    if axes is not None:
        fig, panel_list = given_panels(axes, n, "orders")
        return fig, panel_list, False, panel_list, panel_list
    import matplotlib as mpl

    if ncols is None and n <= 4 and mpl.rcParams["figure.figsize"][0] >= 5.0:
        ncols = n  # one row on a wide (double-column) figure
    fig, grid = panel_grid(n, ncols, sharex=True, sharey=ylim is not None, panel_aspect=0.75)
    fig.set_figheight(max(fig.get_figheight(), 2.4))  # room for the shared y label [inch]
    bottom_row, left_column = panel_edges(grid, n)
    return fig, list(grid.ravel()), True, left_column, bottom_row


def _legend(fig: Figure, first: Any, created: bool, inner: float, outer: float) -> None:
    """What the median line and the two bands mean: above a new figure, or in the first panel."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    grey = "0.35"
    handles = [
        Line2D([], [], color=grey, label="median"),
        Patch(facecolor=grey, alpha=0.40, linewidth=0, label=f"central {inner:.0%}"),
        Patch(facecolor=grey, alpha=0.18, linewidth=0, label=f"central {outer:.0%}"),
    ]
    if created:
        figure_legend(fig, handles, [h.get_label() for h in handles], loc="outside upper center", max_columns=3)
    else:
        first.legend(handles=handles, loc="best")


def _draw_fan(ax: Any, da: xr.DataArray, qs: list[float], style: dict, inner: float, outer: float) -> np.ndarray:
    """The median of ``da`` over samples and its two central bands, in one order's style; the times."""
    q = np.asarray(da.quantile(qs, dim="sample", skipna=True).values)
    t = np.asarray(da["time"].values, dtype=float)
    colour = style["color"]
    ax.fill_between(t, q[0], q[4], color=colour, alpha=0.18, linewidth=0,
                    label=f"{outer:.0%} band")
    ax.fill_between(t, q[1], q[3], color=colour, alpha=0.40, linewidth=0,
                    label=f"{inner:.0%} band")
    ax.plot(t, q[2], color=colour, linestyle=style["linestyle"], label="median")
    return t
