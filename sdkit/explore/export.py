"""The explorer's current view as a publication figure, drawn by :mod:`sdkit.plot`.

Without uncertainty the view is :func:`sdkit.plot.trajectories` of two runs, the
baseline (the scenario as it is) and the point; with it, one
:func:`sdkit.plot.fan_chart` panel per variable, median and 50 %/90 % bands of the
ensemble around the point, with the baseline as a thin grey line. The runs come from
:func:`sdkit.run.run` and :func:`sdkit.ensemble.ensemble`, so the figure shows what
the command line computes.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import xarray as xr

from sdkit.explore.point import Point

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from sdkit.explore.compute import Explorer

BASELINE = "baseline"
VIEW = "this view"


def _split_elements(ds: xr.Dataset, names: list[str]) -> tuple[xr.Dataset, list[str]]:
    """Subscripted variables as one variable per element, ``name[element]``."""
    parts, labels = {}, []
    for name in names:
        da = ds[name]
        dims = [d for d in da.dims if d not in ("scenario", "sample", "time")]
        if not dims:
            parts[name] = da
            labels.append(name)
            continue
        stacked = da.stack(element=dims)
        for i, element in enumerate(stacked["element"].values):
            text = ",".join(element) if isinstance(element, tuple) else str(element)
            label = f"{name}[{text}]"
            parts[label] = stacked.isel(element=i, drop=True).assign_attrs(
                long_name=f"{da.attrs.get('long_name', name)}[{text}]", units=da.attrs.get("units", ""))
            labels.append(label)
    return xr.Dataset(parts), labels


def _ylim(ds: xr.Dataset, names: list[str]) -> tuple[float, float] | None:
    """(0, 1), the range of every index, when every drawn value lies in it; else automatic."""
    inside = all(float(ds[n].min()) >= 0 and float(ds[n].max()) <= 1 for n in names)
    return (0.0, 1.0) if inside else None


def view_figure(explorer: Explorer, point: Point, names: list[str], fan: dict[str, Any] | None = None) -> Figure:
    """Draw the view: trajectories of baseline and point, or the fan around the point."""
    from sdkit import plot
    from sdkit.ensemble import ensemble
    from sdkit.plot.common import panel_edges, panel_grid
    from sdkit.run import run

    model = explorer.model
    scenarios = [point.scenario] if point.scenario else None
    pair = xr.concat([
        run(model, scenarios=scenarios, variables=names).assign_coords(scenario=[BASELINE]),
        run(model, scenarios=scenarios, overrides=point.values, variables=names).assign_coords(scenario=[VIEW]),
    ], dim="scenario")
    pair, labels = _split_elements(pair, names)
    if fan is None:
        return plot.trajectories(pair, variables=labels, ylim=_ylim(pair, labels))
    table = explorer.fan_table(point, fan.get("samples", 1000), fan.get("spread", 0.1), fan.get("seed", 0))
    table = table.assign(**dict(point.values))
    # the fan's draws perturb constants as `sdkit check --robust` does, also past their documented ranges
    runs, _ = _split_elements(ensemble(model, table, variables=names, scenario=point.scenario,
                                       allow_outside_range=True), names)
    fig, grid = panel_grid(len(labels), sharex=True, panel_aspect=0.75)
    bottom, left = panel_edges(grid, len(labels))
    ylim = _ylim(runs, labels)
    for ax, label in zip(grid.ravel(), labels, strict=False):
        plot.fan_chart({VIEW: runs}, label, axes=[ax], ylim=ylim, legend=False)
        baseline = pair[label].sel(scenario=BASELINE)
        ax.plot(baseline["time"].values, baseline.values, color="0.5", linewidth=0.6, label=BASELINE)
        ax.set_title(pair[label].attrs.get("long_name", label))
        ax.set_ylabel(_units(pair[label]) if ax in left else "")
        if ax not in bottom:
            ax.set_xlabel("")
    _fan_legend(fig, grid.ravel()[0])
    return fig


def _fan_legend(fig: Figure, ax: Any) -> None:
    """One legend above the panels: median, the two bands (as drawn) and the baseline."""
    from sdkit.plot.common import figure_legend

    drawn = {h.get_label(): h for h in ax.get_children() if h.get_label() in ("median", "50% band", "90% band", BASELINE)}
    labels = {"median": "median", "50% band": "central 50%", "90% band": "central 90%", BASELINE: BASELINE}
    names = [n for n in labels if n in drawn]
    figure_legend(fig, [drawn[n] for n in names], [labels[n] for n in names], loc="outside upper center", max_columns=4)


def _units(da: xr.DataArray) -> str:
    """The y label of a panel: ``[units]``, or "Index" for a dimensionless index."""
    from sdkit.plot.style import units_text

    units = units_text(da.attrs.get("units", ""))
    return f"[{units}]" if units else "Index"


def draw_view(explorer: Explorer, point: Point, names: list[str], fan: dict[str, Any] | None,
              out: IO[bytes], fmt: str) -> None:
    """Write the view in ``fmt`` (png, pdf, svg) to ``out``, saved as every sdkit figure is."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sdkit import plot
    from sdkit.explore.point import command_for
    from sdkit.figures_io import save_figure

    with plot.style("double"):
        fig = view_figure(explorer, point, names, fan)
    try:
        with tempfile.TemporaryDirectory(prefix="sdkit-explore-") as folder:
            metadata = {"command": command_for(explorer.model, point)}
            [path] = save_figure(fig, Path(folder) / "view", formats=(fmt,), metadata=metadata)
            out.write(path.read_bytes())
    finally:
        plt.close(fig)
