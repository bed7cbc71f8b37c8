"""Interval arithmetic for the values an equation can take: ``(low, high)``, inclusive.

Used to read the sign of a factor in a link's sign (``d(a*b)/da`` has the sign of b).
``UNKNOWN`` is the whole real line; operations that could produce NaN (``0 * inf``,
``inf - inf``) fall back to the safe answer.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

Interval = tuple[float, float]
UNKNOWN: Interval = (-math.inf, math.inf)


def point(value: float) -> Interval:
    return (float(value), float(value))


def hull(*intervals: Interval) -> Interval:
    """The smallest interval holding all of these."""
    return (min(i[0] for i in intervals), max(i[1] for i in intervals))


def of_values(values: Iterable[float]) -> Interval:
    items = [float(v) for v in values]
    return (min(items), max(items)) if items else UNKNOWN


def sign(interval: Interval) -> int | None:
    """+1 if every value is >= 0, -1 if every value is <= 0, 0 if the only value is 0, else None."""
    low, high = interval
    if low == 0 and high == 0:
        return 0
    if low >= 0:
        return 1
    if high <= 0:
        return -1
    return None


def add(a: Interval, b: Interval) -> Interval:
    low, high = a[0] + b[0], a[1] + b[1]
    return UNKNOWN if math.isnan(low) or math.isnan(high) else (low, high)


def negate(a: Interval) -> Interval:
    return (-a[1], -a[0])


def _product(x: float, y: float) -> float:
    return 0.0 if x == 0 or y == 0 else x * y


def multiply(a: Interval, b: Interval) -> Interval:
    corners = [_product(x, y) for x in a for y in b]
    return (min(corners), max(corners))


def reciprocal(a: Interval) -> Interval:
    """1/a; the whole line when a holds 0 strictly inside (or is 0)."""
    low, high = a
    if low > 0 or (low == 0 and high > 0):
        return (1 / high if high < math.inf else 0.0, 1 / low if low > 0 else math.inf)
    if high < 0 or (high == 0 and low < 0):
        return (1 / high if high < 0 else -math.inf, 1 / low if low > -math.inf else 0.0)
    return UNKNOWN


def divide(a: Interval, b: Interval) -> Interval:
    return multiply(a, reciprocal(b))


def power(base: Interval, exponent: Interval) -> Interval:
    """base ^ exponent for a base that is never negative (else the whole line)."""
    if base[0] < 0:
        return UNKNOWN
    if exponent[0] != exponent[1]:
        return (0.0, math.inf)
    c = exponent[0]
    ends = [_power(base[0], c), _power(base[1], c)]
    return (min(ends), max(ends))


def _power(x: float, c: float) -> float:
    if x == 0:
        return math.inf if c < 0 else (1.0 if c == 0 else 0.0)
    try:
        return x**c
    except OverflowError:
        return math.inf


def exp(a: Interval) -> Interval:
    return (_exp(a[0]), _exp(a[1]))


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def ln(a: Interval) -> Interval:
    if a[1] <= 0:
        return UNKNOWN
    return (math.log(a[0]) if a[0] > 0 else -math.inf, math.log(a[1]) if a[1] < math.inf else math.inf)


def sqrt(a: Interval) -> Interval:
    return (math.sqrt(max(a[0], 0.0)), math.sqrt(a[1])) if a[1] >= 0 else UNKNOWN


def absolute(a: Interval) -> Interval:
    if a[0] >= 0:
        return a
    if a[1] <= 0:
        return negate(a)
    return (0.0, max(-a[0], a[1]))


def minimum(*intervals: Interval) -> Interval:
    return (min(i[0] for i in intervals), min(i[1] for i in intervals))


def maximum(*intervals: Interval) -> Interval:
    return (max(i[0] for i in intervals), max(i[1] for i in intervals))


def total(a: Interval) -> Interval:
    """A sum over one or more elements, each in a: only its sign is kept."""
    if a[0] >= 0:
        return (a[0], math.inf if a[1] > 0 else 0.0)
    if a[1] <= 0:
        return (-math.inf if a[0] < 0 else 0.0, a[1])
    return UNKNOWN


def narrow(a: Interval, documented: Interval) -> Interval:
    """a, narrowed to a documented range (a when the two do not overlap)."""
    low, high = max(a[0], documented[0]), min(a[1], documented[1])
    return (low, high) if low <= high else a
