"""Benchmark: one order's Sobol study on the vectorised engine against PySD's measured speed.

A Sobol study of the liberal order with 15 parameters (its six order parameters and nine
system parameters) and 2^12 base samples with second-order indices: N (2D + 2) =
4096 x 32 = 131,072 runs. The sweep is timed end to end (sampling, engine runs, metrics,
analysis); PySD's speed is measured by timing 3 runs of the core model with
``Model.pysd_model().run()``, and the same study's time on PySD is estimated from it.

Run from the project root::

    .venv/bin/python benchmarks/sweep.py               # the full benchmark (about 1-2 min)
    .venv/bin/python benchmarks/sweep.py --samples 512 # a quick check
    .venv/bin/python benchmarks/sweep.py --workers 2   # chunks on a local dask cluster
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "kissinger_core.mdl"

PARAMETERS = {
    # the liberal order's parameters, ranges from the table in docs/theory.md
    "legitimacy emphasis": [0.45, 0.80],
    "commitment to top floor": [0.50, 0.90],
    "openness to civil society": [0.40, 0.80],
    "zero sum logic": [0.10, 0.50],
    "expansiveness": [0.70, 1.00],
    "supremacy claim": [0.60, 0.95],
    # system parameters
    "CES exponent": [-4.0, -0.5],
    "restraint steepness": [10.0, 40.0],
    "restraint threshold": [0.0, 0.2],
    "legitimacy adjustment time": [3.0, 15.0],
    "power adjustment time": [3.0, 15.0],
    "institution adjustment time": [5.0, 30.0],
    "revisionism adjustment time": [3.0, 15.0],
    "challenger inclusion": [0.0, 1.0],
    "guarantor share decline rate": [0.0, 0.02],
}


def definition(samples: int) -> dict:
    return {
        "model": str(MODEL), "scenario": "liberal", "method": "sobol", "samples": samples,
        "seed": 20261124, "chunk_size": 16384,
        "options": {"calc_second_order": True, "num_resamples": 100},
        "parameters": PARAMETERS,
        "outputs": {
            "first_collapse": {"variable": "Restraint", "metric": "first_below", "threshold": 0.5},
            "min_restraint": {"variable": "Restraint", "metric": "min"},
            "final_authority": {"variable": "Institutional Authority", "metric": "final"},
        },
    }


def pysd_runs_per_second(model, repeats: int = 3) -> float:
    """Time ``repeats`` PySD runs of the model with the liberal scenario (translation excluded)."""
    pysd_model = model.pysd_model()
    params = {model.resolve_parameter(k): v for k, v in model.scenarios["liberal"].parameters.items()}
    pysd_model.run(params=params, progress=False)  # warm-up: first run initialises the model
    started = time.perf_counter()
    for _ in range(repeats):
        pysd_model.run(params=params, progress=False)
    return repeats / (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=4096, help="base sample size N (power of 2; default 4096)")
    parser.add_argument("--workers", type=int, help="run chunks on a local dask cluster of N processes")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    warnings.filterwarnings("ignore", module=r"pysd\..*")
    warnings.filterwarnings("ignore", category=DeprecationWarning)

    from sdkit.executors import executor
    from sdkit.sensitivity import load_study_model, n_runs, run_study, study_from_dict

    study = study_from_dict(definition(args.samples), name="benchmark_liberal_sobol")
    model = load_study_model(study)
    runs = n_runs(study.method, study.samples, len(study.parameters), study.options)
    print(f"Sobol study, liberal order: {len(study.parameters)} parameters, N = {study.samples}, "
          f"second order on -> {runs} runs of {MODEL.name} "
          f"({model.time.final_time - model.time.initial_time:g} years, dt = {model.time.time_step:g})")
    model.kernel  # noqa: B018 - compile outside the timing
    with executor(args.workers, None) as client:
        started = time.perf_counter()
        result = run_study(study, model=model, executor=client)
        seconds = time.perf_counter() - started
    rate = runs / seconds
    pysd_rate = pysd_runs_per_second(model)
    pysd_seconds = runs / pysd_rate
    where = f"{args.workers} dask workers" if args.workers else "one process"
    print(f"engine sweep ({where}, sampling + runs + analysis): {seconds:.1f} s = {rate:,.0f} runs/s")
    print(f"PySD: {pysd_rate:.1f} runs/s measured over 3 runs -> the same study would take about "
          f"{pysd_seconds / 3600:.1f} h ({pysd_seconds:,.0f} s)")
    print(f"speed-up of the engine sweep over PySD: {pysd_seconds / seconds:,.0f}x")
    top = result.indices["ST"].sel(output="final_authority").to_series().sort_values(ascending=False)
    print("largest ST for final institutional authority: "
          + ", ".join(f"{k} {v:.2f}" for k, v in top.head(3).items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
