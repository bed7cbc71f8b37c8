"""Phase portrait: one variable against another over time, with a shaded region of the plane."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from sdkit.plot.common import new_figure, require_dims, require_vars, scenario_names
from sdkit.plot.style import PlotError, axis_label, order_styles, select_names

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr
    from matplotlib.axes import Axes

__all__ = ["REGION_FILL", "phase_portrait"]

#: Fill colour of the shaded region (light grey, prints well).
REGION_FILL = "#E4E4E4"


def _arrow_indices(x: np.ndarray, y: np.ndarray, n: int) -> list[int]:
    """Indices at equal arc-length fractions along a path, skipping standing points."""
    if n <= 0 or x.size < 2:
        return []
    seg = np.hypot(np.diff(x), np.diff(y))
    total = float(np.nansum(seg))
    if not np.isfinite(total) or total <= 1e-9:
        return []
    if total < 0.15:  # a short path carries one arrow, a tiny one none (axes units)
        n = 1 if total >= 0.02 else 0
    arc = np.concatenate([[0.0], np.cumsum(np.nan_to_num(seg))])
    out: list[int] = []
    for frac in np.arange(1, n + 1) / (n + 1):
        i = int(np.searchsorted(arc, frac * total))
        i = min(max(i, 0), x.size - 2)
        while i < x.size - 2 and seg[i] <= 1e-12:
            i += 1
        if seg[i] > 1e-12 and i not in out:
            out.append(i)
    return out


def phase_portrait(
    ds: xr.Dataset,
    scenarios: Sequence[str] | None = None,
    region: xr.DataArray | None = None,
    *,
    ax: Axes | None = None,
    x: str = "legitimacy",
    y: str = "power",
    arrows: int = 3,
    threshold: float = 0.5,
    region_label: str = "region",
    legend: bool = True,
) -> Axes:
    """Draw `y` against `x`, one trajectory per scenario, with direction arrows.

    Parameters
    ----------
    ds : xarray.Dataset
        A run dataset with dims ``(scenario, time)`` (``scenario`` optional).
    scenarios : sequence of str, optional
        Orders to draw (default: all).
    region : xarray.DataArray, optional
        2-D grid with dims named after `y` and `x`, boolean (True inside) or a
        level (e.g. restraint in [0, 1]); cells at or above `threshold` are
        shaded. None: no shading.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into (default: a new figure).
    x, y : str
        Variables on the horizontal and vertical axes.
    arrows : int
        Direction arrows per trajectory, at equal distances along the path
        (one on a path shorter than 0.15, none shorter than 0.02).
    threshold : float
        Level from which a cell of `region` is shaded.
    region_label : str
        Legend entry of the shaded region (e.g. "restraint holds").
    legend : bool
        Add a legend of orders (and the shaded region).

    Returns
    -------
    matplotlib.axes.Axes
        The axes; the start of each trajectory is marked with the order's marker.

    Raises
    ------
    PlotError
        If a variable, scenario or region dimension is missing.
    """
    require_vars(ds, [x, y], "run dataset")
    require_dims(ds, ["time"], "run dataset")
    has_scen = "scenario" in ds.dims
    names = select_names(scenario_names(ds), scenarios, "scenario") if has_scen else [None]
    styles = order_styles([n for n in names if n is not None])
    if ax is None:
        _, grid = new_figure(1, 1, panel_aspect=1.0)
        ax = grid[0, 0]

    handles = [] if region is None else _draw_region(ax, region, x, y, threshold, region_label)

    for name in names:
        sub = ds.sel(scenario=name) if name is not None else ds
        kw = styles[name] if name is not None else {"color": "k", "linestyle": "-", "marker": "o"}
        line = _draw_trajectory(ax, sub, x, y, name, kw, arrows)
        handles.append(line)

    ax.set_xlabel(axis_label(ds[x]))
    ax.set_ylabel(axis_label(ds[y]))
    drawn = np.concatenate([np.ravel(ds[v].values).astype(float) for v in (x, y)])
    drawn = drawn[np.isfinite(drawn)]
    if drawn.size and drawn.min() >= 0.0 and drawn.max() <= 1.0:  # indices: the unit square
        ax.set_xlim(0.0, 1.0)
        ax.set_ylim(0.0, 1.0)
        ax.set_aspect("equal")
    if legend and handles:
        ax.legend(handles=handles, loc="best")
    return ax


def _draw_region(ax: Any, region: xr.DataArray, x: str, y: str, threshold: float, region_label: str) -> list:
    """Shade where ``region`` reaches ``threshold``; the legend handle of the shading (none if nowhere)."""
    from matplotlib.patches import Patch

    handles = []
    require_dims(region, [y, x], "`region`")
    region = region.transpose(y, x)
    z = np.asarray(region.values, dtype=float)
    if z.ndim != 2:
        raise PlotError(f"`region` must be 2-D ({y}, {x}), got {z.ndim}-D")
    zmax = float(np.nanmax(z)) if np.isfinite(z).any() else -np.inf
    if zmax >= threshold:
        ax.contourf(
            np.asarray(region[x].values, dtype=float),
            np.asarray(region[y].values, dtype=float),
            z,
            levels=[threshold, max(zmax, threshold) + 1.0],
            colors=[REGION_FILL],
            zorder=0,
        )
        handles.append(Patch(facecolor=REGION_FILL, edgecolor="0.45", linewidth=0.6, label=region_label))
    return handles


def _draw_trajectory(ax: Any, sub: xr.Dataset, x: str, y: str, name: str | None, kw: dict, arrows: int) -> Any:
    """One scenario's path with its start marked and arrows along it; returns the line."""
    xs = np.asarray(sub[x].values, dtype=float)
    ys = np.asarray(sub[y].values, dtype=float)
    label = name if name is not None else "run"
    (line,) = ax.plot(xs, ys, color=kw["color"], linestyle=kw["linestyle"], label=label,
                      zorder=2)
    ax.plot(xs[:1], ys[:1], linestyle="none", marker=kw["marker"], color=kw["color"],
            markeredgecolor="white", markeredgewidth=0.4, zorder=3)
    for i in _arrow_indices(xs, ys, arrows):
        ax.annotate(
            "",
            xy=(xs[i + 1], ys[i + 1]),
            xytext=(xs[i], ys[i]),
            arrowprops={"arrowstyle": "-|>", "color": kw["color"], "lw": 0.0,
                        "mutation_scale": 9, "shrinkA": 0, "shrinkB": 0},
            zorder=3,
        )
    return line
