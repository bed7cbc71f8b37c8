"""Figures and tables for docs/sensitivity.md from the shipped studies' results.

Usage (from the repository root), after running the studies::

    for f in sensitivity/*.toml; do sdkit sweep "$f" --force; done   # -> results/<study>/
    python docs/make_sensitivity_figures.py                           # tables + docs/img/sensitivity-*.png

Prints the markdown tables quoted in the doc (collapse shares, the top parameters of each
output, the order parameters that matter most, Morris screening, convergence verdicts) and
draws the figures with :mod:`sdkit.plot`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
IMG = ROOT / "docs" / "img"
ORDERS = ("liberal", "transformative", "mercantilist", "sovereign")
ORDER_PARAMS = ("legitimacy emphasis", "commitment to top floor", "openness to civil society",
                "zero sum logic", "expansiveness", "supremacy claim")
OUTPUTS = ("first_collapse", "min_restraint", "years_disorder", "final_authority", "final_legitimacy")


def _open(path: Path) -> xr.Dataset:
    with xr.open_dataset(path) as ds:
        return ds.load()


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
        out = _open(results / study / "outputs.nc")
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
    x = _open(results / study / "samples.nc")["x"]
    collapsed = _open(results / study / "outputs.nc")["first_collapse"].to_numpy() < 200.0
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
    ds = _open(results / study / "indices.nc")
    rows = [f"**{study}** (ST, largest three; then the largest among the six order parameters)", "",
            "| output | largest ST | largest ST among order parameters |", "|---|---|---|"]
    for output in OUTPUTS:
        rows.append(f"| {output} | {_top(ds, output, 'ST')} | {_top(ds, output, 'ST', 2, ORDER_PARAMS)} |")
    return "\n".join(rows)


def morris_table(results: Path, studies: list[str]) -> str:
    rows = ["| study | min_restraint: largest mu* (sigma) | final_authority: largest mu* |", "|---|---|---|"]
    for study in studies:
        ds = _open(results / study / "indices.nc")
        sub = ds.sel(output="min_restraint")
        order = np.argsort(-sub["mu_star"].to_numpy())[:3]
        cells = ", ".join(f"{sub['param'].values[i]} {sub['mu_star'].values[i]:.2f} ({sub['sigma'].values[i]:.2f})"
                          for i in order)
        rows.append(f"| {study} | {cells} | {_top(ds, 'final_authority', 'mu_star')} |")
    return "\n".join(rows)


def convergence_table(results: Path, studies: list[str]) -> str:
    rows = ["| study | " + " | ".join(OUTPUTS) + " |", "|---" * (len(OUTPUTS) + 1) + "|"]
    for study in studies:
        conv = _open(results / study / "convergence.nc")
        cells = []
        for output in OUTPUTS:
            widest = conv["widest_conf"].sel(output=output).to_numpy()
            flag = "yes" if int(conv["converged"].sel(output=output)) else "no"
            cells.append(f"{flag} ({' -> '.join(f'{w:.3f}' for w in widest)})")
        rows.append(f"| {study} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def figures(results: Path) -> list[Path]:
    from sdkit import plot
    from sdkit.figures_io import save_figure

    written = []
    sobol = {o: _open(results / f"{o}_sobol" / "indices.nc") for o in ORDERS}
    for output in ("min_restraint", "final_authority"):
        with plot.style("double"):
            fig = plot.sobol_indices(sobol, output, params=list(ORDER_PARAMS) + [
                "guarantor share decline rate", "challenger inclusion", "restraint threshold",
                "restraint steepness", "revisionism adjustment time", "CES exponent"])
            written += save_figure(fig, IMG / f"sensitivity-sobol-{output.replace('_', '-')}", formats=("png",))
    morris = {o: _open(results / f"{o}_morris" / "indices.nc") for o in ORDERS}
    with plot.style("single"):
        liberal = morris["liberal"]
        top = liberal["mu_star"].sel(output="min_restraint").to_series().nlargest(8).index
        ax = plot.morris(liberal.sel(param=list(top)), "min_restraint")  # the 8 largest mu*, readable labels
        written += save_figure(ax.get_figure(), IMG / "sensitivity-morris-liberal", formats=("png",))
    with plot.style("double"):
        ax = plot.time_resolved(_open(results / "liberal_sobol" / "indices_time.nc"), "authority_path", index="ST")
        written += save_figure(ax.get_figure(), IMG / "sensitivity-time-resolved-liberal", formats=("png",))
    with plot.style("single"):
        ax = plot.convergence(_open(results / "cross_order_sobol" / "convergence.nc"), "first_collapse",
                              params=["guarantor share decline rate", "challenger inclusion",
                                      "legitimacy emphasis", "restraint threshold"])
        written += save_figure(ax.get_figure(), IMG / "sensitivity-convergence-cross-order", formats=("png",))
    return written


def main() -> int:
    global IMG
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--img", default=str(IMG), help="folder for the figures (default: docs/img)")
    parser.add_argument("--results", default=str(ROOT / "results"), help="folder holding results/<study>/")
    parser.add_argument("--no-figures", action="store_true")
    args = parser.parse_args()
    IMG = Path(args.img)
    results = Path(args.results)
    sobol = [f"{o}_sobol" for o in ORDERS] + ["cross_order_sobol"]
    print(collapse_table(results, sobol))
    print()
    for study in sobol:
        print(sobol_table(results, study))
        print()
    for study in sobol:
        print(conditional_table(results, study, ("legitimacy emphasis", "commitment to top floor",
                                                 "supremacy claim", "guarantor share decline rate",
                                                 "challenger inclusion", "restraint threshold")))
        print()
    print(morris_table(results, [f"{o}_morris" for o in ORDERS]))
    print()
    print(convergence_table(results, sobol))
    if not args.no_figures:
        for path in figures(results):
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
