"""The figures and tables of ``docs/model-four-orders.md``.

:func:`write` draws the reference modes RM6 and RM7 of ``four_orders.mdl`` (small
multiples of the variables each is about) and the adherence shares, and returns the
reference-mode checks, the summary of every scenario and the scan of choice intensity
(RM6 over the range of `choice intensity`) as markdown tables.
:func:`robustness_table` (checks passed with each system parameter moved by 20 %)
is slow and runs on request: ``python docs/make_four_orders_figures.py --robustness``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from sdkit.check_runs import run_checks
from sdkit.checks import checks_path_for, load_checks, scenarios_needed
from sdkit.figures_io import write_figure
from sdkit.kissinger import FOUR_ORDERS, ORDERS
from sdkit.kissinger.docs import page_runs
from sdkit.kissinger.docs.panels import study_figure
from sdkit.model import load_model
from sdkit.report import checks_table
from sdkit.run import run

# figure -> (title, scenarios, variables, reference lines {variable: [(level, label)]})
FIGURES = {
    "rm6-transition": (
        "RM6 hegemonic to pluralist: the leader's resource share declines (declining_leader)",
        ["hegemonic_start", "declining_leader"],
        [
            "concentration",
            "leader_resource_share",
            "largest_share",
            "restraint",
            "disorder",
            "institutional_authority",
        ],
        {"concentration": [(0.6, "0.6"), (0.4, "0.4")]},
    ),
    "rm6-supremacy": (
        "RM6 supremacy claims: low all round, default (leader 0.8), high (leader 0.95), no recognition",
        ["low_supremacy", "declining_leader", "high_supremacy", "monism"],
        [
            "concentration",
            "smallest_share",
            "grievance",
            "revisionist_pressure",
            "restraint",
            "disorder",
        ],
        {"smallest_share": [(0.05, "0.05")], "disorder": [(0.2, "0.2 (episode)")]},
    ),
    "rm7-coalition": (
        "RM7 cross-order coalition and climate pressure (all with the declining leader)",
        ["coalition_off", "coalition_on", "open_orders", "climate_open", "climate_closed"],
        [
            "institutional_authority",
            "disorder",
            "restraint",
            "total_investment",
            "civic_pressure",
            "uncivil_pressure",
        ],
        {},  # 90 % and 70 % of the start of institutional authority: added from the data
    ),
}
# scenarios whose adherence shares are drawn as stacked areas
SHARE_SCENARIOS = [
    "hegemonic_start",
    "declining_leader",
    "low_supremacy",
    "high_supremacy",
    "coalition_on",
    "monism",
]
SUMMARY = [
    "hegemonic_start",
    "declining_leader",
    "low_supremacy",
    "high_supremacy",
    "monism",
    "coalition_off",
    "coalition_on",
    "open_orders",
    "climate_open",
    "climate_closed",
]
SYSTEM_PARAMETERS = [
    "choice intensity",
    "conformity",
    "switching speed",
    "grievance gain",
    "tolerated claim",
    "restraint threshold",
    "restraint steepness",
    "institutional anchoring",
    "exhaustion rate",
    "unrestrained escalation",
    "imbalance grievance",
    "settlement rate",
    "disorder growth time",
    "disorder decay time",
    "authority build rate",
    "authority erosion rate",
    "civic support",
    "disorder weight",
    "uncivil weight",
    "capture weight",
    "sinew strength",
    "power scale",
    "legitimacy discount",
    "coercive retention",
    "populist pull weight",
    "civic fit weight",
    "effectiveness weight",
    "supremacy legitimacy cost",
    "disorder blame",
    "legitimacy adjustment time",
    "power adjustment time",
    "revisionism adjustment time",
    "civil society adjustment time",
    "CES exponent",
]
# RM6 over the documented range [1, 10] of choice intensity, one engine run per value
CHOICE_INTENSITIES = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]


def page_checks(models: Path) -> list:
    """The reference-mode checks of the four-orders model."""
    return load_checks(checks_path_for(models / f"{FOUR_ORDERS}.mdl"))


def simulate(models: Path, engine: str = "engine") -> tuple[xr.Dataset, list]:
    """Run every scenario the checks, the figures and the summary need."""
    checks = page_checks(models)
    figures = [s for _, scenarios, _, _ in FIGURES.values() for s in scenarios]
    return page_runs(models / f"{FOUR_ORDERS}.mdl", checks, [*figures, *SHARE_SCENARIOS, *SUMMARY], engine), checks


def figures(ds: xr.Dataset, img: Path, metadata: Mapping[str, str]) -> list[Path]:
    """The mode figures (RM7's authority levels read from the data) and the adherence shares."""
    from sdkit import plot

    start = float(ds["institutional_authority"].sel(scenario="coalition_off").isel(time=0))
    written: list[Path] = []
    for key, (title, scenarios, variables, lines) in FIGURES.items():
        if key == "rm7-coalition":
            lines = {"institutional_authority": [(0.9 * start, "90 % of start"), (0.7 * start, "70 % of start")]}
        with plot.style("double"):
            fig = study_figure(ds, title, scenarios, variables, lines=lines)
            written += write_figure(fig, img, f"four-orders-{key}", metadata)
    with plot.style("double"):
        fig = plot.stacked_shares(ds.sel(Order=list(ORDERS)), "adherence_share", "Order", SHARE_SCENARIOS, ncols=3)
        fig.suptitle("Adherence shares of the four orders (they sum to 1)")
        written += write_figure(fig, img, "four-orders-shares", metadata)
    return written


def summary_table(ds: xr.Dataset) -> str:
    """Concentration, shares, restraint, disorder and authority of every scenario of the summary."""
    lines = [
        "| scenario | start C | first C < 0.4 [yr] | final C | min share | final shares (LIO, TI, MN, SI) "
        "| min Q | max X | years X > 0.5 | min A / A(0) | final A |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in SUMMARY:
        d = ds.sel(scenario=name).dropna("time", how="all")
        t = d["time"].to_numpy()
        c = d["concentration"].to_numpy()
        below = np.flatnonzero(c < 0.4)
        crossing = f"{t[below[0]]:.1f}" if below.size else "never"
        a = d["institutional_authority"].to_numpy()
        x = d["disorder"].to_numpy()
        dt = float(t[1] - t[0])
        shares = ", ".join(
            f"{v:.2f}" for v in d["adherence_share"].isel(time=-1).sel(Order=list(ORDERS)).to_numpy()
        )
        lines.append(
            f"| `{name}` | {c[0]:.3f} | {crossing} | {c[-1]:.3f} | {float(d['smallest_share'].min()):.3f} "
            f"| {shares} | {float(d['restraint'].min()):.3f} | {x.max():.3f} | {(x > 0.5).sum() * dt:.1f} "
            f"| {a.min() / a[0]:.3f} | {a[-1]:.3f} |"
        )
    return "\n".join(lines)


def choice_intensity_table(models: Path) -> str:
    """RM6's transition (declining_leader) and pluralism (low_supremacy) at each choice intensity."""
    from sdkit.ensemble import ensemble

    model = load_model(models / f"{FOUR_ORDERS}.mdl")
    samples = pd.DataFrame({"choice intensity": CHOICE_INTENSITIES})
    variables = ["Concentration", "Smallest Share", "Disorder"]
    runs = {s: ensemble(model, samples, variables=variables, scenario=s) for s in ("declining_leader", "low_supremacy")}
    lines = [
        "| choice intensity | declining_leader: first C < 0.4 [yr] | final C | min share (yr 10-150) "
        "| low_supremacy: final C | min share (yr 10-150) | max X |",
        "|---|---|---|---|---|---|---|",
    ]
    for i, value in enumerate(CHOICE_INTENSITIES):
        cells = [f"{value:g}"]
        for name, ds in runs.items():
            d = ds.isel(sample=i)
            t = d["time"].to_numpy()
            c = d["concentration"].to_numpy()
            smallest = float(d["smallest_share"].to_numpy()[t >= 10].min())
            if name == "declining_leader":
                below = np.flatnonzero(c < 0.4)
                cells += [f"{t[below[0]]:.1f}" if below.size else "never", f"{c[-1]:.3f}", f"{smallest:.3f}"]
            else:
                cells += [f"{c[-1]:.3f}", f"{smallest:.3f}", f"{float(d['disorder'].max()):.3f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def robustness_table(models: Path, checks, engine: str = "engine") -> str:
    """Checks passed with each system parameter moved by -20 % and +20 % (one at a time)."""
    model = load_model(models / f"{FOUR_ORDERS}.mdl")
    names = scenarios_needed(checks)
    defaults = run(model, variables=SYSTEM_PARAMETERS, engine=engine).isel(scenario=0, time=0)
    lines = [
        "| parameter | default | -20 %: passed | +20 %: passed | failing checks |",
        "|---|---|---|---|---|",
    ]
    for name in SYSTEM_PARAMETERS:
        default = float(defaults[model.resolve(name)])
        fixed = {s for s in names if name in model.scenarios[s].parameters}
        kept = [c for c in checks if not ({c.scenario} | set(scenarios_needed([c]))) & fixed]
        cells, failing = [], set()
        for factor in (0.8, 1.2):
            results = run_checks(model, kept, engine=engine, extra={name: default * factor})
            cells.append(f"{sum(r.passed for r in results)}/{len(results)}")
            failing |= {f"{r.id} ({'-' if factor < 1 else '+'})" for r in results if not r.passed}
        lines.append(
            f"| {name} | {default:g} | {cells[0]} | {cells[1]} | {', '.join(sorted(failing)) or '-'} |"
        )
    return "\n".join(lines)


def robustness(models: Path) -> str:
    """The robustness table of the page's checks (``--robustness``)."""
    return robustness_table(models, page_checks(models))


def write(models: Path, img: Path, metadata: Mapping[str, str], sweeps: Path | None = None) -> tuple[list[Path], str]:
    """Draw the figures into `img`; return the files and the doc's tables."""
    ds, checks = simulate(models)
    written = figures(ds, img, metadata)
    results = run_checks(load_model(models / f"{FOUR_ORDERS}.mdl"), checks, engine="engine")
    tables = [checks_table(results, markdown=True), summary_table(ds), choice_intensity_table(models)]
    return written, "\n\n".join(tables)
