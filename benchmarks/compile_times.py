"""Numba compile time with subscripted equations as loops, beside the same kernel unrolled.

    python benchmarks/compile_times.py [MODEL ...] [--timeout 300]

For each model (default: the 351-town population model from ``../shared/corpus``
when present, ``models/four_orders.mdl`` and ``models/kissinger_core.mdl``): the
lines of the numba kernel's source and the time of its first compile, in a fresh
process on a cold cache (a temporary ``SDKIT_CACHE_DIR``; timed from after
``compile_model`` to the end of one ``simulate(n=1, backend="numba")``), once with
every equation over a range of ``sdkit.engine.runs.MIN_RUN`` or more elements as
a loop (what sdkit does) and once with every element written out (the kernel
before loops), and the ratio of their CPU times (the compile is single-threaded,
so on a busy machine its CPU time is the steadier number). A compile that
outlasts ``--timeout`` seconds of wall time is shown as ``> timeout``, beside the
CPU time it had used (imports and translation included).
A model without such ranges has the same source both ways.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POPULATION = ROOT.parent / "shared" / "corpus" / "population_subscripted" / "Subscripted Population Model.mdl"
#: a run length no range reaches: every element written out
UNROLLED = 10**9


def _kernel(path: Path, min_run: int):
    from sdkit.engine import compile_model, runs

    runs.MIN_RUN = min_run
    return compile_model(path)


def worker(path: Path, min_run: int) -> dict:
    """Seconds to compile ``path``'s numba kernel with runs of ``min_run`` elements as loops."""
    kernel = _kernel(path, min_run)
    t0, c0 = time.perf_counter(), time.process_time()
    kernel.simulate({}, n=1, backend="numba", variables=[], save="final")
    return {"compile_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0}


def source_lines(path: Path, min_run: int) -> int:
    return len(_kernel(path, min_run).source("numba").splitlines())


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _measure(path: Path, min_run: int, timeout: float, cache: str | None = None) -> dict:
    """The worker's times in a fresh process, with the kernel cache ``cache`` (default: a new, empty one)."""
    if cache is None:
        with tempfile.TemporaryDirectory() as empty:
            return _measure(path, min_run, timeout, empty)
    env = dict(os.environ, SDKIT_CACHE_DIR=cache)
    cmd = [sys.executable, __file__, "--worker", str(path), str(min_run)]
    cpu = _children_cpu()
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:  # the killed worker's CPU time, imports and translation included
        return {"timeout": timeout, "cpu_s": _children_cpu() - cpu}
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return {"error": (done.stderr.strip().splitlines() or ["no output"])[-1][:80]}
    return json.loads(lines[-1])


def _seconds(info: dict) -> str:
    if "timeout" in info:
        return f"> {info['timeout']:.0f} s (> {info['cpu_s']:.0f} s CPU)"
    if "compile_s" not in info:
        return f"error: {info['error']}"
    return f"{info['compile_s']:.1f} s ({info['cpu_s']:.1f} s CPU)"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--worker":
        print(json.dumps(worker(Path(argv[1]), int(argv[2]))))
        return 0
    from sdkit.engine.runs import MIN_RUN

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", type=Path)
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds before an unrolled compile is abandoned")
    args = parser.parse_args(argv)
    defaults = [POPULATION] if POPULATION.exists() else []
    models = args.models or defaults + [ROOT / "models" / "four_orders.mdl", ROOT / "models" / "kissinger_core.mdl"]
    print("| model | source lines: loops | unrolled | compile: loops | unrolled | unrolled / loops (CPU) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for path in models:
        looped = _measure(path, MIN_RUN, args.timeout)
        unrolled = _measure(path, UNROLLED, args.timeout)
        ratio = "-"
        if "cpu_s" in looped and "cpu_s" in unrolled:
            ratio = ("> " if "timeout" in unrolled else "") + f"{unrolled['cpu_s'] / looped['cpu_s']:.1f}x"
        lines = [f"{source_lines(path, min_run):,}" for min_run in (MIN_RUN, UNROLLED)]
        cells = [path.name, *lines, _seconds(looped), _seconds(unrolled), ratio]
        print("| " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
