"""Figures and measured check values for docs/model-core.md.

Usage (from the repository root)::

    python docs/make_model_core_figures.py              # figures + check table

Writes ``docs/img/model-core-rm1.png`` ... ``model-core-rm5.png`` and prints the
reference-mode checks and the four orders' presets as markdown tables (the values
quoted in the doc). Robustness: ``sdkit check models/kissinger_core.mdl --robust``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

from sdkit.report import checks_table

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import xarray as xr  # noqa: E402

from sdkit import run  # noqa: E402
from sdkit.check_runs import run_checks  # noqa: E402
from sdkit.checks import checks_path_for, load_checks, scenarios_needed  # noqa: E402
from sdkit.model import load_model  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "kissinger_core.mdl"
IMG = ROOT / "docs" / "img"

# figure -> (title, scenarios, variables)
FIGURES = {
    "rm1": (
        "RM1 balanced stability: -0.25 shocks to legitimacy or power in year 100",
        ["balanced", "rm1_shock_legitimacy", "rm1_shock_power"],
        [
            "legitimacy",
            "power",
            "institutional_authority",
            "revisionist_pressure",
            "restraint",
            "disorder",
        ],
    ),
    "rm2": (
        "RM2 Versailles and its counterfactuals",
        ["versailles", "versailles_balanced", "versailles_resources", "versailles_inclusion"],
        [
            "legitimacy",
            "power",
            "challenger_capability",
            "revisionist_pressure",
            "restraint",
            "institutional_authority",
        ],
    ),
    "rm3": (
        "RM3 chaos, then a new order (Versailles run)",
        ["versailles"],
        [
            "restraint",
            "disorder",
            "revisionist_pressure",
            "settlement",
            "institutional_authority",
            "emphasis",
        ],
    ),
    "rm4": (
        "RM4 the stick bent and swung back (liberal order after 1989)",
        ["drift_1989", "drift_1989_no_response"],
        [
            "emphasis",
            "perceived_revisionism",
            "legitimacy",
            "power",
            "institutional_authority",
            "restraint",
        ],
    ),
    "rm5": (
        "RM5 power-heavy erosion (mercantilist hegemon)",
        ["mercantilist_hegemon", "balanced"],
        [
            "legitimacy",
            "institutional_authority",
            "power",
            "challenger_capability",
            "restraint",
            "disorder",
        ],
    ),
}

def simulate() -> tuple[xr.Dataset, list]:
    """Run every scenario the checks and the figures need."""
    model = load_model(MODEL)
    checks = load_checks(checks_path_for(MODEL))
    names = list(scenarios_needed(checks))
    for _, scenarios, _ in FIGURES.values():
        names += [s for s in scenarios if s not in names]
    return run(model, scenarios=names, engine="engine"), checks


def plot_mode(ds: xr.Dataset, title: str, scenarios: list[str], variables: list[str]) -> plt.Figure:
    """Small multiples: one panel per variable, one line per scenario."""
    fig, axes = plt.subplots(2, 3, figsize=(9.0, 5.0), sharex=True, constrained_layout=True)
    for ax, var in zip(axes.flat, variables, strict=True):
        for scenario in scenarios:
            series = ds[var].sel(scenario=scenario).dropna("time")
            ax.plot(series["time"], series, label=scenario, lw=1.3)
        ax.set_title(ds[var].attrs.get("long_name", var), fontsize=9)
        ax.set_ylim(-0.02, 1.02)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
    for ax in axes[-1]:
        ax.set_xlabel("time [years]", fontsize=8)
    axes.flat[0].legend(fontsize=7, loc="best")
    fig.suptitle(title, fontsize=10)
    return fig



def presets_table() -> str:
    """The four orders' presets and the balanced order under the default exogenous paths."""
    model = load_model(MODEL)
    names = ["balanced", "liberal", "transformative", "mercantilist", "sovereign"]
    ds = run(model, scenarios=names, engine="engine")
    finals = [
        "legitimacy",
        "power",
        "institutional_authority",
        "revisionist_pressure",
        "emphasis",
        "balance",
    ]
    lines = [
        "| scenario | min restraint | max disorder | final L | final P | final A | final R | final λ | final balance B |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name in names:
        d = ds.sel(scenario=name).dropna("time")
        cells = [f"{float(d.restraint.min()):.3f}", f"{float(d.disorder.max()):.3f}"]
        cells += [f"{float(d[v][-1]):.2f}" for v in finals]
        lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    global IMG
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--img", default=str(IMG), help="folder for the figures (default: docs/img)")
    args = parser.parse_args()
    IMG = Path(args.img)
    ds, checks = simulate()
    IMG.mkdir(parents=True, exist_ok=True)
    for key, (title, scenarios, variables) in FIGURES.items():
        fig = plot_mode(ds, title, scenarios, variables)
        fig.savefig(IMG / f"model-core-{key}.png", dpi=110)
        plt.close(fig)
    print(checks_table(run_checks(load_model(MODEL), checks, engine="engine"), markdown=True))
    print()
    print(presets_table())


if __name__ == "__main__":
    main()
