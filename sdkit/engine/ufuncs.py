"""Transcendental functions for the numpy backend, with the numba kernel's bits.

numpy's own ``exp``/``log``/``power`` use SIMD code paths (e.g. AVX-512) that
can differ in the last bit from what the numba kernel computes: EXP, LN,
POWER, SIN, COS, TAN and ARCTAN from :mod:`sdkit.engine.vmath`, the other
functions (ARCSIN, ARCCOS, SINH, COSH, TANH) from the C library.
Routing the numpy backend through the same functions makes the two
backends agree bit for bit, so results do not depend on which backend (or
chunk size) ran a sample. Operations that IEEE 754 rounds exactly (+ - * /,
sqrt, comparisons) use numpy directly.

Each function accepts scalars or arrays (broadcasting like numpy) and returns
a ``numpy.float64`` or a float64 array. Arrays of more than one value go through
loops compiled by numba (built lazily, cached on disk by numba); one value of
EXP, LN, POWER, SIN, COS, TAN or ARCTAN, until the process has loaded those loops,
goes through the same formulas in plain Python (:mod:`sdkit.engine.vformulas`;
about 30 % slower per call), so that a single run on the numpy backend neither
imports numba nor loads its compiled code (about half a second).
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np

from sdkit.engine import vformulas

EXP, LN, SIN, COS, TAN, ARCSIN, ARCCOS, ARCTAN, SINH, COSH, TANH = range(11)
POWER, FMOD = range(2)

#: whether :func:`compiled_loops` has run in this process
_LOOPS_MADE = [False]


@cache
def compiled_loops():
    """The compiled loops over arrays, closed over the hash of vmath.py and vformulas.py.

    numba's on-disk cache key includes a function's closure values but not the
    functions it calls, so an edit to the maths changes the key and the loops
    recompile instead of running the old EXP, LN and POWER from the cache.
    """
    from numba import njit

    from sdkit.engine import vmath

    _LOOPS_MADE[0] = True

    vmath_hash = vmath.SOURCES_HASH
    _jit = njit(cache=True, error_model="numpy", nogil=True)

    @_jit
    def unary_loop(op, x, out):
        if vmath_hash == "":  # never: it only puts the hash into the cache key
            return
        for i in range(x.size):
            v = x[i]
            if op == EXP:
                r = vmath.exp(v)
            elif op == LN:
                r = vmath.ln(v)
            elif op == SIN:
                r = vmath.sin(v)
            elif op == COS:
                r = vmath.cos(v)
            elif op == TAN:
                r = vmath.tan(v)
            elif op == ARCSIN:
                r = math.asin(v) if -1.0 <= v <= 1.0 else math.nan
            elif op == ARCCOS:
                r = math.acos(v) if -1.0 <= v <= 1.0 else math.nan
            elif op == ARCTAN:
                r = vmath.arctan(v)
            elif op == SINH:
                r = math.sinh(v)
            elif op == COSH:
                r = math.cosh(v)
            else:
                r = math.tanh(v)
            out[i] = r

    @_jit
    def binary_loop(op, a, b, out):
        if vmath_hash == "":
            return
        for i in range(a.size):
            if op == POWER:
                out[i] = vmath.power(a[i], b[i])
            else:
                out[i] = a[i] % b[i]

    return unary_loop, binary_loop


def _loaded() -> bool:
    """Whether this process has the compiled loops (then they are the faster way for one value too)."""
    return _LOOPS_MADE[0]


def _unary(op: int, formula=None):
    def apply(x):
        if formula is not None and isinstance(x, float) and not _loaded():  # a float or numpy.float64
            return np.float64(formula(x))
        a = np.asarray(x, dtype=np.float64)
        if formula is not None and a.size == 1 and not _loaded():
            return _one(formula(float(a.reshape(-1)[0])), a.shape)
        out = np.empty(a.size)
        compiled_loops()[0](op, np.ascontiguousarray(a).reshape(-1), out)
        return out.reshape(a.shape) if a.ndim else np.float64(out[0])

    return apply


def _binary(op: int, formula=None):
    def apply(x, y):
        if formula is not None and isinstance(x, float) and isinstance(y, float) and not _loaded():
            return np.float64(formula(x, y))
        a, b = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
        if formula is not None and a.size == 1 and not _loaded():
            return _one(formula(float(a.reshape(-1)[0]), float(b.reshape(-1)[0])), a.shape)
        out = np.empty(a.size)
        flat_a = np.ascontiguousarray(a).reshape(-1)
        flat_b = np.ascontiguousarray(b).reshape(-1)
        compiled_loops()[1](op, flat_a, flat_b, out)
        return out.reshape(a.shape) if a.ndim else np.float64(out[0])

    return apply


def _one(value: float, shape: tuple[int, ...]):
    """One result as the loops return it: a ``numpy.float64``, or an array of ``shape``."""
    return np.full(shape, value) if shape else np.float64(value)


#: the functions with a formula in plain Python (:mod:`sdkit.engine.vformulas`) for one value
_FORMULAS = {EXP: vformulas.exp, LN: vformulas.ln, SIN: vformulas.sin, COS: vformulas.cos, TAN: vformulas.tan,
             ARCTAN: vformulas.arctan}
exp, ln, sin, cos, tan, arcsin, arccos, arctan, sinh, cosh, tanh = (
    _unary(op, _FORMULAS.get(op)) for op in (EXP, LN, SIN, COS, TAN, ARCSIN, ARCCOS, ARCTAN, SINH, COSH, TANH)
)
power, fmod = _binary(POWER, vformulas.power), _binary(FMOD)


def warm() -> None:
    """Compile (or load from numba's cache) the loops now, before a long compile elsewhere holds numba's lock."""
    exp(np.zeros(2))
    power(np.zeros(2), np.zeros(2))
