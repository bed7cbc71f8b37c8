"""Vensim's RANDOM functions as counter-based random numbers, the same bits in both backends.

A RANDOM call does not advance a generator's state: its value is a hash of
``(seed, sample, call, step, draw)`` — the seed of the simulation, the sample's
number in the ensemble, the call's number in the model (each element of a
subscripted equation has its own), the time step (``round((t - t0) / dt)``)
and the draw within that call (a truncated normal may need several) — turned
into a uniform number on (0, 1). So a sample's random numbers do not depend on
which other samples ran with it, on how the ensemble was cut into chunks,
threads or SIMD lanes, on the backend, or on the order in which the model's
equations are evaluated; the same seed gives the same bits, and a different
seed or sample number draws an independent stream. The hash is SplitMix64's
finaliser applied after absorbing each word (bijective 64-bit mixing; its
output passes the statistical tests in ``tests/engine/test_random.py``).

Distributions (Vensim's arguments; the stream argument ``s`` is not used, as in PySD):

- RANDOM 0 1(): uniform on (0, 1).
- RANDOM UNIFORM(min, max, s): ``min + (max - min) * u``.
- RANDOM NORMAL(min, max, mean, sd, s): ``mean + sd * z`` with ``z`` standard
  normal (Box-Muller), redrawn until it lies in ``[min, max]`` (the truncated
  normal, like PySD's ``scipy.stats.truncnorm``); after :data:`MAX_DRAWS`
  draws outside, the last is clipped to the range.
- RANDOM EXPONENTIAL(min, max, shift, stretch, s): ``shift + stretch * e``,
  ``e`` exponential with mean 1, truncated to ``[min, max]`` (PySD's
  ``truncexpon``: by inversion of the truncated distribution, no redraws).
- RANDOM TRIANGULAR(min, max, start, peak, end, s): triangular on
  ``[start, end]`` with its mode at ``peak``, truncated to ``[min, max]``
  (by inversion; PySD's builder does not have it).
- RANDOM POISSON(min, max, mean, shift, stretch, s): ``shift + stretch * k``,
  ``k`` Poisson with ``mean`` (by inversion), redrawn until in ``[min, max]``
  like the normal (PySD's builder does not have it).

The scalar functions are compiled by numba and inlined into the numba
kernel; the numpy backend calls them through one compiled loop
(:func:`numpy_draw`), so both backends give identical bits.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from numba import njit

from sdkit.engine import vmath
from sdkit.engine.functions import DISTRIBUTIONS

_inline = njit(error_model="numpy", cache=True, inline="always")

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S11 = np.uint64(11)
_S27 = np.uint64(27)
_S30 = np.uint64(30)
_S31 = np.uint64(31)
_HALF_ULP = 2.0**-53
_TWO_PI = 6.283185307179586
#: a truncated normal gives up redrawing after this many draws outside [min, max]
MAX_DRAWS = 1000

@_inline
def _mix(h):
    h = (h ^ (h >> _S30)) * _MIX1
    h = (h ^ (h >> _S27)) * _MIX2
    return h ^ (h >> _S31)


@_inline
def _word(x):
    """A float holding a whole number (a seed, a count) as a 64-bit word."""
    return np.uint64(np.int64(x))


@_inline
def unit(seed, sample, call, t, t0, dt, draw):
    """Uniform on (0, 1): draw ``draw`` of call ``call`` at the time step of ``t``."""
    h = _mix(_word(seed) + _GOLDEN)
    h = _mix(h ^ _word(sample))
    h = _mix(h ^ _word(call))
    h = _mix(h ^ _word(np.floor((t - t0) / dt + 0.5)))
    h = _mix(h ^ _word(draw))
    return (np.float64(np.int64(h >> _S11)) + 0.5) * _HALF_ULP


@_inline
def random_uniform(lo, hi, seed, sample, call, t, t0, dt):
    return lo + (hi - lo) * unit(seed, sample, call, t, t0, dt, 0.0)


@_inline
def random_normal(lo, hi, mean, sd, seed, sample, call, t, t0, dt):
    value = mean
    for k in range(MAX_DRAWS):
        u1 = unit(seed, sample, call, t, t0, dt, 2.0 * k)
        u2 = unit(seed, sample, call, t, t0, dt, 2.0 * k + 1.0)
        z = np.sqrt(-2.0 * vmath.ln(u1)) * vmath.cos(_TWO_PI * u2)
        value = mean + sd * z
        if lo <= value <= hi:
            return value
    return min(max(value, lo), hi)


@_inline
def random_exponential(lo, hi, shift, stretch, seed, sample, call, t, t0, dt):
    start = max(lo, shift)
    # mass of the unit exponential inside [start, max] after stretching (PySD: xidz(.., inf))
    width = np.inf if abs(stretch) < 1e-6 else (hi - start) / stretch
    inside = 1.0 - vmath.exp(-width)
    u = unit(seed, sample, call, t, t0, dt, 0.0)
    return start - stretch * vmath.ln(1.0 - u * inside)


@_inline
def _triangular_cdf(x, start, peak, end):
    if x <= start:
        return 0.0
    if x >= end:
        return 1.0
    if x <= peak:
        return (x - start) * (x - start) / ((end - start) * (peak - start))
    return 1.0 - (end - x) * (end - x) / ((end - start) * (end - peak))


@_inline
def random_triangular(lo, hi, start, peak, end, seed, sample, call, t, t0, dt):
    if not end > start:
        return start
    f_lo = _triangular_cdf(lo, start, peak, end)
    f_hi = _triangular_cdf(hi, start, peak, end)
    p = f_lo + (f_hi - f_lo) * unit(seed, sample, call, t, t0, dt, 0.0)
    if p < (peak - start) / (end - start):
        return start + np.sqrt(p * (end - start) * (peak - start))
    return end - np.sqrt((1.0 - p) * (end - start) * (end - peak))


@_inline
def _poisson_count(mean, u):
    """The smallest k with P(K <= k) >= u for K Poisson with ``mean`` (inversion, log-space terms)."""
    if not mean > 0.0:
        return 0.0
    log_mean = vmath.ln(mean)
    log_p = -mean
    cdf = vmath.exp(log_p)
    k = 0.0
    last = mean + 40.0 * np.sqrt(mean) + 40.0  # beyond it the tail is below 1e-300
    while cdf < u and k < last:
        k += 1.0
        log_p += log_mean - vmath.ln(k)
        cdf += vmath.exp(log_p)
    return k


@_inline
def random_poisson(lo, hi, mean, shift, stretch, seed, sample, call, t, t0, dt):
    value = shift
    for k in range(MAX_DRAWS):
        value = shift + stretch * _poisson_count(mean, unit(seed, sample, call, t, t0, dt, float(k)))
        if lo <= value <= hi:
            return value
    return min(max(value, lo), hi)


UNIFORM, NORMAL, EXPONENTIAL, TRIANGULAR, POISSON = range(5)
_CODES = dict(zip(DISTRIBUTIONS, (UNIFORM, NORMAL, EXPONENTIAL, TRIANGULAR, POISSON), strict=True))


def _loop(source_hash: str):
    """The numpy backend's compiled loop, closed over the hash of this file, vmath.py and vformulas.py.

    numba's cache key includes closure values but not called functions, so an
    edit to the maths changes the key.
    """

    @njit(cache=True, error_model="numpy", nogil=True)
    def draw_loop(op, A, out):
        if source_hash == "":  # never: it only puts the hash into the cache key
            return
        for i in range(out.size):
            if op == UNIFORM:
                out[i] = random_uniform(A[0, i], A[1, i], A[2, i], A[3, i], A[4, i], A[5, i], A[6, i], A[7, i])
            elif op == NORMAL:
                out[i] = random_normal(A[0, i], A[1, i], A[2, i], A[3, i], A[4, i], A[5, i], A[6, i],
                                       A[7, i], A[8, i], A[9, i])
            elif op == EXPONENTIAL:
                out[i] = random_exponential(A[0, i], A[1, i], A[2, i], A[3, i], A[4, i], A[5, i], A[6, i],
                                            A[7, i], A[8, i], A[9, i])
            elif op == TRIANGULAR:
                out[i] = random_triangular(A[0, i], A[1, i], A[2, i], A[3, i], A[4, i], A[5, i], A[6, i],
                                           A[7, i], A[8, i], A[9, i], A[10, i])
            else:
                out[i] = random_poisson(A[0, i], A[1, i], A[2, i], A[3, i], A[4, i], A[5, i], A[6, i],
                                        A[7, i], A[8, i], A[9, i], A[10, i])

    return draw_loop


_SOURCES = hashlib.sha256(Path(__file__).read_bytes() + vmath.SOURCES_HASH.encode()).hexdigest()
_draw_loop = _loop(_SOURCES)


def numpy_draw(name: str, *args):
    """IR function ``name`` on scalars or arrays over samples (broadcast like numpy)."""
    arrays = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in args))
    shape = arrays[0].shape
    stacked = np.ascontiguousarray(np.stack([a.reshape(-1) for a in arrays]))
    out = np.empty(stacked.shape[1])
    _draw_loop(_CODES[name], stacked, out)
    return out.reshape(shape) if shape else np.float64(out[0])
