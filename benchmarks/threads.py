"""How one call's samples are split over threads: fixed halves beside guided ranges, in one process.

    python benchmarks/threads.py MODEL [MODEL ...] [--samples 10000] [--repeat 15]

For each model: the engine's numba kernel (compiled or loaded first, untimed) runs
``--samples`` samples (final values of the stocks, as ``benchmarks/corpus.py`` times
them), ``--repeat`` times with each way of splitting them, the two alternating: one
range per thread (the samples cut in equal parts, as sdkit did before) and the guided
ranges of :func:`sdkit.engine.threads.run_threads` (each thread takes the next range
when it has finished one). Prints the best, median and worst wall seconds of each and
the ratios. Run it once on an idle machine and once beside a job that keeps one core
busy (``sh -c 'while :; do :; done' &``), where fixed halves wait for the slowed thread.
"""

from __future__ import annotations

import argparse
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

import sdkit.engine.kernel as kernel_module
from sdkit.engine import compile_model, threads


def equal_parts(fn, args: tuple, n: int, first: int = 0) -> None:
    """One range per thread, the samples cut in equal parts."""
    workers = max(1, min(threads.usable_cpus(), (n - first) // threads.SAMPLES_PER_THREAD))
    bounds = np.linspace(first, n, workers + 1).astype(int)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for future in [pool.submit(fn, *args, int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]:
            future.result()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", type=Path)
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args(argv)
    print("| model | equal parts: best / median / worst | guided: best / median / worst | equal / guided, best | median |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for path in args.models:
        kernel = compile_model(path)
        kernel.simulate({}, n=args.samples, backend="numba", save="final", variables=kernel.stocks)
        times: dict[str, list[float]] = {"equal": [], "guided": []}
        for _ in range(args.repeat):
            for name, split in (("equal", equal_parts), ("guided", threads.run_threads)):
                kernel_module.run_threads = split
                started = time.perf_counter()
                kernel.simulate({}, n=args.samples, backend="numba", save="final", variables=kernel.stocks)
                times[name].append(time.perf_counter() - started)
        kernel_module.run_threads = threads.run_threads
        cells = [" / ".join(f"{f(times[name]):.4f} s" for f in (min, statistics.median, max))
                 for name in ("equal", "guided")]
        ratios = [f"{f(times['equal']) / f(times['guided']):.2f}" for f in (min, statistics.median)]
        print(f"| {path.name} | {cells[0]} | {cells[1]} | {ratios[0]} | {ratios[1]} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
