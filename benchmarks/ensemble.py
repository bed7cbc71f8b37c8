"""Ensemble engine against PySD on the core model, measured side by side in one run.

    python benchmarks/ensemble.py            # N up to 10^6 (a few minutes)
    python benchmarks/ensemble.py --quick    # N up to 10^5

Two variants of ``models/kissinger_core.mdl``: the model as shipped (it has no
lookup) and the same model with one lookup in the guarantors' resource share
(a lookup equal to 1 everywhere, so results are unchanged, but PySD pays for its
xarray-based interpolation at every step). For each: PySD as a user loops it (one
run per call, ``reload`` between runs), and the engine through ``sdkit.ensemble``
for N = 1 ... 10^6 (final values of the stocks), each N in a fresh process so that
its peak memory is its own; plus dask with 2 worker processes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "models" / "kissinger_core.mdl"
LOOKUP_EQUATION = (
    "guarantor share initial * EXP(-guarantor share decline rate * MAX(0, Time - guarantor share decline start))",
    "guarantor share initial * EXP(-guarantor share decline rate * MAX(0, Time - guarantor share decline start))"
    " * guarantor share profile(Time)",
)
LOOKUP_DEFINITION = (
    "guarantor share profile(\n\t[(0,0)-(3000,2)],(0,1),(1000,1),(3000,1))\n"
    "\t~\tDmnl\n\t~\tBenchmark-only lookup, 1 everywhere.\n\t|\n\n"
)


def variant(kind: str, folder: Path) -> Path:
    """The core model as shipped, or with one lookup."""
    if kind == "shipped":
        return CORE
    text = CORE.read_text(encoding="utf-8")
    if LOOKUP_EQUATION[0] not in text:
        raise SystemExit("the core model's Guarantor Resource Share equation changed; update LOOKUP_EQUATION")
    text = text.replace(LOOKUP_EQUATION[0], LOOKUP_EQUATION[1], 1)
    marker = "Guarantor Resource Share="
    text = text.replace(marker, LOOKUP_DEFINITION + marker, 1)
    path = folder / "kissinger_core_lookup.mdl"
    path.write_text(text, encoding="utf-8")
    return path


def samples(model, n: int):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(20261125)
    return pd.DataFrame(
        {
            "legitimacy emphasis": rng.uniform(0.3, 0.9, n),
            "supremacy claim": rng.uniform(0.1, 0.9, n),
            "guarantor share initial": rng.uniform(0.4, 1.0, n),
        }
    )


def child(path: Path, n: int, workers: int) -> None:
    """Time one ensemble in this fresh process; print seconds and peak memory as JSON."""
    import sdkit
    from sdkit.ensemble import ensemble
    from sdkit.executors import executor

    model = sdkit.load_model(path)
    table = samples(model, n)
    ensemble(model, table.iloc[:64], save="final")  # compile (numba cache) outside the timing
    ensemble(model, table.iloc[:1], save="final")
    with executor(workers or None) as client:
        if client is not None:
            ensemble(model, table.iloc[:64], save="final", executor=client)
        start = time.perf_counter()
        ensemble(model, table, save="final", executor=client, chunk_size=65536)
        seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    steps = round((model.time.final_time - model.time.initial_time) / model.time.time_step)
    print(json.dumps({"seconds": seconds, "peak_mib": peak, "steps": steps, "variables": len(model.default_outputs())}))


def measure_child(path: Path, n: int, workers: int = 0) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--child", str(path), str(n), str(workers)],
        check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def pysd_runs_per_second(path: Path, runs: int = 3) -> float:
    """PySD as a user would loop it: one run per call, ``reload`` between runs."""
    import warnings

    import sdkit

    model = sdkit.load_model(path)
    pysd_model = model.pysd_model()
    table = samples(model, runs)
    names = {model.variables[c].name: c for c in model.constants}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pysd_model.run(progress=False)  # warm-up
        start = time.perf_counter()
        for row in table.itertuples(index=False):
            pysd_model.reload()
            pysd_model.run(params={names.get(k, k): v for k, v in zip(table.columns, row, strict=True)}, progress=False)
        return runs / (time.perf_counter() - start)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import numba
    import numpy
    import pysd

    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, numpy {numpy.__version__}, "
        f"numba {numba.__version__}, PySD {pysd.__version__}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="stop at N = 10^5")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[0]), int(args.child[1]), int(args.child[2]))
        return
    sizes = [1, 10**3, 10**4, 10**5] + ([] if args.quick else [10**6])
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as scratch:
        for kind in ("shipped", "with one lookup"):
            path = variant("shipped" if kind == "shipped" else "lookup", Path(scratch))
            pysd_rate = pysd_runs_per_second(path)
            print(f"\n== core model, {kind}: PySD {pysd_rate:.3g} runs/s (one run per call, reload between runs)")
            print(f"{'executor':<18}{'N':>9}{'seconds':>10}{'runs/s':>12}{'x PySD':>12}{'updates/s':>12}{'peak MiB':>10}")
            rows = [("engine", n, 0) for n in sizes] + [("dask, 2 workers", sizes[-1], 2)]
            for label, n, workers in rows:
                result = measure_child(path, n, workers)
                rate = n / result["seconds"]
                updates = n * result["steps"] * result["variables"] / result["seconds"]
                print(
                    f"{label:<18}{n:>9}{result['seconds']:>10.3f}{rate:>12.4g}{rate / pysd_rate:>12.4g}"
                    f"{updates:>12.3g}{result['peak_mib']:>10.0f}"
                )


if __name__ == "__main__":
    main()
