"""The study steps of ``sdkit reproduce`` for the project's models.

They run after the generic steps (scenario runs, checks, reference-mode figures,
sensitivity studies) when the models folder holds the project's two models, and read
what those steps left in the :class:`sdkit.reproduce.Context`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sdkit.io import write_netcdf
from sdkit.kissinger import CORE, ORDERS
from sdkit.reproduce import Context

Echo = Callable[[str], None]

BALANCE_MAP_AXES = (("legitimacy emphasis", 0.0, 1.0), ("guarantor share initial", 0.2, 1.0))
BALANCE_MAP_SCENARIO = "versailles"
FAN_RUNS = 400
FAN_VARIABLES = ("Restraint", "Legitimacy", "Power", "Institutional Authority")


def step_core_figures(context: Context, echo: Echo) -> None:
    """Trajectories and phase portrait of the four orders of the core model."""
    from sdkit.kissinger import figures

    model = context.model(context.models / f"{CORE}.mdl")
    dataset = context.datasets[CORE]
    written = figures.figure_trajectories(dataset, context.figures(), context.metadata)
    region = figures.restraint_region(model, "balanced", resolution=60 if context.quick else 160)
    written += figures.figure_phase(dataset, region, context.figures(), context.metadata)
    context.written += written
    echo(f"{len(written)} figure files")


def step_balance_map(context: Context, echo: Echo) -> None:
    """Outcome over legitimacy emphasis and the guarantors' resource share, Versailles-like challenger."""
    from sdkit import figures
    from sdkit.kissinger.outcomes import restraint_map

    model = context.model(context.models / f"{CORE}.mdl")
    resolution = 60 if context.quick else 200
    x, y = BALANCE_MAP_AXES
    ds_map = restraint_map(model, x, y, resolution=resolution, scenario=BALANCE_MAP_SCENARIO)
    ds_map.attrs["quick"] = str(context.quick).lower()
    context.written.append(write_netcdf(ds_map, context.out / "balance-map.nc"))
    context.written += figures.figure_balance_map(ds_map, context.figures(), context.metadata)
    counts = np.bincount(ds_map["outcome"].to_numpy().ravel(), minlength=3)
    echo(
        f"balance map {resolution}x{resolution} ({BALANCE_MAP_SCENARIO}): "
        f"{counts[0]} stable, {counts[1]} collapse then new order, {counts[2]} lasting disorder"
    )


def step_sensitivity_figures(context: Context, echo: Echo) -> None:
    """Sobol indices of the four orders side by side, Morris screening, time-resolved and convergence."""
    from sdkit.kissinger import figures

    written = figures.figure_sensitivity(context.sweeps, context.figures(), context.metadata)
    context.written += written
    echo(f"{len(written)} figure files")


def step_fans(context: Context, echo: Echo) -> None:
    """Ensembles over each order's parameter ranges (its Sobol study's sample): fan charts."""
    from sdkit import figures
    from sdkit.ensemble import ensemble
    from sdkit.sensitivity import read_study, sample, sample_frame

    model = context.model(context.models / f"{CORE}.mdl")
    runs = FAN_RUNS // 4 if context.quick else FAN_RUNS
    fans = {}
    for order in ORDERS:
        study = read_study(context.models.parent / "sensitivity" / f"{order}_sobol.toml")
        frame = sample_frame(study, sample(study)[:runs])
        fans[order] = ensemble(model, frame, variables=list(FAN_VARIABLES), scenario=study.scenario)
    written = []
    for variable in ("restraint", "institutional_authority"):
        written += figures.figure_fan(fans, variable, context.figures(), context.metadata)
    context.written += written
    echo(f"fan charts from {runs} runs per order: {len(written)} figure files")


def step_loop_dominance(context: Context, echo: Echo) -> None:
    """Loop dominance (Loops That Matter) in the Versailles run, under restraint (docs/loops.md)."""
    from sdkit.kissinger.docs.loops import MODES, write_dominance

    model = context.model(context.models / f"{CORE}.mdl")
    written, text = write_dominance(model, context.figures(), context.metadata, {"rm2": MODES["rm2"]}, grid=False)
    context.written += written
    context.write_text("loops-rm2.md", text + "\n")
    echo(f"{len(written)} figure files")


def step_docs_figures(context: Context, echo: Echo) -> None:
    """The figures and tables of docs/*.md (:mod:`sdkit.kissinger.docs`), into ``OUT/img``.

    With ``--quick`` they read the reduced studies, so their tables differ from those the
    docs quote (which come from the full run); the figures carry ``sdkit:quick``.
    """
    from sdkit.kissinger.docs import PAGES, write_page

    img = context.out / "img"
    for page, script in PAGES.items():
        made, text = write_page(page, context.models, img, context.metadata, sweeps=context.out / "sweeps")
        context.write_text(f"img/{script}.txt", text + "\n")
        context.written += made
        echo(f"docs page {page}: {len(made)} figure files")
