"""The figures and tables of ``docs/history.md``: the historical runs H1 (1919) and H2 (1945).

:func:`write` draws ``history-h1`` and ``history-h2`` (small multiples, the events
dotted, the years the checks name shaded) and the exogenous paths of both runs, and
returns the H1/H2 checks and the key dates of both runs as markdown tables.
:func:`grid_table` (how the checks fare on a grid of scenario values) is slow and runs
on request: ``python docs/make_history_figures.py --grid``.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import tomllib
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from sdkit.check_runs import constant_lookup
from sdkit.checks import checks_path_for, evaluate, load_checks, scenarios_needed
from sdkit.ensemble import ensemble
from sdkit.figures_io import write_figure
from sdkit.kissinger import CORE
from sdkit.kissinger.docs import page_runs
from sdkit.kissinger.docs.panels import study_figure
from sdkit.model import load_model
from sdkit.report import checks_table
from sdkit.run import run

# events marked on the figures (the paper names 1989, 1991, 2014; the others are the
# events the H1 assumptions stand for, see docs/history.md)
EVENTS_H1 = (1920, 1933, 1939, 1941, 1945)
EVENTS_H2 = (1989, 1991, 2014)

# figure -> (title, scenarios, variables, events, years the checks name)
FIGURES = {
    "h1": (
        "H1 Versailles 1919-1970 (dotted: 1920, 1933, 1939, 1941, 1945)",
        ["versailles_1919_long"],
        ["restraint", "disorder", "revisionist_pressure", "power", "legitimacy", "institutional_authority"],
        EVENTS_H1,
        (1933, 1941),
    ),
    "h2": (
        "H2 the liberal order 1945-2030 (dotted: 1989, 1991, 2014)",
        ["liberal_1945", "liberal_1945_no_competitor"],
        ["emphasis", "perceived_revisionism", "restraint", "legitimacy", "institutional_authority", "power"],
        EVENTS_H2,
        (1995, 2012),
    ),
}
EXOGENOUS = {
    "h1": ("versailles_1919", "Exogenous paths of H1, 1919-1950",
           ["guarantor_resource_share", "challenger_capability"]),
    "h2": ("liberal_1945", "Exogenous paths and phases of H2, 1945-2030",
           ["guarantor_resource_share", "challenger_capability", "social_driver", "phased_emphasis",
            "competitor_presence"]),
}


def page_checks(models: Path) -> list:
    """The H1 and H2 checks of the core model."""
    return [c for c in load_checks(checks_path_for(models / f"{CORE}.mdl")) if c.mode in {"H1", "H2"}]


def simulate(models: Path) -> tuple[xr.Dataset, list]:
    """Run the scenarios the H1/H2 checks and the figures need."""
    checks = page_checks(models)
    return page_runs(models / f"{CORE}.mdl", checks, engine="pysd"), checks


def figures(ds: xr.Dataset, models: Path, img: Path, metadata: Mapping[str, str]) -> list[Path]:
    """The two runs, then the exogenous paths of each (one figure per run: their calendars differ)."""
    from sdkit import plot

    written: list[Path] = []
    for key, (title, scenarios, variables, events, window) in FIGURES.items():
        with plot.style("double"):
            fig = study_figure(ds, title + "; grey: the years the checks name", scenarios, variables,
                               shade=window, events=events)
            written += write_figure(fig, img, f"history-{key}", metadata)
    names = sorted({v for _, _, variables in EXOGENOUS.values() for v in variables})
    paths = run(load_model(models / f"{CORE}.mdl"), scenarios=[s for s, _, _ in EXOGENOUS.values()],
                variables=names, engine="pysd")
    for key, (scenario, title, variables) in EXOGENOUS.items():
        with plot.style("double"):
            fig = study_figure(paths, title, [scenario], variables)
            written += write_figure(fig, img, f"history-exogenous-{key}", metadata)
    return written


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


def grids() -> dict[str, tuple[str, dict[str, list[float]]]]:
    """Mode -> (its scenario, constant -> values varied around the scenario's own), from
    ``history_grids.toml`` beside this module."""
    tables = tomllib.loads(Path(__file__).with_name("history_grids.toml").read_text(encoding="utf-8"))
    return {mode: (table["scenario"], table["values"]) for mode, table in tables.items()}


def grid_table(models: Path, checks) -> str:
    """How many grid points pass every check of a mode that reads only its own scenario."""
    model = load_model(models / f"{CORE}.mdl")
    lines = ["| mode | grid | points | pass all | per check: passed |", "|---|---|---|---|---|"]
    notes = []
    for mode, (scenario, grid) in grids().items():
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


def grid(models: Path) -> str:
    """The grid table of the page's checks (``--grid``)."""
    return grid_table(models, page_checks(models))


def write(models: Path, img: Path, metadata: Mapping[str, str], sweeps: Path | None = None) -> tuple[list[Path], str]:
    """Draw the figures into `img`; return the files and the doc's tables."""
    ds, checks = simulate(models)
    written = figures(ds, models, img, metadata)
    results = evaluate(checks, ds, constant_lookup(load_model(models / f"{CORE}.mdl"), {}))
    return written, checks_table(results, markdown=True) + "\n\n" + dates_table(ds)
