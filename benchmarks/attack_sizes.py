"""How long `sdkit run` takes on the two oversized models of the attack suite, by size.

    python benchmarks/attack_sizes.py            # up to e1-e100000 and 20,000 auxiliaries
    python benchmarks/attack_sizes.py --quick    # up to a quarter of that

A model with one subscript range ``E: (e1-eN)`` and two subscripted variables (the
attack was a 413-byte file with N = 100,000), and a model of N chained auxiliaries
``a_i = a_(i-1) + 1``. Each size runs in a fresh process (`sdkit run ... --vars Stock`);
the table prints wall and CPU seconds and, against the previous size, the ratio of CPU
time to the ratio of sizes: about 1 for linear work, about the size ratio for quadratic.
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
DECAY = (ROOT / "tests" / "data" / "decay.mdl").read_text()


def subscripts(n: int) -> str:
    head = f"E: (e1-e{n})\n\t~\t\n\t~\t\n\t|\n\nx[E] = 1\n\t~\t\n\t~\t\n\t|\n\ny[E] = x[E] * 2\n\t~\t\n\t~\t\n\t|\n\n"
    return DECAY.replace("{UTF-8}\n", "{UTF-8}\n" + head)


def chain(n: int) -> str:
    lines = "".join(f"a{i} = a{i - 1} + 1\n\t~\t\n\t~\t\n\t|\n\n" for i in range(1, n))
    return DECAY.replace("{UTF-8}\n", "{UTF-8}\na0 = Stock\n\t~\t\n\t~\t\n\t|\n\n" + lines)


def timed_run(path: Path) -> tuple[float, float]:
    """Wall and CPU seconds of `sdkit run PATH` in a child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "sdkit", "run", str(path), "--vars", "Stock"], check=True,
                   capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.perf_counter() - start, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    scale = 4 if args.quick else 1
    cases = [("subscript range e1-eN", subscripts, [25_000 // scale, 50_000 // scale, 100_000 // scale]),
             ("N chained auxiliaries", chain, [5_000 // scale, 10_000 // scale, 20_000 // scale])]
    print(f"{'model':24} {'N':>8} {'wall s':>8} {'CPU s':>8} {'CPU ratio / size ratio':>24}")
    with tempfile.TemporaryDirectory() as folder:
        for label, make, sizes in cases:
            previous = None
            for n in sizes:
                path = Path(folder) / f"m{n}.mdl"
                path.write_text(make(n))
                wall, cpu = timed_run(path)
                ratio = "" if previous is None else f"{(cpu / previous[1]) / (n / previous[0]):.2f}"
                print(f"{label:24} {n:>8} {wall:>8.1f} {cpu:>8.1f} {ratio:>24}")
                previous = (n, cpu)


if __name__ == "__main__":
    main()
