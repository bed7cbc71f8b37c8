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
``|y * ln(x)|`` (relative error about ``|y ln x| * 2**-52``), exact for the
exponents 0, 1 and 2, and by at most four products for the integers 3 to 8
(so ``(-2)**3`` is ``-8`` and ``3**4`` is ``81`` exactly, as with C's ``pow``;
relative error at most ``y * 2**-53``; the products cost about 15 % of a POWER). Exact ``1/x`` and ``sqrt(x)`` for
-1 and 0.5 would cost a division and a square root in every call, about 9 % of
a core-model step. Special
values (zeros, infinities, NaN, negative bases with integer exponents, results
that overflow or fall into the subnormal range) follow C99 ``exp``/``log``/``pow``.

Editing this file: numba's on-disk cache does not notice changes in called
functions, so generated kernels include this file's hash in their module name
and :mod:`sdkit.engine.ufuncs` in its loops' cache key; both recompile.
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

_jit = njit(cache=True, error_model="numpy", inline="always")


@intrinsic
def select(typingctx, condition, a, b):
    """``a if condition else b`` as one LLVM ``select``: no branch, both sides evaluated."""
    if not isinstance(condition, types.Boolean):
        return None

    def codegen(context, builder, signature, args):
        cond, x, y = args
        x = context.cast(builder, x, signature.args[1], types.float64)
        y = context.cast(builder, y, signature.args[2], types.float64)
        return builder.select(cond, x, y)

    return types.float64(condition, a, b), codegen


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
    # clamping keeps NaN (x first) and sends +-inf to overflow / underflow
    xc = min(max(x, -746.0), 710.0)
    k = np.floor(xc * INV_LN2 + 0.5)
    k = min(1100.0, max(-1100.0, k))  # finite even for NaN (constant first)
    r = (xc - k * LN2_HI) - k * LN2_LO
    # terms 5..13 by Estrin's scheme (short dependency chains), then Horner's for the
    # leading terms, which decide the rounding
    r2 = r * r
    r4 = r2 * r2
    t = ((E5 + E6 * r) + (E7 + E8 * r) * r2) + ((E9 + E10 * r) + (E11 + E12 * r) * r2) * r4
    t = t + E13 * (r4 * r4)
    p = t * r + E4
    p = p * r + E3
    p = p * r + E2
    p = p * r + 1.0
    p = p * r + 1.0
    # 2**k in two exact factors, so that subnormal results round only once
    ki = np.int64(k)
    k1 = ki >> 1
    k2 = ki - k1
    return p * _f64_from_bits((k1 + 1023) << 52) * _f64_from_bits((k2 + 1023) << 52)


@_jit
def ln(x):
    """Natural logarithm: -inf at 0, NaN below 0."""
    subnormal = x < SMALLEST_NORMAL
    bits = _bits_of_f64(x * select(subnormal, TWO_54, 1.0))
    e = float((bits >> 52) & 0x7FF) - select(subnormal, 1077.0, 1023.0)
    m = _f64_from_bits((bits & MANTISSA) | EXPONENT_ONE)
    above = m > SQRT2
    m = m * select(above, 0.5, 1.0)
    e = e + select(above, 1.0, 0.0)
    f = m - 1.0
    s = f / (m + 1.0)
    z = s * s
    # Estrin's scheme (short dependency chains): s*z*q is below 0.5 % of the result,
    # so the order of q's terms hardly shows in it
    z2 = z * z
    z4 = z2 * z2
    q = ((L1 + L2 * z) + (L3 + L4 * z) * z2) + ((L5 + L6 * z) + (L7 + L8 * z) * z2) * z4
    q = q + ((L9 + L10 * z) + L11 * z2) * (z4 * z4)
    # 2s = f - s*f, so ln(m) = f - s*f + s*z*q
    res = e * LN2_HI + ((f - s * f) + (s * z * q + e * LN2_LO))
    res = select(x == 0.0, -math.inf, res)
    res = select(x == math.inf, x, res)
    return select(x < 0.0, math.nan, select(x != x, x, res))


@_jit
def _small_integer_power(x, y):
    """x**y for the integers 0 <= y <= 8 by at most four products."""
    n = y
    half = np.floor(n * 0.5)
    quarter = np.floor(n * 0.25)
    x2 = x * x
    x4 = x2 * x2
    r = select(n - 2.0 * half == 1.0, x, 1.0)
    r = select(half - 2.0 * np.floor(n * 0.25) == 1.0, r * x2, r)
    r = select(quarter - 2.0 * np.floor(n * 0.125) == 1.0, r * x4, r)
    return select(n == 8.0, x4 * x4, r)


@_jit
def power(x, y):
    """x**y with C99 pow's special cases; the integer exponents 0 to 8 by products."""
    r = exp(y * ln(abs(x)))
    y_int = np.floor(y) == y
    y_odd = y_int & (abs(y) < TWO_53) & (np.floor(y * 0.5) * 2.0 != y)
    # the sign of a negative base (or -0) shows for odd integer exponents
    r = select(y_odd & (math.copysign(1.0, x) < 0.0), -r, r)
    r = select((x < 0.0) & (x > -math.inf) & ~y_int, math.nan, r)
    # (-2)**3 is -8 exactly, not exp(3 ln 2); products whose intermediate results leave
    # the normal range (overflow, subnormals) keep the exp-ln result, which handles them
    small = y_int & (y >= 0.0) & (y <= 8.0)
    p = _small_integer_power(x, select(small, y, 0.0))
    p_in_range = (abs(p) >= SMALLEST_NORMAL) & (abs(p) < math.inf)
    exact_base = (x == 0.0) | (abs(x) == math.inf)
    r = select(small & (p_in_range | exact_base), p, r)
    r = select(y == 2.0, x * x, r)
    r = select(y == 1.0, x, r)
    r = select((x == -1.0) & (abs(y) == math.inf), 1.0, r)
    return select((y == 0.0) | (x == 1.0), 1.0, r)


# The same functions compiled once and called, not inlined: for code that runs once per
# sample (a kernel's initialisation), where inlining would only cost compile time.
_called = njit(cache=True, error_model="numpy")
exp_called = _called(exp.py_func)
ln_called = _called(ln.py_func)
power_called = _called(power.py_func)
