"""Benchmark: a sweep's memory estimate (the figure ``--max-memory`` is checked against) beside its measured peak.

First, each method's bootstrap: the peak memory ``tracemalloc`` sees while SALib's
analyser runs on one output, in arrays of ``samples x num_resamples`` float64 values (the
``bootstrap_copies`` of each record in ``sdkit/sensitivity/methods.py``).

Then whole Sobol studies of ``tests/data/sens_linear.mdl`` (4 parameters, 11 saved
times, one scalar and one ``series`` output) at growing base sizes. Each sweep runs in a
fresh process; its peak resident memory minus that of the same sweep at N = 16 (imports,
the compiled model) is set beside sdkit's estimate.

Run from the project root::

    .venv/bin/python benchmarks/sweep_memory.py            # 2^12 ... 2^16
    .venv/bin/python benchmarks/sweep_memory.py --up-to 14 # a quick check
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import tempfile
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STUDY = {
    "model": str(ROOT / "tests" / "data" / "sens_linear.mdl"), "method": "sobol", "seed": 1,
    "chunk_size": 4096, "options": {"num_resamples": 100},
    "parameters": {"rate a": [0.0, 1.0], "rate b": [0.0, 1.0], "rate c": [0.0, 2.0], "unused rate": [0.0, 1.0]},
    "outputs": {"final": {"variable": "Stock", "metric": "final"},
                "path": {"variable": "Stock", "metric": "series", "step": 5}},
}


def _sweep(samples: int, queue: multiprocessing.Queue) -> None:
    from sdkit.sensitivity import load_study_model, run_study, study_from_dict
    from sdkit.sensitivity.budget import estimate
    from sdkit.sensitivity.pipeline import saved_times

    study = study_from_dict({**STUDY, "samples": samples}, name=f"n{samples}")
    model = load_study_model(study)
    with warnings.catch_warnings(), tempfile.TemporaryDirectory() as folder:
        warnings.simplefilter("ignore")
        run_study(study, Path(folder) / "out", model=model, engine="engine")
    cost = estimate(study, saved_times(study, model))
    queue.put((cost["runs"], cost["memory"], resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024))


def _measure(samples: int) -> tuple[int, int, int]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_sweep, args=(samples, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def _bootstrap_copies() -> None:
    import tracemalloc

    import numpy as np

    from sdkit.sensitivity import study_from_dict
    from sdkit.sensitivity.analyse import analyse
    from sdkit.sensitivity.methods import METHODS
    from sdkit.sensitivity.sample import sample
    from sdkit.sensitivity.spec import problem

    print(f"{'method':>7} {'N':>6} {'resamples':>9} {'peak MB':>8} {'copies':>7} {'record':>7}")
    for name, record in METHODS.items():
        n = 4096 if name in ("morris", "delta") else 8192
        study = study_from_dict({"model": "none.mdl", "method": name, "samples": n, "seed": 1,
                                 "parameters": {"a": [0, 1], "b": [0, 1], "c": [0, 1]},
                                 "outputs": {"y": {"variable": "y"}}})
        x = sample(study)
        y = x @ np.array([1.0, 2.0, 3.0]) + np.random.default_rng(0).normal(size=len(x))
        tracemalloc.start()
        start = tracemalloc.get_traced_memory()[0]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            analyse(name, problem(study), x, y, study.options, seed=1)
        peak = tracemalloc.get_traced_memory()[1] - start
        tracemalloc.stop()
        resamples = study.options.get("num_resamples", 0)
        copies = f"{peak / (n * resamples * 8):7.2f}" if resamples else f"{'-':>7}"
        print(f"{name:>7} {n:>6} {resamples:>9} {peak / 1e6:>8.1f} {copies} {record.bootstrap_copies:>7g}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--up-to", type=int, default=16, help="largest base size as a power of 2 (default 16)")
    args = parser.parse_args()
    _bootstrap_copies()
    _, _, baseline = _measure(2**4)
    print(f"baseline peak (N = 16): {baseline / 1e6:.0f} MB")
    print(f"{'N':>7} {'runs':>9} {'estimate MB':>12} {'measured MB':>12} {'ratio':>6}")
    for power in range(12, args.up_to + 1):
        runs, estimated, peak = _measure(2**power)
        measured = max(peak - baseline, 1)
        print(f"{2**power:>7} {runs:>9} {estimated / 1e6:>12.1f} {measured / 1e6:>12.1f} {estimated / measured:>6.2f}")


if __name__ == "__main__":
    main()
