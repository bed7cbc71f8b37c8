"""One run from the shell: `sdkit run` beside the same job in PySD and pysimlin.

    python benchmarks/shell_run.py [MODEL ...] [--repeat 5]

For each model (default: ``models/*.mdl``) the wall time of a whole process that
reads the model, runs it once and writes every saved value to a file, as a
modeller waits for it at the shell: ``sdkit run MODEL --out FILE.nc``; ``python
-c`` with ``pysd.read_vensim(MODEL).run()`` written to CSV; ``python -c`` with
``simlin.load(MODEL).run()`` written to CSV. sdkit is timed on a cold cache (a new
``SDKIT_CACHE_DIR``: the model is parsed and translated) and on a warm one (the
same folder again: the parse and the generated kernel come from the cache). The
best of ``--repeat`` processes is shown, and the ratio of each tool to warm sdkit;
beside warm sdkit's wall time, its best CPU time (user + system, from the process's
resource usage), which other jobs on a shared machine inflate less. The processes
run with Python's bytecode cache on (``PYTHONDONTWRITEBYTECODE`` removed), as in an
ordinary installation: without it sdkit's own modules are compiled at every start.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PYSD = "import sys, pysd; pysd.read_vensim(sys.argv[1]).run().to_csv(sys.argv[2])"
PYSIMLIN = "import sys, simlin; simlin.load(sys.argv[1]).run(analyze_loops=False).results.to_csv(sys.argv[2])"


def _cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _seconds(command: list[str], env: dict[str, str]) -> float | str:
    return _timed(command, env)[0]


def _timed(command: list[str], env: dict[str, str]) -> tuple[float | str, float]:
    """Wall and CPU seconds of one process (or an error cell instead of the wall time)."""
    cpu = _cpu_of_children()
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    elapsed = time.perf_counter() - started
    cpu = _cpu_of_children() - cpu
    if done.returncode != 0:
        return "no: " + ((done.stderr.strip().splitlines() or ["no output"])[-1])[:60], cpu
    return elapsed, cpu


def _best(command: list[str], env: dict[str, str], repeat: int) -> float | str:
    return _best_with_cpu(command, env, repeat)[0]


def _best_with_cpu(command: list[str], env: dict[str, str], repeat: int) -> tuple[float | str, float]:
    found = [_timed(command, env) for _ in range(repeat)]
    times = [t for t, _ in found if isinstance(t, float)]
    return (min(times) if times else found[0][0]), min(cpu for _, cpu in found)


def _cell(value: float | str) -> str:
    return f"{value * 1000:,.0f} ms" if isinstance(value, float) else value


def _ratio(value: float | str, warm: float | str) -> str:
    if isinstance(value, float) and isinstance(warm, float):
        return f"{value / warm:.1f}x"
    return "-"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", type=Path)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    models = args.models or sorted((ROOT / "models").glob("*.mdl"))
    sdkit = [sys.executable, "-m", "sdkit"]
    print("| model | sdkit run, cold cache | sdkit run, warm cache | sdkit warm, CPU | PySD | pysimlin "
          "| PySD / sdkit warm | pysimlin / sdkit warm |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for path in models:
        with tempfile.TemporaryDirectory() as folder:
            env = dict(os.environ, SDKIT_CACHE_DIR=str(Path(folder) / "cache"))
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            out = str(Path(folder) / "out")
            run = [*sdkit, "run", str(path), "--out", out + ".nc", "--force"]
            cold = _seconds(run, env)
            warm, warm_cpu = _best_with_cpu(run, env, args.repeat)
            # PySD writes its translation beside the model and imports it: its bytecode goes to the scratch folder
            pysd_env = dict(env, PYTHONPYCACHEPREFIX=str(Path(folder) / "pycache"))
            pysd = _best([sys.executable, "-c", PYSD, str(path), out + ".csv"], pysd_env, args.repeat)
            simlin = _best([sys.executable, "-c", PYSIMLIN, str(path), out + "-simlin.csv"], env, args.repeat)
        print(f"| {path.name} | {_cell(cold)} | {_cell(warm)} | {_cell(warm_cpu)} | {_cell(pysd)} | {_cell(simlin)} "
              f"| {_ratio(pysd, warm)} | {_ratio(simlin, warm)} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
