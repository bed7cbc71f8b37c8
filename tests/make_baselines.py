"""Synthetic datasets for the plotting tests, and the script that draws the baseline PNGs.

The datasets follow sdkit's conventions (run, ensemble, balance map, sensitivity)
and are built from closed-form curves, so they are the same on every machine.

Regenerate the baselines (only after a deliberate change of a figure's look,
and look at the PNGs before committing them)::

    .venv/bin/python tests/make_baselines.py
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import xarray as xr

BASELINE_DIR = Path(__file__).parent / "baseline"
BASELINE_DPI = 100
ORDERS = ("liberal", "transformative", "mercantilist", "sovereign")
PARAMS = ("legitimacy_emphasis", "commitment_top_floor", "openness_civil_society",
          "zero_sum_logic", "expansiveness", "supremacy_claim")
RUN_VARS = {
    "legitimacy": "Legitimacy",
    "power": "Power",
    "institutional_authority": "Institutional Authority",
    "civil_society_pressure": "Civil Society Pressure",
    "restraint": "Restraint",
    "disorder": "Disorder",
}


def run_dataset(scenarios=ORDERS, n_time: int = 101) -> xr.Dataset:
    """Run-like dataset: damped oscillations in [0, 1], one phase per scenario and variable."""
    t = np.linspace(0.0, 100.0, n_time)
    data = {}
    for i, (name, long_name) in enumerate(RUN_VARS.items()):
        rows = [0.5 + 0.3 * np.sin(t / 15.0 + i + 0.9 * j) * np.exp(-t / 80.0)
                for j in range(len(scenarios))]
        data[name] = xr.DataArray(np.array(rows), dims=("scenario", "time"),
                                  attrs={"long_name": long_name, "units": "Dmnl"})
    return xr.Dataset(data, coords={"scenario": list(scenarios),
                                    "time": ("time", t, {"units": "year"})})


def restraint_region(n: int = 41) -> xr.DataArray:
    """Boolean grid (power, legitimacy): restraint holds where both exceed 0.35."""
    leg = np.linspace(0.0, 1.0, n)
    pow_ = np.linspace(0.0, 1.0, n)
    grid_l, grid_p = np.meshgrid(leg, pow_)
    return xr.DataArray(np.minimum(grid_l, grid_p) > 0.35, dims=("power", "legitimacy"),
                        coords={"power": pow_, "legitimacy": leg})


def map_dataset(nx: int = 200, ny: int = 210) -> xr.Dataset:
    """Balance map: a diagonal band of stable order between two other regimes."""
    x = np.linspace(0.0, 1.0, nx)
    y = np.linspace(0.0, 1.0, ny)
    gx, gy = np.meshgrid(x, y)
    outcome = np.where(np.abs(gx - gy) < 0.25, 0, np.where(gy > gx, 1, 2)).astype("int8")
    attrs = {"flag_values": [0, 1, 2],
             "flag_meanings": "stable_order collapse_then_new_order lasting_disorder",
             "long_name": "Regime outcome"}
    return xr.Dataset(
        {"outcome": (("legitimacy_emphasis", "guarantor_share_initial"), outcome, attrs)},
        coords={
            "legitimacy_emphasis": ("legitimacy_emphasis", y,
                                    {"long_name": "Legitimacy emphasis", "units": "Dmnl"}),
            "guarantor_share_initial": ("guarantor_share_initial", x,
                                        {"long_name": "Guarantor share (initial)",
                                         "units": "Dmnl"}),
        },
    )


def ensemble_dataset(n_sample: int = 40, seed: int = 0) -> xr.Dataset:
    """Ensemble-like dataset (sample, time) of institutional authority."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 100.0, 101)
    rate = rng.uniform(0.01, 0.05, (n_sample, 1))
    phase = rng.uniform(0.0, 1.0, (n_sample, 1))
    values = 0.5 + 0.4 * np.exp(-rate * t[None, :]) * np.cos(t[None, :] / 20.0 + phase)
    attrs = {"long_name": "Institutional Authority", "units": "Dmnl"}
    return xr.Dataset({"institutional_authority": (("sample", "time"), values, attrs)},
                      coords={"sample": np.arange(n_sample), "time": t})


def sobol_dataset(order: str, seed: int = 0,
                  outputs=("restraint_min", "disorder_peak")) -> xr.Dataset:
    """Sobol-like indices (output, param) with SALib's variable names."""
    rng = np.random.default_rng(seed)
    shape = (len(outputs), len(PARAMS))
    s1 = rng.uniform(0.0, 0.4, shape)
    st = s1 + rng.uniform(0.0, 0.2, shape)
    dims = ("output", "param")
    return xr.Dataset(
        {"S1": (dims, s1), "S1_conf": (dims, rng.uniform(0.0, 0.05, shape)),
         "ST": (dims, st), "ST_conf": (dims, rng.uniform(0.0, 0.05, shape))},
        coords={"output": list(outputs), "param": list(PARAMS)},
        attrs={"method": "sobol", "scenario": order},
    )


def morris_dataset(order: str = "liberal", seed: int = 1) -> xr.Dataset:
    """Morris-like results (output, param)."""
    rng = np.random.default_rng(seed)
    shape = (1, len(PARAMS))
    mu = rng.uniform(0.0, 0.5, shape)
    dims = ("output", "param")
    return xr.Dataset(
        {"mu_star": (dims, mu), "mu_star_conf": (dims, 0.1 * mu),
         "sigma": (dims, rng.uniform(0.0, 0.5, shape))},
        coords={"output": ["restraint_min"], "param": list(PARAMS)},
        attrs={"method": "morris", "scenario": order},
    )


def time_resolved_dataset(seed: int = 2) -> xr.Dataset:
    """Time-resolved indices (output, param, time)."""
    rng = np.random.default_rng(seed)
    t = np.arange(0.0, 101.0, 5.0)
    st = rng.uniform(0.0, 0.6, (1, len(PARAMS), t.size))
    dims = ("output", "param", "time")
    return xr.Dataset({"ST": (dims, st), "S1": (dims, 0.7 * st)},
                      coords={"output": ["restraint"], "param": list(PARAMS), "time": t})


def convergence_dataset(seed: int = 3) -> xr.Dataset:
    """Convergence results (size, output, param)."""
    rng = np.random.default_rng(seed)
    sizes = np.array([64, 128, 256, 512, 1024])
    base = rng.uniform(0.0, 0.6, (1, len(PARAMS)))
    shrink = np.sqrt(sizes / 64.0)[:, None, None]
    st = base[None] + rng.normal(0.0, 0.1, (sizes.size, 1, len(PARAMS))) / shrink
    conf = 0.2 / shrink * np.ones_like(st)
    dims = ("size", "output", "param")
    return xr.Dataset({"ST": (dims, st), "ST_conf": (dims, conf),
                       "S1": (dims, 0.8 * st), "S1_conf": (dims, conf)},
                      coords={"size": sizes, "output": ["restraint_min"], "param": list(PARAMS)})


# --------------------------------------------------------------------------- baseline figures


def fig_trajectories():
    from sdkit import plot

    with plot.style("single"):
        return plot.trajectories(run_dataset())


def fig_phase():
    from sdkit import plot

    with plot.style("single", aspect=1.0):
        ax = plot.phase_portrait(run_dataset(("liberal", "mercantilist", "versailles")),
                                 region=restraint_region(), region_label="restraint holds")
        return ax.get_figure()


def fig_balance_map():
    from sdkit import plot

    with plot.style("single"):
        return plot.balance_map(map_dataset(60, 64)).get_figure()


def fig_sobol():
    from sdkit import plot

    with plot.style("double"):
        return plot.sobol_indices(
            {o: sobol_dataset(o, i) for i, o in enumerate(ORDERS)}, "restraint_min")


BASELINES: dict[str, Callable] = {
    "trajectories": fig_trajectories,
    "phase_portrait": fig_phase,
    "balance_map": fig_balance_map,
    "sobol_indices": fig_sobol,
}


def render(name: str, folder: Path) -> Path:
    """Draw one baseline figure and save it as ``<folder>/<name>.png``."""
    import matplotlib.pyplot as plt

    from sdkit.figures_io import save_figure

    fig = BASELINES[name]()
    try:
        (path,) = save_figure(fig, folder / name, formats=("png",), dpi=BASELINE_DPI)
    finally:
        plt.close(fig)
    return path


def main() -> int:
    import matplotlib

    matplotlib.use("Agg")
    BASELINE_DIR.mkdir(exist_ok=True)
    for name in BASELINES:
        sys.stdout.write(f"{render(name, BASELINE_DIR)}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
