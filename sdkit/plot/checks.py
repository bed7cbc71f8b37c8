"""Reference-mode panels: the trajectories a mode's checks read, with thresholds and verdicts."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from sdkit.measures import resolve_variable
from sdkit.plot.common import (
    figure_legend,
    finite_span,
    new_figure,
    panel_edges,
    panel_grid,
    require_dims,
    scenario_names,
)
from sdkit.plot.style import PlotError, order_styles, time_label, units_text
from sdkit.plot.trajectories import default_variables

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["reference_mode_figure", "reference_mode_panel", "reference_mode_panels"]

log = logging.getLogger(__name__)

#: Measure functions whose value is a time [year]: drawn as vertical lines.
TIME_FUNCTIONS = frozenset(
    {"time_of_max", "time_of_min", "first_below", "first_above", "settling_time"}
)
#: Measure functions whose value is a level of the variable: drawn as horizontal lines.
LEVEL_FUNCTIONS = frozenset({"initial", "final", "min", "max", "mean", "at", "value_at_time_of"})

_VAR_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
                "#999999", "#B8A300")


def _walk(node: Any, scenario: str) -> Iterable[tuple[str, str]]:
    """Yield ``(variable, scenario)`` for every series a measure table reads."""
    if isinstance(node, Mapping):
        scen = str(node.get("scenario", scenario))
        if "var" in node:
            yield str(node["var"]), scen
        for v in node.get("vars", ()) or ():
            yield str(v), scen
        for key, value in node.items():
            if key not in ("var", "vars", "scenario", "fn"):
                yield from _walk(value, scen)
    elif isinstance(node, list | tuple):
        for item in node:
            yield from _walk(item, scenario)


def _kind(check: Any) -> str | None:
    """"time", "level" or None (composite or unknown) for a check's top-level measure."""
    for node in (getattr(check, "measure", None), getattr(check, "than", None)):
        if isinstance(node, Mapping):
            fn = str(node.get("fn", ""))
            if fn in TIME_FUNCTIONS:
                return "time"
            if fn in LEVEL_FUNCTIONS:
                return "level"
            return None
    return None


def _series(result: Any, check: Any | None) -> list[tuple[str, str]]:
    """(variable, scenario) pairs a result's check reads, as far as can be known."""
    names = getattr(result, "variables", None)
    if names:
        return [(str(v), str(result.scenario)) for v in names]
    if check is not None:
        pairs: list[tuple[str, str]] = []
        for node in (getattr(check, "measure", None), getattr(check, "than", None)):
            for pair in _walk(node, str(result.scenario)):
                if pair not in pairs:
                    pairs.append(pair)
        return pairs
    return []


def _verdict(results: Sequence[Any]) -> tuple[str, int, int, int]:
    """("PASS"|"FAIL", passed, total, xfail) for one mode; xfail checks do not count against."""
    counted = [r for r in results if not getattr(r, "xfail", None)]
    passed = sum(bool(r.passed) for r in counted)
    xfail = len(results) - len(counted)
    ok = passed == len(counted)
    return ("PASS" if ok else "FAIL"), passed, len(counted), xfail


@dataclass(frozen=True)
class _Mark:
    """One check result as drawn: a level (horizontal) or time (vertical) threshold."""

    result: Any
    kind: str | None
    variable: str | None


@dataclass
class _ModePlan:
    """What one mode's figure draws: series (variable, scenario) and threshold marks."""

    mode: str
    results: list
    pairs: list[tuple[str, str | None]]
    marks: list[_Mark]

    @property
    def variables(self) -> list[str]:
        return list(dict.fromkeys(v for v, _ in self.pairs))

    @property
    def scenarios(self) -> list[str | None]:
        return list(dict.fromkeys(s for _, s in self.pairs))


def _plan(ds: xr.Dataset, results: Sequence[Any], mode: str, checks: Sequence[Any] | None,
          variables: Sequence[str] | None) -> _ModePlan:
    require_dims(ds, ["time"], "run dataset")
    mine = [r for r in results if str(getattr(r, "mode", "")) == str(mode)]
    if not mine:
        modes = sorted({str(getattr(r, "mode", "")) for r in results})
        raise PlotError(f"no check results for mode {mode!r}; modes present: {', '.join(modes)}")
    by_id = {str(c.id): c for c in (checks or ())}
    has_scen = "scenario" in ds.dims
    # a check that sets constants on top of its scenario was measured on another run than the one drawn
    drawn = [r for r in mine if not getattr(r, "overrides", None)]
    pairs = _pairs(ds, drawn, by_id, has_scen, mode)
    if not pairs:
        fallback = variables if variables is not None else default_variables(ds)[:2]
        scens = list(dict.fromkeys(str(r.scenario) for r in mine)) if has_scen else [None]
        pairs = [(var, s) for name in fallback if (var := resolve_variable(ds, name)) for s in scens]
    if has_scen:
        pairs = _in_dataset(ds, pairs, mine, mode)
    drawn_vars = {v for v, _ in pairs}
    marks = [_mark(ds, r, by_id.get(str(r.id)), drawn_vars) for r in drawn]
    return _ModePlan(str(mode), mine, pairs, marks)


def _in_dataset(ds: xr.Dataset, pairs: list[tuple[str, str | None]], mine: Sequence[Any],
                mode: str) -> list[tuple[str, str | None]]:
    """The (variable, scenario) pairs whose scenario the dataset holds; warn about the others."""
    available = scenario_names(ds)
    missing = sorted({str(s) for _, s in pairs if s not in available})
    pairs = [p for p in pairs if p[1] in available]
    if missing:
        log.warning("mode %s: scenario(s) %s not in dataset; not drawn", mode, ", ".join(missing))
    if not pairs:
        raise PlotError(
            f"mode {mode!r}: none of its scenarios is in the dataset "
            f"({', '.join(sorted({str(r.scenario) for r in mine}))}); run them first"
        )
    return pairs


def _pairs(ds: xr.Dataset, mine: Sequence[Any], by_id: Mapping[str, Any], has_scen: bool,
           mode: str) -> list[tuple[str, str | None]]:
    pairs: list[tuple[str, str | None]] = []
    for r in mine:
        for name, scen in _series(r, by_id.get(str(r.id))):
            var = resolve_variable(ds, name)
            if var is None:
                log.warning("mode %s: variable %r not in dataset; not drawn", mode, name)
                continue
            key = (var, scen if has_scen else None)
            if key not in pairs:
                pairs.append(key)
    return pairs


def _mark(ds: xr.Dataset, result: Any, check: Any | None, drawn_vars: set[str]) -> _Mark:
    """Which kind of threshold a result has and which single variable it concerns."""
    kind = _kind(check) if check is not None else None
    own: list[str | None] = []
    if check is not None and isinstance(check.measure, Mapping):
        own = list(dict.fromkeys(resolve_variable(ds, v) for v, _ in _walk(check.measure, str(result.scenario))))
    variable = own[0] if len(own) == 1 and own[0] in drawn_vars else None
    return _Mark(result, kind, variable)


def _draw_series(ax: Axes, ds: xr.Dataset, pairs: Sequence[tuple[str, str | None]],
                 colours: Mapping[str, str], dashes: Mapping[str | None, Any], labelled: bool) -> tuple[float, float]:
    """Draw each (variable, scenario) series; returns the span of time the data cover.

    `dashes` maps each scenario to its line style (all solid when a mode has one scenario).
    """
    t = np.asarray(ds["time"].values, dtype=float)
    several = len(set(dashes)) > 1
    drawn = []
    for var, scen in pairs:
        values = np.asarray((ds[var].sel(scenario=scen) if scen is not None else ds[var]).values, dtype=float)
        name = str(ds[var].attrs.get("long_name", var))
        label = (f"{name} ({scen})" if several else name) if labelled else "_nolegend_"
        ax.plot(t, values, label=label, color=colours[var], linestyle=dashes[scen])
        drawn.append(values)
    return finite_span(t, *drawn)


def _dashes(plan: _ModePlan) -> dict[str | None, Any]:
    """Line style per scenario: the order's own dash pattern, solid when there is one scenario."""
    scens = plan.scenarios
    if len(scens) == 1:
        return {scens[0]: "-"}
    styles = order_styles([s for s in scens if s is not None])
    return {s: styles[s]["linestyle"] for s in scens}


_THRESHOLD_STYLE = {"linewidth": 0.8, "linestyle": (0, (4, 2)), "zorder": 1}
_MEASURED_STYLE = {"color": "0.1", "linewidth": 0.6, "linestyle": ":", "zorder": 1}


def _draw_marks(ax: Axes, marks: Sequence[_Mark], span: tuple[float, float],
                colour_of: Callable[[_Mark], str]) -> dict[str, bool]:
    """Threshold lines (levels labelled without overlap at the right edge) and measured times."""
    drawn = {"threshold": False, "measured": False}
    levels: dict[float, list[str]] = {}
    for mark in marks:
        r = mark.result
        thr = float(r.threshold)
        kind = mark.kind
        if not np.isfinite(thr):
            continue
        if kind is None and mark.variable is None:
            kind = "level" if 0.0 <= thr <= 1.0 else ("time" if span[0] <= thr <= span[1] else None)
        if kind == "level":
            ax.axhline(thr, color=colour_of(mark), **_THRESHOLD_STYLE)
            levels.setdefault(thr, []).append(f"{r.op} {thr:.3g}")
            drawn["threshold"] = True
        elif kind == "time":
            ax.axvline(thr, color=colour_of(mark), **_THRESHOLD_STYLE)
            drawn["threshold"] = True
            val = float(r.value)
            if np.isfinite(val) and span[0] <= val <= span[1]:
                ax.axvline(val, **_MEASURED_STYLE)
                drawn["measured"] = True
    _label_levels(ax, levels)
    return drawn


_LABEL_GAP = 10.0  # [points] between stacked threshold labels, about one line of 6.5-point text


def _label_levels(ax: Axes, levels: Mapping[float, list[str]]) -> None:
    """One label per distinct level above its line, pushed apart so no two overlap.

    Labels are stacked upwards from the lowest level; a stack that would leave the
    top of the panel is moved down as a whole.
    """
    if not levels:
        return
    low, high = ax.get_ylim()
    height = 72.0 * ax.get_window_extent().height / ax.get_figure().dpi  # [points]
    to_points = height / ((high - low) or 1.0)
    natural = [(level - low) * to_points for level in sorted(levels)]
    placed: list[float] = []
    for position in natural:
        placed.append(max(position, placed[-1] + _LABEL_GAP) if placed else position)
    excess = placed[-1] + _LABEL_GAP - height
    if excess > 0:
        placed = [p - excess for p in placed]
    for level, position, target in zip(sorted(levels), natural, placed, strict=True):
        ax.annotate(", ".join(dict.fromkeys(levels[level])), xy=(1.0, level),
                    xycoords=("axes fraction", "data"), xytext=(-2, 1.0 + target - position),
                    textcoords="offset points", ha="right", va="bottom", fontsize=6.5, color="0.25")


def _legend_handles(plan: _ModePlan, ds: xr.Dataset, colours: Mapping[str, str],
                    dashes: Mapping[str | None, Any], drawn: Mapping[str, bool], by_variable: bool) -> tuple[list, list[str]]:
    from matplotlib.lines import Line2D

    handles, labels = [], []
    if by_variable:
        for var in plan.variables:
            handles.append(Line2D([], [], color=colours[var]))
            labels.append(str(ds[var].attrs.get("long_name", var)))
    scens = plan.scenarios
    if len(scens) > 1:
        for scen in scens:
            handles.append(Line2D([], [], color="0.3", linestyle=dashes[scen]))
            labels.append(str(scen))
    if drawn["threshold"]:
        handles.append(Line2D([], [], color="0.35", **{k: v for k, v in _THRESHOLD_STYLE.items() if k != "zorder"}))
        labels.append("threshold")
    if drawn["measured"]:
        handles.append(Line2D([], [], **{k: v for k, v in _MEASURED_STYLE.items() if k != "zorder"}))
        labels.append("measured time")
    return handles, labels


def _colours(variables: Sequence[str]) -> dict[str, str]:
    return {v: _VAR_COLOURS[i % len(_VAR_COLOURS)] for i, v in enumerate(variables)}


def _units_label(ds: xr.Dataset, variables: Sequence[str], short: bool = False) -> str:
    raw = {str(ds[v].attrs.get("units", "")) for v in variables}
    if all(r.strip().lower() in ("dmnl", "1", "dimensionless") for r in raw):
        return "Index" if short else "Index [dimensionless]"
    units = {units_text(r) for r in raw}
    return f"Value [{units.pop()}]" if len(units) == 1 and "" not in units else "Value"


def reference_mode_panel(ds: xr.Dataset, results: Sequence[Any], mode: str, *,
                         checks: Sequence[Any] | None = None, variables: Sequence[str] | None = None,
                         ax: Axes | None = None, legend: bool = True) -> Axes:
    """Draw the trajectories one reference mode's checks read, with thresholds and a verdict.

    Parameters
    ----------
    ds : xarray.Dataset
        Run dataset with dims ``(scenario, time)`` holding the checks' scenarios.
    results : sequence of CheckResult
        Results from :func:`sdkit.checks.evaluate` (fields ``id``, ``mode``,
        ``scenario``, ``value``, ``op``, ``threshold``, ``passed``, ``xfail``;
        ``variables`` is used when present). Only those of `mode` are drawn.
    mode : str
        Reference mode, e.g. ``"RM2"``.
    checks : sequence of Check, optional
        The checks themselves (from :func:`sdkit.checks.load_checks`): their
        measure tables tell which variables and scenarios to draw and whether a
        threshold is a level (horizontal line) or a time (vertical line).
        Without them a threshold in [0, 1] is taken as a level, one inside the
        time span as a time; others are not drawn.
    variables : sequence of str, optional
        Variables to draw when the checks do not name any (default: the first
        two variables of `ds` that change over time).
    ax : matplotlib.axes.Axes, optional
        Axes to draw into (default: a new figure).
    legend : bool
        Add a legend of the series drawn.

    Returns
    -------
    matplotlib.axes.Axes
        Title ``"<mode> PASS|FAIL (k/n checks[, m xfail])"``; thresholds are
        dashed lines (horizontal for levels, vertical for times). The time axis
        spans the data drawn. :func:`reference_mode_figure` draws one panel per
        variable instead, which reads better when a mode has several.

    Raises
    ------
    PlotError
        If no result belongs to `mode` or none of its scenarios is in `ds`.
    """
    plan = _plan(ds, results, mode, checks, variables)
    if ax is None:
        _, grid = new_figure(1, 1, panel_aspect=0.7)
        ax = grid[0, 0]
    colours = _colours(plan.variables)
    dashes = _dashes(plan)
    span = _draw_series(ax, ds, plan.pairs, colours, dashes, labelled=True)
    ax.set_xlim(*span)
    one_scenario = len(plan.scenarios) == 1
    drawn = _draw_marks(ax, plan.marks, span,
                        lambda m: colours[m.variable] if one_scenario and m.variable else "0.35")
    verdict, npass, n, nx = _verdict(plan.results)
    scen_txt = ", ".join(s for s in plan.scenarios if s is not None)
    extra = f", {nx} xfail" if nx else ""
    ax.set_title(f"{mode} {verdict} ({npass}/{n} checks{extra})" + (f"\n{scen_txt}" if scen_txt else ""))
    ax.set_xlabel(time_label(ds["time"]))
    ax.set_ylabel(_units_label(ds, plan.variables))
    if legend:
        handles, labels = _legend_handles(plan, ds, colours, dashes, drawn, by_variable=True)
        if len(handles) <= 3:
            ax.legend(handles, labels, loc="best", fontsize=7)
        else:  # a long key goes below the panel, where it hides no data
            ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.2),
                      ncols=2, fontsize=7, handlelength=2.4)
    return ax


def reference_mode_figure(ds: xr.Dataset, results: Sequence[Any], mode: str, *,
                          checks: Sequence[Any] | None = None, variables: Sequence[str] | None = None,
                          ncols: int | None = None) -> tuple[Figure, np.ndarray]:
    """Small multiples of one reference mode: one panel per variable its checks read.

    Scenarios are line styles within each panel; each check whose measure reads a
    single variable draws its threshold (and, for times, the measured time) on that
    variable's panel, and the panel's title says whether those checks pass. Checks
    that combine variables count in the figure's title verdict only. Every panel's
    time axis spans the data it draws; there is one legend, below the panels.

    Parameters are those of :func:`reference_mode_panel`; `ncols` sets the panel
    columns (default: up to 3).

    Returns
    -------
    (matplotlib.figure.Figure, numpy.ndarray of Axes)
        The figure and its panels, in the order of the variables drawn (unused
        panels of the grid are hidden).
    """
    plan = _plan(ds, results, mode, checks, variables)
    names = plan.variables
    fig, grid = panel_grid(len(names), ncols, panel_aspect=0.62)
    bottom, left = panel_edges(grid, len(names))
    colours = _colours(names)
    dashes = _dashes(plan)
    drawn = {"threshold": False, "measured": False}
    for ax, var in zip(grid.ravel(), names, strict=False):
        span = _draw_series(ax, ds, [p for p in plan.pairs if p[0] == var], colours, dashes, labelled=False)
        ax.set_xlim(*span)
        own = [m for m in plan.marks if m.variable == var]
        for key, value in _draw_marks(ax, own, span, lambda _, c=colours[var]: c).items():
            drawn[key] = drawn[key] or value
        title = str(ds[var].attrs.get("long_name", var))
        if own:
            verdict, npass, n, _ = _verdict([m.result for m in own])
            title += f": {verdict} ({npass}/{n})" if n else ": expected to fail"
        ax.set_title(title)
        if ax in bottom:
            ax.set_xlabel(time_label(ds["time"]))
        if ax in left:
            ax.set_ylabel(_units_label(ds, [var], short=True))
    verdict, npass, n, nx = _verdict(plan.results)
    extra = f", {nx} expected to fail" if nx else ""
    fig.suptitle(f"{mode}: {verdict}, {npass} of {n} checks pass{extra}")
    handles, labels = _legend_handles(plan, ds, colours, dashes, drawn, by_variable=False)
    if handles:
        figure_legend(fig, handles, labels, loc="outside lower center", max_columns=4)
    return fig, grid


def reference_mode_panels(
    ds: xr.Dataset,
    results: Sequence[Any],
    *,
    checks: Sequence[Any] | None = None,
    modes: Sequence[str] | None = None,
    ncols: int | None = None,
) -> Figure:
    """One :func:`reference_mode_panel` per reference mode, in a grid.

    Parameters
    ----------
    ds : xarray.Dataset
        Run dataset with the checks' scenarios.
    results : sequence of CheckResult
        Results of :func:`sdkit.checks.evaluate`.
    checks : sequence of Check, optional
        The checks (see :func:`reference_mode_panel`).
    modes : sequence of str, optional
        Modes to draw (default: every mode in `results`, in first-seen order).
    ncols : int, optional
        Panel columns.

    Returns
    -------
    matplotlib.figure.Figure
        ``fig.axes[i]`` is the panel of ``modes[i]``.

    Raises
    ------
    PlotError
        If `results` is empty or a mode has no results.
    """
    present = list(dict.fromkeys(str(r.mode) for r in results))
    if not present:
        raise PlotError("`results` is empty; evaluate the checks first")
    chosen = present if modes is None else [str(m) for m in modes]
    fig, grid = panel_grid(len(chosen), ncols, panel_aspect=0.8)
    for ax, mode in zip(grid.ravel(), chosen, strict=False):
        reference_mode_panel(ds, results, mode, checks=checks, ax=ax)
    return fig
