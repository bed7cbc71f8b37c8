"""The formulas of EXP, LN, POWER, SIN, COS, TAN and ARCTAN, as plain Python functions.

:mod:`sdkit.engine.vmath` compiles these functions with numba for the kernels (and
for the numpy backend's loops over arrays); called directly, on Python floats, they
compute the same bits without numba (the numpy backend's path for one sample, which
so runs without importing numba). They use only +, -, *, /, comparisons, ``floor``,
``select`` and exponent-bit manipulation, which IEEE 754 rounds the same way in
Python, in numba's scalar code and in its vector code. The primitives below are the
Python versions; :mod:`sdkit.engine.vmath` gives the formulas numba's instead.
"""

from __future__ import annotations

import math
import struct

_INT64 = struct.Struct("<q")
_FLOAT64 = struct.Struct("<d")


def select(condition, a, b):
    """``a if condition else b`` (numba: one LLVM ``select``, no branch)."""
    return a if condition else b


def _f64_from_bits(bits):
    """The float64 whose bit pattern is the int64 ``bits``."""
    return _FLOAT64.unpack(_INT64.pack(bits))[0]


def _bits_of_f64(x):
    """The bit pattern of the float64 ``x`` as an int64."""
    return _INT64.unpack(_FLOAT64.pack(x))[0]


def floor(x):
    """numpy's ``floor`` of a float: a float, the sign of a zero kept, NaN and infinities unchanged."""
    try:
        r = float(math.floor(x))
    except (ValueError, OverflowError):  # NaN, infinities
        return x
    return r if r != 0.0 else math.copysign(0.0, x)


int64 = int


def divide(a, b):
    """``a / b`` as IEEE 754 divides: by zero gives an infinity or NaN instead of an exception."""
    try:
        return a / b
    except ZeroDivisionError:
        if a != a or a == 0.0:
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)



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


def exp(x):
    """e**x."""
    # clamping keeps NaN (x first) and sends +-inf to overflow / underflow
    xc = min(max(x, -746.0), 710.0)
    k = floor(xc * INV_LN2 + 0.5)
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
    ki = int64(k)
    k1 = ki >> 1
    k2 = ki - k1
    return p * _f64_from_bits((k1 + 1023) << 52) * _f64_from_bits((k2 + 1023) << 52)


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


def _small_integer_power(x, y):
    """x**y for the integers 0 <= y <= 8 by at most four products."""
    n = y
    half = floor(n * 0.5)
    quarter = floor(n * 0.25)
    x2 = x * x
    x4 = x2 * x2
    r = select(n - 2.0 * half == 1.0, x, 1.0)
    r = select(half - 2.0 * floor(n * 0.25) == 1.0, r * x2, r)
    r = select(quarter - 2.0 * floor(n * 0.125) == 1.0, r * x4, r)
    return select(n == 8.0, x4 * x4, r)


def power(x, y):
    """x**y with C99 pow's special cases; the integer exponents 0 to 8 by products."""
    r = exp(y * ln(abs(x)))
    y_int = floor(y) == y
    y_frac = floor(y) != y  # not an integer (or NaN)
    y_odd = y_int & (abs(y) < TWO_53) & (floor(y * 0.5) * 2.0 != y)
    # the sign of a negative base (or -0) shows for odd integer exponents
    r = select(y_odd & (math.copysign(1.0, x) < 0.0), -r, r)
    r = select((x < 0.0) & (x > -math.inf) & y_frac, math.nan, r)
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


# SIN, COS, TAN and ARCTAN after fdlibm (Sun Microsystems, freely distributable):
# x is reduced to r = x - n*pi/2 with pi/2 in three 33-bit parts and a tail, whose products
# with n are exact while n fits in 20 bits (|x| < 2**19 * pi/2, about 8.2e5); larger
# arguments lose accuracy gradually (libm's Payne-Hanek reduction is not vectorisable);
# the kernels' polynomials by Estrin's scheme (short dependency chains, as in exp)
INV_PIO2 = 6.36619772367581382433e-01
PIO2_1 = 1.57079632673412561417e00
PIO2_2 = 6.07710050630396597660e-11
PIO2_2T = 2.02226624879595063154e-21
PIO2_3 = 2.02226624871116645580e-21
PIO2_3T = 8.47842766036889956997e-32
ROUND = 6755399441055744.0  # 1.5 * 2**52
S1, S2, S3, S4, S5, S6 = (
    -1.66666666666666324348e-01,
    8.33333333332248946124e-03,
    -1.98412698298579493134e-04,
    2.75573137070700676789e-06,
    -2.50507602534068634195e-08,
    1.58969099521155010221e-10,
)
C1, C2, C3, C4, C5, C6 = (
    4.16666666666666019037e-02,
    -1.38888888888741095749e-03,
    2.48015872894767294178e-05,
    -2.75573143513906633035e-07,
    2.08757232129817482790e-09,
    -1.13596475577881948265e-11,
)
T0, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12 = (
    3.33333333333334091986e-01,
    1.33333333333201242699e-01,
    5.39682539762260521377e-02,
    2.18694882948595424599e-02,
    8.86323982359930005737e-03,
    3.59207910759131235356e-03,
    1.45620945432529025516e-03,
    5.88041240820264096874e-04,
    2.46463134818469906812e-04,
    7.81794442939557092300e-05,
    7.14072491382608190305e-05,
    -1.85586374855275456654e-05,
    2.59073051863633712884e-05,
)
PIO4 = 7.85398163397448278999e-01
PIO4_LO = 3.06161699786838301793e-17
HIGH_HALF = -(1 << 32)  # keeps the sign, exponent and upper 20 mantissa bits
ATAN_HI = (4.63647609000806093515e-01, 7.85398163397448278999e-01, 9.82793723247329054082e-01)
ATAN_LO = (2.26987774529616870924e-17, 3.06161699786838301793e-17, 1.39033110312309984516e-17)
PIO2_HI = 1.57079632679489655800e00
PIO2_LO = 6.12323399573676603587e-17
AT = (
    3.33333333333329318027e-01,
    -1.99999999998764832476e-01,
    1.42857142725034663711e-01,
    -1.11111104054623557880e-01,
    9.09088713343650656196e-02,
    -7.69187620504482999495e-02,
    6.66107313738753120669e-02,
    -5.83357013379057348645e-02,
    4.97687799461593236017e-02,
    -3.65315727442169155270e-02,
    1.62858201153657823623e-02,
)
AT0, AT1, AT2, AT3, AT4, AT5, AT6, AT7, AT8, AT9, AT10 = AT


def _reduce(x):
    """(r_hi, r_lo, n) with x = n * pi/2 + r_hi + r_lo, |r| <= pi/4: ``n & 3`` is the quadrant.

    ``x - fn * PIO2_1`` is exact; ``hi`` rounds it minus the second part, ``lo`` is that
    rounding's error ``(r - hi) - w`` (exact where ``|r| >= |w|``, Fast2Sum; ``|w| < 6.4e-5``)
    minus the third part and the tail. ``hi + lo`` need not be normalised: where ``x`` is near a
    multiple of pi/2, ``lo`` may be as large as ``hi``, and the kernels still add them
    correctly (sin(hi + lo) is about hi + lo there; cos about 1).

    ``n`` is the bit pattern of ``fn + ROUND``, whose last bits are those of the integer ``fn``
    (two's complement) while ``|fn| < 2**51`` (``|x|`` below about 3.5e15, far beyond the exact
    reduction's 8.2e5); one integer ``and`` then picks the quadrant's function and sign.
    """
    fn = floor(x * INV_PIO2 + 0.5)
    r = x - fn * PIO2_1
    w = fn * PIO2_2
    hi = r - w
    lo = (((r - hi) - w) - fn * PIO2_3) - fn * PIO2_3T
    return hi, lo, _bits_of_f64(fn + ROUND)


def _kernel_sin(x, y):
    z = x * x
    v = z * x
    z2 = z * z
    r = (S2 + z * S3) + z2 * ((S4 + z * S5) + z2 * S6)
    return x - ((z * (0.5 * y - v * r) - y) - v * S1)


def _kernel_cos(x, y):
    z = x * x
    z2 = z * z
    r = z * (((C1 + z * C2) + z2 * (C3 + z * C4)) + (z2 * z2) * (C5 + z * C6))
    hz = 0.5 * z
    w = 1.0 - hz
    return w + (((1.0 - w) - hz) + (z * r - x * y))


def sin(x):
    """Sine: quadrants 0 to 3 give s, c, -s, -c (NaN for infinite x, whose reduction is inf - inf; the
    sign of a zero kept, as the reduction and the sine's kernel keep it)."""
    hi, lo, n = _reduce(x)
    r = select((n & 1) == 0, _kernel_sin(hi, lo), _kernel_cos(hi, lo))
    return select((n & 2) == 0, r, -r)


def cos(x):
    """Cosine: quadrants 0 to 3 give c, -s, -c, s (NaN for infinite x)."""
    hi, lo, n = _reduce(x)
    r = select((n & 1) == 0, _kernel_cos(hi, lo), _kernel_sin(hi, lo))
    return select(((n + 1) & 2) == 0, r, -r)


def _kernel_tan(x, y, odd):
    """tan(x + y) for |x + y| <= pi/4, or -1/tan(x + y) where ``odd`` (fdlibm's __kernel_tan)."""
    big = abs(x) >= 0.6744
    sign = select(x < 0.0, -1.0, 1.0)
    # near pi/4: tan(pi/4 - d) is better conditioned
    xs = select(big, sign * x, x)
    ys = select(big, sign * y, y)
    xb = (PIO4 - xs) + (PIO4_LO - ys)
    x = select(big, xb, x)
    y = select(big, 0.0, y)
    z = x * x
    w = z * z
    r = T1 + w * (T3 + w * (T5 + w * (T7 + w * (T9 + w * T11))))
    v = z * (T2 + w * (T4 + w * (T6 + w * (T8 + w * (T10 + w * T12)))))
    s = z * x
    r = y + z * (s * (r + v) + y)
    r = r + T0 * s
    w = x + r
    iy = select(odd, -1.0, 1.0)
    near = sign * (iy - 2.0 * (x - (divide(w * w, w + iy) - r)))
    # -1/(x + r) with the division's error compensated (high halves of w and of -1/w)
    zh = _f64_from_bits(_bits_of_f64(w) & HIGH_HALF)
    vh = r - (zh - x)
    a = divide(-1.0, w)
    t = _f64_from_bits(_bits_of_f64(a) & HIGH_HALF)
    inverse = t + a * ((1.0 + t * zh) + t * vh)
    return select(big, near, select(odd, inverse, w))


def tan(x):
    """Tangent (NaN for infinite x)."""
    hi, lo, n = _reduce(x)
    r = _kernel_tan(hi, lo, (n & 1) != 0)
    return select(abs(x) == math.inf, math.nan, select(x == 0.0, x, r))


def arctan(x):
    """Arc tangent in (-pi/2, pi/2)."""
    a = abs(x)
    # reduce by atan(a) = atan(c) + atan((a - c) / (1 + a c)) for c = 0.5, 1, 1.5, inf
    band = select(
        a < 0.4375,
        -1.0,
        select(a < 0.6875, 0.0, select(a < 1.1875, 1.0, select(a < 2.4375, 2.0, 3.0))),
    )
    num = select(
        band == 0.0, 2.0 * a - 1.0, select(band == 1.0, a - 1.0, select(band == 2.0, a - 1.5, -1.0))
    )
    num = select(band < 0.0, a, num)
    den = select(
        band == 0.0, 2.0 + a, select(band == 1.0, a + 1.0, select(band == 2.0, 1.0 + 1.5 * a, a))
    )
    den = select(band < 0.0, 1.0, den)
    t = num / den
    z = t * t
    w = z * z
    s1 = z * (AT0 + w * (AT2 + w * (AT4 + w * (AT6 + w * (AT8 + w * AT10)))))
    s2 = w * (AT1 + w * (AT3 + w * (AT5 + w * (AT7 + w * AT9))))
    hi = select(
        band == 0.0,
        ATAN_HI[0],
        select(band == 1.0, ATAN_HI[1], select(band == 2.0, ATAN_HI[2], PIO2_HI)),
    )
    lo = select(
        band == 0.0,
        ATAN_LO[0],
        select(band == 1.0, ATAN_LO[1], select(band == 2.0, ATAN_LO[2], PIO2_LO)),
    )
    reduced = hi - ((t * (s1 + s2) - lo) - t)
    r = select(band < 0.0, t - t * (s1 + s2), reduced)
    return select(x != x, x, math.copysign(r, x))

