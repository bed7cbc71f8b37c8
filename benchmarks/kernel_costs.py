"""What a time step of a model's numba kernel spends on POWER and EXP, measured side by side.

    python benchmarks/kernel_costs.py [MODEL] [--samples N]

Compiles the model's generated kernel three times in this process: as generated, with
every POWER(a, b) of a time step replaced by a, and with every EXP(x) replaced by x (the results of
the edited kernels are wrong; only their speed matters). Each runs N samples on one
thread, final values only, and the script prints sample-steps per second and the share
of the step that the replaced function took.
"""

from __future__ import annotations

import argparse
import importlib.util
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

VARIANTS = {
    "as generated": lambda src: src,
    "POWER(a, b) -> a": lambda src: src.replace("_V.power(", "_V.select(True, "),
    "EXP(x) -> x": lambda src: src.replace("_V.exp(", "("),
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
    """Sample-steps per second of the loaded ``run`` on one thread (after a compiling call)."""
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
    start = time.perf_counter()
    run(*args, 0, n, *data)
    return n * times.size / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default=str(ROOT / "models" / "kissinger_core.mdl"))
    parser.add_argument("--samples", type=int, default=32_000)
    args = parser.parse_args()
    kernel = compile_model(args.model)
    code = kernel._numba_code()  # in blocks with SDKIT_NUMBA_BLOCKS=1
    source = code.source
    print(
        f"{args.model}: {source.count('_V.power(')} POWER and "
        f"{source.count('_V.exp(')} EXP calls per time step"
    )
    with tempfile.TemporaryDirectory() as tmp:
        rates = {}
        for k, (label, edit) in enumerate(VARIANTS.items()):
            rates[label] = rate(load(code, edit, Path(tmp), f"variant{k}"), kernel, args.samples)
    base = rates["as generated"]
    for label, r in rates.items():
        share = "" if label == "as generated" else f"  -> {1 - base / r:.0%} of the step"
        print(f"{label:>18}: {r:.3g} sample-steps/s on one thread{share}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
