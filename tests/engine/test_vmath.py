"""sdkit.engine.vmath: EXP, LN, POWER, SIN, COS, TAN and ARCTAN in plain arithmetic,
against the C library."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest
from numba import njit

from sdkit.engine import ufuncs, vmath

SPECIAL = [
    0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5, 3.0, -3.0, 2.5, -2.5, 1e-310, -1e-310,
    1e308, 0.1, 7.0, math.inf, -math.inf, math.nan,
]  # fmt: skip


@njit(error_model="numpy")
def _exp_loop(x, out):
    for i in range(x.size):
        out[i] = vmath.exp(x[i])


@njit(error_model="numpy")
def _ln_loop(x, out):
    for i in range(x.size):
        out[i] = vmath.ln(x[i])


@njit(error_model="numpy")
def _power_loop(x, y, out):
    for i in range(x.size):
        out[i] = vmath.power(x[i], y[i])


def _apply(loop, *args):
    arrays = [np.ascontiguousarray(a, dtype=np.float64) for a in args]
    out = np.empty(arrays[0].size)
    loop(*arrays, out)
    return out


def _same_special(got: float, want: float) -> bool:
    """Equal including the sign of zeros and infinities, or both NaN."""
    if math.isnan(want):
        return math.isnan(got)
    return got == want and math.copysign(1.0, got) == math.copysign(1.0, want)


def _ulps(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    return np.abs(got - want) / np.spacing(np.abs(want))


def test_exp_within_one_ulp_of_libm():
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.uniform(-745.0, 709.7, 200_000), rng.uniform(-1.0, 1.0, 50_000)])
    want = np.array([math.exp(v) for v in x])
    assert _ulps(_apply(_exp_loop, x), want).max() <= 1.0


def test_ln_within_one_ulp_of_libm():
    rng = np.random.default_rng(2)
    x = np.concatenate([np.exp(rng.uniform(-744.0, 709.0, 200_000)), rng.uniform(0.5, 2.0, 50_000)])
    want = np.array([math.log(v) for v in x])
    assert _ulps(_apply(_ln_loop, x), want).max() <= 1.0


def test_exp_and_ln_special_values_follow_c99():
    x = np.array(SPECIAL + [-745.2, -745.0, -708.5, 709.78, 709.79, -1000.0, 1000.0])
    with np.errstate(all="ignore"):
        want_exp = np.exp(x)
        want_ln = np.log(x)
    for v, got, want in zip(x, _apply(_exp_loop, x), want_exp, strict=True):
        if want == 0 or not np.isfinite(want):
            assert _same_special(got, want), v
        else:
            assert _ulps(np.array([got]), np.array([want]))[0] <= 1.0, v
    for v, got, want in zip(x, _apply(_ln_loop, x), want_ln, strict=True):
        if not np.isfinite(want):
            assert _same_special(got, want), v
        else:
            assert _ulps(np.array([got]), np.array([want]))[0] <= 1.0, v


def test_power_special_values_follow_c99():
    """Every pair of special bases and exponents: zeros, infinities, NaN and signs as C pow."""
    pairs = np.array(list(itertools.product(SPECIAL, SPECIAL)))
    got = _apply(_power_loop, pairs[:, 0], pairs[:, 1])
    with np.errstate(all="ignore"):
        want = np.power(pairs[:, 0], pairs[:, 1])
    for (x, y), g, w in zip(pairs, got, want, strict=True):
        if g == w and math.copysign(1.0, g) == math.copysign(1.0, w):
            continue
        if w == 0 or not np.isfinite(w):
            assert _same_special(g, w), (x, y, g, w)
        else:
            # exp(y ln x): relative error grows with |y ln x|
            bound = (abs(y * math.log(abs(x))) + 2.0) * 2.0**-52
            assert abs(g - w) <= bound * abs(w), (x, y, g, w)


def test_power_exact_for_common_exponents():
    rng = np.random.default_rng(3)
    x = rng.uniform(-50.0, 50.0, 10_000)
    for y, want in ((2.0, x * x), (1.0, x), (0.0, np.ones_like(x))):
        assert np.array_equal(_apply(_power_loop, x, np.full_like(x, y)), want), y


def test_power_of_integers_to_small_integer_exponents_is_exact():
    """(-2)**3 == -8 and every integer base in [-20, 20] to the powers 3..8, as C's pow."""
    bases = np.arange(-20.0, 21.0)
    for y in range(3, 9):
        got = _apply(_power_loop, bases, np.full_like(bases, float(y)))
        assert np.array_equal(got, bases**y), y
    assert _apply(_power_loop, [-2.0], [3.0])[0] == -8.0


def test_power_small_integer_exponents_err_by_at_most_their_products_roundings():
    rng = np.random.default_rng(7)
    x = np.concatenate([rng.uniform(-10.0, 10.0, 50_000), np.exp(rng.uniform(-80.0, 80.0, 50_000))])
    for y in range(3, 9):
        want = np.array([math.pow(a, y) for a in x])
        got = _apply(_power_loop, x, np.full_like(x, float(y)))
        # y - 1 roundings in the products (and half an ulp in the reference)
        assert (np.abs(got - want) <= y * 2.0**-53 * np.abs(want)).all(), y


def test_power_relative_error_is_bounded():
    rng = np.random.default_rng(4)
    x = rng.uniform(1e-3, 10.0, 200_000)
    y = rng.uniform(-8.0, 8.0, x.size)
    want = np.array([a**b for a, b in zip(x, y, strict=True)])
    bound = (np.abs(y * np.log(x)) + 2.0) * 2.0**-52
    assert (np.abs(_apply(_power_loop, x, y) - want) <= bound * want).all()


@pytest.mark.parametrize("name", ["exp", "ln"])
def test_vector_loop_and_one_at_a_time_give_identical_bits(name):
    """A compiled loop over 1,000 values (SIMD) equals the same function on each value alone."""
    rng = np.random.default_rng(5)
    x = rng.uniform(-30.0, 30.0, 1000) if name == "exp" else np.exp(rng.uniform(-30, 30, 1000))
    loop = _exp_loop if name == "exp" else _ln_loop
    vector = _apply(loop, x)
    one_by_one = np.array([getattr(ufuncs, name)(v) for v in x])
    assert np.array_equal(vector, one_by_one)


def test_power_vector_loop_and_one_at_a_time_give_identical_bits():
    rng = np.random.default_rng(6)
    x = rng.uniform(0.0, 5.0, 1000)
    y = rng.uniform(-4.0, 4.0, 1000)
    vector = _apply(_power_loop, x, y)
    one_by_one = np.array([ufuncs.power(a, b) for a, b in zip(x, y, strict=True)])
    assert np.array_equal(vector, one_by_one)


@njit(error_model="numpy")
def _trig_loop(x, out):
    for i in range(x.size):
        out[4 * i] = vmath.sin(x[i])
        out[4 * i + 1] = vmath.cos(x[i])
        out[4 * i + 2] = vmath.tan(x[i])
        out[4 * i + 3] = vmath.arctan(x[i])


def _trig(x):
    x = np.ascontiguousarray(x, dtype=np.float64)
    out = np.empty(4 * x.size)
    _trig_loop(x, out)
    return out.reshape(-1, 4).T


TRIG_ULPS = {"sin": 1.0, "cos": 1.0, "tan": 2.0, "arctan": 1.0}


def test_trigonometry_within_its_ulp_bound_of_libm():
    """SIN, COS within 1 ulp, TAN within 2 (sine over cosine), ARCTAN within 1 ulp; SIN,
    COS, TAN for |x| up to 8e5 (exact reduction by pi/2), ARCTAN over 60 orders of magnitude."""
    rng = np.random.default_rng(8)
    x = np.concatenate(
        [rng.uniform(-10.0, 10.0, 100_000), rng.uniform(-8e5, 8e5, 100_000), [1e-300, 2.0**-30]]
    )
    wide = np.concatenate([x, np.exp(rng.uniform(-70.0, 70.0, 50_000))])
    sin, cos, tan, _ = _trig(x)
    arctan = _trig(wide)[3]
    assert _ulps(sin, np.array([math.sin(v) for v in x])).max() <= TRIG_ULPS["sin"]
    assert _ulps(cos, np.array([math.cos(v) for v in x])).max() <= TRIG_ULPS["cos"]
    assert _ulps(tan, np.array([math.tan(v) for v in x])).max() <= TRIG_ULPS["tan"]
    assert _ulps(arctan, np.array([math.atan(v) for v in wide])).max() <= TRIG_ULPS["arctan"]


def test_trigonometry_special_values_follow_c99():
    x = np.array([0.0, -0.0, math.inf, -math.inf, math.nan])
    sin, cos, tan, arctan = _trig(x)
    for v, s, c, t, a in zip(x, sin, cos, tan, arctan, strict=True):
        with np.errstate(all="ignore"):
            want = (np.sin(v), np.cos(v), np.tan(v), np.arctan(v))
        for got, w in zip((s, c, t, a), want, strict=True):
            assert _same_special(got, w), (v, got, w)


def test_trigonometry_vector_loop_and_one_at_a_time_give_identical_bits():
    x = np.random.default_rng(9).uniform(-50.0, 50.0, 1000)
    vector = _trig(x)
    for row, name in zip(vector, TRIG_ULPS, strict=True):
        one_by_one = np.array([getattr(ufuncs, name)(v) for v in x])
        assert np.array_equal(row, one_by_one), name


def test_select_is_an_elementwise_choice():
    @njit
    def pick(c, a, b):
        return vmath.select(c, a, b)

    assert pick(True, 1.0, 2.0) == 1.0
    assert pick(False, 1.0, 2.0) == 2.0
    assert math.isnan(pick(True, math.nan, 0.0))


@pytest.mark.parametrize("edited", ["vmath.py", "vformulas.py"])
def test_ufunc_loops_are_cached_under_the_hash_of_the_maths(monkeypatch, edited):
    """numba's on-disk cache does not notice an edit to a called function: the loops' module
    is named by the hash of the maths, so editing vmath.py or vformulas.py gives a new
    module, compiled afresh, instead of stale EXP, LN and POWER from the cache."""
    from sdkit.engine import kernel_files

    read_bytes = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda path: read_bytes(path) + b"\n# edited" * (path.name == edited))
    runtime_hash = kernel_files._runtime_hash()  # noqa: SLF001 - the hash of the files as they would be
    assert runtime_hash != kernel_files.RUNTIME_HASH
    name = ufuncs.compiled_loops().__name__
    ufuncs.compiled_loops.cache_clear()
    monkeypatch.setattr(kernel_files, "RUNTIME_HASH", runtime_hash)
    try:
        assert ufuncs.compiled_loops().__name__ != name
    finally:
        ufuncs.compiled_loops.cache_clear()


def _bits(values) -> np.ndarray:
    return np.asarray(values, dtype=np.float64).view(np.int64)


def test_formulas_in_python_give_the_compiled_bits():
    """The numpy backend's one-sample path (the formulas on Python floats) and the compiled
    functions agree bit for bit, signs of zeros and NaN included, over ordinary and
    extreme arguments, negative bases and integer exponents."""
    from sdkit.engine import vformulas

    rng = np.random.default_rng(11)
    x = np.concatenate([
        SPECIAL, [-745.2, -745.0, 709.78, 709.79, 1e-300, -1e-300, 8.2e5, 2e6, 1e300],
        rng.normal(0.0, 30.0, 3000), rng.uniform(-800.0, 800.0, 1000), np.exp(rng.uniform(-700, 700, 1000)),
    ])
    y = np.concatenate([rng.uniform(-10.0, 10.0, x.size // 2), np.round(rng.uniform(-9.0, 9.0, x.size - x.size // 2))])
    y[: len(SPECIAL)] = SPECIAL
    bases = np.concatenate([x[: x.size // 2] / 10.0, -np.abs(x[x.size // 2 :]) / 10.0])
    with np.errstate(all="ignore"):
        compiled = np.concatenate([_apply(_exp_loop, x), _apply(_ln_loop, np.abs(x)), _apply(_ln_loop, x),
                                   _apply(_power_loop, bases, y), *_trig(x)])
    python = np.concatenate([
        [vformulas.exp(float(v)) for v in x], [vformulas.ln(float(abs(v))) for v in x],
        [vformulas.ln(float(v)) for v in x],
        [vformulas.power(float(a), float(b)) for a, b in zip(bases, y, strict=True)],
        *([getattr(vformulas, name)(float(v)) for v in x] for name in TRIG_ULPS),
    ])
    nan = np.isnan(compiled)
    assert np.array_equal(nan, np.isnan(python))
    assert np.array_equal(_bits(compiled[~nan]), _bits(python[~nan]))


@pytest.mark.parametrize("shape", [(), (1,), (1, 1)])
def test_one_value_keeps_its_shape_and_type(shape):
    """One value takes the formulas' path and comes back as the loops would return it."""
    x = np.full(shape, 0.7)
    for got in (ufuncs.exp(x), ufuncs.power(x, 2.5), ufuncs.sin(x)):
        assert np.shape(got) == shape
        assert isinstance(got, np.float64 if shape == () else np.ndarray)
    assert np.array_equal(ufuncs.power(np.full(3, 0.7), 2.5), np.full(3, ufuncs.power(0.7, 2.5)))


def test_a_single_numpy_run_needs_no_numba(tmp_path):
    """One sample of the core model (EXP and POWER in every step) on the numpy backend, in a
    fresh process, neither imports numba nor differs from the numba kernel's bits."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    script = (
        "import sys, numpy as np\n"
        "from sdkit.engine import compile_model\n"
        "k = compile_model(sys.argv[1], backend='numpy')\n"
        "r = k.simulate({}, 1, backend='numpy')\n"
        "print('numba' in sys.modules)\n"
        "np.save(sys.argv[2], np.stack([r.data[v] for v in sorted(r.data)]))\n"
    )
    out = tmp_path / "numpy.npy"
    env = dict(os.environ, PYTHONPATH=str(root))
    done = subprocess.run([sys.executable, "-c", script, str(root / "models" / "kissinger_core.mdl"), str(out)],
                          capture_output=True, text=True, env=env, check=True)
    assert done.stdout.split() == ["False"]
    from sdkit.engine import compile_model

    kernel = compile_model(root / "models" / "kissinger_core.mdl")
    numba = kernel.simulate({}, 1, backend="numba")
    assert np.array_equal(np.load(out), np.stack([numba.data[v] for v in sorted(numba.data)]))
