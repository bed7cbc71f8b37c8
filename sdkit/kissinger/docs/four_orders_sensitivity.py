"""The tables and figures of the four-orders sensitivity studies for ``docs/sensitivity.md``.

:func:`write` reads ``SWEEPS/<study>/`` and returns the markdown tables the docs quote:
how often the runs end hegemonic or pluralist, the largest total-order Sobol indices of
every output, outcome shares by fifth of the deciding parameters, the coalition's hold on
the top floor, Morris screening and convergence. It also runs two small scans of its own
on the engine (63 runs each), in the `declining_leader` world with every other parameter
at the model file's value: choice intensity, conformity and the recognition threshold
moved one at a time, and the strength of a liberal + sovereign coalition from 0 to 1.
Figures are drawn with :mod:`sdkit.plot`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from sdkit.ensemble import ensemble
from sdkit.errors import ParameterError
from sdkit.figures_io import write_figure
from sdkit.kissinger import FOUR_ORDERS
from sdkit.model import load_model
from sdkit.plot.cli import open_result

HEGEMONY = ("four_orders_hegemony_sobol", "four_orders_hegemony_orders_sobol")
COALITION = "four_orders_coalition_sobol"
MORRIS = "four_orders_hegemony_morris"
SOBOL = (*HEGEMONY, COALITION)
PLURALIST, HEGEMONIC = 0.4, 0.6  # final Concentration below / above
STANDING = 0.63  # 90 % of the top floor's starting authority 0.7 (RM7)
FINAL_TIME = 150.0


def _samples(results: Path, study: str) -> pd.DataFrame:
    return open_result(results / study / "samples.nc")["x"].to_pandas()


def _outputs(results: Path, study: str) -> xr.Dataset:
    return open_result(results / study / "outputs.nc")


def _top(ds: xr.Dataset, output: str, key: str, k: int) -> str:
    sub = ds.sel(output=output)
    values = sub[key].to_numpy()
    conf = sub[f"{key}_conf"].to_numpy() if f"{key}_conf" in sub else np.full(values.shape, np.nan)
    order = np.argsort(-np.nan_to_num(values, nan=-np.inf))[:k]
    return ", ".join(f"{sub['param'].values[i]} {values[i]:.2f} ± {conf[i]:.2f}" for i in order)


def outcome_table(results: Path) -> str:
    """How the runs of the two hegemony studies end, with the declining_leader baseline."""
    rows = ["| study | runs | pluralist (final C < 0.4) | in between | hegemonic (final C > 0.6) "
            "| C < 0.4 at some time | every order keeps > 0.05 | restraint < 0.5 at some time "
            "| mean years disorder > 0.5 |", "|---|---|---|---|---|---|---|---|---|"]
    for study in HEGEMONY:
        out = _outputs(results, study)
        final = out["final_concentration"].to_numpy()
        rows.append(
            f"| {study} | {final.size} | {np.mean(final < PLURALIST):.1%} | "
            f"{np.mean((final >= PLURALIST) & (final <= HEGEMONIC)):.1%} | {np.mean(final > HEGEMONIC):.1%} | "
            f"{np.mean(out['first_pluralist'].to_numpy() < FINAL_TIME):.1%} | "
            f"{np.mean(out['min_smallest_share'].to_numpy() > 0.05):.1%} | "
            f"{np.mean(out['min_restraint'].to_numpy() < 0.5):.1%} | "
            f"{out['years_disorder'].to_numpy().mean():.1f} |"
        )
    return "\n".join(rows)


def sobol_table(results: Path, study: str, k: int = 4) -> str:
    indices = open_result(results / study / "indices.nc")
    rows = [f"{study}: largest ST (± 95 % interval) and sum of S1", "", "| output | largest ST | sum S1 |",
            "|---|---|---|"]
    for output in indices["output"].values:
        s1 = float(indices["S1"].sel(output=output).sum())
        rows.append(f"| {output} | {_top(indices, str(output), 'ST', k)} | {s1:.2f} |")
    return "\n".join(rows)


def fifths_table(results: Path, study: str, output: str, label: str, test, params: list[str]) -> str:
    """Share of runs meeting ``test(output)`` by fifth of each parameter's range."""
    x = _samples(results, study)
    hit = test(_outputs(results, study)[output].to_numpy())
    rows = [f"{study}: share of runs with {label}, by fifth of each range (all: {hit.mean():.2f})", "",
            "| parameter | range | 1st | 2nd | 3rd | 4th | 5th fifth |", "|---|---|---|---|---|---|---|"]
    for param in params:
        values = x[param].to_numpy()
        low, high = values.min(), values.max()
        fifth = np.minimum(((values - low) / (high - low) * 5).astype(int), 4)
        shares = " | ".join(f"{hit[fifth == k].mean():.2f}" for k in range(5))
        rows.append(f"| {param} | [{low:.3g}, {high:.3g}] | {shares} |")
    return "\n".join(rows)


def coalition_strength_table(results: Path) -> str:
    """Top floor standing by the summed strength of the liberal order's coalition entries."""
    x = _samples(results, COALITION)
    out = _outputs(results, COALITION)
    minimum = out["min_authority"].to_numpy()
    final = out["final_authority"].to_numpy()
    restraint = out["min_restraint"].to_numpy()
    total = x[[c for c in x.columns if c.startswith("coalition[")]].sum(axis=1).to_numpy()
    rows = ["| sum of the six coalition entries | runs | top floor standing (min A ≥ 0.63) "
            "| median final A | restraint < 0.5 at some time |", "|---|---|---|---|---|"]
    for low, high in ((0, 1), (1, 2), (2, 3), (3, 4), (4, 6)):
        m = (total >= low) & (total < high) if high < 6 else total >= low
        rows.append(f"| {low}–{high} | {m.sum()} | {np.mean(minimum[m] >= STANDING):.2f} | "
                    f"{np.median(final[m]):.2f} | {np.mean(restraint[m] < 0.5):.2f} |")
    rows.append(f"| all | {total.size} | {np.mean(minimum >= STANDING):.2f} | {np.median(final):.2f} | "
                f"{np.mean(restraint < 0.5):.2f} |")
    return "\n".join(rows)


def coalition_scan(models: Path) -> xr.Dataset:
    """Runs of `declining_leader` with a liberal + sovereign coalition of strength 0 ... 1."""
    model = load_model(models / f"{FOUR_ORDERS}.mdl")
    strength = np.round(np.arange(0.0, 1.0001, 0.05), 2)
    runs = {}
    for label, columns in (("both", ("coalition[liberal, sovereign]", "coalition[sovereign, liberal]")),
                           ("liberal matches", ("coalition[liberal, sovereign]",)),
                           ("sovereign matches", ("coalition[sovereign, liberal]",))):
        frame = pd.DataFrame(dict.fromkeys(columns, strength))
        ds = ensemble(model, frame, variables=["Institutional Authority", "Restraint"], scenario="declining_leader")
        authority = ds["institutional_authority"]
        runs[label] = xr.Dataset({
            "min_authority_ratio": ("strength", (authority.min("time") / authority.isel(time=0)).to_numpy(),
                                    {"long_name": "Lowest institutional authority / its start"}),
            "final_authority": ("strength", authority.isel(time=-1).to_numpy()),
            "min_restraint": ("strength", ds["restraint"].min("time").to_numpy()),
        }, coords={"strength": ("strength", strength, {"long_name": "Coalition strength s"})})
    return xr.concat(list(runs.values()), dim=pd.Index(list(runs), name="coalition"))


def scan_table(scan: xr.Dataset) -> str:
    rows = ["| strength s | min A / A(0), both directions | min restraint | final A "
            "| min A / A(0), only coalition[liberal, sovereign] = s | only coalition[sovereign, liberal] = s |",
            "|---|---|---|---|---|---|"]
    for s in scan["strength"].values[::2]:
        both = scan.sel(coalition="both", strength=s)
        rows.append(f"| {s:.1f} | {float(both['min_authority_ratio']):.3f} | {float(both['min_restraint']):.3f} | "
                    f"{float(both['final_authority']):.3f} | "
                    f"{float(scan['min_authority_ratio'].sel(coalition='liberal matches', strength=s)):.3f} | "
                    f"{float(scan['min_authority_ratio'].sel(coalition='sovereign matches', strength=s)):.3f} |")
    both = scan.sel(coalition="both")
    standing = both["strength"].values[both["min_authority_ratio"].values >= 0.9]
    rows.append("")
    rows.append(f"smallest symmetric strength on the grid with min A / A(0) >= 0.9: "
                f"{standing.min() if standing.size else 'none'}")
    return "\n".join(rows)


def adherence_scan(models: Path) -> str:
    """Final Concentration of `declining_leader` with one adherence parameter moved at a time."""
    model = load_model(models / f"{FOUR_ORDERS}.mdl")
    grids = {"choice intensity": np.round(np.arange(1.0, 3.001, 0.1), 2),
             "conformity": np.round(np.arange(0.0, 1.0001, 0.05), 2),
             "recognition threshold": np.round(np.arange(0.0, 0.5001, 0.025), 3)}
    rows = ["| parameter (all others at the model's values) | final Concentration at each value "
            "| pluralist (final C < 0.4) for |", "|---|---|---|"]
    for name, grid in grids.items():
        ds = ensemble(model, pd.DataFrame({name: grid}), variables=["Concentration"], scenario="declining_leader")
        final = ds["concentration"].isel(time=-1).to_numpy()
        plural = grid[final < PLURALIST]
        values = ", ".join(f"{v:g}: {c:.2f}" for v, c in zip(grid, final, strict=True))
        span = f"{plural.min():g} ... {plural.max():g}" if plural.size else "none"
        rows.append(f"| {name} | {values} | {span} |")
    return "\n".join(rows)


def morris_table(results: Path, k: int = 6) -> str:
    indices = open_result(results / MORRIS / "indices.nc")
    rows = [f"{MORRIS}: largest mu* (sigma)", "", "| output | largest mu* |", "|---|---|"]
    for output in indices["output"].values:
        sub = indices.sel(output=output)
        mu, sigma = sub["mu_star"].to_numpy(), sub["sigma"].to_numpy()
        order = np.argsort(-mu)[:k]
        rows.append(f"| {output} | " + ", ".join(f"{sub['param'].values[i]} {mu[i]:.3g} ({sigma[i]:.3g})"
                                                   for i in order) + " |")
    return "\n".join(rows)


def convergence_table(results: Path) -> str:
    rows = ["| study | output | widest ST_conf at N = 128 → 256 → 512 → 1024 | converged (< 0.1) |",
            "|---|---|---|---|"]
    for study in SOBOL:
        conv = open_result(results / study / "convergence.nc")
        for output in conv["output"].values:
            widest = conv["widest_conf"].sel(output=output).to_numpy()
            rows.append(f"| {study} | {output} | {' → '.join(f'{w:.3f}' for w in widest)} | "
                        f"{'yes' if bool(conv['converged'].sel(output=output)) else 'no'} |")
    return "\n".join(rows)


def _leading(indices: xr.Dataset, outputs: list[str], k: int) -> list[str]:
    """The ``k`` parameters with the largest ST over ``outputs``, largest first."""
    largest = indices["ST"].sel(output=outputs).max("output").to_series()
    return list(largest.sort_values(ascending=False).index[:k])


def figures(results: Path, scan: xr.Dataset, img: Path, metadata: Mapping[str, str]) -> list[Path]:
    """Sobol indices of the hegemony and coalition studies, Morris screening and the coalition scan."""
    from sdkit import plot

    written: list[Path] = []
    hegemony_outputs = ["final_concentration", "first_pluralist", "min_restraint", "years_disorder"]
    titles = {HEGEMONY[0]: "Hegemony or pluralism: all 23 parameters (declining_leader)",
              HEGEMONY[1]: "Hegemony or pluralism: adherence dynamics at the model's values (declining_leader)",
              COALITION: "Does the coalition keep the top floor standing? (coalition_on)"}
    for study, stem in ((HEGEMONY[0], "hegemony"), (HEGEMONY[1], "hegemony-orders")):
        indices = open_result(results / study / "indices.nc")
        panels = {name.replace("_", " "): indices.sel(output=name) for name in hegemony_outputs}
        with plot.style("double"):
            fig = plot.sobol_indices(panels, params=_leading(indices, hegemony_outputs, 12))
            fig.suptitle(titles[study])  # the panels are outputs, not orders
            written += write_figure(fig, img, f"four-orders-sensitivity-{stem}", metadata)
    indices = open_result(results / COALITION / "indices.nc")
    coalition_outputs = ["min_authority", "final_authority", "years_authority_low", "min_restraint"]
    panels = {name.replace("_", " "): indices.sel(output=name) for name in coalition_outputs}
    with plot.style("double"):
        fig = plot.sobol_indices(panels, params=_leading(indices, coalition_outputs, 12))
        fig.suptitle(titles[COALITION])
        written += write_figure(fig, img, "four-orders-sensitivity-coalition", metadata)
    morris = open_result(results / MORRIS / "indices.nc")
    with plot.style("single"):
        top = morris["mu_star"].sel(output="final_concentration").to_series().nlargest(6).index
        ax = plot.morris(morris.sel(param=list(top)), "final_concentration")  # the 6 largest mu*: readable labels
        ax.set_title("Morris screening: final concentration")
        written += write_figure(ax.get_figure(), img, "four-orders-sensitivity-morris", metadata)
    with plot.style("single"):
        fig = plot.scan_lines(scan, "min_authority_ratio", "strength", "coalition", reference=(0.9, "90 % of the start (RM7)"))
        fig.axes[0].set_title("Liberal + sovereign coalition, declining leader")
        written += write_figure(fig, img, "four-orders-sensitivity-coalition-scan", metadata)
    return written


def tables(models: Path, results: Path) -> tuple[str, xr.Dataset]:
    """The markdown tables of the doc, in its order, and the coalition scan its figure draws."""
    printed: list[str] = []
    add = printed.append
    add(outcome_table(results))
    for study in SOBOL:
        add(sobol_table(results, study))
    plural = ("final Concentration < 0.4", lambda v: v < PLURALIST)
    add(fifths_table(results, HEGEMONY[0], "final_concentration", *plural,
                       ["choice intensity", "conformity", "recognition threshold", "leader resource floor",
                        "leader share decline rate", "supremacy claim[liberal]", "coercive retention"]))
    add(fifths_table(results, HEGEMONY[1], "final_concentration", *plural,
                       ["recognition threshold", "leader resource floor", "leader share decline rate",
                        "supremacy claim[liberal]", "coercive retention", "legitimacy emphasis[liberal]"]))
    add(fifths_table(results, HEGEMONY[1], "min_restraint", "restraint < 0.5 at some time", lambda v: v < 0.5,
                       ["grievance gain", "leader resource floor", "restraint threshold", "recognition threshold",
                        "tolerated claim", "leader share decline rate", "supremacy claim[liberal]",
                        "legitimacy emphasis[sovereign]"]))
    add(fifths_table(results, COALITION, "min_authority", "the top floor standing (min A ≥ 0.63)",
                       lambda v: v >= STANDING,
                       ["authority build rate", "authority erosion rate", "civic support",
                        "coalition[liberal, sovereign]", "coalition[sovereign, liberal]",
                        "coalition[liberal, mercantilist]", "coalition[liberal, transformative]",
                        "commitment to top floor[liberal]", "climate pressure"]))
    add(adherence_scan(models))
    add(coalition_strength_table(results))
    scan = coalition_scan(models)
    add(scan_table(scan))
    add(morris_table(results))
    add(convergence_table(results))
    return "\n\n".join(printed), scan


def write(models: Path, img: Path, metadata: Mapping[str, str], sweeps: Path | None = None) -> tuple[list[Path], str]:
    """Draw the figures into `img` from the studies in `sweeps`; return the files and the tables."""
    if sweeps is None:
        raise ParameterError("the four-orders sensitivity doc reads the studies' results: pass sweeps=FOLDER")
    text, scan = tables(models, sweeps)
    return figures(sweeps, scan, img, metadata), text
