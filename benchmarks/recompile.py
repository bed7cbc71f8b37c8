"""Numba compile times of a model structure: first compile, warm load, and after a structural edit.

    python benchmarks/recompile.py [MODEL ...] [--repeat 1] [--kernel default ...]

For each model (default ``models/kissinger_core.mdl`` and ``models/four_orders.mdl``) and
each choice of numba kernel (``SDKIT_NUMBA_BLOCKS`` unset, sdkit's default; ``0``, the
one-function kernel only; ``1``, the blocked kernel only), each column a fresh process
sharing one kernel cache (a temporary ``SDKIT_CACHE_DIR``), timed from after
``compile_model`` to the end of one ``simulate(n=1, backend="numba")``:

- *cold*: the first compile, on the empty cache;
- *warm*: the same model again (numba's cache loads the kernel);
- *one formula*: the model with one equation's formula ``F`` changed to ``ABS(F)``;
- *new variable*: the model with one more auxiliary, ``Edit Probe = ABS(F) * 2``,
  beside the edited formula.

The edited equation is the middle one of the model's one-line scalar auxiliaries, in
file order. CPU seconds (of the measured process) stand beside wall seconds (the
compile is single-threaded, so on a busy machine its CPU time is the steadier number);
the load average is printed. By default, where the first run was on the blocked
kernel the cell says so (*blocks*) and when the one-function kernel, compiled in a
background process, took over (*one function at*, seconds from the same start); a
first compile that also cached the blocks in the background says when they were
cached (*blocks cached at*). Each process waits for its background compile before it
exits, so the next column starts on a quiet machine.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: the kernels measured: name -> SDKIT_NUMBA_BLOCKS
KERNELS = {"default": "", "one function": "0", "blocks": "1"}
#: a scalar auxiliary whose formula fits on the line after its name
EQUATION = re.compile(r"^([A-Za-z][A-Za-z0-9 _]*)=\n\t([^\n~|]+)\n\t~", re.MULTILINE)


def _edited_equation(text: str) -> re.Match:
    """The middle one-line auxiliary of the file that is neither a number, a stock nor a call of a delay."""
    candidates = [
        m for m in EQUATION.finditer(text)
        if not re.fullmatch(r"[-+0-9.eE ,]+", m.group(2).strip())
        and not re.search(r"\b(INTEG|SMOOTH|DELAY|TREND|INITIAL|FORECAST)", m.group(2), re.IGNORECASE)
    ]
    if not candidates:
        raise SystemExit("no one-line auxiliary equation to edit")
    return candidates[len(candidates) // 2]


def edits(path: Path, folder: Path) -> dict[str, Path]:
    """The model and its two structural edits, written to ``folder``."""
    text = path.read_text(encoding="utf-8")
    m = _edited_equation(text)
    name, formula = m.group(1), m.group(2)
    start, end = m.span(2)
    formula_edit = text[:start] + f"ABS({formula})" + text[end:]
    probe = f"Edit Probe=\n\tABS({formula}) * 2\n\t~\tDmnl\n\t~\t|\n\n"
    variable_edit = formula_edit[: m.start()] + probe + formula_edit[m.start():]
    out = {}
    for kind, edited in (("one formula", formula_edit), ("new variable", variable_edit)):
        target = folder / f"{path.stem}_{kind.replace(' ', '_')}.mdl"
        target.write_text(edited, encoding="utf-8")
        out[kind] = target
    print(f"{path.name}: edited equation '{name}'", flush=True)
    return out


def worker(path: Path) -> dict:
    """Seconds to the end of the first numba run of ``path``; the kernel it ran on; when a background compile ended."""
    from sdkit.engine import compile_model

    kernel = compile_model(path)
    t0, c0 = time.perf_counter(), time.process_time()
    kernel.simulate({}, n=1, backend="numba", variables=[], save="final")
    info = {"compile_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0, "kind": kernel.numba_kind}
    if kernel.background is not None:
        kernel.background.wait()
        info["background_s"] = time.perf_counter() - t0
        info["background"] = "one function" if kernel.numba_kind == "one" and info["kind"] == "blocks" else "blocks"
    return info


def _measure(path: Path, timeout: float, cache: str) -> dict:
    """The worker's times in a fresh process with the kernel cache ``cache``."""
    env = dict(os.environ, SDKIT_CACHE_DIR=cache)
    try:
        done = subprocess.run([sys.executable, __file__, "--worker", str(path)], capture_output=True, text=True,
                              cwd=ROOT, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"more than {timeout:.0f} s"}
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return {"error": (done.stderr.strip().splitlines() or ["no output"])[-1][:80]}
    return json.loads(lines[-1])


def _cell(info: dict) -> str:
    if "compile_s" not in info:
        return f"error: {info['error']}"
    text = f"{info['compile_s']:.1f} s ({info['cpu_s']:.1f} s CPU)"
    if "background" in info:
        ran = "blocks; " if info["kind"] == "blocks" else ""
        text += f", {ran}{info['background'] if ran else 'blocks cached'} at {info['background_s']:.1f} s"
    return text


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--worker":
        print(json.dumps(worker(Path(argv[1]))))
        return 0
    from sdkit.engine.nbblocks import BLOCKS_ENV

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", type=Path)
    parser.add_argument("--repeat", type=int, default=1, help="measure every model this many times")
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--kernel", action="append", choices=list(KERNELS), help="measure only this choice (repeatable)")
    args = parser.parse_args(argv)
    models = args.models or [ROOT / "models" / "kissinger_core.mdl", ROOT / "models" / "four_orders.mdl"]
    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print("| model | kernel | cold | warm | one formula | new variable |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for path in models:
        kernels = {name: KERNELS[name] for name in args.kernel or KERNELS}
        for _, (kernel, blocks) in itertools.product(range(args.repeat), kernels.items()):
            os.environ[BLOCKS_ENV] = blocks  # inherited by the measuring processes
            with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as folder:
                edited = edits(path, Path(folder))
                cells = [_measure(path, args.timeout, cache), _measure(path, args.timeout, cache)]
                cells += [_measure(edited[kind], args.timeout, cache) for kind in ("one formula", "new variable")]
            print("| " + " | ".join([path.name, kernel, *map(_cell, cells)]) + " |", flush=True)
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
