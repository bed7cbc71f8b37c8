"""The figures and tables of ``docs/model-core.md``: the core model's reference modes.

:func:`write` draws ``model-core-rm1`` ... ``rm5`` (small multiples of the variables each
mode is about) and returns the reference-mode checks and the four orders' presets as
markdown tables, the values the doc quotes. Robustness: ``sdkit check
models/kissinger_core.mdl --robust``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import xarray as xr

from sdkit.check_runs import run_checks
from sdkit.checks import checks_path_for, load_checks
from sdkit.figures_io import write_figure
from sdkit.kissinger import CORE
from sdkit.kissinger.docs import page_runs
from sdkit.kissinger.docs.panels import study_figure
from sdkit.model import load_model
from sdkit.report import checks_table
from sdkit.run import run

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


def simulate(models: Path) -> tuple[xr.Dataset, list]:
    """Run every scenario the checks and the figures need."""
    path = models / f"{CORE}.mdl"
    checks = load_checks(checks_path_for(path))
    return page_runs(path, checks, [s for _, scenarios, _ in FIGURES.values() for s in scenarios]), checks


def presets_table(models: Path) -> str:
    """The four orders' presets and the balanced order under the default exogenous paths."""
    model = load_model(models / f"{CORE}.mdl")
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


def write(models: Path, img: Path, metadata: Mapping[str, str], sweeps: Path | None = None) -> tuple[list[Path], str]:
    """Draw the figures into `img`; return the files and the doc's tables."""
    from sdkit import plot

    ds, checks = simulate(models)
    written: list[Path] = []
    for key, (title, scenarios, variables) in FIGURES.items():
        with plot.style("double"):
            written += write_figure(study_figure(ds, title, scenarios, variables), img, f"model-core-{key}", metadata)
    results = run_checks(load_model(models / f"{CORE}.mdl"), checks, engine="engine")
    return written, checks_table(results, markdown=True) + "\n\n" + presets_table(models)
