"""What a time step of a model's numba kernel spends on its functions, measured side by side.

    python benchmarks/kernel_costs.py [MODEL] [--samples N]

Compiles the model's generated kernel in this process as generated and once for each
function the model calls (POWER, EXP, SIN, COS, lookups, PULSE TRAIN, RANDOM UNIFORM) with every call of
it replaced by its first argument (the results of the edited kernels are wrong; only
their speed matters). Each runs N samples on one thread, final values only, and the
script prints sample-steps per CPU-second (the best of three runs, so that other work
on a busy machine distorts it little) and the share of the step that the replaced
function took.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sdkit.engine import compile_model  # noqa: E402
from sdkit.engine.kernel_files import interleaved_vectors  # noqa: E402
from sdkit.engine.nbblocks import block_addresses  # noqa: E402
from sdkit.timing import saveper_mask, time_grid  # noqa: E402


def first_argument(src: str, call: str) -> str:
    """``src`` with every ``call(a, ...)`` replaced by ``(a)``."""
    out, pos = [], 0
    while (start := src.find(call, pos)) >= 0:
        out.append(src[pos:start] + "(")
        depth, k, cut = 1, start + len(call), None
        while depth:
            ch = src[k]
            depth += {"(": 1, ")": -1}.get(ch, 0)
            if ch == "," and depth == 1 and cut is None:
                cut = k
            k += 1
        out.append(src[start + len(call) : cut if cut is not None else k - 1] + ")")
        pos = k
    return "".join(out) + src[pos:]


def without_lookups(src: str) -> str:
    """``src`` with every lookup replaced by its argument (the searches before the lane loop by interval 0)."""
    src = re.sub(r"^(\s*)_j = _F\.interval\(.*$", r"\1_j = 0", src, flags=re.M)
    return first_argument(first_argument(src, "_F.lookup("), "_F.interpolated(")


#: label -> the call in the generated source (or the edit replacing it)
CALLS = {
    "POWER(a, b) -> a": "_V.power(",
    "EXP(x) -> x": "_V.exp(",
    "SIN(x) -> x": "_V.sin(",
    "COS(x) -> x": "_V.cos(",
    "LOOKUP(x) -> x": (("_F.lookup(", "_F.interpolated("), without_lookups),
    "PULSE TRAIN -> start": "_F.pulse_train(",
    "RANDOM UNIFORM -> min": "_F.random_uniform(",
}


def _import(src: str, folder: Path, name: str):
    path = folder / f"{name}.py"
    path.write_text(src.replace("cache=True", "cache=False"), encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules[name] = module
    return module


def load(code, edit, folder: Path, tag: str):
    """``run`` and its data, from the kernel's modules with ``edit`` applied to each, named apart by ``tag``."""
    modules = [(f"{name}_{tag}", edit(text)) for name, text in code.modules]
    run = [_import(text, folder, name) for name, text in modules][-1].run
    with interleaved_vectors():
        blocks = block_addresses(modules)
    return run, (code.data if blocks is None else (blocks, *code.data))


def rate(loaded, kernel, n: int) -> float:
    """Sample-steps per CPU-second of the loaded ``run`` on one thread (after a compiling call)."""
    run, data = loaded
    rng = np.random.default_rng(0)
    params = kernel._param_matrix({}, n) * rng.uniform(0.95, 1.05, (len(kernel._params), n))
    times = np.array(time_grid(kernel.initial_time, kernel.final_time, kernel.time_step))
    check = saveper_mask(times, kernel.initial_time, kernel.time_step, kernel.saveper)
    save = np.full(times.size, -1)
    save[-1] = 0
    columns = np.array([kernel._ir.var_nodes[kernel.stocks[0]].flat[0]])
    out = np.empty((n, 1, 1))
    bad = np.full((n, 2), -1)
    args = (params, times, save, check, columns, out, times[0], times[-1])
    args += (kernel.time_step, kernel.saveper, bad)
    with interleaved_vectors():  # compiled as the engine compiles it
        run(*args, 0, 16, *data)
    best = float("inf")
    for _ in range(3):
        start = time.process_time()
        run(*args, 0, n, *data)
        best = min(best, time.process_time() - start)
    return n * times.size / best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default=str(ROOT / "models" / "kissinger_core.mdl"))
    parser.add_argument("--samples", type=int, default=32_000)
    args = parser.parse_args()
    kernel = compile_model(args.model)
    code = kernel._numba_code()  # in blocks with SDKIT_NUMBA_BLOCKS=1
    source = code.source
    step = source[source.index("def lanes(") :].split("@_nb.njit")[0] if "def lanes(" in source else source
    edits = {label: call if isinstance(call, tuple) else ((call,), lambda src, call=call: first_argument(src, call))
             for label, call in CALLS.items()}
    calls = {label: (markers, edit) for label, (markers, edit) in edits.items() if any(m in step for m in markers)}
    counts = ", ".join(f"{sum(step.count(m) for m in markers)} {label.split('(')[0].split(' ->')[0]}"
                       for label, (markers, _) in calls.items())
    print(f"{args.model}, calls in a time step: {counts or 'none of these'}")
    with tempfile.TemporaryDirectory() as tmp:
        rates = {"as generated": rate(load(code, lambda src: src, Path(tmp), "generated"), kernel, args.samples)}
        for k, (label, (_, edit)) in enumerate(calls.items()):
            rates[label] = rate(load(code, edit, Path(tmp), f"variant{k}"), kernel, args.samples)
    base = rates["as generated"]
    for label, r in rates.items():
        share = "" if label == "as generated" else f"  -> {1 - base / r:.0%} of the step"
        print(f"{label:>20}: {r:.3g} sample-steps/s per CPU-second on one thread{share}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
