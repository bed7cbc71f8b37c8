"""Transcendental functions evaluated by numba-compiled code, for the numpy backend.

numpy's own ``exp``/``log``/``power`` use SIMD code paths (e.g. AVX-512) that
can differ in the last bit from what the numba kernel computes: EXP, LN,
POWER, SIN, COS, TAN and ARCTAN from :mod:`sdkit.engine.vmath`, the other
functions (ARCSIN, ARCCOS, SINH, COSH, TANH) from the C library.
Routing the numpy backend through the same compiled functions makes the two
backends agree bit for bit, so results do not depend on which backend (or
chunk size) ran a sample. Operations that IEEE 754 rounds exactly (+ - * /,
sqrt, comparisons) use numpy directly.

Each function accepts scalars or arrays (broadcasting like numpy) and returns
a ``numpy.float64`` or a float64 array. The compiled loops are built lazily
and cached on disk by numba.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np
from numba import njit

from sdkit.engine import vmath

_jit = njit(cache=True, error_model="numpy", nogil=True)

EXP, LN, SIN, COS, TAN, ARCSIN, ARCCOS, ARCTAN, SINH, COSH, TANH = range(11)
POWER, FMOD = range(2)


def _loops(vmath_hash: str):
    """The compiled loops, closed over the hash of vmath.py.

    numba's on-disk cache key includes a function's closure values but not the
    functions it calls, so an edit to vmath.py changes the key and the loops
    recompile instead of running the old EXP, LN and POWER from the cache.
    """

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


_unary_loop, _binary_loop = _loops(hashlib.sha256(Path(vmath.__file__).read_bytes()).hexdigest())


def _unary(op: int):
    def apply(x):
        a = np.asarray(x, dtype=np.float64)
        out = np.empty(a.size)
        _unary_loop(op, np.ascontiguousarray(a).reshape(-1), out)
        return out.reshape(a.shape) if a.ndim else np.float64(out[0])

    return apply


def _binary(op: int):
    def apply(x, y):
        a, b = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
        out = np.empty(a.size)
        flat_a = np.ascontiguousarray(a).reshape(-1)
        flat_b = np.ascontiguousarray(b).reshape(-1)
        _binary_loop(op, flat_a, flat_b, out)
        return out.reshape(a.shape) if a.ndim else np.float64(out[0])

    return apply


exp, ln, sin, cos, tan, arcsin, arccos, arctan, sinh, cosh, tanh = (
    _unary(op) for op in (EXP, LN, SIN, COS, TAN, ARCSIN, ARCCOS, ARCTAN, SINH, COSH, TANH)
)
power, fmod = _binary(POWER), _binary(FMOD)


def warm() -> None:
    """Compile (or load from numba's cache) the loops now, before a long compile elsewhere holds numba's lock."""
    exp(np.zeros(1))
    power(np.zeros(1), np.zeros(1))
