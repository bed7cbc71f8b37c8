"""Loop dominance (Loops That Matter): over time under a stock's trajectory, and over two parameters.

Both figures read what ``sdkit loops MODEL --dominance`` writes
(:func:`sdkit.loops.dominance.score_scenario`): ``relative_loop_score`` and
``loop_score`` (loop, [sample,] time), ``dominant_loop`` (the id of the loop with the
largest absolute score, among all the loops scored), ``leading_*`` (what each such
loop is) and, with ``--before``, ``window_dominant_loop`` per sample.
"""

from __future__ import annotations

import textwrap
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from sdkit.plot.balance_map import _edges
from sdkit.plot.common import figure_legend, finite_span, require_vars
from sdkit.plot.style import OKABE_ITO, PlotError, axis_label, pretty_name, time_label

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["dominance_map", "loop_dominance", "loop_label"]

#: Colours of the drawn loops, in order (Okabe & Ito, then a dark yellow, brown and violet readable
#: on white, the last two as in the causal-loop diagrams; no grey, which marks the loops not drawn).
LOOP_COLORS = (OKABE_ITO["blue"], OKABE_ITO["vermillion"], OKABE_ITO["bluish_green"], OKABE_ITO["reddish_purple"],
               OKABE_ITO["orange"], OKABE_ITO["sky_blue"], OKABE_ITO["black"], "#B8A300", "#8C564B", "#6A3D9A")
LINE_STYLES = ("-", "--", "-.", ":")
#: Dominant loops that are not drawn: a stock's own adjustment (1-2 variables), or another loop.
OWN_ADJUSTMENT, OTHER_LOOP = "a stock's own adjustment (1-2 variables)", "another loop"
CLASS_COLORS = {OWN_ADJUSTMENT: "0.82", OTHER_LOOP: "0.45"}
NEVER_COLOR, START_COLOR = "white", "0.93"
ARROW = " -> "


def loop_label(name: str, cycle: str, width: int = 3) -> str:
    """A loop as a reader should see it: its name, else its variables (the first ``width``
    and the count when it is longer)."""
    if name:
        return name
    variables = cycle.split(ARROW)
    if len(variables) <= width:
        return " \u2192 ".join(variables)
    return " \u2192 ".join([*variables[:width - 1], "\u2026", variables[-1]]) + f" ({len(variables)} variables)"


def loop_dominance(scores: xr.Dataset | Mapping[str, xr.Dataset], trajectory: xr.Dataset | None = None, *,
                   stock: str, scenario: str | Sequence[str] | None = None,
                   loops: Sequence[str] | None = None) -> Figure:
    """Loop dominance over time stacked under the trajectory of one stock, one column per scenario.

    Each column has four panels on one time axis: the stock; which loop has the largest
    absolute loop score (a drawn loop in its colour, else grey: a stock's own adjustment
    or another loop); the relative loop scores of the drawn loops (loop score over the sum
    of the absolute scores of every loop scored, signed: + reinforcing, - balancing at
    that time); and the drawn loops' scores relative to each other (each one's share of
    their summed absolute scores, stacked).

    Parameters
    ----------
    scores : xarray.Dataset or mapping of scenario name to Dataset
        ``sdkit loops MODEL --dominance --scenario NAME`` results (one run each).
    trajectory : xarray.Dataset, optional
        Holds `stock` over time, with a ``scenario`` dim or for the one scenario
        (default: the scores files, which hold the stocks of their run).
    stock : str
        The variable drawn on top (model or Python name).
    scenario : str or sequence of str, optional
        The scenarios to draw (default: all in `scores`).
    loops : sequence of str, optional
        Names or ids of the loops to draw (default: the named loops of the file).

    Returns
    -------
    matplotlib.figure.Figure
        Panels ``fig.axes[4 * column + row]``; one legend below.
    """
    runs = _runs(scores, scenario)
    first = next(iter(runs.values()))
    chosen = _chosen_loops(first, loops)
    fig, grid = _dominance_grid(len(runs))
    for column, (name, run) in enumerate(runs.items()):
        _draw_column(grid[:, column], run, _trajectory(trajectory, run, name, stock), chosen, name)
        grid[-1, column].set_xlabel(time_label(run["time"]))
    for column in range(1, len(runs)):
        grid[0, column].set_ylabel("")
    for row, label in enumerate(("dominant\nloop", "relative loop\nscore", "share among\ndrawn loops"), 1):
        grid[row, 0].set_ylabel(label)
    handles = [_line_handle(number) for number in range(len(chosen))]
    handles += [_patch(colour) for colour in CLASS_COLORS.values()]
    labels = [loop_label(str(first["name"].sel(loop=i).item()), str(first["cycle"].sel(loop=i).item()))
              for i in chosen] + list(CLASS_COLORS)
    figure_legend(fig, handles, labels, loc="outside lower center", max_columns=3)
    return fig


def _runs(scores: Any, scenario: str | Sequence[str] | None) -> dict[str, Any]:
    """Scenario name -> scores Dataset, the ones asked for, each checked."""
    if hasattr(scores, "data_vars"):
        scores = {str(scores.attrs.get("scenario", "run")): scores}
    runs = dict(scores)
    if scenario is not None:
        wanted = [scenario] if isinstance(scenario, str) else list(scenario)
        missing = [s for s in wanted if s not in runs]
        if missing:
            raise PlotError(f"no loop scores for scenario {missing[0]!r}; have {', '.join(runs) or 'none'}")
        runs = {s: runs[s] for s in wanted}
    if not runs:
        raise PlotError("nothing to plot: no loop scores given")
    for name, run in runs.items():
        require_vars(run, ["relative_loop_score", "loop_score", "dominant_loop"], f"loop scores of {name}")
        if "sample" in run.dims:
            raise PlotError(f"the loop scores of {name} are an ensemble (dim sample); the dominance over time "
                            "draws one run: score a scenario without --samples, or draw --kind dominance-map")
    return runs


def _chosen_loops(run: xr.Dataset, loops: Sequence[str] | None) -> list[str]:
    """Ids of the loops to draw: those given by name or id, else the named ones."""
    ids = [str(i) for i in run["loop"].values]
    names = [str(n) for n in run["name"].values]
    if loops is None:
        chosen = [i for i, n in zip(ids, names, strict=True) if n]
        if not chosen:
            raise PlotError("the loop scores name no loop; give the loops to draw (loops=[...] ids or names)")
    else:
        by_name = {**dict(zip(names, ids, strict=True)), **{i: i for i in ids}}
        missing = [loop for loop in loops if loop not in by_name]
        if missing:
            raise PlotError(f"no scores for loop {missing[0]!r}; the file holds {', '.join(n or i for i, n in zip(ids, names, strict=True))}")
        chosen = [by_name[loop] for loop in loops]
    if len(chosen) > len(LOOP_COLORS):
        raise PlotError(f"{len(chosen)} loops to draw, more than the {len(LOOP_COLORS)} colours; choose fewer (loops=[...])")
    return chosen


def _dominance_grid(columns: int) -> tuple[Figure, np.ndarray]:
    """Four rows per scenario column sharing the time axis: stock, dominant loop, relative scores, shares."""
    import matplotlib as mpl
    import matplotlib.pyplot as plt

    width = float(mpl.rcParams["figure.figsize"][0])
    # four panels and a legend of up to eleven entries: at least 6 inches, also in a single column
    height = max(6.0, width / columns * 1.5 + 1.5 if columns > 1 else width * 0.95)
    fig, grid = plt.subplots(4, columns, figsize=(width, height), sharex="col", squeeze=False,
                             gridspec_kw={"height_ratios": (1.0, 0.28, 1.0, 0.8)}, layout="constrained")
    return fig, grid


def _trajectory(trajectory: Any, run: Any, scenario: str, stock: str) -> Any:
    """The stock's values over time in this scenario."""
    from sdkit.measures import resolve_variable

    source = run if trajectory is None else trajectory
    variable = resolve_variable(source, stock)
    if variable is None:
        held = [str(v) for v in source.data_vars
                if source[v].dtype.kind == "f" and "time" in source[v].dims and set(source[v].dims) <= {"time", "scenario"}]
        raise PlotError(f"no trajectory of {stock!r} for {scenario}; it holds {', '.join(held) or 'none'} "
                        "(choose one of them, or give a run of the scenario that holds it)")
    values = source[variable]
    if "scenario" in values.dims:
        present = [str(s) for s in values["scenario"].values]
        if scenario not in present:
            raise PlotError(f"the trajectory run has no scenario {scenario!r}; it holds {', '.join(present)}")
        values = values.sel(scenario=scenario)
    return values


def _draw_column(axes: Sequence[Axes], run: Any, values: Any, chosen: list[str], scenario: str) -> None:
    time = np.asarray(run["time"].values, dtype=float)
    stock_time = np.asarray(values["time"].values, dtype=float)
    axes[0].plot(stock_time, np.asarray(values.values, dtype=float), color="0.1", linewidth=1.2)
    axes[0].set_title(scenario)
    axes[0].set_ylabel(axis_label(values).replace(" [", "\n[", 1))
    _draw_leaders(axes[1], run, time, chosen)
    relative = run["relative_loop_score"].sel(loop=chosen).transpose("loop", "time").values
    for number, row in enumerate(relative):
        axes[2].plot(time, row, **_line_style(number))
    axes[2].axhline(0.0, color="0.6", linewidth=0.5)
    absolute = np.abs(run["loop_score"].sel(loop=chosen).transpose("loop", "time").values)
    total = absolute.sum(axis=0)
    shares = np.divide(absolute, total, out=np.zeros_like(absolute), where=total > 0)
    axes[3].stackplot(time, shares, colors=LOOP_COLORS[:len(chosen)], linewidth=0)
    axes[3].set_ylim(0.0, 1.0)
    for ax in axes:
        ax.set_xlim(*finite_span(time, relative))


def _draw_leaders(ax: Axes, run: Any, time: np.ndarray, chosen: list[str]) -> None:
    """A strip coloured, at each time, by the loop with the largest absolute score."""
    colours = _leader_colours(run, chosen)
    leader = np.asarray(run["dominant_loop"].values).astype(str)
    edges = np.concatenate([[time[0]], (time[1:] + time[:-1]) / 2.0, [time[-1]]])
    for colour in dict.fromkeys(colours.values()):
        held = np.array([colours.get(i) == colour for i in leader])
        if not held.any():
            continue
        starts = np.flatnonzero(held & ~np.concatenate([[False], held[:-1]]))
        ends = np.flatnonzero(held & ~np.concatenate([held[1:], [False]]))
        bars = [(edges[s], edges[e + 1] - edges[s]) for s, e in zip(starts, ends, strict=True)]
        ax.broken_barh(bars, (0.0, 1.0), facecolors=colour, linewidth=0)
    ax.set_ylim(0.0, 1.0)
    ax.set_yticks([])


def _leader_colours(run: Any, chosen: list[str]) -> dict[str, Any]:
    """Colour of each loop that ever dominates: a drawn loop's own, else the grey of its class."""
    colours = {loop: LOOP_COLORS[number] for number, loop in enumerate(chosen)}
    if "leading_loop" not in run.dims:
        raise PlotError("the loop scores say nothing of the loops that dominate (no leading_loop); "
                        "score them again with this version of `sdkit loops --dominance`")
    for loop, cycle in zip(run["leading_loop"].values, run["leading_cycle"].values, strict=True):
        if str(loop) not in colours:
            own = len(str(cycle).split(ARROW)) <= 2
            colours[str(loop)] = CLASS_COLORS[OWN_ADJUSTMENT if own else OTHER_LOOP]
    return colours


def _line_style(number: int) -> dict[str, Any]:
    return {"color": LOOP_COLORS[number], "linestyle": LINE_STYLES[number % len(LINE_STYLES)], "linewidth": 1.1}


def _line_handle(number: int) -> Any:
    from matplotlib.lines import Line2D

    return Line2D([], [], **{**_line_style(number), "linewidth": 2.0})


def _patch(colour: Any) -> Any:
    from matplotlib.patches import Patch

    return Patch(facecolor=colour, edgecolor="0.3", linewidth=0.4)


def dominance_map(ds: xr.Dataset, *, x: str, y: str, ax: Axes | None = None,
                  variable: str = "window_dominant_loop", max_loops: int = 7) -> Figure:
    """The loop that dominates before an event, over a grid of two sampled constants.

    Parameters
    ----------
    ds : xarray.Dataset
        ``sdkit loops MODEL --dominance --samples GRID.csv --before EVENT`` output: `variable`
        and ``event_time`` (sample), the sampled constants (sample), ``leading_*``.
    x, y : str
        The two sampled constants (model or Python names) whose values make the grid.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into (default: a new figure).
    variable : str
        The per-sample dominant loop to colour by.
    max_loops : int
        The loops dominating most cells get a colour each; the others share "other loops".

    Returns
    -------
    matplotlib.figure.Figure
        The map is the axes' first ``QuadMesh``; cells whose run never reaches the
        event are white, those where it happens at the start light grey.
    """
    from sdkit.measures import resolve_variable

    require_vars(ds, [variable, "event_time"], "loop scores of an ensemble with --before")
    columns = []
    for name in (x, y):
        found = resolve_variable(ds, name)
        if found is None or "sample" not in ds[found].dims:
            raise PlotError(f"{name!r} is not a sampled constant of the loop scores; the samples set "
                            f"{', '.join(str(v) for v in ds.data_vars if ds[v].dims == ('sample',) and v not in (variable, 'event_time'))}")
        columns.append(found)
    classes, codes = _map_classes(ds, variable, max_loops)
    xs, ys, cells = _grid(ds, columns, codes)
    counts = Counter(int(c) for c in cells[np.isfinite(cells)])
    used = [k for k in range(len(classes)) if counts[k]]
    import matplotlib as mpl

    width = float(ax.get_figure().get_figwidth() if ax is not None else mpl.rcParams["figure.figsize"][0])
    # wrapped to the figure's width: about ten characters an inch beside the legend's patches
    labels = [textwrap.fill(f"{classes[k][0]} ({counts[k]})", max(24, int(width * 10)), subsequent_indent="  ")
              for k in used]
    ax = ax if ax is not None else _map_axes(width, sum(label.count("\n") + 1 for label in labels))
    from matplotlib.colors import BoundaryNorm, ListedColormap

    colours = [colour for _, colour in classes]
    cmap = ListedColormap(colours).with_extremes(bad=(1.0, 1.0, 1.0, 0.0))
    norm = BoundaryNorm(np.arange(len(colours) + 1) - 0.5, cmap.N)
    ax.pcolormesh(_edges(xs), _edges(ys), np.ma.masked_invalid(cells), cmap=cmap, norm=norm, shading="flat",
                  rasterized=True, edgecolors="0.75", linewidth=0.3)
    ax.set_xlabel(axis_label(ds[columns[0]], default=pretty_name(columns[0])))
    ax.set_ylabel(axis_label(ds[columns[1]], default=pretty_name(columns[1])))
    title = str(ds[variable].attrs.get("long_name", "dominant loop")).replace(" in the ", "\nin the ", 1)
    figure_legend(ax.get_figure(), [_patch(classes[k][1]) for k in used], labels, loc="outside lower center",
                  max_columns=2, title=f"{title} (runs)")
    return ax.get_figure()


def _map_axes(width: float, legend_lines: int) -> Axes:
    """A map `width` inches wide, tall enough for it and a legend of ``legend_lines`` lines."""
    import matplotlib.pyplot as plt

    height = 0.7 * width + 0.2 * legend_lines + 1.0
    return plt.figure(figsize=(width, height), layout="constrained").add_subplot()


def _map_classes(ds: Any, variable: str, max_loops: int) -> tuple[list[tuple[str, Any]], np.ndarray]:
    """(label, colour) per class and each sample's class number: the leading loops, other loops,
    the event at the start, the event never."""
    leaders = np.ravel(ds[variable].values).astype(str)
    reached = np.ravel(np.isfinite(ds["event_time"].values))
    described = {}
    if "leading_loop" in ds.dims:
        described = {str(i): loop_label(str(n), str(c)) for i, n, c in zip(
            ds["leading_loop"].values, ds["leading_name"].values, ds["leading_cycle"].values, strict=True)}
    event = str(ds["event_time"].attrs.get("long_name", "the event")).replace("first time ", "no ", 1)
    frequent = [loop for loop, _ in Counter(leaders[leaders != ""]).most_common()]
    shown, rest = frequent[:max_loops], frequent[max_loops:]
    classes = [(described.get(loop, loop), LOOP_COLORS[k]) for k, loop in enumerate(shown)]
    classes += [(f"{len(rest)} other loops", CLASS_COLORS[OTHER_LOOP]),
                ("from the start (no window)", START_COLOR), (f"never ({event})", NEVER_COLOR)]
    number = {loop: k for k, loop in enumerate(shown)}
    codes = np.array([number.get(loop, len(shown)) if loop else (len(shown) + 1 if ok else len(shown) + 2)
                      for loop, ok in zip(leaders, reached, strict=True)], dtype=float)
    return classes, codes


def _grid(ds: Any, columns: list[str], codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The samples placed on the grid of their two constants' values (NaN where none ran)."""
    x, y = (np.ravel(ds[c].values).astype(float) for c in columns)
    xs, ys = np.unique(x), np.unique(y)
    cells = np.full((ys.size, xs.size), np.nan)
    rows, cols = np.searchsorted(ys, y), np.searchsorted(xs, x)
    if len(set(zip(rows.tolist(), cols.tolist(), strict=True))) < x.size:
        raise PlotError(f"the samples are not a grid of {columns[0]} and {columns[1]}: some pairs of values "
                        "occur twice; give one run per grid point (and vary nothing else)")
    cells[rows, cols] = codes
    return xs, ys, cells
