"""Benchmark: loop dominance (Loops That Matter) for an ensemble of the core model, sdkit beside pysimlin.

N samples (default 10,000) of the six order parameters of ``models/kissinger_core.mdl``,
uniform over their documented range [0, 1] (seeded), each run from the ``versailles``
scenario over its 200 years, every time step scored: sdkit computes the link scores, the
scores of the named loops and, among all its loops (5,915 today), the dominant one at every time step
(``sdkit.loops.dominance.score_scenario``, what ``sdkit loops --dominance --named
--samples`` runs), then writes them as that command does. The same runs on pysimlin
(``simulate(overrides, enable_ltm=True)``, one run per call, its link and loop scores
read back): pysimlin lists no loops for the core model, so it scores links only; its time
for N runs is extrapolated from ``--pysimlin-runs`` measured runs, and is labelled so.

Both are timed in this process, wall clock and CPU (all threads), after a warm-up that
compiles (or loads from numba's cache) sdkit's kernels; the load average shows how busy
the machine was. Run from the project root::

    .venv/bin/python benchmarks/dominance.py                 # N = 10,000
    .venv/bin/python benchmarks/dominance.py --samples 1000  # a quick check
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "kissinger_core.mdl"
PARAMETERS = ["legitimacy emphasis", "commitment to top floor", "openness to civil society", "zero sum logic",
              "expansiveness", "supremacy claim"]


def samples(n: int, seed: int):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.uniform(0.0, 1.0, (n, len(PARAMETERS))), columns=PARAMETERS)


def clocked(work):
    """(result, wall seconds, CPU seconds of all threads)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def time_sdkit(frame, scenario: str) -> dict:
    from tqdm import tqdm

    from sdkit.io import write_netcdf
    from sdkit.loops import find_loops
    from sdkit.loops.cli import with_ascii_ids
    from sdkit.loops.dominance import scorable, score_scenario
    from sdkit.loops.linkcode import link_program
    from sdkit.model import load_model

    model = load_model(MODEL)
    report = find_loops(model)

    def progress(chunks):
        return tqdm(chunks, desc="sdkit chunks", unit="chunk", file=sys.stderr, leave=False)

    def score(rows, shown=None):
        return score_scenario(model, scenario, report.loops, rows, report.named(), ["restraint"], shown)

    def warm_up():
        score(frame.iloc[:64])  # scored with numpy: 64 runs are below NUMPY_POINTS
        link_program(scorable(model)[0]).compile_numba()  # what the N runs are scored with

    _, warm, _ = clocked(warm_up)
    scored, wall, cpu = clocked(lambda: score(frame, progress))
    with tempfile.TemporaryDirectory() as folder:
        _, write, write_cpu = clocked(lambda: write_netcdf(with_ascii_ids(scored), Path(folder) / "scores.nc"))
    return {"warm-up": warm, "wall": wall, "cpu": cpu, "write": write, "write_cpu": write_cpu,
            "loops": len(report.loops), "kept": len(report.named())}


def time_pysimlin(frame, scenario: str, runs: int) -> dict | None:
    try:
        import simlin
    except ImportError:
        return None
    from sdkit.model import load_model
    from sdkit.structure import clean_name

    base = {clean_name(k): v for k, v in load_model(MODEL).scenarios[scenario].parameters.items()}
    project = simlin.load(str(MODEL))
    loops = project.loops

    def one(row) -> None:
        sim = project.simulate(overrides={**base, **{clean_name(k): float(v) for k, v in row.items()}},
                               enable_ltm=True)
        sim.run_to_end()
        sim.get_links()
        for loop in loops:
            sim.get_loop_score(loop.id)

    one(frame.iloc[0])  # warm-up
    _, wall, cpu = clocked(lambda: [one(row) for _, row in frame.iloc[:runs].iterrows()])
    return {"runs": runs, "wall": wall, "cpu": cpu, "loops": len(loops)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10_000, help="runs of the ensemble (default 10,000)")
    parser.add_argument("--pysimlin-runs", type=int, default=20, help="pysimlin runs measured (default 20)")
    parser.add_argument("--scenario", default="versailles")
    parser.add_argument("--seed", type=int, default=20261129)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    frame = samples(args.samples, args.seed)
    load_before = os.getloadavg()[0]
    ours = time_sdkit(frame, args.scenario)
    theirs = time_pysimlin(frame, args.scenario, min(args.pysimlin_runs, args.samples))
    load_after = os.getloadavg()[0]
    n = args.samples
    print(f"loop dominance, {MODEL.name}, scenario {args.scenario}, {n:,} samples of {len(PARAMETERS)} order "
          f"parameters, every time step of 200 years; {os.cpu_count()} CPUs, load average {load_before:.1f} before, "
          f"{load_after:.1f} after")
    print()
    print("| tool | runs timed | wall s | CPU s | wall s for N runs | CPU s for N runs | x pysimlin (wall, CPU) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    per_run = (theirs["wall"] / theirs["runs"], theirs["cpu"] / theirs["runs"]) if theirs else None
    total = (ours["wall"] + ours["write"], ours["cpu"] + ours["write_cpu"])
    ratio = f"{per_run[0] * n / total[0]:,.0f}, {per_run[1] * n / total[1]:,.0f}" if per_run else "-"
    print(f"| sdkit: scores of {ours['kept']} named loops, dominant of all {ours['loops']:,} | {n:,} | {ours['wall']:.1f} | "
          f"{ours['cpu']:.1f} | {ours['wall']:.1f} | {ours['cpu']:.1f} | - |")
    print(f"| sdkit: the same and the netCDF file | {n:,} | {total[0]:.1f} | {total[1]:.1f} | "
          f"{total[0]:.1f} | {total[1]:.1f} | {ratio} |")
    if theirs:
        what = "link scores and loop scores" if theirs["loops"] else "link scores only (it lists no loops for this model)"
        print(f"| pysimlin: {what} | {theirs['runs']:,} | {theirs['wall']:.1f} | {theirs['cpu']:.1f} | "
              f"{per_run[0] * n:,.0f} (extrapolated) | {per_run[1] * n:,.0f} (extrapolated) | 1 |")
    else:
        print("| pysimlin | not installed | | | | | |")
    print()
    print(f"sdkit's warm-up (64 samples, and the numba link scores; compiles the kernels, or loads them from numba's cache): "
          f"{ours['warm-up']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
