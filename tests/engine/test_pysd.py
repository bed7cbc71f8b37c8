"""The ensemble engine reproduces PySD on every model in models/ and on tests/data/engine_*.mdl.

PySD is the reference: each model is translated once by ``pysd.read_vensim``
(in a temporary copy, since PySD writes a .py next to the .mdl), then run with
the same parameters as the engine; every variable at every saved time must
agree within 1e-9 (absolute).

PySD is slow on subscripted models (tens of ms per step), so runs are cut to
a horizon chosen from a timed probe run: about 0.15-0.5 s of PySD time per
random parameter set (at least 20 time steps), about 5 s for the default
parameters in the slow test (the full horizon for cheap models).
"""

from __future__ import annotations

import itertools
import shutil
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from sdkit.engine import compile_model
from sdkit.errors import NonFiniteError

ROOT = Path(__file__).resolve().parents[2]
MODELS = sorted((ROOT / "models").glob("*.mdl")) + sorted(
    (ROOT / "tests" / "data").glob("engine_*.mdl")
)
ATOL = 1e-9


class Reference:
    """A PySD model plus the engine kernel of the same file."""

    def __init__(self, path: Path, tmp: Path) -> None:
        import pysd

        copy = tmp / path.name
        shutil.copy(path, copy)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.model = pysd.read_vensim(str(copy))
        self.kernel = compile_model(path)
        k = self.kernel
        t0 = time.perf_counter()
        self.pysd_run({}, k.initial_time + 10 * k.time_step)
        self.step_cost = (time.perf_counter() - t0) / 10

    def horizon(self, seconds: float) -> float:
        """Final time such that one PySD run takes about ``seconds``."""
        k = self.kernel
        steps = max(20, int(seconds / max(self.step_cost, 1e-6)))
        return min(k.final_time, k.initial_time + steps * k.time_step)

    def pysd_run(self, params: dict, final_time: float):
        import xarray as xr

        k = self.kernel
        pp = {}
        for py, value in params.items():
            dims = k.var_dims[py]
            if dims:
                pp[py] = xr.DataArray(
                    np.asarray(value, dtype=float), {d: k.dims[d] for d in dims}, list(dims)
                )
            else:
                pp[py] = float(value)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # every constant is passed on every run, so PySD's habit of keeping
            # parameters from the previous run cannot leak between runs
            defaults = {
                py: (
                    xr.DataArray(v, {d: k.dims[d] for d in k.var_dims[py]}, list(k.var_dims[py]))
                    if k.var_dims[py]
                    else v
                )
                for py, v in k.constants.items()
            }
            defaults.update(pp)
            return self.model.run(params=defaults, final_time=final_time)


def random_sets(kernel, n: int, rng: np.random.Generator) -> list[dict]:
    """``n`` parameter sets: uniform in the model's [min, max] or within +-30 % of the default."""
    sets = []
    for _ in range(n):
        one = {}
        for py, default in kernel.constants.items():
            lo, hi = kernel.limits.get(py, (None, None))
            shape = np.shape(default)
            if lo is not None and hi is not None and np.isfinite(lo) and np.isfinite(hi):
                one[py] = rng.uniform(lo, hi, size=shape)
            else:
                one[py] = np.asarray(default) * rng.uniform(0.7, 1.3, size=shape)
            if not shape:
                one[py] = float(one[py])
        sets.append(one)
    return sets


def compare(ref: Reference, params: dict, final_time: float) -> int:
    """Run both engines; assert agreement; return the number of series compared."""
    k = ref.kernel
    df = ref.pysd_run(params, final_time)
    try:
        res = k.simulate(
            {p: np.asarray(v)[None] for p, v in params.items()},
            1,
            time={"final_time": final_time},
            backend="numpy",
        )
    except NonFiniteError:
        assert not np.isfinite(df.to_numpy(dtype=float)).all(), "engine found NaN, PySD did not"
        return 0
    np.testing.assert_allclose(res.times, df.index.to_numpy(dtype=float), rtol=0, atol=1e-12)
    compared = 0
    for py, name in k.names.items():
        dims = k.var_dims[py]
        combos = list(itertools.product(*[k.dims[d] for d in dims])) if dims else [()]
        for elems in combos:
            col = f"{name}[{','.join(elems)}]" if elems else name
            assert col in df.columns, f"PySD output lacks column {col!r}"
            pos = tuple(k.dims[d].index(e) for d, e in zip(dims, elems, strict=True))
            ours = res.data[py][(0, slice(None), *pos)]
            theirs = df[col].to_numpy(dtype=float)
            diff = np.max(np.abs(ours - theirs))
            assert diff <= ATOL, f"{col}: max abs difference {diff:.3g} with params {params}"
            compared += 1
    return compared


@pytest.fixture(scope="module")
def references(tmp_path_factory):
    cache: dict[Path, Reference] = {}

    def get(path: Path) -> Reference:
        if path not in cache:
            cache[path] = Reference(path, tmp_path_factory.mktemp(path.stem))
        return cache[path]

    return get


@pytest.mark.parametrize("path", MODELS, ids=[p.stem for p in MODELS])
def test_engine_matches_pysd(path, references):
    """Default parameters and 3 random sets agree with PySD (short horizon when PySD is slow)."""
    ref = references(path)
    horizon = ref.horizon(0.5)
    assert compare(ref, {}, horizon) > 0
    for params in random_sets(ref.kernel, 3, np.random.default_rng(1)):
        compare(ref, params, horizon)


@pytest.mark.slow
@pytest.mark.parametrize("path", MODELS, ids=[p.stem for p in MODELS])
def test_engine_matches_pysd_50_random_sets(path, references):
    """Default run (full horizon unless PySD needs > 5 s) and 50 random sets agree with PySD."""
    ref = references(path)
    k = ref.kernel
    assert compare(ref, {}, ref.horizon(5.0)) > 0
    horizon = ref.horizon(0.15)
    checked = 0
    for params in random_sets(k, 50, np.random.default_rng(2)):
        checked += compare(ref, params, horizon) > 0
    assert checked >= 40, f"only {checked} of 50 random sets ran without NaN"


@pytest.mark.parametrize("path", MODELS, ids=[p.stem for p in MODELS])
def test_python_names_are_pysd_names(path, references):
    ref = references(path)
    pysd_names = {py: name for name, py in ref.model.namespace.items()}
    for py, name in ref.kernel.names.items():
        assert pysd_names.get(py) == name, py
