"""Reference-mode panels: the trajectories a mode's checks read, with thresholds and verdicts."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from sdkit.measures import resolve_variable
from sdkit.plot._common import grid_shape, hide_unused, new_figure, require_dims, scenario_names
from sdkit.plot.style import PlotError, order_styles, time_label

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["reference_mode_panel", "reference_mode_panels"]

log = logging.getLogger(__name__)

#: Measure functions whose value is a time [year]: drawn as vertical lines.
TIME_FUNCTIONS = frozenset(
    {"time_of_max", "time_of_min", "first_below", "first_above", "settling_time"}
)
#: Measure functions whose value is a level of the variable: drawn as horizontal lines.
LEVEL_FUNCTIONS = frozenset({"initial", "final", "min", "max", "mean", "at", "value_at_time_of"})

_DEFAULT_VARS = ("restraint", "disorder")
_VAR_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
                "#999999", "#B8A300")


def _resolve_var(ds: xr.Dataset, name: str) -> str | None:
    """Python-safe data variable for a model name, python name or long_name."""
    return resolve_variable(ds, name)


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


def reference_mode_panel(
    ds: xr.Dataset,
    results: Sequence[Any],
    mode: str,
    *,
    checks: Sequence[Any] | None = None,
    variables: Sequence[str] | None = None,
    ax: Axes | None = None,
    legend: bool = True,
) -> Axes:
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
        Variables to draw when the checks do not name any (default: restraint
        and disorder, where present).
    ax : matplotlib.axes.Axes, optional
        Axes to draw into (default: a new figure).
    legend : bool
        Add a legend of the series drawn.

    Returns
    -------
    matplotlib.axes.Axes
        Title ``"<mode> PASS|FAIL (k/n checks[, m xfail])"``; thresholds are
        grey dashed lines (horizontal for levels, vertical for times).

    Raises
    ------
    PlotError
        If no result belongs to `mode` or none of its scenarios is in `ds`.
    """
    require_dims(ds, ["time"], "run dataset")
    mine = [r for r in results if str(getattr(r, "mode", "")) == str(mode)]
    if not mine:
        modes = sorted({str(getattr(r, "mode", "")) for r in results})
        raise PlotError(f"no check results for mode {mode!r}; modes present: {', '.join(modes)}")
    by_id = {str(c.id): c for c in (checks or ())}
    has_scen = "scenario" in ds.dims
    available = scenario_names(ds) if has_scen else []

    # what to draw: (python var, scenario) in first-seen order
    pairs: list[tuple[str, str | None]] = []
    for r in mine:
        for name, scen in _series(r, by_id.get(str(r.id))):
            var = _resolve_var(ds, name)
            if var is None:
                log.warning("mode %s: variable %r not in dataset; not drawn", mode, name)
                continue
            key = (var, scen if has_scen else None)
            if key not in pairs:
                pairs.append(key)
    if not pairs:
        fallback = variables if variables is not None else _DEFAULT_VARS
        scens = list(dict.fromkeys(str(r.scenario) for r in mine)) if has_scen else [None]
        for name in fallback:
            var = _resolve_var(ds, name)
            if var is not None:
                pairs.extend((var, s) for s in scens)
    if has_scen:
        missing = [s for _, s in pairs if s not in available]
        pairs = [p for p in pairs if p[1] in available]
        if missing:
            log.warning("mode %s: scenario(s) %s not in dataset; not drawn", mode,
                        ", ".join(sorted(set(map(str, missing)))))
        if not pairs:
            raise PlotError(
                f"mode {mode!r}: none of its scenarios is in the dataset "
                f"({', '.join(sorted({str(r.scenario) for r in mine}))}); run them first"
            )

    if ax is None:
        _, grid = new_figure(1, 1, panel_aspect=0.7)
        ax = grid[0, 0]
    scens = list(dict.fromkeys(s for _, s in pairs))
    vars_ = list(dict.fromkeys(v for v, _ in pairs))
    styles = order_styles([s for s in scens if s is not None])
    t = np.asarray(ds["time"].values, dtype=float)
    for var, scen in pairs:
        da = ds[var].sel(scenario=scen) if scen is not None else ds[var]
        vi = vars_.index(var)
        name = str(ds[var].attrs.get("long_name", var))
        # colour says the variable, line style the scenario (the order's own dash pattern)
        kw = {"color": _VAR_COLOURS[vi % len(_VAR_COLOURS)],
              "linestyle": styles[scen]["linestyle"] if len(scens) > 1 else "-"}
        label = f"{name} ({scen})" if len(scens) > 1 else name
        ax.plot(t, np.asarray(da.values, dtype=float), label=label, **kw)

    span = (float(t[0]), float(t[-1])) if t.size else (0.0, 1.0)
    drawn = {"threshold": False, "measured": False}
    for r in mine:
        check = by_id.get(str(r.id))
        kind = _kind(check) if check is not None else None
        thr = float(r.threshold)
        if not np.isfinite(thr):
            continue
        if kind is None and check is None:
            if 0.0 <= thr <= 1.0:
                kind = "level"
            elif span[0] <= thr <= span[1]:
                kind = "time"
        colour = "0.35"
        if len(scens) == 1 and check is not None and isinstance(check.measure, Mapping):
            own = [_resolve_var(ds, v) for v, _ in _walk(check.measure, str(r.scenario))]
            if len(set(own)) == 1 and own[0] in vars_:
                colour = _VAR_COLOURS[vars_.index(own[0]) % len(_VAR_COLOURS)]
        style = {"color": colour, "linewidth": 0.8, "linestyle": (0, (4, 2)), "zorder": 1}
        if kind == "level":
            ax.axhline(thr, **style)
            ax.annotate(f"{r.op} {thr:.3g}", xy=(1.0, thr), xycoords=("axes fraction", "data"),
                        xytext=(-2, 1.5), textcoords="offset points", ha="right", va="bottom",
                        fontsize=7, color="0.25")
            drawn["threshold"] = True
        elif kind == "time":
            ax.axvline(thr, **style)
            drawn["threshold"] = True
            val = float(r.value)
            if np.isfinite(val) and span[0] <= val <= span[1]:
                ax.axvline(val, color="0.1", linewidth=0.6, linestyle=":", zorder=1)
                drawn["measured"] = True

    verdict, npass, n, nx = _verdict(mine)
    scen_txt = ", ".join(s for s in scens if s is not None)
    extra = f", {nx} xfail" if nx else ""
    ax.set_title(f"{mode} {verdict} ({npass}/{n} checks{extra})"
                 + (f"\n{scen_txt}" if scen_txt else ""))
    ax.set_xlabel(time_label(ds["time"]))
    ax.set_ylabel("Index [dimensionless]" if all(
        str(ds[v].attrs.get("units", "")).lower() in ("dmnl", "1", "dimensionless")
        for v in vars_) else "Value")
    ax.set_xlim(*span)
    if legend and pairs:
        from matplotlib.lines import Line2D

        handles, labels = [], []
        for vi, var in enumerate(vars_):
            handles.append(Line2D([], [], color=_VAR_COLOURS[vi % len(_VAR_COLOURS)]))
            labels.append(str(ds[var].attrs.get("long_name", var)))
        if len(scens) > 1:
            for scen in scens:
                handles.append(Line2D([], [], color="0.3", linestyle=styles[scen]["linestyle"]))
                labels.append(str(scen))
        if drawn["threshold"]:
            handles.append(Line2D([], [], color="0.35", linewidth=0.8, linestyle=(0, (4, 2))))
            labels.append("threshold")
        if drawn["measured"]:
            handles.append(Line2D([], [], color="0.1", linewidth=0.6, linestyle=":"))
            labels.append("measured time")
        if len(handles) <= 3:
            ax.legend(handles, labels, loc="best", fontsize=7)
        else:  # a long key goes below the panel, where it hides no data
            ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.2),
                      ncols=2, fontsize=7, handlelength=2.4)
    return ax


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
    nrows, cols = grid_shape(len(chosen), ncols)
    fig, grid = new_figure(nrows, cols, panel_aspect=0.8)
    hide_unused(grid, len(chosen))
    for ax, mode in zip(grid.ravel(), chosen, strict=False):
        reference_mode_panel(ds, results, mode, checks=checks, ax=ax)
    return fig
