"""Sensitivity figures: Sobol indices per order, Morris screening, time-resolved and convergence.

The datasets follow SALib's names: Sobol ``S1``, ``S1_conf``, ``ST``, ``ST_conf``
and Morris ``mu_star``, ``mu_star_conf``, ``sigma`` on dims ``(output, param)``,
with attrs ``method`` and ``scenario`` (the order).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from sdkit.plot.common import (
    figure_legend,
    given_panels,
    legend_columns,
    new_figure,
    require_dims,
    require_vars,
)
from sdkit.plot.style import (
    OKABE_ITO,
    PlotError,
    order_styles,
    pretty_name,
    select_names,
    time_label,
    units_text,
)

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["PARAM_STYLES", "convergence", "morris", "morris_labels", "sobol_indices", "time_resolved"]

#: Colours and line styles handed to parameters in order (colour-blind safe).
PARAM_STYLES: tuple[dict[str, Any], ...] = tuple(
    {"color": c, "linestyle": ls}
    for ls in ("-", "--", ":")
    for c in (OKABE_ITO["blue"], OKABE_ITO["vermillion"], OKABE_ITO["bluish_green"],
              OKABE_ITO["orange"], OKABE_ITO["reddish_purple"], OKABE_ITO["sky_blue"],
              OKABE_ITO["black"], "#999999")
)

_INDEX_NAMES = {
    "S1": "First-order Sobol index $S_1$",
    "ST": "Total-order Sobol index $S_T$",
    "S2": "Second-order Sobol index $S_2$",
}


def _by_order(results: Any, what: str) -> dict[str, xr.Dataset]:
    if not hasattr(results, "data_vars") and isinstance(results, Mapping):
        if not results:
            raise PlotError(f"{what} dict is empty; pass {{order_name: Dataset}}")
        return {str(k): v for k, v in results.items()}
    if not hasattr(results, "data_vars"):
        raise PlotError(
            f"{what} must be an xarray.Dataset or a dict of them, got {type(results).__name__}"
        )
    return {str(results.attrs.get("scenario", "")): results}


def _pick_output(ds: xr.Dataset, output: str | None, what: str) -> xr.Dataset:
    """Select one output from the ``output`` dimension (if there is one)."""
    if "output" not in ds.dims:
        return ds
    outputs = [str(v) for v in ds["output"].values]
    if output is None:
        if len(outputs) == 1:
            return ds.isel(output=0)
        raise PlotError(
            f"{what} has {len(outputs)} outputs; pass `output=` one of {', '.join(outputs)}"
        )
    if output not in outputs:
        raise PlotError(f"{what} has no output {output!r}; available: {', '.join(outputs)}")
    return ds.sel(output=output)


def _one_output(ds: xr.Dataset, output: str | None, variables: Sequence[str], dims: Sequence[str],
                what: str) -> xr.Dataset:
    """The results of one output: ``ds`` must hold ``variables``, each with ``dims`` once the
    output is picked (:func:`_pick_output`); else a :class:`PlotError` naming ``what``."""
    require_vars(ds, variables, what)
    sub = _pick_output(ds, output, what)
    for variable in variables:
        require_dims(sub[variable], dims, what)
    return sub


def _output_title(output: str | None, ds: xr.Dataset) -> str | None:
    """Panel title for the selected output: its ``output_description`` if any, else its name."""
    if "output_description" in ds.data_vars and ds["output_description"].ndim == 0:
        text = str(ds["output_description"].values).strip()
        if text:
            return text
    if output is None and "output" in ds.coords and ds["output"].ndim == 0:
        output = str(ds["output"].values)
    return pretty_name(output) if output else None


def _output_units(ds: xr.Dataset) -> str:
    """`` [units]`` of the selected output (Morris effects carry them), or ``""``."""
    if "output_units" in ds.data_vars and ds["output_units"].ndim == 0:
        units = units_text(ds["output_units"].values)
        if units:
            return f" [{units}]"
    return ""


#: Sobol indices lie in [0, 1]; an interval reaching further than this says only "unresolved",
#: so it is cut at the panel's edge rather than squeezing every bar of the study.
_INDEX_AXIS = (-0.25, 1.25)


def _shared_index_range(results: Sequence[xr.Dataset]) -> tuple[float, float]:
    """One x range for the panels of a study: every index and its interval, within :data:`_INDEX_AXIS`."""
    ends = [0.0]
    for ds in results:
        for idx in ("S1", "ST"):
            values = np.asarray(ds[idx].values, dtype=float)
            conf = np.asarray(ds[f"{idx}_conf"].values, dtype=float) if f"{idx}_conf" in ds else 0.0 * values
            ends += [*np.ravel(values - np.nan_to_num(conf)), *np.ravel(values + np.nan_to_num(conf))]
    finite = np.asarray(ends)[np.isfinite(ends)]
    low, high = max(float(finite.min()), _INDEX_AXIS[0]), min(float(finite.max()), _INDEX_AXIS[1])
    pad = 0.04 * (high - low or 1.0)
    return low - pad, high + pad


def sobol_indices(
    results_by_order: Mapping[str, xr.Dataset] | xr.Dataset,
    output: str | None = None,
    *,
    orders: Sequence[str] | None = None,
    params: Sequence[str] | None = None,
    axes: Sequence | np.ndarray | None = None,
    legend: bool = True,
) -> Figure:
    """Draw first-order and total Sobol indices with confidence intervals, orders side by side.

    Parameters
    ----------
    results_by_order : dict of str to xarray.Dataset, or xarray.Dataset
        Sobol results per order, dims ``(output, param)`` (``output`` optional),
        variables ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` (``*_conf`` optional).
        A single Dataset is one panel titled by its ``scenario`` attribute.
    output : str, optional
        Model output to show; required when there is more than one.
    orders : sequence of str, optional
        Orders to draw, left to right (default: all, in dict order).
    params : sequence of str, optional
        Parameters to show, top to bottom (default: those of the first order).
    axes : sequence of matplotlib Axes, optional
        One panel per order (default: a new figure, one row, shared y).
    legend : bool
        Add a legend for S1 and ST.

    Returns
    -------
    matplotlib.figure.Figure
        Panel ``i`` holds ``2 * len(params)`` horizontal bars of order ``orders[i]``:
        ST filled in the order's colour, S1 open with the same edge colour.

    Raises
    ------
    PlotError
        If an order, output, parameter or the ``S1``/``ST`` variables are missing.
    """
    data = _by_order(results_by_order, "Sobol results")
    names = select_names(list(data), orders, "order")
    selected = {}
    for name in names:
        selected[name] = _one_output(data[name], output, ["S1", "ST"], ["param"], f"Sobol results {name!r}")
    all_params = [str(p) for p in selected[names[0]]["param"].values]
    plist = select_names(all_params, params, "parameter")
    styles = order_styles(names)

    fig, panel_list = _sobol_panels(axes, len(names), len(plist))

    ypos = np.arange(len(plist), dtype=float)
    h = 0.38
    for k, (ax, name) in enumerate(zip(panel_list, names, strict=False)):
        sub = selected[name]
        missing = [p for p in plist if p not in [str(v) for v in sub["param"].values]]
        if missing:
            raise PlotError(f"Sobol results {name!r} have no parameter {missing[0]!r}")
        sub = sub.sel(param=plist)
        colour = styles[name]["color"]
        _sobol_bars(ax, sub, ypos, h, colour)
        ax.axvline(0.0, color="0.4", linewidth=0.5)
        ax.set_title(name)
        ax.set_xlabel("Sobol index")
        ax.set_yticks(ypos)
        if k == 0 or axes is not None:
            ax.set_yticklabels([pretty_name(p) for p in plist])
        ax.set_ylim(len(plist) - 0.5, -0.5)
    low, high = _shared_index_range([selected[n].sel(param=plist) for n in names])
    for ax in panel_list[:len(names)]:  # one x scale, so the panels of one study compare at a glance
        ax.set_xlim(low, high)
    title = _output_title(output, selected[names[0]])
    if title and axes is None:
        fig.suptitle(title)
    if legend:
        _sobol_legend(fig, panel_list[0], axes is None)
    return fig


def morris(
    ds: xr.Dataset | Mapping[str, xr.Dataset],
    output: str | None = None,
    *,
    ax: Axes | None = None,
    labels: bool = True,
    label_top: int | None = 6,
    diagonal: bool = True,
) -> Axes:
    """Draw Morris screening: mean absolute elementary effect mu* against its spread sigma.

    Parameters
    ----------
    ds : xarray.Dataset or dict of str to xarray.Dataset
        Morris results with dims ``(output, param)`` (``output`` optional) and
        variables ``mu_star``, ``sigma`` (``mu_star_conf`` optional, drawn as
        horizontal error bars). A dict draws one point set per order.
    output : str, optional
        Model output to show; required when there is more than one.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into (default: a new figure).
    labels : bool
        Write parameter names beside their points.
    label_top : int or None
        Name only the `label_top` parameters of largest mu* (of each order); None
        names every one. Labels are placed so that none overlaps another.
    diagonal : bool
        Draw the line sigma = mu* (above it, effects are mostly non-linear or
        interacting).

    Returns
    -------
    matplotlib.axes.Axes
        One point per parameter and order, in the order's colour and marker.

    Raises
    ------
    PlotError
        If an output or the ``mu_star``/``sigma`` variables are missing.
    """
    data = _by_order(ds, "Morris results")
    names = list(data)
    styles = order_styles(names)
    created = ax is None
    if ax is None:
        _, grid = new_figure(1, 1, panel_aspect=0.8)
        ax = grid[0, 0]
    top = 0.0
    for name in names:
        top = max(top, _morris_points(ax, data[name], name, output, styles[name]))
    if diagonal and top > 0:
        lim = top * 1.1
        ax.plot([0, lim], [0, lim], color="0.5", linestyle="--", linewidth=0.6,
                label=r"$\sigma = \mu^*$")
    pad = -0.03 * top if top > 0 else 0.0  # markers at 0 stay whole
    ax.set_xlim(left=pad)
    ax.set_ylim(bottom=pad)
    first = _pick_output(data[names[0]], output, "Morris results")
    units = _output_units(first)
    ax.set_xlabel(r"Mean absolute elementary effect $\mu^*$" + units)
    ax.set_ylabel(r"Standard deviation of effects $\sigma$" + units)
    title = _output_title(output, first)
    if title:
        ax.set_title(title)
    if len(names) > 1 or diagonal or names[0]:
        _legend(ax, created, len(names) + int(diagonal))
    if labels:
        morris_labels(ds, output, ax=ax, top=label_top)
    return ax


def morris_labels(ds: xr.Dataset | Mapping[str, xr.Dataset], output: str | None, *, ax: Axes,
                  top: int | None = 6) -> None:
    """Name the `top` parameters of largest mu* (per order) beside their points in `ax`.

    Call it once the figure's panels, titles and legends are all in place: labels
    are placed where the figure's layout puts the points, so that none overlaps
    another. :func:`morris` calls it itself when ``labels=True``.
    """
    points: list[tuple[str, float, float]] = []
    for name, results in _by_order(ds, "Morris results").items():
        sub = _pick_output(results, output, f"Morris results {name!r}")
        mu = np.asarray(sub["mu_star"].values, dtype=float)
        sig = np.asarray(sub["sigma"].values, dtype=float)
        ranked = np.argsort(-np.nan_to_num(mu, nan=-np.inf), kind="stable")[:top]
        points.extend((pretty_name(str(sub["param"].values[i])), float(mu[i]), float(sig[i])) for i in ranked)
    _label_points(ax, points)


def _label_points(ax: Axes, points: list[tuple[str, float, float]]) -> None:
    """Write labels beside points, each at the nearest place where it overlaps no earlier one.

    The figure is laid out first, so the boxes compared are the ones drawn (text inside
    axes does not move the layout). A label tries its point's height, then steps of
    about one line below and above, alternately, and keeps the first place inside the
    axes that is free; labels of right-hand points go to their left, and a label that
    fits inside the axes on neither side at any height tries the other side.
    """
    fig = ax.get_figure()
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    xs = [x for _, x, _ in points if np.isfinite(x)]
    right = max(xs) if xs else 0.0
    boxes = []
    for text, xv, yv in sorted(points, key=lambda p: -p[2] if np.isfinite(p[2]) else np.inf):
        if not (np.isfinite(xv) and np.isfinite(yv)):
            continue
        flip = right > 0 and xv > 0.6 * right
        label = ax.annotate(text, (xv, yv), xytext=(3, 2), textcoords="offset points", fontsize=7, color="0.15")
        if not _place_label(label, (flip, not flip), frame, boxes, renderer):
            _orient(label, flip)  # nowhere free: keep it by its point
        boxes.append(label.get_window_extent(renderer))


def _orient(label: Any, flip: bool, shift: float = 0.0) -> None:
    """Put ``label`` to the left of its point (``flip``) or to its right, ``shift`` points higher."""
    label.set_horizontalalignment("right" if flip else "left")
    label.xyann = (-3 if flip else 3, 2 + shift)


def _place_label(label: Any, sides: tuple[bool, ...], frame: Any, boxes: list, renderer: Any) -> bool:
    """Move ``label`` to the first side and height where it is inside ``frame`` and overlaps no box."""
    step = 0.8 * label.get_window_extent(renderer).height * 72.0 / label.get_figure().dpi
    for flip in sides:
        for shift in (0, *(sign * k for k in range(1, 25) for sign in (-1, 1))):
            _orient(label, flip, shift * step)
            box = label.get_window_extent(renderer)
            inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
            if inside and not any(box.overlaps(other) for other in boxes):
                return True
    return False


def _legend(ax: Axes, created: bool, n: int) -> None:
    """Legend outside below the axes on a figure we made, else inside at the best place."""
    if created:
        fig = ax.get_figure()
        figure_legend(fig, *ax.get_legend_handles_labels(), loc="outside lower center",
                      max_columns=legend_columns(fig, n))
    else:
        ax.legend(loc="best")


def _param_styles(params: Sequence[str]) -> dict[str, dict[str, Any]]:
    return {p: PARAM_STYLES[i % len(PARAM_STYLES)] for i, p in enumerate(params)}


def time_resolved(ds: xr.Dataset, output: str | None = None, *, ax: Axes | None = None,
                  index: str = "ST", kind: str = "heatmap", params: Sequence[str] | None = None) -> Axes:
    """Draw sensitivity indices over time as a heatmap (parameter x time) or stacked areas.

    Parameters
    ----------
    ds : xarray.Dataset
        Time-resolved results with dims ``(output, param, time)`` and variable `index`.
    output : str, optional
        Model output to show; required when there is more than one.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into (default: a new figure).
    index : {"ST", "S1"}
        Which index to draw (default total order).
    kind : {"heatmap", "area"}
        Heatmap with a colour bar from 0 to 1, or stacked areas (one per parameter).
    params : sequence of str, optional
        Parameters to show (default: all).

    Returns
    -------
    matplotlib.axes.Axes
        The axes (a heatmap has one ``QuadMesh``; areas one ``PolyCollection`` per parameter).

    Raises
    ------
    PlotError
        If `kind` is unknown or an output, parameter or dimension is missing.
    """
    if kind not in ("heatmap", "area"):
        raise PlotError(f"unknown `kind` {kind!r}; use 'heatmap' or 'area'")
    sub = _one_output(ds, output, [index], ["param", "time"], "time-resolved sensitivity dataset")
    plist = select_names([str(p) for p in sub["param"].values], params, "parameter")
    da = sub[index].sel(param=plist).transpose("param", "time")
    t = np.asarray(da["time"].values, dtype=float)
    vals = np.asarray(da.values, dtype=float)
    created = ax is None
    if ax is None:
        _, grid = new_figure(1, 1, panel_aspect=0.65)
        ax = grid[0, 0]
    label = _INDEX_NAMES.get(index, index)
    if kind == "heatmap":
        from sdkit.plot.balance_map import _edges

        mesh = ax.pcolormesh(_edges(t), np.arange(len(plist) + 1) - 0.5, vals, cmap="cividis",
                             vmin=0.0, vmax=1.0, shading="flat", rasterized=True)
        ax.set_yticks(np.arange(len(plist)))
        ax.set_yticklabels([pretty_name(p) for p in plist])
        ax.set_ylim(len(plist) - 0.5, -0.5)
        cbar = ax.get_figure().colorbar(mesh, ax=ax, extend="neither")
        cbar.set_label(label)
    else:
        styles = _param_styles(plist)
        ax.stackplot(t, np.clip(np.nan_to_num(vals), 0.0, None),
                     labels=[pretty_name(p) for p in plist],
                     colors=[styles[p]["color"] for p in plist], alpha=0.85, linewidth=0)
        ax.set_ylabel(f"Stacked {label.rsplit(' ', 1)[-1]}")
        ax.set_ylim(bottom=0.0)
        _legend(ax, created, len(plist))
    ax.set_xlabel(time_label(da["time"]))
    ax.set_xlim(t[0], t[-1])
    title = _output_title(output, sub)
    if title:
        ax.set_title(title)
    return ax


def convergence(ds: xr.Dataset, output: str | None = None, *, ax: Axes | None = None,
                index: str = "ST", params: Sequence[str] | None = None) -> Axes:
    """Draw sensitivity indices against the base sample size, with confidence intervals.

    Parameters
    ----------
    ds : xarray.Dataset
        Convergence results with dims ``(size, output, param)`` and variables
        `index` and ``<index>_conf`` (optional, drawn as a band of +- conf).
    output, ax, index, params
        As in :func:`time_resolved`.

    Returns
    -------
    matplotlib.axes.Axes
        One line per parameter (log-scaled sample size on x).

    Raises
    ------
    PlotError
        If an output, parameter, variable or dimension is missing.
    """
    from matplotlib.ticker import NullLocator

    sub = _one_output(ds, output, [index], ["size", "param"], "convergence dataset")
    plist = select_names([str(p) for p in sub["param"].values], params, "parameter")
    sizes = np.asarray(sub["size"].values, dtype=float)
    styles = _param_styles(plist)
    created = ax is None
    if ax is None:
        _, grid = new_figure(1, 1, panel_aspect=0.75)
        ax = grid[0, 0]
    conf_name = f"{index}_conf"
    for p in plist:
        vals = np.asarray(sub[index].sel(param=p).values, dtype=float)
        kw = styles[p]
        ax.plot(sizes, vals, color=kw["color"], linestyle=kw["linestyle"], marker="o",
                markersize=2.5, label=pretty_name(p))
        if conf_name in sub:
            conf = np.asarray(sub[conf_name].sel(param=p).values, dtype=float)
            ax.fill_between(sizes, vals - conf, vals + conf, color=kw["color"], alpha=0.15,
                            linewidth=0)
    ax.set_xscale("log")
    ax.set_xticks(sizes, labels=[f"{v:g}" for v in sizes])
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlabel("Base sample size $N$")
    ax.set_ylabel(_INDEX_NAMES.get(index, index))
    title = _output_title(output, sub)
    if title:
        ax.set_title(title)
    _legend(ax, created, len(plist))
    return ax


def _sobol_panels(axes: Any, n: int, n_params: int) -> tuple[Figure, list]:
    """A new row of ``n`` panels tall enough for ``n_params`` rows, or the caller's panels."""
    if axes is not None:
        return given_panels(axes, n, "orders")
    import matplotlib as mpl

    width = float(mpl.rcParams["figure.figsize"][0])
    height = 0.9 + 0.2 * n_params  # [inch]: room for labels plus one row per parameter
    fig, grid = new_figure(1, n, sharey=True, panel_aspect=height * n / width)
    return fig, list(grid.ravel())


def _sobol_bars(ax: Any, sub: xr.Dataset, ypos: np.ndarray, h: float, colour: Any) -> None:
    """Total-order (filled) and first-order (open) bars of one order, with confidence intervals."""
    for idx, dy, filled in (("ST", -h / 2, True), ("S1", h / 2, False)):
        vals = np.asarray(sub[idx].values, dtype=float)
        conf_name = f"{idx}_conf"
        conf = np.asarray(sub[conf_name].values, dtype=float) if conf_name in sub else None
        ax.barh(
            ypos + dy, vals, height=h, xerr=conf,
            color=colour if filled else "white", edgecolor=colour, linewidth=0.8,
            error_kw={"elinewidth": 0.7, "capsize": 1.5, "ecolor": "0.2"},
            label=idx,
        )


def _sobol_legend(fig: Figure, first: Any, created: bool) -> None:
    """Filled bars are total order, open bars first order: below a new figure, or in the first panel."""
    from matplotlib.patches import Patch

    handles = [
        Patch(facecolor="0.35", edgecolor="0.35", label="total order $S_T$"),
        Patch(facecolor="white", edgecolor="0.35", label="first order $S_1$"),
    ]
    if created:
        figure_legend(fig, handles, [h.get_label() for h in handles], loc="outside lower center", max_columns=2)
    else:
        first.legend(handles=handles, loc="best")


def _morris_points(ax: Any, results: xr.Dataset, name: str, output: str | None, kw: dict) -> float:
    """One order's points (mu*, sigma) with confidence bars; the largest finite value drawn (0 if none)."""
    sub = _one_output(results, output, ["mu_star", "sigma"], ["param"], f"Morris results {name!r}")
    mu = np.asarray(sub["mu_star"].values, dtype=float)
    sig = np.asarray(sub["sigma"].values, dtype=float)
    conf = np.asarray(sub["mu_star_conf"].values, dtype=float) if "mu_star_conf" in sub \
        else None
    ax.errorbar(mu, sig, xerr=conf, linestyle="none", marker=kw["marker"], color=kw["color"],
                markersize=4, elinewidth=0.6, capsize=1.5, label=name or "_nolegend_")
    finite = np.concatenate([mu[np.isfinite(mu)], sig[np.isfinite(sig)]])
    return float(finite.max()) if finite.size else 0.0
