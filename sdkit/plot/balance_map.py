"""Regime map over two parameters: stable order, collapse then new order, lasting disorder."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from sdkit.plot.common import fitted_legend, new_figure, require_vars
from sdkit.plot.style import OKABE_ITO, PlotError, axis_label, pretty_name

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr
    from matplotlib.axes import Axes

__all__ = ["OUTCOME_COLORS", "balance_map"]

#: Colour per outcome flag; distinct for colour-blind readers and in greyscale
#: (light blue, pale yellow, dark vermillion).
OUTCOME_COLORS: dict[int, str] = {
    0: OKABE_ITO["sky_blue"],
    1: OKABE_ITO["yellow"],
    2: OKABE_ITO["vermillion"],
}
_DEFAULT_MEANINGS = ("stable_order", "collapse_then_new_order", "lasting_disorder")


def _edges(centres: np.ndarray) -> np.ndarray:
    """Cell edges for pcolormesh from (possibly uneven) cell centres."""
    c = np.asarray(centres, dtype=float)
    if c.size == 1:
        return np.array([c[0] - 0.5, c[0] + 0.5])
    mid = (c[1:] + c[:-1]) / 2.0
    return np.concatenate([[c[0] - (mid[0] - c[0])], mid, [c[-1] + (c[-1] - mid[-1])]])


def balance_map(
    ds_map: xr.Dataset,
    *,
    ax: Axes | None = None,
    variable: str = "outcome",
    legend: bool = True,
    colors: dict[int, str] | None = None,
    minority: float = 0.02,
) -> Axes:
    """Draw the regime reached at each point of a two-parameter grid, with a legend.

    Parameters
    ----------
    ds_map : xarray.Dataset
        Dims ``(y, x)`` named after two parameters (e.g. ``legitimacy_emphasis``,
        ``guarantor_share_initial``), their values as coordinates, and an int
        variable `variable` with attrs ``flag_values`` and ``flag_meanings``
        (space-separated). Cells that are NaN (not computed) stay blank.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into (default: a new figure).
    variable : str
        Name of the outcome variable.
    legend : bool
        Add a legend with one entry per flag meaning.
    colors : dict of int to colour, optional
        Colour per flag value (default :data:`OUTCOME_COLORS`).
    minority : float
        Outcomes held by fewer than this share of the cells (but some) are marked
        cell by cell, so a handful of cells stays visible at print size; their legend
        entry gives the count.

    Returns
    -------
    matplotlib.axes.Axes
        The axes; the map is its first ``QuadMesh`` (rasterised in vector output).

    Raises
    ------
    PlotError
        If the variable is missing, not 2-D, or holds a value that is not a flag.
    """
    require_vars(ds_map, [variable], "balance map dataset")
    da = ds_map[variable]
    if da.ndim != 2:
        raise PlotError(
            f"balance map variable {variable!r} must be 2-D (y, x), got dims {da.dims}"
        )
    ydim, xdim = (str(d) for d in da.dims)
    flags, meanings, cols, values = _classes(da, variable, colors)
    order = np.argsort(flags)
    cmap, norm = _colour_scale(flags, cols, order)

    if ax is None:
        _, grid = new_figure(1, 1, panel_aspect=0.8)
        ax = grid[0, 0]
    xs = np.asarray(da[xdim].values, dtype=float)
    ys = np.asarray(da[ydim].values, dtype=float)
    ax.pcolormesh(_edges(xs), _edges(ys), np.ma.masked_invalid(values), cmap=cmap, norm=norm,
                  shading="flat", rasterized=True, linewidth=0, antialiased=False)
    ax.set_xlabel(axis_label(da[xdim], default=pretty_name(xdim)))
    ax.set_ylabel(axis_label(da[ydim], default=pretty_name(ydim)))
    marked = _mark_minorities(ax, values, xs, ys, flags, cols, minority)
    title = str(da.attrs.get("long_name", "")) or None
    if legend:
        _legend(ax, cols, meanings, flags, order, marked, title)
    elif title:
        ax.set_title(title)
    return ax


def _classes(da: Any, variable: str, colors: Any) -> tuple[list[int], list[str], list[Any], np.ndarray]:
    """The outcome classes (flag values, meanings, colours) and the map's values, checked against them."""
    flags = [int(v) for v in np.atleast_1d(da.attrs.get("flag_values", [0, 1, 2]))]
    meanings = str(da.attrs.get("flag_meanings", "")).split() or list(_DEFAULT_MEANINGS)
    if len(meanings) != len(flags):
        raise PlotError(
            f"balance map `flag_meanings` has {len(meanings)} words for {len(flags)} "
            "`flag_values`; give one meaning per value"
        )
    palette = dict(OUTCOME_COLORS if colors is None else colors)
    fallback = [OKABE_ITO[k] for k in ("orange", "bluish_green", "reddish_purple", "blue")]
    cols = [palette.get(f, fallback[i % len(fallback)]) for i, f in enumerate(flags)]

    values = np.asarray(da.values, dtype=float)
    finite = values[np.isfinite(values)]
    unknown = sorted(set(np.unique(finite).tolist()) - set(map(float, flags)))
    if unknown:
        raise PlotError(
            f"balance map {variable!r} holds value {unknown[0]:g}, not one of flag_values {flags}"
        )
    return flags, meanings, cols, values


def _colour_scale(flags: list[int], cols: list[Any], order: np.ndarray) -> tuple[Any, Any]:
    """One colour per flag value, in increasing order of the values; NaN transparent."""
    from matplotlib.colors import BoundaryNorm, ListedColormap

    sorted_flags = np.asarray(flags)[order]
    cmap = ListedColormap([cols[i] for i in order]).with_extremes(bad=(1.0, 1.0, 1.0, 0.0))
    bounds = np.concatenate([sorted_flags - 0.5, [sorted_flags[-1] + 0.5]])
    norm = BoundaryNorm(bounds, cmap.N)
    return cmap, norm


def _legend(ax: Axes, cols: list[Any], meanings: list[str], flags: list[int], order: np.ndarray,
            marked: dict[int, str], title: str | None) -> None:
    """The outcome classes above the map, with the marks of the minorities."""
    from matplotlib.patches import Patch

    handles = [
        Patch(facecolor=cols[i], edgecolor="0.3", linewidth=0.4,
              label=meanings[i].replace("_", " ") + marked.get(flags[i], ""))
        for i in order
    ]
    fitted_legend(ax, handles, title=title, loc="lower center", bbox_to_anchor=(0.5, 1.02), handlelength=1.2,
                  columnspacing=1.0, borderaxespad=0.0)


def _mark_minorities(ax: Axes, values: np.ndarray, xs: np.ndarray, ys: np.ndarray,
                       flags: list[int], cols: list[str], minority: float) -> dict[int, str]:
    """Mark every cell of an outcome rarer than `minority`; returns its legend suffix per flag."""
    total = int(np.isfinite(values).sum())
    suffixes: dict[int, str] = {}
    for flag, colour in zip(flags, cols, strict=True):
        rows, columns = np.nonzero(values == flag)
        if total == 0 or not 0 < rows.size < minority * total:
            continue
        ax.scatter(xs[columns], ys[rows], s=16, facecolors=colour, edgecolors="0.1", linewidths=0.6, zorder=3)
        suffixes[flag] = f" ({rows.size} {'cell' if rows.size == 1 else 'cells'}, marked)"
    return suffixes
