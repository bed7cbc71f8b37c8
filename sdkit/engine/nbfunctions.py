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


@_inline
def _last_below(x, xs, last, strict):
    """The largest ``j <= last`` with ``xs[j] < x`` (``strict``) or ``xs[j] <= x``, else 0.

    Halving steps over the sorted ``xs``, each a load and a choice without a
    branch on ``x`` (a mispredicted branch per step costs more than the step).
    """
    step = 1
    while 2 * step <= last:
        step *= 2
    j = 0
    while step > 0:
        k = j + step
        xk = xs[min(k, last)]
        below = (xk < x) if strict else (xk <= x)
        j = k if (k <= last) & below else j
        step >>= 1
    return j


@_jit
def lookup(x, xs, ys, mode):
    """The table at ``x`` (modes as :func:`sdkit.engine.functions.lookup`), numpy's ``interp`` arithmetic.

    Every candidate value is computed and one is chosen, without branches on ``x``
    that a CPU would mispredict from one sample to the next.
    """
    last = xs.size - 1
    if mode == 4:  # raw data: the value at a time of the data, NaN at any other
        k = np.searchsorted(xs, x)
        return ys[k] if k <= last and xs[k] == x else math.nan
    if mode == 1:
        return ys[_last_below(x, xs, last, False)]
    if mode == 3:
        first_at_or_above = _last_below(x, xs, last, True) + 1 if xs[0] < x else 0
        return select(x != x, x, ys[min(first_at_or_above, last)])
    return _at_interval(x, xs, ys, mode, _last_below(x, xs, last, False))


@_jit
def lookup_from(x, xs, ys, mode, hint):
    """:func:`lookup` in modes 0 to 2 and the interval ``j`` it read (``xs[j] <= x``), found without a search
    where it is ``hint``: the interval this lane's lookup found at the step before. A lookup of a value that
    changes little from step to step (Time, or a function of it) then costs two loads instead of a search;
    the interval, and so the value, is the one :func:`lookup` finds."""
    last = xs.size - 1
    h = min(max(hint, 0), last)
    if xs[h] <= x and (h == last or xs[min(h + 1, last)] > x):
        j = h
    else:
        j = _last_below(x, xs, last, False)
    return (ys[j] if mode == 1 else _at_interval(x, xs, ys, mode, j)), j


@_inline
def _at_interval(x, xs, ys, mode, j):
    """The table at ``x`` in mode 0 or 2 (:func:`lookup`), from the interval ``j`` that :func:`_last_below` finds."""
    last = xs.size - 1
    j1 = min(j + 1, last)
    slope = (ys[j1] - ys[j]) / (xs[j1] - xs[j])
    r = slope * (x - xs[j]) + ys[j]
    r1 = slope * (x - xs[j1]) + ys[j1]
    r1 = select((r1 != r1) & (ys[j] == ys[j1]), ys[j], r1)
    r = select(xs[j] == x, ys[j], select(r != r, r1, r))
    low = ys[0]
    high = ys[last]
    if mode == 2:
        i1 = min(1, last)
        i2 = max(last - 1, 0)
        outside = last > 0
        low = select(outside, ys[0] + (ys[i1] - ys[0]) / (xs[i1] - xs[0]) * (x - xs[0]), low)
        high = select(outside, ys[last] + (ys[last] - ys[i2]) / (xs[last] - xs[i2]) * (x - xs[last]), high)
    r = select(x >= xs[last], select(x > xs[last], high, ys[last]), r)
    return select(x != x, x, select(x < xs[0], low, r))
