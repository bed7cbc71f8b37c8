"""Figures and measured check values for docs/model-four-orders.md.

Usage (from the repository root)::

    python docs/make_four_orders_figures.py                # engine (checked equal to PySD)
    python docs/make_four_orders_figures.py --pysd         # PySD, the reference backend (slow)
    python docs/make_four_orders_figures.py --robustness   # also the +-20 % robustness table

Writes ``docs/img/four-orders-*.png`` (120 dpi) and prints the RM6/RM7 checks and
a per-scenario summary as markdown tables (the values quoted in the doc).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

from sdkit.report import checks_table

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

from sdkit import run  # noqa: E402
from sdkit.check_runs import run_checks  # noqa: E402
from sdkit.checks import checks_path_for, load_checks, scenarios_needed  # noqa: E402
from sdkit.model import load_model  # noqa: E402
from sdkit.plot import order_style, style  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "four_orders.mdl"
IMG = ROOT / "docs" / "img"
ORDERS = ["liberal", "transformative", "mercantilist", "sovereign"]
DPI = 120

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
        {"smallest_share": [(0.05, "0.05")], "disorder": [(0.5, "episode")]},
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
    "settlement rate",
    "disorder growth rate",
    "disorder decay rate",
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


def simulate(engine: str) -> tuple[xr.Dataset, list]:
    """Run every scenario the checks, the figures and the summary need."""
    model = load_model(MODEL)
    checks = load_checks(checks_path_for(MODEL))
    names = list(scenarios_needed(checks))
    for _, scenarios, _, _ in FIGURES.values():
        names += [s for s in scenarios if s not in names]
    names += [s for s in SHARE_SCENARIOS + SUMMARY if s not in names]
    return run(model, scenarios=names, engine=engine), checks


def plot_mode(
    ds: xr.Dataset,
    title: str,
    scenarios: list[str],
    variables: list[str],
    lines: dict[str, list[tuple[float, str]]],
) -> plt.Figure:
    """Small multiples: one panel per variable, one line per scenario."""
    fig, axes = plt.subplots(2, 3, figsize=(9.0, 5.2), sharex=True, constrained_layout=True)
    for ax, var in zip(axes.flat, variables, strict=True):
        for scenario in scenarios:
            series = ds[var].sel(scenario=scenario).dropna("time")
            ax.plot(series["time"], series, label=scenario, lw=1.3)
        for level, label in lines.get(var, []):
            ax.axhline(level, color="0.4", lw=0.8, ls=":")
            ax.annotate(
                label, (ds["time"][-1], level), fontsize=6, ha="right", va="bottom", color="0.3"
            )
        ax.set_title(ds[var].attrs.get("long_name", var), fontsize=9)
        top = max(1.0, float(ds[var].sel(scenario=scenarios).max()))
        ax.set_ylim(-0.02, top * 1.02)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
    for ax in axes[-1]:
        ax.set_xlabel("time [years]", fontsize=8)
    axes.flat[0].legend(fontsize=7, loc="best")
    fig.suptitle(title, fontsize=10)
    return fig


def plot_shares(ds: xr.Dataset, scenarios: list[str]) -> plt.Figure:
    """Stacked adherence shares, one panel per scenario."""
    fig, axes = plt.subplots(
        2, 3, figsize=(9.0, 5.2), sharex=True, sharey=True, constrained_layout=True
    )
    for ax, scenario in zip(axes.flat, scenarios, strict=True):
        shares = ds["adherence_share"].sel(scenario=scenario).dropna("time", how="all")
        ax.stackplot(
            shares["time"],
            *[shares.sel(Order=o) for o in ORDERS],
            labels=ORDERS,
            colors=[order_style(o)["color"] for o in ORDERS],
            alpha=0.85,
        )
        ax.set_title(scenario, fontsize=9)
        ax.set_ylim(0, 1)
        ax.tick_params(labelsize=8)
    for ax in axes[-1]:
        ax.set_xlabel("time [years]", fontsize=8)
    for ax in axes[:, 0]:
        ax.set_ylabel("adherence share", fontsize=8)
    axes.flat[0].legend(fontsize=7, loc="lower left")
    fig.suptitle("Adherence shares of the four orders (they sum to 1)", fontsize=10)
    return fig



def summary_table(ds: xr.Dataset) -> str:
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
            f"{v:.2f}" for v in d["adherence_share"].isel(time=-1).sel(Order=ORDERS).to_numpy()
        )
        lines.append(
            f"| `{name}` | {c[0]:.3f} | {crossing} | {c[-1]:.3f} | {float(d['smallest_share'].min()):.3f} "
            f"| {shares} | {float(d['restraint'].min()):.3f} | {x.max():.3f} | {(x > 0.5).sum() * dt:.1f} "
            f"| {a.min() / a[0]:.3f} | {a[-1]:.3f} |"
        )
    return "\n".join(lines)


def robustness_table(checks, engine: str) -> str:
    """Checks passed with each system parameter moved by -20 % and +20 % (one at a time)."""
    model = load_model(MODEL)
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


def main() -> None:
    global IMG
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--img", default=str(IMG), help="folder for the figures (default: docs/img)")
    parser.add_argument("--pysd", action="store_true", help="simulate with PySD (slow)")
    parser.add_argument(
        "--robustness", action="store_true", help="also print the +-20 %% robustness table"
    )
    args = parser.parse_args()
    IMG = Path(args.img)
    engine = "pysd" if args.pysd else "engine"
    ds, checks = simulate(engine)
    IMG.mkdir(parents=True, exist_ok=True)
    with style("double"):
        a0 = float(ds["institutional_authority"].sel(scenario="coalition_off").isel(time=0))
        for key, (title, scenarios, variables, lines) in FIGURES.items():
            if key == "rm7-coalition":
                lines = {
                    "institutional_authority": [
                        (0.9 * a0, "90 % of start"),
                        (0.7 * a0, "70 % of start"),
                    ]
                }
            fig = plot_mode(ds, title, scenarios, variables, lines)
            fig.savefig(IMG / f"four-orders-{key}.png", dpi=DPI)
            plt.close(fig)
        fig = plot_shares(ds, SHARE_SCENARIOS)
        fig.savefig(IMG / "four-orders-shares.png", dpi=DPI)
        plt.close(fig)
    print(checks_table(run_checks(load_model(MODEL), checks, engine=engine), markdown=True))
    print()
    print(summary_table(ds))
    if args.robustness:
        print()
        print(robustness_table(checks, engine))


if __name__ == "__main__":
    main()
