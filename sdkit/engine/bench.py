"""Measure engine throughput on a model: ``python -m sdkit.engine.bench MODEL [N] [--backend B]``.

Runs ``N`` samples (default 100000) with every constant drawn uniformly
within +-10 % of its default, saving only final values of the stocks, and
prints samples x steps per second and variable updates per second (samples x
steps x number of scalar model variables, each subscript element counted),
and sample-steps per CPU-second (summed over threads; useful on a busy machine). The first (compiling) call is excluded.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from sdkit.engine import compile_model
from sdkit.timing import time_grid


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m sdkit.engine.bench")
    parser.add_argument("model")
    parser.add_argument("n", nargs="?", type=int, default=100_000)
    parser.add_argument("--backend", default="numba", choices=["numpy", "numba"])
    args = parser.parse_args(argv)
    kernel = compile_model(args.model, backend=args.backend)
    rng = np.random.default_rng(0)
    params = {
        py: np.asarray(v) * rng.uniform(0.9, 1.1, size=(args.n, *np.shape(v)))
        for py, v in kernel.constants.items()
    }
    warm = min(args.n, 64)
    kernel.simulate({p: v[:warm] for p, v in params.items()}, warm, kernel.stocks, "final")
    t0, c0 = time.perf_counter(), time.process_time()
    kernel.simulate(params, args.n, kernel.stocks, "final")
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    steps = len(time_grid(kernel.initial_time, kernel.final_time, kernel.time_step))
    nvars = sum(
        int(np.prod([len(kernel.dims[d]) for d in kernel.var_dims[v]])) for v in kernel.variables
    )
    rate = args.n * steps / elapsed
    sys.stdout.write(
        f"{args.model}: {args.n} runs x {steps} steps in {elapsed:.2f} s ({args.backend}); "
        f"{rate:.3g} sample-steps/s; {rate * nvars:.3g} variable-updates/s "
        f"({nvars} scalar variables); 1e6 runs would take {1e6 * steps / rate:.0f} s; "
        f"{args.n * steps / cpu:.3g} sample-steps per CPU-second ({cpu:.2f} CPU-s)\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
