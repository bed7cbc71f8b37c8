"""Single-run latency: the engine beside PySD and pysimlin, one model at a time.

    python benchmarks/latency.py [MODEL ...] [--repeat 5]

For each model (default: ``models/*.mdl``), in a fresh process per tool, after
the tool's imports (for sdkit: a first, untimed ``load_model(MODEL, numba=False)``
of the same model imports what loading needs): the time to load, then full runs
after loading (every variable at every SAVEPER): sdkit ``run(model)`` returning a
Dataset, PySD ``run()``, pysimlin ``run()``. For sdkit, first
``load_model(MODEL, numba=False)`` and the engine's translation, on a warm parse cache,
then its first run (the numpy backend, as ``backend="auto"`` chooses while no numba
kernel is loaded) and the best of ``--repeat``; then, in another process whose numba
cache holds the kernel, a plain ``load_model(MODEL)``, which loads the kernel when
numba's cache holds it (importing numba and loading the kernel belong to it), the first
run after it and the best of ``--repeat``. For the others the best of ``--repeat``.
Last, the engine's numba compile on a cold cache (a temporary ``SDKIT_CACHE_DIR``), the
cache the plain load then finds.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


#: the clock of the worker's timings: wall time, or with ``--cpu`` this process's CPU time
_CLOCK = [time.perf_counter]


def _best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = _CLOCK[0]()
        fn()
        times.append(_CLOCK[0]() - t0)
    return min(times)


def worker(tool: str, path: Path, repeat: int) -> dict:
    """Measure one tool on one model in this process (imports are not timed)."""
    if tool in ("engine", "engine-numpy"):
        import sdkit

        sdkit.load_model(path, numba=False).kernel  # noqa: B018 - imports what loading needs; fills the parse cache
        t0 = _CLOCK[0]()
        model = sdkit.load_model(path, numba=False if tool == "engine-numpy" else None)
        model.kernel  # noqa: B018 - the translation belongs to loading
        load = _CLOCK[0]() - t0
        if tool == "engine" and model.kernel.numba_kind is None:
            raise RuntimeError("load_model did not load the numba kernel from the cache")
        first = _best(lambda: sdkit.run(model), 1)
        return {"load_s": load, "first_s": first, "run_s": _best(lambda: sdkit.run(model), repeat)}
    if tool == "numba":
        from sdkit.engine import compile_model

        kernel = compile_model(path)
        t1 = _CLOCK[0]()
        kernel.simulate({}, n=1, backend="numba", variables=[], save="final")
        return {"compile_s": _CLOCK[0]() - t1}
    if tool == "pysd":
        import pysd  # noqa: F401 - an import, not the load

        from sdkit.engine.oracles import pysd_model

        t0 = _CLOCK[0]()
        model = pysd_model(path)
        load = _CLOCK[0]() - t0
        return {"load_s": load, "run_s": _best(model.run, repeat)}
    import simlin

    t0 = _CLOCK[0]()
    model = simlin.load(str(path))
    load = _CLOCK[0]() - t0
    return {"load_s": load, "run_s": _best(lambda: model.run(analyze_loops=False), repeat)}


def _measure(tool: str, path: Path, repeat: int, env: dict | None = None, cpu: bool = False) -> dict:
    cmd = [sys.executable, __file__, "--worker", tool, str(path), str(repeat), "cpu" if cpu else "wall"]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env, timeout=900)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return {"error": (done.stderr.strip().splitlines() or ["no output"])[-1][:120]}
    return json.loads(lines[-1])


def _ms(info: dict, key: str) -> str:
    if key not in info:
        error = info.get("error", "-")
        return f"no: {error[:50]}..." if len(error) > 50 else f"no: {error}"
    ms = 1000 * info[key]
    return f"{ms:,.0f} ms" if ms >= 100 else f"{ms:.2g} ms"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--worker":
        tool, path, repeat = argv[1], Path(argv[2]), int(argv[3])
        if argv[4] == "cpu":
            _CLOCK[0] = time.process_time
        try:
            info = worker(tool, path, repeat)
        except Exception as exc:  # one failing tool is one cell of the table
            info = {"error": (str(exc).strip().splitlines() or [type(exc).__name__])[0][:120]}
        print(json.dumps(info))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", type=Path)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--cpu", action="store_true",
                        help="time the CPU seconds of the measuring process (all its threads) instead of "
                             "wall time: other jobs on a shared machine inflate them less")
    args = parser.parse_args(argv)
    models = args.models or sorted((ROOT / "models").glob("*.mdl"))
    print(
        "| model | sdkit load, numba=False | sdkit first run | sdkit run | sdkit load, kernel cached "
        "| sdkit first run after it | sdkit run, numba | PySD load | PySD run | pysimlin load | pysimlin run "
        "| numba compile (cold) |"
    )
    print("| --- |" + " ---: |" * 11)
    for path in models:
        info = {t: _measure(t, path, args.repeat, cpu=args.cpu) for t in ("engine-numpy", "pysd", "pysimlin")}
        with tempfile.TemporaryDirectory() as cache:
            env = dict(os.environ, SDKIT_CACHE_DIR=cache)
            cold = _measure("numba", path, 1, env, args.cpu)
            loaded = _measure("engine", path, args.repeat, env, args.cpu)
        cells = [
            path.name,
            *(_ms(info["engine-numpy"], key) for key in ("load_s", "first_s", "run_s")),
            *(_ms(loaded, key) for key in ("load_s", "first_s", "run_s")),
            _ms(info["pysd"], "load_s"),
            _ms(info["pysd"], "run_s"),
            _ms(info["pysimlin"], "load_s"),
            _ms(info["pysimlin"], "run_s"),
            _ms(cold, "compile_s"),
        ]
        print("| " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
