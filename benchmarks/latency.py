"""Single-run latency: the engine beside PySD and pysimlin, one model at a time.

    python benchmarks/latency.py [MODEL ...] [--repeat 5]

For each model (default: ``models/*.mdl``), in a fresh process per tool, after
the tool's imports: the time to load (engine: translate and generate, no numba compile; PySD:
``read_vensim``; pysimlin: ``load``), then the best of ``--repeat`` full runs
after loading (every variable at every SAVEPER: engine ``simulate(n=1)`` on the
numpy backend, PySD ``run()``, pysimlin ``run()``), and the engine's numba
compile on a cold cache (a temporary ``SDKIT_CACHE_DIR``) beside the time to
load the same kernel from numba's cache in another process.
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


def _best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def worker(tool: str, path: Path, repeat: int) -> dict:
    """Measure one tool on one model in this process (imports are not timed)."""
    import pysd  # noqa: F401 - imported before timing, as the engine's translator uses it

    from sdkit.engine import compile_model
    from sdkit.engine.oracles import pysd_model

    t0 = time.perf_counter()
    if tool == "engine":
        kernel = compile_model(path, backend="numpy")
        load = time.perf_counter() - t0
        run = _best(lambda: kernel.simulate({}, n=1, backend="numpy"), repeat)
        return {"load_s": load, "run_s": run}
    if tool == "numba":
        kernel = compile_model(path)
        t1 = time.perf_counter()
        kernel.simulate({}, n=1, backend="numba", variables=[], save="final")
        return {"compile_s": time.perf_counter() - t1}
    if tool == "pysd":
        model = pysd_model(path)
        load = time.perf_counter() - t0
        return {"load_s": load, "run_s": _best(model.run, repeat)}
    import simlin

    t0 = time.perf_counter()
    model = simlin.load(str(path))
    load = time.perf_counter() - t0
    return {"load_s": load, "run_s": _best(lambda: model.run(analyze_loops=False), repeat)}


def _measure(tool: str, path: Path, repeat: int, env: dict | None = None) -> dict:
    cmd = [sys.executable, __file__, "--worker", tool, str(path), str(repeat)]
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
        try:
            info = worker(tool, path, repeat)
        except Exception as exc:  # one failing tool is one cell of the table
            info = {"error": (str(exc).strip().splitlines() or [type(exc).__name__])[0][:120]}
        print(json.dumps(info))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", type=Path)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    models = args.models or sorted((ROOT / "models").glob("*.mdl"))
    print(
        "| model | engine load | engine run | PySD load | PySD run | pysimlin load "
        "| pysimlin run | numba compile (cold) | numba load (cached) |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for path in models:
        info = {t: _measure(t, path, args.repeat) for t in ("engine", "pysd", "pysimlin")}
        with tempfile.TemporaryDirectory() as cache:
            env = dict(os.environ, SDKIT_CACHE_DIR=cache)
            cold = _measure("numba", path, 1, env)
            warm = _measure("numba", path, 1, env)
        cells = [
            path.name,
            _ms(info["engine"], "load_s"),
            _ms(info["engine"], "run_s"),
            _ms(info["pysd"], "load_s"),
            _ms(info["pysd"], "run_s"),
            _ms(info["pysimlin"], "load_s"),
            _ms(info["pysimlin"], "run_s"),
            _ms(cold, "compile_s"),
            _ms(warm, "compile_s"),
        ]
        print("| " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
