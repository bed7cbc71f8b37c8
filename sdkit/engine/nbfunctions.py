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
def interval(x, xs):
    """The interval ``j`` that :func:`lookup` reads in modes 0 to 2: the largest ``j`` with ``xs[j] <= x``, else 0
    (called, not inlined: the kernel searches only for lanes whose argument left its interval)."""
    return _last_below(x, xs, xs.size - 1, False)


@_inline
def _table_edges(xs, ys, mode):
    """What :func:`interpolated` reads of a table besides its interval: the first and last points, the
    slopes of the first and last segments (mode 2) and whether it extrapolates (mode 2, two points or more)."""
    last = xs.size - 1
    i1 = min(1, last)
    i2 = max(last - 1, 0)
    low = (ys[i1] - ys[0]) / (xs[i1] - xs[0]) if mode == 2 else 0.0
    high = (ys[last] - ys[i2]) / (xs[last] - xs[i2]) if mode == 2 else 0.0
    return xs[0], ys[0], xs[last], ys[last], low, high, mode == 2 and last > 0


#: the same, called (not inlined): the kernel computes it once per step, before its lane loop
table_edges = _jit(_table_edges.py_func)


@_inline
def interpolated(x, x0, y0, x1, y1, edges):
    """The table at ``x`` in mode 0 or 2 (:func:`lookup`) from its interval's points ``(x0, y0)`` and
    ``(x1, y1)`` and its ``edges`` (:func:`table_edges`): arithmetic and choices only, so a loop over
    lanes that reads the points from rows of values vectorises."""
    first_x, first_y, last_x, last_y, low_slope, high_slope, extrapolate = edges
    slope = (y1 - y0) / (x1 - x0)
    r = slope * (x - x0) + y0
    r1 = slope * (x - x1) + y1
    r1 = select((r1 != r1) & (y0 == y1), y0, r1)
    r = select(x0 == x, y0, select(r != r, r1, r))
    low = select(extrapolate, first_y + low_slope * (x - first_x), first_y)
    high = select(extrapolate, last_y + high_slope * (x - last_x), last_y)
    r = select(x >= last_x, select(x > last_x, high, last_y), r)
    return select(x != x, x, select(x < first_x, low, r))


@_inline
def _at_interval(x, xs, ys, mode, j):
    """The table at ``x`` in mode 0 or 2 (:func:`lookup`), from the interval ``j`` that :func:`_last_below` finds."""
    j1 = min(j + 1, xs.size - 1)
    return interpolated(x, xs[j], ys[j], xs[j1], ys[j1], _table_edges(xs, ys, mode))
