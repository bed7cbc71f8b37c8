"""The numba kernel's speed at each lane count, beside the count its rule chooses.

    python benchmarks/lanes.py MODEL... [--n 10000] [--repeats 5]

For each model, one process per lane count (``SDKIT_NUMBA_LANES`` = 16, 32, 64, 128) compiles the
one-function kernel (or loads it from the kernel cache), then times N runs with default
constants, final values of the stocks, the best of ``--repeats``; the table gives CPU seconds
(summed over the threads; steadier than wall time on a busy machine) and, in brackets, wall
seconds. "rows" is the number of rows of values in a block (nodes, stocks' next values, the
check), from which :func:`sdkit.engine.nbmodule.lane_count` chooses "rule".
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def measure(path: str, n: int, repeats: int) -> dict:
    """In this process: the kernel's lane count and rows, and the best times of ``n`` runs."""
    import re

    from sdkit.engine import compile_model
    from sdkit.engine.schedule import order_nodes

    kernel = compile_model(path, backend="numba")
    kernel.simulate({}, n=1, backend="numba", variables=[], save="final")
    lanes = re.search(r"for b in range\(S0, S1, (\d+)\)", kernel.source("numba"))
    walls, cpus = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        kernel.simulate({}, n=n, backend="numba", save="final", variables=kernel.stocks)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    rows = len(kernel.ir.nodes) + len(order_nodes(kernel.ir).stocks) + 1
    return {"lanes": int(lanes.group(1)), "rows": rows, "wall": min(walls), "cpu": min(cpus)}


def _in_process(path: str, n: int, repeats: int, lanes: str) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    env.pop("SDKIT_NUMBA_LANES", None)
    if lanes:
        env["SDKIT_NUMBA_LANES"] = lanes
    out = subprocess.run([sys.executable, __file__, "--worker", path, "--n", str(n), "--repeats", str(repeats)],
                         env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+")
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(measure(args.models[0], args.n, args.repeats)))
        return 0
    from sdkit.engine.nbmodule import LANE_CHOICES

    print(f"{args.n} runs, best of {args.repeats}: CPU seconds (wall seconds)\n")
    print("| model | rows | rule | " + " | ".join(f"{lanes} lanes" for lanes in LANE_CHOICES) + " |")
    print("| --- | ---: | ---: |" + " ---: |" * len(LANE_CHOICES))
    for path in args.models:
        rule = _in_process(path, 1, 1, "")
        cells = []
        for lanes in LANE_CHOICES:
            got = _in_process(path, args.n, args.repeats, str(lanes))
            cells.append(f"{got['cpu']:.3f} ({got['wall']:.3f})")
        print(f"| {Path(path).name} | {rule['rows']} | {rule['lanes']} | " + " | ".join(cells) + " |", flush=True)
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",)
    print(f"\nload average at the end: {load[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
