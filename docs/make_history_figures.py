"""Figures and measured values for docs/history.md (the H1 and H2 historical runs).

Usage (from the repository root)::

    python docs/make_history_figures.py          # figures, check table, key dates
    python docs/make_history_figures.py --grid   # also: how the checks fare on a parameter grid

Writes ``docs/img/history-h1.png`` (Versailles 1919-1950, continued to 1970),
``docs/img/history-h2.png`` (the liberal order 1945-2030 and its no-competitor
control) and ``docs/img/history-exogenous.png`` (the exogenous paths of both runs),
and prints the H1/H2 checks and the key dates of both runs as markdown tables (the
values quoted in the doc). Runs use PySD, the reference backend; the grid uses
sdkit's engine (``sdkit.ensemble``).
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import math
from pathlib import Path

import matplotlib

from sdkit.report import checks_table

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import xarray as xr  # noqa: E402

from sdkit import run  # noqa: E402
from sdkit.check_runs import constant_lookup  # noqa: E402
from sdkit.checks import checks_path_for, evaluate, load_checks, scenarios_needed  # noqa: E402
from sdkit.ensemble import ensemble  # noqa: E402
from sdkit.model import load_model  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "kissinger_core.mdl"
IMG = ROOT / "docs" / "img"

# events marked on the figures: year -> label (the paper names 1989, 1991, 2014;
# the others are the events the H1 assumptions stand for, see docs/history.md)
EVENTS_H1 = {1920: "US out", 1933: "1933", 1939: "war", 1941: "US in", 1945: "UN"}
EVENTS_H2 = {1989: "1989", 1991: "USSR ends", 2014: "2014"}

# figure -> (title, scenarios (first solid, second dashed), variables, events, check window)
FIGURES = {
    "h1": (
        "H1 Versailles 1919-1950 (dashed: the same run continued to 1970)",
        ["versailles_1919", "versailles_1919_long"],
        [
            "restraint",
            "disorder",
            "revisionist_pressure",
            "power",
            "legitimacy",
            "institutional_authority",
        ],
        EVENTS_H1,
        (1933, 1941),
    ),
    "h2": (
        "H2 the liberal order 1945-2030 (dashed: no competitor before 1991)",
        ["liberal_1945", "liberal_1945_no_competitor"],
        [
            "emphasis",
            "perceived_revisionism",
            "restraint",
            "legitimacy",
            "institutional_authority",
            "power",
        ],
        EVENTS_H2,
        (1995, 2012),
    ),
}


def simulate() -> tuple[xr.Dataset, list]:
    """Run the scenarios the H1/H2 checks need."""
    model = load_model(MODEL)
    checks = [c for c in load_checks(checks_path_for(MODEL)) if c.mode in {"H1", "H2"}]
    return run(model, scenarios=scenarios_needed(checks), engine="pysd"), checks


def _mark(ax: plt.Axes, events: dict[int, str], window: tuple[float, float], label: bool) -> None:
    ax.axvspan(*window, color="0.85", zorder=0, lw=0)
    for year, text in events.items():
        ax.axvline(year, color="0.45", lw=0.7, ls=":", zorder=1)
        if label:
            # labels sit right of their line, except where the next event is close
            right = not any(0 < other - year <= 2 for other in events)
            ax.text(
                year,
                1.0,
                f" {text} " if right else f"{text} ",
                fontsize=7,
                color="0.3",
                va="top",
                ha="left" if right else "right",
                rotation=90,
            )


def plot_run(
    ds: xr.Dataset,
    title: str,
    scenarios: list[str],
    variables: list[str],
    events: dict[int, str],
    window: tuple[float, float],
) -> plt.Figure:
    """Small multiples: one panel per variable; events dotted, the check window shaded."""
    fig, axes = plt.subplots(2, 3, figsize=(9.0, 5.0), sharex=True, constrained_layout=True)
    for i, (ax, var) in enumerate(zip(axes.flat, variables, strict=True)):
        _mark(ax, events, window, label=i == 0)
        for scenario, style in zip(scenarios, ["-", "--"], strict=True):
            series = ds[var].sel(scenario=scenario).dropna("time")
            ax.plot(
                series["time"],
                series,
                ls=style,
                lw=2.2 if style == "-" else 1.3,
                color="C0" if style == "-" else "C1",
            )
        ax.set_title(ds[var].attrs.get("long_name", var), fontsize=9)
        ax.set_ylim(-0.02, 1.02)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
    for ax in axes[-1]:
        ax.set_xlabel("year", fontsize=8)
    fig.suptitle(title + "; grey: the years the checks name", fontsize=10)
    return fig


def plot_exogenous(ds: xr.Dataset) -> plt.Figure:
    """The exogenous paths of both runs: guarantors' share, challenger, social driver, phases."""
    fig, axes = plt.subplots(1, 2, figsize=(9.0, 3.2), constrained_layout=True)
    panels = [
        ("versailles_1919", "H1 1919-1950", ["guarantor_resource_share", "challenger_capability"]),
        (
            "liberal_1945",
            "H2 1945-2030",
            [
                "guarantor_resource_share",
                "challenger_capability",
                "social_driver",
                "phased_emphasis",
                "competitor_presence",
            ],
        ),
    ]
    for ax, (scenario, title, variables) in zip(axes, panels, strict=True):
        d = ds.sel(scenario=scenario).dropna("time")
        for var in variables:
            ax.plot(d["time"], d[var], lw=1.3, label=d[var].attrs.get("long_name", var))
        ax.set_title(title, fontsize=9)
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("year", fontsize=8)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="best")
    fig.suptitle("Exogenous paths and phases of the historical runs", fontsize=10)
    return fig



def _first(series: xr.DataArray, below: bool, level: float, after: float = -math.inf) -> float:
    s = series.where(series["time"] >= after).dropna("time")
    hit = s.where(s < level if below else s > level).dropna("time")
    return float(hit["time"][0]) if hit.size else math.nan


def dates_table(ds: xr.Dataset) -> str:
    """Key dates of both runs (first sample past each level, no interpolation)."""
    rows = []
    h1 = ds.sel(scenario="versailles_1919_long").dropna("time")
    collapse = _first(h1.restraint, True, 0.5)
    recovery = _first(h1.restraint, False, 0.5, after=collapse)
    league_peak = float(h1.institutional_authority.where(h1.time <= collapse).max())
    exceeded = _first(h1.institutional_authority, False, league_peak, after=recovery)
    rows += [
        ("H1", "restraint first below 0.5 (collapse)", f"{collapse:g}"),
        ("H1", "disorder peaks", f"{float(h1.disorder.idxmax()):g}"),
        ("H1", "restraint back above 0.5 (new order)", f"{recovery:g}"),
        ("H1", "institutional authority before the collapse, maximum", f"{league_peak:.3f}"),
        (
            "H1",
            "institutional authority in 1950",
            f"{float(h1.institutional_authority.sel(time=1950)):.3f}",
        ),
        ("H1", "institutional authority first above the League's maximum", f"{exceeded:g}"),
    ]
    h2 = ds.sel(scenario="liberal_1945").dropna("time")
    peak = float(h2.emphasis.idxmax())
    rows += [
        ("H2", "emphasis peaks (value)", f"{peak:g} ({float(h2.emphasis.max()):.3f})"),
        (
            "H2",
            "perceived revisionism first above the tolerance 0.2",
            f"{_first(h2.perceived_revisionism, False, 0.2):g}",
        ),
        ("H2", "legitimacy peaks", f"{float(h2.legitimacy.idxmax()):g}"),
        ("H2", "restraint first below 0.5", f"{_first(h2.restraint, True, 0.5):g}"),
        (
            "H2",
            "minimum restraint (year)",
            f"{float(h2.restraint.min()):.3f} ({float(h2.restraint.idxmin()):g})",
        ),
        (
            "H2",
            "disorder peaks (value)",
            f"{float(h2.disorder.idxmax()):g} ({float(h2.disorder.max()):.3f})",
        ),
        (
            "H2",
            "restraint back above 0.5",
            f"{_first(h2.restraint, False, 0.5, after=_first(h2.restraint, True, 0.5)):g}",
        ),
        (
            "H2",
            "emphasis minimum after the peak (year)",
            f"{float(h2.emphasis.where(h2.time >= peak).min()):.3f} ({float(h2.emphasis.where(h2.time >= peak).idxmin()):g})",
        ),
        (
            "H2",
            "emphasis, legitimacy, authority in 2030",
            f"{float(h2.emphasis[-1]):.3f}, {float(h2.legitimacy[-1]):.3f}, {float(h2.institutional_authority[-1]):.3f}",
        ),
    ]
    lines = ["| run | event | year or value |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(lines)


# scenario values varied around each run's choice (the choice is in every grid)
GRIDS = {
    "H1": (
        "versailles_1919",
        {
            "legitimacy emphasis": [0.75, 0.8, 0.85],
            "challenger rise start": [1930, 1933, 1935],
            "challenger growth rate": [0.1, 0.15, 0.2],
            "challenger max capability": [0.5, 0.6, 0.7],
            "initial power": [0.3, 0.4, 0.5],
            "commitment to top floor": [0.3, 0.4, 0.5],
        },
    ),
    "H2": (
        "liberal_1945",
        {
            "challenger rise start": [1980, 1990, 2000],
            "challenger growth rate": [0.03, 0.04, 0.06],
            "challenger max capability": [0.4, 0.5, 0.6],
            "challenger inclusion": [0.3, 0.5, 0.7],
            "threat response": [2, 3, 4],
        },
    ),
}


def grid_table(checks) -> str:
    """How many grid points pass every check of a mode that reads only its own scenario."""
    model = load_model(MODEL)
    lines = ["| mode | grid | points | pass all | per check: passed |", "|---|---|---|---|---|"]
    notes = []
    for mode, (scenario, grid) in GRIDS.items():
        own = [
            c
            for c in checks
            if c.mode == mode and c.scenario == scenario and scenarios_needed([c]) == [scenario]
        ]
        frame = pd.DataFrame(list(itertools.product(*grid.values())), columns=list(grid))
        variables = sorted({v for c in own for v in _variables(c.measure) | _variables(c.than)})
        variables = sorted(set(variables) | {"Restraint"})
        ds = ensemble(model, frame, variables=variables, scenario=scenario)
        labels = [f"p{i}" for i in range(len(frame))]
        ds = ds.rename(sample="scenario").assign_coords(scenario=labels)
        passed = np.ones(len(frame), dtype=bool)
        per_check = []
        base_lookup = constant_lookup(model, {})

        def lookup(name: str, label: str, scenario: str = scenario, base=base_lookup) -> float:
            # grid points vary only the grid's columns; a param a check reads comes from the base scenario
            return base(name, scenario)

        for check in own:
            ok = np.array(
                [
                    r.passed != bool(check.xfail)
                    for r in evaluate([dataclasses.replace(check, scenario=s) for s in labels], ds, lookup)
                ]
            )
            if not check.xfail:
                passed &= ok
            per_check.append(f"{check.id.split('.', 1)[1]} {ok.sum()}")
        ranges = "; ".join(f"{k} {min(v):g}-{max(v):g}" for k, v in grid.items())
        lines.append(
            f"| {mode} | {ranges} | {len(frame)} | {passed.sum()} | {', '.join(per_check)} |"
        )
        if mode == "H2":
            restraint = ds["restraint"].min("time").values
            notes.append(
                f"H2 grid: minimum restraint over the points that pass every H2 check: "
                f"largest {restraint[passed].max():.3f}; points with restraint above 0.5 "
                f"throughout: {int((restraint > 0.5).sum())}, of which passing: "
                f"{int((passed & (restraint > 0.5)).sum())}"
            )
    return "\n".join(lines + [""] + notes)


def _variables(spec) -> set[str]:
    if isinstance(spec, dict):
        found = {spec["var"]} if "var" in spec else set()
        for value in spec.values():
            found |= _variables(value)
        return found
    if isinstance(spec, list):
        return set().union(*(_variables(v) for v in spec)) if spec else set()
    return set()


def main() -> None:
    global IMG
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--img", default=str(IMG), help="folder for the figures (default: docs/img)")
    parser.add_argument(
        "--grid", action="store_true", help="also print how the checks fare on a parameter grid"
    )
    args = parser.parse_args()
    IMG = Path(args.img)
    ds, checks = simulate()
    IMG.mkdir(parents=True, exist_ok=True)
    for key, (title, scenarios, variables, events, window) in FIGURES.items():
        fig = plot_run(ds, title, scenarios, variables, events, window)
        fig.savefig(IMG / f"history-{key}.png", dpi=110)
        plt.close(fig)
    model = load_model(MODEL)
    paths = run(
        model,
        scenarios=["versailles_1919", "liberal_1945"],
        variables=[
            "Guarantor Resource Share",
            "Challenger Capability",
            "Social Driver",
            "Phased Emphasis",
            "Competitor Presence",
        ],
        engine="pysd",
    )
    fig = plot_exogenous(paths)
    fig.savefig(IMG / "history-exogenous.png", dpi=110)
    plt.close(fig)
    print(checks_table(evaluate(checks, ds, constant_lookup(load_model(MODEL), {})), markdown=True))
    print()
    print(dates_table(ds))
    if args.grid:
        print()
        print(grid_table(checks))


if __name__ == "__main__":
    main()
