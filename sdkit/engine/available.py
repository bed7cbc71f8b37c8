"""ALLOCATE AVAILABLE's supply curves and priority level, compiled once for both backends.

Vensim's ``ALLOCATE AVAILABLE(request[i], pp[i, ptype], avail)`` gives requester ``i``
``request_i * f_i(level)``, where ``f_i`` falls from 1 to 0 around the priority
``ppriority_i`` over a width ``pwidth_i`` with the shape that ``ptype_i`` names, and
``level`` is where the allocations add up to ``avail`` (every request when ``avail``
covers them all, nothing when there is none). The shapes are PySD's
(``pysd.py_backend.allocation.Priorities``), operation for operation: 1 rectangular,
2 triangular, 3 normal, 4 exponential; 0 (fixed quantity) and 5 (constant
elasticity) are refused, as PySD refuses them.

The total allocation falls monotonically with the level, so the level is found by
bisection between the lowest and highest level at which a curve still changes
(PySD's intervals) until the bracket holds no float between its ends: the
allocations then add up to ``avail`` to rounding. PySD solves the same equation
with ``scipy.optimize.least_squares``, whose tolerances leave about 1e-8 of the level
(and which on the triangular curve sometimes stops at a bound of its interval,
handing out every request). The curves use IEEE arithmetic, the engine's ``exp``
(:mod:`sdkit.engine.vmath`) and Cody's rational ``erfc``, so results do not depend on
the machine's maths library.

The numba kernel calls :func:`available_level` and :func:`available_share` (through
:mod:`sdkit.engine.nbfunctions`); the numpy backend calls the same compiled
functions in a loop over samples (:func:`numpy_call`), so both give the same bits.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np
from numba import njit

from sdkit.engine import vmath
from sdkit.engine.allocation import PROFILES

_jit = njit(cache=True, error_model="numpy", nogil=True)

#: half-width of each profile type's interval, by type (0 unused)
_HALF_RANGE = (math.nan, *(PROFILES[k][1] for k in range(1, 5)))
#: more bisection steps than any bracket of floats needs (the loop stops when it cannot shrink)
MAX_HALVINGS = 2200

# W. J. Cody, "Rational Chebyshev approximations for the error function",
# Math. Comp. 23 (1969) 631-637, as in Netlib's specfun CALERF
_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02, 3.20937758913846947e03,
      1.85777706184603153e-1)
_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03, 2.84423683343917062e03)
_C = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01, 2.98635138197400131e02,
      8.81952221241769090e02, 1.71204761263407058e03, 2.05107837782607147e03, 1.23033935479799725e03,
      2.15311535474403846e-8)
_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02, 1.62138957456669019e03,
      3.29079923573345963e03, 4.36261909014324716e03, 3.43936767414372164e03, 1.23033935480374942e03)
_P = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1, 1.60837851487422766e-2,
      6.58749161529837803e-4, 1.63153871373020978e-2)
_Q = (2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1, 6.05183413124413191e-2,
      2.33520497626869185e-3)
_SQRPI = 5.6418958354775628695e-1  # 1 / sqrt(pi)
_SQRT2 = math.sqrt(2)


@_jit
def erfc(x):
    """The complementary error function (Cody's CALERF), within a few units in the last place."""
    y = abs(x)
    if y <= 0.46875:
        ysq = y * y
        num, den = _A[4] * ysq, ysq
        for i in range(3):
            num = (num + _A[i]) * ysq
            den = (den + _B[i]) * ysq
        return 1.0 - x * (num + _A[3]) / (den + _B[3])
    if y <= 4.0:
        num, den = _C[8] * y, y
        for i in range(7):
            num = (num + _C[i]) * y
            den = (den + _D[i]) * y
        result = (num + _C[7]) / (den + _D[7])
    else:
        inv = 1.0 / (y * y)
        num, den = _P[5] * inv, inv
        for i in range(4):
            num = (num + _P[i]) * inv
            den = (den + _Q[i]) * inv
        result = (_SQRPI - inv * (num + _P[4]) / (den + _Q[4])) / y
    rounded = math.trunc(y * 16.0) / 16.0
    result = vmath.exp(-rounded * rounded) * vmath.exp(-((y - rounded) * (y + rounded))) * result
    return 2.0 - result if x < 0 else result


@_jit
def available_share(kind, request, priority, width, x):
    """Allocation of one requester at level ``x`` (PySD's ``priority_func`` of its profile type)."""
    if request == 0:
        return 0.0
    half = width * 0.5
    if kind == 3:
        return request * 0.5 * (2.0 - erfc((priority - x) / (_SQRT2 * width)))
    if kind == 4:
        if x < priority:
            return request * (1.0 - 0.5 * vmath.exp((x - priority) / width))
        return request * 0.5 * vmath.exp((priority - x) / width)
    if kind != 1 and kind != 2:
        return math.nan  # not a profile type (the translator refuses 0, 5 and others it can see)
    if x <= priority - half:
        return request
    if kind == 1:
        return request * (1.0 - (x - priority + half) / width) if x < priority + half else 0.0
    if x < priority:
        rise = x - priority + half
        return request * (1.0 - 2.0 * (rise * rise) / (width * width))
    if x < priority + half:
        fall = priority + half - x
        return 2.0 * request * (fall * fall) / (width * width)
    return 0.0


@_jit
def _level(avail, curves):
    """Bisection for the level at which ``curves`` (kind, request, priority, width per requester) hand out ``avail``."""
    n = len(curves) // 4
    low, high = math.inf, -math.inf
    for i in range(n):
        kind, priority, width = curves[4 * i], curves[4 * i + 2], curves[4 * i + 3]
        reach = width * _HALF_RANGE[int(kind)] if kind in (1.0, 2.0, 3.0, 4.0) else math.nan
        low = min(low, priority - reach)
        high = max(high, priority + reach)
    if avail != avail or low != low or high != high:
        return math.nan
    for _ in range(MAX_HALVINGS):
        mid = (low + high) * 0.5
        if not low < mid < high:
            break
        total = 0.0
        for i in range(n):
            total += available_share(curves[4 * i], curves[4 * i + 1], curves[4 * i + 2], curves[4 * i + 3], mid)
        if total >= avail:  # the total falls as the level rises
            low = mid
        else:
            high = mid
    return (low + high) * 0.5


@_jit
def available_level(avail, *curves):
    """The priority level of ALLOCATE AVAILABLE; ``curves`` are (kind, request, priority, width) per requester."""
    return _level(avail, curves)


def _loop(source_hash: str):
    """The numpy backend's compiled loop over samples, closed over the hash of this file and vmath's
    (numba's cache key includes closure values but not called functions)."""

    @njit(cache=True, error_model="numpy", nogil=True)
    def loop(share, A, out):
        if source_hash == "":  # never: it only puts the hash into the cache key
            return
        for i in range(out.size):
            if share:
                out[i] = available_share(A[0, i], A[1, i], A[2, i], A[3, i], A[4, i])
            else:
                out[i] = _level(A[0, i], A[1:, i])

    return loop


_loop_over_samples = _loop(hashlib.sha256(Path(__file__).read_bytes() + vmath.SOURCES_HASH.encode()).hexdigest())


def numpy_call(name: str, *args):
    """``available_level`` or ``available_share`` on scalars or arrays over samples (broadcast like numpy)."""
    arrays = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in args))
    shape = arrays[0].shape
    stacked = np.ascontiguousarray(np.stack([a.reshape(-1) for a in arrays]))
    out = np.empty(stacked.shape[1])
    _loop_over_samples(name == "available_share", stacked, out)
    return out.reshape(shape) if shape else np.float64(out[0])
