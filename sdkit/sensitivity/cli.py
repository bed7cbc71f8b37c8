"""``sdkit sweep``: run a sensitivity study from its TOML definition.

:func:`add_sweep_parser` adds the sub-command and its options to an ``argparse``
parser; :func:`cmd_sweep` reads and checks the study, checks its planned runs and memory
against ``--max-runs``/``--max-memory``, then prints a dry-run estimate or runs the sweep
(:func:`~sdkit.sensitivity.pipeline.run_study`) and prints the top parameters of each
output (:func:`top_table`) and the convergence verdicts.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from sdkit.cli_options import add_shared
from sdkit.report import table
from sdkit.sensitivity.budget import DEFAULT_MAX_RUNS, Limits
from sdkit.sensitivity.methods import METHODS

__all__ = ["add_sweep_parser", "cmd_sweep", "top_table"]


def add_sweep_parser(subparsers: Any, help_text: str) -> argparse.ArgumentParser:
    """Add the ``sweep`` sub-command to an ``argparse`` subparsers object."""
    p = subparsers.add_parser("sweep", help=help_text, description=f"Run a sensitivity study ({', '.join(METHODS)}) from a TOML file.")
    p.add_argument("spec", metavar="SPEC.toml", help="study definition, e.g. sensitivity/liberal_sobol.toml")
    p.add_argument("--out", metavar="DIR", help="output folder (default: results/<spec stem>/)")
    p.add_argument("--scenarios", metavar="FILE.toml",
                   help="scenarios file of the study's model (default: <model>.scenarios.toml beside the model)")
    p.add_argument("--checks", metavar="FILE.toml",
                   help="print each check of FILE that reads the study's scenario: its pass share and margins over the runs")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--workers", type=int, metavar="N", help="run chunks on a local dask cluster of N processes")
    group.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run chunks on a running dask scheduler")
    p.add_argument("--resume", action="store_true", help="continue a killed sweep in DIR: compute only missing chunks")
    p.add_argument("--dry-run", action="store_true", help="print the number of runs and an estimated time, run nothing")
    p.add_argument("--force", action="store_true", help="start afresh in a non-empty DIR (deletes its chunks and results)")
    p.add_argument("--no-figures", action="store_true", help="do not draw the study's figures into OUT/figures/")
    p.add_argument("--keep-chunks", action="store_true",
                   help="keep DIR/chunks after the results are written (default: deleted once the sweep finishes)")
    add_shared(p, "--engine")
    p.add_argument("--max-runs", type=int, default=DEFAULT_MAX_RUNS, metavar="N",
                   help=f"refuse a study planning more runs (default {DEFAULT_MAX_RUNS:,})")
    p.add_argument("--max-memory", type=float, metavar="GB",
                   help="refuse a study estimated to need more memory (default: 80%% of this machine's)")
    p.add_argument("--top", type=int, default=5, metavar="K", help="parameters to list per output (default 5)")
    p.add_argument("--allow-outside-range", action="store_true",
                   help="sweep bounds outside the constants' documented ranges (recorded in the results)")
    p.set_defaults(func=cmd_sweep)
    return p


def top_table(indices: xr.Dataset, k: int = 5) -> str:
    """Plain-text table of the ``k`` most influential parameters of each output."""
    method = str(indices.attrs.get("method", "sobol"))
    key = METHODS[method].ranking
    extra = [c for c in ("S1", "sigma") if c in indices and c != key]
    conf = f"{key}_conf" if f"{key}_conf" in indices else None
    header = ["output", "rank", "parameter", key + (" ± conf" if conf else ""), *extra]
    rows = []
    for output in indices["output"].values:
        sub = indices.sel(output=output)
        values = sub[key].to_numpy()
        order = np.argsort(-np.nan_to_num(values, nan=-np.inf))[:k]
        for rank, i in enumerate(order, start=1):
            shown = f"{values[i]:.3f}" + (f" ± {sub[conf].values[i]:.3f}" if conf else "")
            rows.append([str(output) if rank == 1 else "", str(rank), str(sub["param"].values[i]), shown,
                         *[f"{sub[c].values[i]:.3f}" for c in extra]])
    return table(header, rows)


def _seconds(s: float) -> str:
    return f"{s:.1f} s" if s < 120 else f"{s / 60:.1f} min" if s < 7200 else f"{s / 3600:.1f} h"


def _limits(args: argparse.Namespace) -> Limits:
    from sdkit.errors import ParameterError

    if args.max_runs < 1:
        raise ParameterError(f"--max-runs must be at least 1, got {args.max_runs}")
    if args.max_memory is not None and not args.max_memory > 0:
        raise ParameterError(f"--max-memory must be a positive number of GB, got {args.max_memory:g}")
    return Limits(args.max_runs, None if args.max_memory is None else args.max_memory * 1e9)


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run ``sdkit sweep``; returns the exit code (SdkitErrors propagate to the caller)."""
    from tqdm import tqdm

    from sdkit.check_samples import suite_for_samples
    from sdkit.errors import ParameterError
    from sdkit.executors import executor
    from sdkit.locks import interrupt_on_terminate
    from sdkit.sensitivity.budget import check_budget
    from sdkit.sensitivity.convergence import verdicts
    from sdkit.sensitivity.folder import CHUNKS
    from sdkit.sensitivity.pipeline import load_study_model, plan, run_study, saved_times
    from sdkit.sensitivity.spec import read_study

    study = read_study(args.spec)
    out = Path(args.out) if args.out else Path("results") / Path(args.spec).stem
    limits = _limits(args)
    model = load_study_model(study, scenarios=args.scenarios, allow_outside_range=args.allow_outside_range)
    checks = suite_for_samples(model, args.checks, study.scenario).checks if args.checks else []
    runs = check_budget(study, saved_times(study, model), limits)["runs"]  # before any worker starts
    if args.dry_run:
        if args.resume or args.force or args.keep_chunks:
            raise ParameterError("--dry-run runs nothing; drop --resume/--force/--keep-chunks")
        estimate = plan(study, model, engine=args.engine, limits=limits,
                        allow_outside_range=args.allow_outside_range)
        print(f"{study.name}: {study.method} on {model.path.name}"
              f"{f' (scenario {study.scenario})' if study.scenario else ''}, "
              f"{len(study.parameters)} parameters, N = {study.samples}")
        print(f"{runs} runs in {estimate['chunks']} chunks of up to {study.chunk_size}; "
              f"{estimate['engine']} measured at {estimate['runs_per_second']:.0f} runs/s on this machine "
              f"(one process) -> about {_seconds(estimate['estimated_seconds'])} for the runs "
              "(loading, compiling, analysis and convergence come on top); "
              f"about {estimate['memory'] / 1e6:.0f} MB of memory")
        return 0
    n_chunks = -(-runs // study.chunk_size)
    stored = len(list((out / CHUNKS).glob("chunk-*.npz"))) if args.resume and (out / CHUNKS).is_dir() else 0

    def progress(chunks: Any) -> Any:
        return tqdm(chunks, total=n_chunks, initial=stored, desc=study.name, unit="chunk",
                    file=sys.stderr, disable=n_chunks < 2)

    with interrupt_on_terminate(), executor(args.workers, args.scheduler) as client:
        result = run_study(study, out, model=model, executor=client, resume=args.resume, force=args.force,
                           progress=progress, engine=args.engine, limits=limits, keep_chunks=args.keep_chunks,
                           checks=checks, allow_outside_range=args.allow_outside_range)
    print(f"{study.name}: {runs} runs of {model.path.name}"
          f"{f' (scenario {study.scenario})' if study.scenario else ''} in {_seconds(result.seconds)}; "
          f"results in {out}/")
    if not args.no_figures:
        from sdkit.sensitivity.figures import write_study_figures

        drawn = write_study_figures(result, out, {"sdkit:command": f"sdkit sweep {args.spec}"})
        if drawn:
            print(f"{len(drawn)} figure files in {out / 'figures'}/")
    if result.indices is not None:
        print(top_table(result.indices, args.top))
    if result.time_resolved is not None:
        final = result.time_resolved.isel(time=-1)
        print(f"time-resolved indices in {out / 'indices_time.nc'}; at t = {float(final['time']):g}:")
        print(top_table(final.drop_vars("time"), args.top))
    if result.convergence is not None:
        for output, v in verdicts(result.convergence).items():
            state = "converged" if v["converged"] else "NOT converged"
            print(f"convergence {output}: {state} (widest interval {v['widest_conf']:.3f}, "
                  f"threshold {v['threshold']:g} at N = {study.convergence.sizes[-1]})")
    if result.checks is not None:
        from sdkit.check_samples import samples_checks_table

        print(samples_checks_table(*result.checks, runs, args.checks))
    return 0
