"""Helpers shared by sdkit's figures (data checks, figure set-up, legends), also for figures drawn outside :mod:`sdkit.plot`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from sdkit.plot.style import PlotError

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


#: The command that makes each kind of dataset, named in the error when a variable is missing.
MADE_BY = {
    "run dataset": "sdkit run MODEL --all --out FILE.nc",
    "ensemble": "sdkit ensemble MODEL --samples FILE.csv --vars NAME ... --out FILE.nc",
    "balance map dataset": "sdkit reproduce (balance-map.nc)",
    "Sobol results": "sdkit sweep SPEC.toml with method = \"sobol\"",
    "Morris results": "sdkit sweep SPEC.toml with method = \"morris\"",
    "time-resolved sensitivity dataset": "sdkit sweep SPEC.toml with a metric = \"series\" output",
    "convergence dataset": "sdkit sweep SPEC.toml with a [convergence] table",
}


def require_vars(ds: xr.Dataset, names: Sequence[str], what: str = "dataset") -> None:
    """Raise :class:`PlotError` naming the first variable missing from `ds` and the command that makes it."""
    if not hasattr(ds, "data_vars"):
        raise PlotError(f"{what} must be an xarray.Dataset, got {type(ds).__name__}")
    for name in names:
        if name not in ds.data_vars:
            have = ", ".join(sorted(str(v) for v in ds.data_vars)) or "none"
            command = next((c for kind, c in MADE_BY.items() if what.startswith(kind)), None)
            hint = f"; make it with `{command}`" if command else ""
            raise PlotError(f"{what} has no variable {name!r} (available: {have}){hint}")


def require_dims(obj: Any, dims: Sequence[str], what: str) -> None:
    """Raise :class:`PlotError` if `obj` lacks one of `dims`."""
    for dim in dims:
        if dim not in obj.dims:
            raise PlotError(
                f"{what} needs dimension {dim!r}; it has {', '.join(map(str, obj.dims)) or 'none'}"
            )


def new_figure(
    nrows: int = 1,
    ncols: int = 1,
    *,
    panel_aspect: float = 0.75,
    sharex: bool | str = False,
    sharey: bool | str = False,
    squeeze: bool = False,
) -> tuple[Figure, np.ndarray]:
    """Create a figure whose width is the current ``figure.figsize`` width.

    A single panel takes the current ``figure.figsize`` as it is (so the
    `aspect` of :func:`sdkit.plot.style` applies); for small multiples the
    height follows from the number of rows and columns and `panel_aspect`
    (panel height / panel width), keeping the width of the active preset.
    """
    import matplotlib as mpl
    import matplotlib.pyplot as plt

    width, height = (float(v) for v in mpl.rcParams["figure.figsize"])
    if nrows * ncols > 1:
        height = width / ncols * panel_aspect * nrows
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(width, max(height, 1.0)), sharex=sharex, sharey=sharey,
        squeeze=squeeze, layout="constrained",
    )
    return fig, axes


def grid_shape(n: int, ncols: int | None = None) -> tuple[int, int]:
    """Rows and columns for `n` panels (2 x 2 for four, else at most 3 columns)."""
    if n < 1:
        raise PlotError("nothing to plot: no panels selected")
    if ncols:
        cols = ncols
    elif n == 4:
        cols = 2
    else:
        cols = min(n, 3)
    cols = max(1, min(cols, n))
    return math.ceil(n / cols), cols


def hide_unused(axes: np.ndarray, used: int) -> None:
    """Hide panels beyond the first `used` ones."""
    for ax in axes.ravel()[used:]:
        ax.set_visible(False)


def panel_grid(n: int, ncols: int | None = None, **options: Any) -> tuple[Figure, np.ndarray]:
    """A new figure of ``n`` panels, laid out by :func:`grid_shape`, the cells past the
    ``n``-th hidden; ``options`` go to :func:`new_figure`. The grid is 2-D."""
    nrows, cols = grid_shape(n, ncols)
    fig, grid = new_figure(nrows, cols, **options)
    hide_unused(grid, n)
    return fig, grid


def panel_edges(grid: np.ndarray, n: int) -> tuple[list[Axes], list[Axes]]:
    """Of the first ``n`` panels of ``grid``: those lowest in their column (where the time
    axis is labelled) and those first in their row (where the y axis is)."""
    cols = grid.shape[1]
    panels = list(grid.ravel()[:n])
    return ([ax for i, ax in enumerate(panels) if i + cols >= n],
            [ax for i, ax in enumerate(panels) if i % cols == 0])


def given_panels(axes: Any, n: int, what: str) -> tuple[Figure, list[Axes]]:
    """The figure and the panels of caller-given ``axes``, which must be at least ``n`` ``what``."""
    panel_list = list(np.ravel(axes))
    if len(panel_list) < n:
        raise PlotError(f"`axes` has {len(panel_list)} panels for {n} {what}")
    return panel_list[0].get_figure(), panel_list


def figure_of(ax: Axes) -> Figure:
    """Return the figure an axes belongs to."""
    return ax.get_figure()


def scenario_names(ds: Any) -> list[str]:
    """Names in the ``scenario`` coordinate, as strings (empty if there is none)."""
    if "scenario" not in getattr(ds, "dims", ()):
        return []
    return [str(v) for v in np.asarray(ds["scenario"].values)]


def finite_span(time: Any, *series: Any) -> tuple[float, float]:
    """First and last time at which any of `series` has a finite value.

    Runs of different calendars share one NaN-padded time axis in a run dataset
    (a 0-200 scenario beside a 1919-2030 history); each panel's time axis spans
    only the data it draws. Falls back to the whole axis when nothing is finite.
    """
    t = np.asarray(time, dtype=float)
    if t.size == 0:
        return 0.0, 1.0
    finite = np.zeros(t.shape, dtype=bool)
    for values in series:
        v = np.asarray(values, dtype=float)
        finite |= np.isfinite(v.reshape(-1, t.size)).any(axis=0)
    if not finite.any():
        return float(t[0]), float(t[-1])
    chosen = t[finite]
    return float(chosen[0]), float(chosen[-1])


def calendars(ds: Any, scenarios: Sequence[str]) -> dict[tuple[float, float], list[str]]:
    """Scenarios grouped by the span of time their data cover, in first-seen order."""
    t = np.asarray(ds["time"].values, dtype=float)
    groups: dict[tuple[float, float], list[str]] = {}
    for name in scenarios:
        series = [np.asarray(ds[v].sel(scenario=name).values, dtype=float)
                  for v in ds.data_vars if {"scenario", "time"} <= set(ds[v].dims)]
        groups.setdefault(finite_span(t, *series), []).append(name)
    return groups


def require_one_calendar(ds: Any, scenarios: Sequence[str]) -> None:
    """Raise :class:`PlotError` when the scenarios cover different spans of time.

    Drawn on one time axis, a 0-200 run beside a 1919-2030 history would squeeze each
    into a corner of the panel.
    """
    groups = calendars(ds, scenarios)
    if len(groups) > 1:
        listed = "; ".join(f"{', '.join(names)} ({low:g}-{high:g})" for (low, high), names in groups.items())
        raise PlotError(f"the scenarios cover different spans of time: {listed}; draw each group separately "
                        "(scenarios=[...], or --scenario on the command line)")


def figure_legend(fig: Figure, handles: Sequence[Any], labels: Sequence[str], *, loc: str,
                  max_columns: int = 6, **options: Any) -> Any:
    """A figure legend in as many columns (up to `max_columns`) as fit the figure's width.

    Long entries (renamed scenarios, say) then wrap onto more rows instead of running
    past the edge of a single-column figure.
    """
    renderer = fig.canvas.get_renderer()
    limit = 0.98 * fig.bbox.width
    columns = max(1, min(len(labels), max_columns))
    while True:
        legend = fig.legend(handles, labels, loc=loc, ncols=columns, **options)
        if columns == 1 or legend.get_window_extent(renderer).width <= limit:
            return legend
        legend.remove()
        columns -= 1


def legend_columns(fig: Figure, n: int) -> int:
    """Legend columns that fit the figure width: up to 6 on a wide figure, 2 on a narrow one."""
    width = float(fig.get_figwidth())
    limit = 6 if width >= 5.0 else (3 if width >= 4.0 else 2)
    return max(1, min(n, limit))


def fitted_legend(ax: Axes, handles: list[Any], **options: Any):
    """``ax.legend(handles, **options)`` in as many columns as :func:`legend_columns` allows,
    fewer while the legend is wider than the figure (long labels)."""
    fig = ax.get_figure()
    renderer = fig.canvas.get_renderer()
    ncols = legend_columns(fig, len(handles))
    legend = ax.legend(handles=handles, ncols=ncols, **options)
    while ncols > 1 and legend.get_window_extent(renderer).width > fig.bbox.width:
        ncols -= 1
        legend = ax.legend(handles=handles, ncols=ncols, **options)
    return legend
