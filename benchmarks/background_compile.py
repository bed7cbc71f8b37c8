"""How much a numba compile in the background slows the runs in the foreground.

    python benchmarks/background_compile.py [--seconds 8]

The foreground runs the core model (``models/kissinger_core.mdl``) on its blocked
kernel, as right after a structural edit, in two ways: ensembles of 10,000 samples
(final values; the compiled kernel on two threads without the GIL) and single runs
(``simulate(n=1)``, mostly Python). Each is timed alone for ``--seconds``, and while
the one-function kernel of ``models/four_orders.mdl`` compiles on an empty kernel cache
(a new temporary ``SDKIT_CACHE_DIR``) in the background, either as sdkit does it (a
child process at nice 10, :func:`sdkit.engine.kernel_choice.compile_in_background`) or
in a thread of the same process (as :mod:`sdkit.engine.background` does the foreground's
first compile). Printed: runs per second of each, its ratio to the runs alone, and how
long the background compile took; and the load average.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
WORKLOADS = {"ensembles of 10,000": 10_000, "single runs": 1}


def _runs_per_second(run: Callable[[], object], busy: Callable[[], bool]) -> float:
    """``run()`` over and over while ``busy()`` (at least once)."""
    count, t0 = 0, time.perf_counter()
    while count == 0 or busy():
        run()
        count += 1
    return count / (time.perf_counter() - t0)


def _in_thread(kernel) -> threading.Event:
    for name, _ in kernel._numba_code("one").modules:  # compiled by an earlier measurement: compile it anew
        sys.modules.pop(name, None)
    done = threading.Event()

    def compile_then_set():
        try:
            kernel.compile_numba("one")
        finally:
            done.set()

    threading.Thread(target=compile_then_set, daemon=True).start()
    return done


def main(argv: list[str] | None = None) -> int:
    from sdkit.engine import compile_model
    from sdkit.engine.kernel_choice import compile_in_background

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="seconds of runs alone")
    args = parser.parse_args(argv)
    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as cache:
        os.environ["SDKIT_CACHE_DIR"] = cache
        core = compile_model(ROOT / "models" / "kissinger_core.mdl")
        core.compile_numba("blocks")
        background = compile_model(ROOT / "models" / "four_orders.mdl", backend="numpy")
    print("| foreground | alone | beside a compile in a process at nice 10 | beside a compile in a thread |")
    print("| --- | ---: | ---: | ---: |")
    for workload, n in WORKLOADS.items():
        params = {"restraint_steepness": np.linspace(9.0, 11.0, n) if n > 1 else 10.0}

        def run(n=n, params=params):
            core.simulate(params, n=n, backend="numba", save="final")

        t_end = time.perf_counter() + args.seconds
        alone = _runs_per_second(run, lambda t_end=t_end: time.perf_counter() < t_end)
        cells = [f"{alone:,.1f} runs/s"]
        for start in (lambda: compile_in_background(background, "one"), lambda: _in_thread(background)):
            with tempfile.TemporaryDirectory() as cache:
                os.environ["SDKIT_CACHE_DIR"] = cache
                t0 = time.perf_counter()
                done = start()
                rate = _runs_per_second(run, lambda done=done: not done.is_set())
                took = time.perf_counter() - t0
            cells.append(f"{rate:,.1f} runs/s ({rate / alone:.2f}x; compile {took:.0f} s)")
        print("| " + " | ".join([workload, *cells]) + " |", flush=True)
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
