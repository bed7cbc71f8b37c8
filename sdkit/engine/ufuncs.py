"""Transcendental functions as numba ufuncs, shared by the numpy and numba backends.

numpy's own ``exp``/``log``/``power`` use SIMD code paths (e.g. AVX-512) that
can differ from the C library in the last bit, while numba-compiled code calls
the C library. Routing the numpy backend through these numba ufuncs makes the
two backends agree bit for bit, so results do not depend on which backend (or
chunk size) ran a sample. Operations that IEEE 754 rounds exactly (+ - * /,
sqrt, comparisons) use numpy directly.
"""

from __future__ import annotations

import math

from numba import vectorize

_U1 = ["float64(float64)"]
_U2 = ["float64(float64, float64)"]


@vectorize(_U1, cache=True)
def exp(x):
    return math.exp(x)


@vectorize(_U1, cache=True)
def ln(x):
    return math.log(x)


@vectorize(_U2, cache=True)
def power(a, b):
    return a**b


@vectorize(_U2, cache=True)
def fmod(a, b):
    return a % b


@vectorize(_U1, cache=True)
def sin(x):
    return math.sin(x)


@vectorize(_U1, cache=True)
def cos(x):
    return math.cos(x)


@vectorize(_U1, cache=True)
def tan(x):
    return math.tan(x)


@vectorize(_U1, cache=True)
def arcsin(x):
    return math.asin(x)


@vectorize(_U1, cache=True)
def arccos(x):
    return math.acos(x)


@vectorize(_U1, cache=True)
def arctan(x):
    return math.atan(x)


@vectorize(_U1, cache=True)
def sinh(x):
    return math.sinh(x)


@vectorize(_U1, cache=True)
def cosh(x):
    return math.cosh(x)


@vectorize(_U1, cache=True)
def tanh(x):
    return math.tanh(x)
