"""Scalar numba versions of :mod:`sdkit.engine.functions` (same arithmetic, same order).

Imported only when the numba backend is used (importing numba costs ~0.5 s).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from sdkit.engine import vmath
from sdkit.engine.available import available_level, available_share  # noqa: F401 - the kernel calls _F.available_...
from sdkit.engine.vmath import select
from sdkit.engine.vrandom import (  # noqa: F401 - the kernel calls them as _F.random_...
    random_exponential,
    random_normal,
    random_poisson,
    random_triangular,
    random_uniform,
)

SMALL_VENSIM = 1e-6
_jit = njit(error_model="numpy", cache=True)
#: small functions are inlined into the kernel (numba IR level) so that its lane loop vectorises;
#: they choose with ``select`` rather than branches, which keeps numba's IR small
_inline = njit(error_model="numpy", cache=True, inline="always")


@_inline
def xidz(a, b, x):
    return select(abs(b) < SMALL_VENSIM, x, a / b)


@_inline
def zidz(a, b):
    return select(abs(b) < SMALL_VENSIM, 0.0, a / b)


@_inline
def fmin(a, b):
    return select((a != a) | (b != b), math.nan, select(a <= b, a, b))


@_inline
def fmax(a, b):
    return select((a != a) | (b != b), math.nan, select(a >= b, a, b))


@_inline
def step(height, start, t, dt):
    return height * select(t + dt / 2 > start, 1.0, 0.0)


@_inline
def ramp(slope, start, finish, t):
    return select(t + SMALL_VENSIM > start, 1.0, 0.0) * slope * (fmin(finish, t) - start)


@_inline
def pulse(start, width, t, dt):
    return select((start - SMALL_VENSIM <= t) & (t < start + width), 1.0, 0.0)


@_inline
def pulse_train(start, repeat, width, end, t, dt):
    if repeat == 0:
        return 1.0 if (start - SMALL_VENSIM <= t and t < start + width) else 0.0
    if start <= t and t < end and ((t - start + SMALL_VENSIM) % repeat) < width:
        return 1.0
    return 0.0


@_inline
def trunc(x):
    return np.trunc(x)


@_inline
def quantum(a, b):
    return select(b < SMALL_VENSIM, a, b * np.trunc(a / b))


@_inline
def modulo(x, m):
    return x - quantum(x, m)


@_inline
def log(a, b):
    return vmath.ln(a) / vmath.ln(b)


@_jit
def lookup(x, xs, ys, mode):
    n = xs.size
    if mode == 4:  # raw data: the value at a time of the data, NaN at any other
        k = np.searchsorted(xs, x)
        return ys[k] if k < n and xs[k] == x else math.nan
    if mode == 1:
        k = 0
        while k < n and xs[k] <= x:
            k += 1
        k -= 1
        if k < 0:
            k = 0
        return ys[k]
    if x != x:
        return x
    if mode == 3:
        k = 0
        while k < n - 1 and xs[k] < x:
            k += 1
        return ys[k]
    if x < xs[0]:
        if mode == 2 and n > 1:
            return ys[0] + (ys[1] - ys[0]) / (xs[1] - xs[0]) * (x - xs[0])
        return ys[0]
    if x > xs[n - 1]:
        if mode == 2 and n > 1:
            return ys[n - 1] + (ys[n - 1] - ys[n - 2]) / (xs[n - 1] - xs[n - 2]) * (x - xs[n - 1])
        return ys[n - 1]
    if x == xs[n - 1]:
        return ys[n - 1]
    lo = 0
    hi = n - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if xs[mid] <= x:
            lo = mid
        else:
            hi = mid
    j = lo
    if xs[j] == x:
        return ys[j]
    slope = (ys[j + 1] - ys[j]) / (xs[j + 1] - xs[j])
    r = slope * (x - xs[j]) + ys[j]
    if r != r:
        r = slope * (x - xs[j + 1]) + ys[j + 1]
        if r != r and ys[j] == ys[j + 1]:
            r = ys[j]
    return r
