"""Numba compile times of a model structure: first compile, warm load, and after a structural edit.

    python benchmarks/recompile.py [MODEL ...] [--repeat 1]

For each model (default ``models/kissinger_core.mdl`` and ``models/four_orders.mdl``) and
each numba kernel (one function, sdkit's default, and in blocks, ``SDKIT_NUMBA_BLOCKS=1``),
each column a fresh process sharing one kernel cache (a temporary ``SDKIT_CACHE_DIR``),
timed from after ``compile_model`` to the end of one ``simulate(n=1, backend="numba")``
(see ``benchmarks/compile_times.py``):

- *cold*: the first compile, on the empty cache;
- *warm*: the same model again (numba's cache loads the kernel);
- *one formula*: the model with one equation's formula ``F`` changed to ``ABS(F)``;
- *new variable*: the model with one more auxiliary, ``Edit Probe = ABS(F) * 2``,
  beside the edited formula.

The edited equation is the middle one of the model's one-line scalar auxiliaries, in
file order. CPU seconds stand beside wall seconds (the compile is single-threaded, so
on a busy machine its CPU time is the steadier number); the load average is printed.
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compile_times import ROOT, _measure, _seconds  # noqa: E402

#: the kernels measured: name -> SDKIT_NUMBA_BLOCKS
KERNELS = {"one function": "0", "blocks": "1"}
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


def main(argv: list[str] | None = None) -> int:
    from sdkit.engine.nbblocks import BLOCKS_ENV
    from sdkit.engine.runs import MIN_RUN

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", type=Path)
    parser.add_argument("--repeat", type=int, default=1, help="measure every model this many times")
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args(argv)
    models = args.models or [ROOT / "models" / "kissinger_core.mdl", ROOT / "models" / "four_orders.mdl"]
    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print("| model | kernel | cold | warm | one formula | new variable |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for path in models:
        for _, (kernel, blocks) in itertools.product(range(args.repeat), KERNELS.items()):
            os.environ[BLOCKS_ENV] = blocks  # inherited by the measuring processes
            with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as folder:
                edited = edits(path, Path(folder))
                cells = [_measure(path, MIN_RUN, args.timeout, cache), _measure(path, MIN_RUN, args.timeout, cache)]
                cells += [_measure(edited[kind], MIN_RUN, args.timeout, cache) for kind in ("one formula", "new variable")]
            print("| " + " | ".join([path.name, kernel, *map(_seconds, cells)]) + " |", flush=True)
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
