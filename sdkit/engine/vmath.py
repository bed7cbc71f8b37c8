"""EXP, LN and POWER in plain IEEE 754 arithmetic, so that compiled loops over samples vectorise.

Why not the C library: numba compiles ``math.exp`` into a call to libm, and a
loop that calls a function cannot use SIMD registers; the engine's ensembles
spend most of their time in these three functions. Intel's SVML (which numba
can use) gives different last bits in its vector and scalar forms, so results
would depend on the chunk size. The functions here use only +, -, *, /,
comparisons and exponent-bit manipulation, which IEEE 754 rounds the same way
in scalar and vector form on every machine (numba does not contract a*b+c
into a fused multiply-add unless asked to). The numpy backend calls the same
compiled functions (:mod:`sdkit.engine.ufuncs`), so both backends and every
chunk size give identical bits.

Accuracy against the correctly rounded result: ``exp`` and ``ln`` within
1 ulp; ``power`` via ``exp(y * ln(x))`` within a few ulp for moderate
``|y * ln(x)|`` (relative error about ``|y ln x| * 2**-53``), exact for
exponents 0, 1, -1 and 2 and correctly rounded for 0.5 (``sqrt``). Special
values (zeros, infinities, NaN, negative bases with integer exponents, results
that overflow or fall into the subnormal range) follow C99 ``exp``/``log``/``pow``.
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

_jit = njit(cache=True, error_model="numpy", inline="always")


@intrinsic
def _f64_from_bits(typingctx, x):
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


@intrinsic
def _bits_of_f64(typingctx, x):
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


# ln 2 split so that k * LN2_HI is exact for |k| < 2**11 (fdlibm's constants)
LN2_HI = 6.93147180369123816490e-01
LN2_LO = 1.90821492927058770002e-10
INV_LN2 = 1.44269504088896338700e00
EXP_OVERFLOW = 709.782712893384  # exp(x) is inf above this
EXP_UNDERFLOW = -745.2  # exp(x) rounds to 0 below this
# Taylor coefficients 1/n! of exp(r), |r| <= ln2/2: the degree-13 remainder is < 4e-18
_E = [1.0 / math.factorial(n) for n in range(14)]
E2, E3, E4, E5, E6, E7, E8, E9, E10, E11, E12, E13 = _E[2:]

SQRT2 = 1.4142135623730951
MANTISSA = (1 << 52) - 1
EXPONENT_ONE = 1023 << 52
SMALLEST_NORMAL = 2.2250738585072014e-308
TWO_54 = 18014398509481984.0
TWO_53 = 9007199254740992.0
# ln(m) = 2 atanh(s), s = (m-1)/(m+1), |s| < 0.172: 2/(2i+1) for i = 1..11
L1, L2, L3, L4, L5, L6, L7, L8, L9, L10, L11 = [2.0 / (2 * i + 1) for i in range(1, 12)]


@_jit
def exp(x):
    """e**x."""
    k = math.floor(x * INV_LN2 + 0.5)
    k = min(max(k, -1100.0), 1100.0)
    r = (x - k * LN2_HI) - k * LN2_LO
    p = E13
    p = p * r + E12
    p = p * r + E11
    p = p * r + E10
    p = p * r + E9
    p = p * r + E8
    p = p * r + E7
    p = p * r + E6
    p = p * r + E5
    p = p * r + E4
    p = p * r + E3
    p = p * r + E2
    p = p * r + 1.0
    p = p * r + 1.0
    # 2**k in two exact factors, so that subnormal results round only once
    ki = np.int64(k)
    k1 = ki >> 1
    k2 = ki - k1
    res = p * _f64_from_bits((k1 + 1023) << 52) * _f64_from_bits((k2 + 1023) << 52)
    if x > EXP_OVERFLOW:
        res = math.inf
    if x < EXP_UNDERFLOW:
        res = 0.0
    if x != x:
        res = x
    return res


@_jit
def ln(x):
    """Natural logarithm: -inf at 0, NaN below 0."""
    subnormal = x < SMALLEST_NORMAL
    xs = x * TWO_54 if subnormal else x
    bits = _bits_of_f64(xs)
    e = ((bits >> 52) & 0x7FF) - 1023 - (54 if subnormal else 0)
    m = _f64_from_bits((bits & MANTISSA) | EXPONENT_ONE)
    above = m > SQRT2
    m = m * 0.5 if above else m
    e = e + 1 if above else e
    f = m - 1.0
    s = f / (m + 1.0)
    z = s * s
    q = L11
    q = q * z + L10
    q = q * z + L9
    q = q * z + L8
    q = q * z + L7
    q = q * z + L6
    q = q * z + L5
    q = q * z + L4
    q = q * z + L3
    q = q * z + L2
    q = q * z + L1
    ef = float(e)
    # 2s = f - s*f, so ln(m) = f - s*f + s*z*q
    res = ef * LN2_HI + ((f - s * f) + (s * z * q + ef * LN2_LO))
    if x == 0.0:
        res = -math.inf
    if x < 0.0:
        res = math.nan
    if x == math.inf:
        res = x
    if x != x:
        res = x
    return res


@_jit
def power(x, y):
    """x**y with C99 pow's special cases."""
    r = exp(y * ln(abs(x)))
    y_int = math.floor(y) == y
    y_odd = y_int and abs(y) < TWO_53 and math.floor(y * 0.5) * 2.0 != y
    if x < 0.0:
        r = (-r if y_odd else r) if y_int else math.nan
    if x == 0.0:
        if y > 0.0:
            r = math.copysign(0.0, x) if y_odd else 0.0
        elif y < 0.0:
            r = math.copysign(math.inf, x) if y_odd else math.inf
    if y == 2.0:
        r = x * x
    if y == 1.0:
        r = x
    if y == -1.0:
        r = 1.0 / x
    if y == 0.5:
        r = math.inf if x == -math.inf else math.sqrt(x)
        r = 0.0 if x == 0.0 else r
    if x == -1.0 and abs(y) == math.inf:
        r = 1.0
    if y == 0.0 or x == 1.0:
        r = 1.0
    return r
