"""One run from the shell: `sdkit run` beside the same job in PySD and pysimlin.

    python benchmarks/shell_run.py [MODEL ...] [--repeat 5]

For each model (default: ``models/*.mdl``) the wall time of a whole process that
reads the model, runs it once and writes every saved value to a file, as a
modeller waits for it at the shell: ``sdkit run MODEL --out FILE.nc``; ``python
-c`` with ``pysd.read_vensim(MODEL).run()`` written to CSV; ``python -c`` with
``simlin.load(MODEL).run()`` written to CSV. sdkit is timed on a cold cache (a new
``SDKIT_CACHE_DIR``: the model is parsed and translated) and on a warm one (the
same folder again: the parse and the generated kernel come from the cache). The
best of ``--repeat`` processes is shown, and the ratio of each tool to warm sdkit.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PYSD = "import sys, pysd; pysd.read_vensim(sys.argv[1]).run().to_csv(sys.argv[2])"
PYSIMLIN = "import sys, simlin; simlin.load(sys.argv[1]).run(analyze_loops=False).results.to_csv(sys.argv[2])"


def _seconds(command: list[str], env: dict[str, str]) -> float | str:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        return "no: " + ((done.stderr.strip().splitlines() or ["no output"])[-1])[:60]
    return elapsed


def _best(command: list[str], env: dict[str, str], repeat: int) -> float | str:
    found = [_seconds(command, env) for _ in range(repeat)]
    times = [t for t in found if isinstance(t, float)]
    return min(times) if times else found[0]


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
    print("| model | sdkit run, cold cache | sdkit run, warm cache | PySD | pysimlin | PySD / sdkit warm | pysimlin / sdkit warm |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for path in models:
        with tempfile.TemporaryDirectory() as folder:
            env = dict(os.environ, SDKIT_CACHE_DIR=str(Path(folder) / "cache"))
            out = str(Path(folder) / "out")
            run = [*sdkit, "run", str(path), "--out", out + ".nc", "--force"]
            cold = _seconds(run, env)
            warm = _best(run, env, args.repeat)
            pysd = _best([sys.executable, "-c", PYSD, str(path), out + ".csv"], env, args.repeat)
            simlin = _best([sys.executable, "-c", PYSIMLIN, str(path), out + "-simlin.csv"], env, args.repeat)
        print(f"| {path.name} | {_cell(cold)} | {_cell(warm)} | {_cell(pysd)} | {_cell(simlin)} "
              f"| {_ratio(pysd, warm)} | {_ratio(simlin, warm)} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
