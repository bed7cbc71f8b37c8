"""Coverage of public Vensim models: which of PySD, pysimlin and the engine run each one.

    python benchmarks/corpus.py                 # N = 10,000 engine runs (numba), ~10-20 min
    python benchmarks/corpus.py --quick         # N = 200 on the numpy backend, a few minutes
    python benchmarks/corpus.py DIR --timeout 300

DIR (default ``../shared/corpus``) holds one folder per model with its ``.mdl`` and a
``SOURCE.txt``; the models are read from there, never copied. Every tool runs in its own
process with a time limit, so a crash or a compile that does not end costs one cell.

Columns: whether each tool runs the model at its own time settings (or its one-line
error); the engine's largest relative difference from PySD and from pysimlin over
every variable both report, at every shared saved time
(``|a - b| / max(|a|, |b|, 1e-6)``; "random draws" for a model with RANDOM
functions, whose streams differ between tools); the engine's wall time for N runs with default
constants (compile excluded, reported beside it: translation and the numba compile
on an empty kernel cache; on the numpy backend, said in the
cell, when the numba compile does not finish in time) and its speed ratio to PySD and
to pysimlin, whose N runs are estimated as N times one run (model loaded once).

The engine runs with ``SDKIT_NUMBA_PREWARM=0``: the first compile of a large model otherwise
starts a background compile of its blocks (for fast later edits), which outlives the worker
and takes a core from this model's timing and the next one's (the pendulum measured about
7,500x instead of about 13,000x after ``query_file`` of the run before had started one).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DIR = ROOT.parent / "shared" / "corpus"
TOOLS = ("pysd", "pysimlin", "engine")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]


def _save(series, out: Path) -> None:
    with out.open("wb") as f:
        pickle.dump(series, f)


def worker(tool: str, path: Path, out: Path, n: int, backend: str) -> dict:
    """Run one tool on one model in this process; save its table to ``out``."""
    from sdkit.engine import oracles as O

    result: dict = {}
    t0 = time.perf_counter()
    if tool == "pysd":
        model = O.pysd_model(path)
        result["load_s"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        series = O.pysd_series(model)
        result["run_s"] = time.perf_counter() - t1
    elif tool == "pysimlin":
        O.simlin_series(path)  # first call loads the library
        t1 = time.perf_counter()
        series = O.simlin_series(path)
        result["run_s"] = time.perf_counter() - t1
    else:
        from sdkit.engine import compile_model

        kernel = compile_model(path, backend=backend)
        result["random"] = kernel.random
        kernel.simulate({}, n=1, backend=backend, variables=[], save="final")  # numba compile
        result["compile_s"] = time.perf_counter() - t0
        series = O.engine_series(kernel, kernel.simulate({}, n=1, backend="numpy"))
        t1 = time.perf_counter()
        kernel.simulate({}, n=n, backend=backend, save="final", variables=kernel.stocks)
        result["n_runs_s"] = time.perf_counter() - t1
    _save(series, out)
    return result


def _run_tool(tool, path, folder, n, backend, timeout) -> dict:
    out = folder / f"{tool}.pickle"
    cmd = [sys.executable, __file__, "--worker", tool, str(path), str(out), str(n), backend]
    env = dict(os.environ, SDKIT_CACHE_DIR=str(folder / "cache"),  # a cold numba cache
               SDKIT_NUMBA_PREWARM="0")  # no background compile beside the timings
    try:
        done = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env
        )
    except subprocess.TimeoutExpired:
        return {"error": f"did not finish in {timeout:g} s"}
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        err = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": err[:150]}
    info = json.loads(lines[-1])
    if "error" not in info:
        info["table"] = out
    return info


def _load(path: Path):
    with path.open("rb") as f:
        return pickle.load(f)  # written by this script's own worker process


def _diff(engine: dict, other: dict) -> str:
    from sdkit.engine.oracles import max_rel_diff

    if "table" not in engine or "table" not in other:
        return "-"
    if engine.get("random"):
        return "random draws"
    diff, where, shared = max_rel_diff(_load(engine["table"]), _load(other["table"]))
    if shared == 0:
        return "no shared variable"
    return f"{diff:.1e}" + (f" ({where})" if diff > 1e-9 else "")


def _cell(info: dict) -> str:
    if "error" not in info:
        return f"yes ({info['note']})" if "note" in info else "yes"
    error = info["error"].replace("|", "/")
    return f"no: {error[:70]}..." if len(error) > 70 else f"no: {error}"


def _ratio(engine: dict, other: dict, n: int) -> str:
    if "n_runs_s" not in engine or "run_s" not in other:
        return "-"
    return f"{n * other['run_s'] / engine['n_runs_s']:,.0f}x"


def _row(name: str, infos: dict, n: int) -> str:
    pysd, simlin, eng = infos["pysd"], infos["pysimlin"], infos["engine"]
    cells = [name, _cell(pysd), _cell(simlin), _cell(eng), _diff(eng, pysd), _diff(eng, simlin)]
    cells += (
        [f"{eng['compile_s']:.1f} s", f"{eng['n_runs_s']:.3g} s"]
        if "error" not in eng
        else ["-", "-"]
    )
    cells += [_ratio(eng, pysd, n), _ratio(eng, simlin, n)]
    return "| " + " | ".join(cells) + " |"


def table(root: Path, n: int, backend: str, timeout: float) -> list[str]:
    """Markdown rows, one per model folder of ``root``."""
    rows = [
        "| model | PySD | pysimlin | engine | vs PySD | vs pysimlin "
        f"| engine compile | engine {n:,} runs | ratio to PySD | ratio to pysimlin |",
        "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        mdls = sorted(folder.glob("*.mdl"))
        if not mdls:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            infos = {t: _run_tool(t, mdls[0], Path(tmp), n, backend, timeout) for t in TOOLS}
            if backend == "numba" and "did not finish" in infos["engine"].get("error", ""):
                infos["engine"] = _run_tool("engine", mdls[0], Path(tmp), n, "numpy", timeout)
                infos["engine"]["note"] = f"numpy backend: numba compile > {timeout:g} s"
            rows.append(_row(folder.name, infos, n))
        print(rows[-1], file=sys.stderr, flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--worker":
        tool, path, out, n, backend = argv[1:6]
        try:
            info = worker(tool, Path(path), Path(out), int(n), backend)
        except Exception as exc:  # any failure of a tool is one cell of the table
            info = {"error": _first_line(exc).replace(str(Path(path).parent) + "/", "")}
        print(json.dumps(info))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", nargs="?", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--quick", action="store_true", help="N = 200 on the numpy backend")
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per tool and model")
    args = parser.parse_args(argv)
    if not args.dir.is_dir():
        print(f"corpus folder {args.dir} does not exist; pass its path", file=sys.stderr)
        return 2
    n, backend = (200, "numpy") if args.quick else (args.n, "numba")
    print("\n".join(table(args.dir, n, backend, args.timeout)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
