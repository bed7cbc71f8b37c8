"""The figures and tables of ``docs/sensitivity.md`` from the shipped studies' results.

:func:`write` reads ``SWEEPS/<study>/`` (as ``sdkit reproduce`` or ``sdkit sweep`` leave
them), draws the figures with :mod:`sdkit.plot` and returns the tables the doc quotes:
collapse shares, the top parameters of each output, the order parameters that matter
most, Morris screening and convergence verdicts.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import xarray as xr

from sdkit.errors import ParameterError
from sdkit.figures_io import write_figure
from sdkit.kissinger import ORDERS
from sdkit.plot.cli import open_result

ORDER_PARAMS = ("legitimacy emphasis", "commitment to top floor", "openness to civil society",
                "zero sum logic", "expansiveness", "supremacy claim")
OUTPUTS = ("first_collapse", "min_restraint", "years_disorder", "final_authority", "final_legitimacy")


def _top(ds: xr.Dataset, output: str, key: str, k: int = 3, params=None) -> str:
    sub = ds.sel(output=output)
    if params is not None:
        sub = sub.sel(param=[p for p in sub["param"].values if p in params])
    values = sub[key].to_numpy()
    order = np.argsort(-np.nan_to_num(values, nan=-np.inf))[:k]
    return ", ".join(f"{sub['param'].values[i]} {values[i]:.2f}" for i in order)


def collapse_table(results: Path, studies: list[str]) -> str:
    rows = ["| study | runs | collapsed (restraint < 0.5 at some time) | median year of first collapse "
            "| mean years with disorder > 0.2 | median final authority |", "|---|---|---|---|---|---|"]
    for study in studies:
        out = open_result(results / study / "outputs.nc")
        first = out["first_collapse"].to_numpy()
        final_time = 200.0
        collapsed = first < final_time
        median_year = f"{np.median(first[collapsed]):.0f}" if collapsed.any() else "-"
        rows.append(f"| {study} | {first.size} | {collapsed.mean():.1%} | {median_year} | "
                    f"{out['years_disorder'].to_numpy().mean():.1f} | "
                    f"{np.median(out['final_authority'].to_numpy()):.2f} |")
    return "\n".join(rows)


def conditional_table(results: Path, study: str, params: tuple[str, ...]) -> str:
    """Share of runs that collapse, by quintile of each parameter (all runs of the Saltelli sample)."""
    x = open_result(results / study / "samples.nc")["x"]
    collapsed = open_result(results / study / "outputs.nc")["first_collapse"].to_numpy() < 200.0
    rows = [f"**{study}**: share of runs with a restraint collapse, by quintile of each parameter", "",
            "| parameter | range | 1st | 2nd | 3rd | 4th | 5th quintile |", "|---|---|---|---|---|---|---|"]
    for param in params:
        v = x.sel(param=param).to_numpy()
        edges = np.quantile(v, [0.2, 0.4, 0.6, 0.8])
        bins = np.searchsorted(edges, v, side="right")
        shares = " | ".join(f"{collapsed[bins == k].mean():.2f}" for k in range(5))
        rows.append(f"| {param} | [{v.min():.2f}, {v.max():.2f}] | {shares} |")
    return "\n".join(rows)


def sobol_table(results: Path, study: str) -> str:
    ds = open_result(results / study / "indices.nc")
    rows = [f"**{study}** (ST, largest three; then the largest among the six order parameters)", "",
            "| output | largest ST | largest ST among order parameters |", "|---|---|---|"]
    for output in OUTPUTS:
        rows.append(f"| {output} | {_top(ds, output, 'ST')} | {_top(ds, output, 'ST', 2, ORDER_PARAMS)} |")
    return "\n".join(rows)


def morris_table(results: Path, studies: list[str]) -> str:
    rows = ["| study | min_restraint: largest mu* (sigma) | final_authority: largest mu* |", "|---|---|---|"]
    for study in studies:
        ds = open_result(results / study / "indices.nc")
        sub = ds.sel(output="min_restraint")
        order = np.argsort(-sub["mu_star"].to_numpy())[:3]
        cells = ", ".join(f"{sub['param'].values[i]} {sub['mu_star'].values[i]:.2f} ({sub['sigma'].values[i]:.2f})"
                          for i in order)
        rows.append(f"| {study} | {cells} | {_top(ds, 'final_authority', 'mu_star')} |")
    return "\n".join(rows)


def convergence_table(results: Path, studies: list[str]) -> str:
    rows = ["| study | " + " | ".join(OUTPUTS) + " |", "|---" * (len(OUTPUTS) + 1) + "|"]
    for study in studies:
        conv = open_result(results / study / "convergence.nc")
        cells = []
        for output in OUTPUTS:
            widest = conv["widest_conf"].sel(output=output).to_numpy()
            flag = "yes" if int(conv["converged"].sel(output=output)) else "no"
            cells.append(f"{flag} ({' -> '.join(f'{w:.3f}' for w in widest)})")
        rows.append(f"| {study} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def figures(results: Path, img: Path, metadata: Mapping[str, str]) -> list[Path]:
    """Sobol indices of two outputs per order, Morris of the liberal order, time-resolved and convergence."""
    from sdkit import plot

    written = []
    sobol = {o: open_result(results / f"{o}_sobol" / "indices.nc") for o in ORDERS}
    for output in ("min_restraint", "final_authority"):
        with plot.style("double"):
            fig = plot.sobol_indices(sobol, output, params=list(ORDER_PARAMS) + [
                "guarantor share decline rate", "challenger inclusion", "restraint threshold",
                "restraint steepness", "revisionism adjustment time", "CES exponent"])
            written += write_figure(fig, img, f"sensitivity-sobol-{output.replace('_', '-')}", metadata)
    morris = {o: open_result(results / f"{o}_morris" / "indices.nc") for o in ORDERS}
    with plot.style("single"):
        liberal = morris["liberal"]
        top = liberal["mu_star"].sel(output="min_restraint").to_series().nlargest(8).index
        ax = plot.morris(liberal.sel(param=list(top)), "min_restraint")  # the 8 largest mu*, readable labels
        written += write_figure(ax.get_figure(), img, "sensitivity-morris-liberal", metadata)
    with plot.style("double"):
        ax = plot.time_resolved(open_result(results / "liberal_sobol" / "indices_time.nc"), "authority_path", index="ST")
        written += write_figure(ax.get_figure(), img, "sensitivity-time-resolved-liberal", metadata)
    with plot.style("single"):
        ax = plot.convergence(open_result(results / "cross_order_sobol" / "convergence.nc"), "first_collapse",
                              params=["guarantor share decline rate", "challenger inclusion",
                                      "legitimacy emphasis", "restraint threshold"])
        written += write_figure(ax.get_figure(), img, "sensitivity-convergence-cross-order", metadata)
    return written


def tables(results: Path) -> str:
    """The markdown tables of the doc, in its order."""
    printed: list[str] = []
    add = printed.append
    sobol = [f"{o}_sobol" for o in ORDERS] + ["cross_order_sobol"]
    add(collapse_table(results, sobol))
    add("")
    for study in sobol:
        add(sobol_table(results, study))
        add("")
    for study in sobol:
        add(conditional_table(results, study, ("legitimacy emphasis", "commitment to top floor",
                                                 "supremacy claim", "guarantor share decline rate",
                                                 "challenger inclusion", "restraint threshold")))
        add("")
    add(morris_table(results, [f"{o}_morris" for o in ORDERS]))
    add("")
    add(convergence_table(results, sobol))
    return "\n".join(printed)


def write(models: Path, img: Path, metadata: Mapping[str, str], sweeps: Path | None = None) -> tuple[list[Path], str]:
    """Draw the figures into `img` from the studies in `sweeps`; return the files and the tables."""
    if sweeps is None:
        raise ParameterError("the sensitivity doc reads the studies' results: pass sweeps=FOLDER")
    return figures(sweeps, img, metadata), tables(sweeps)
