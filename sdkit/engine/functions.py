"""Vensim built-in functions on numpy arrays (one value per sample).

Semantics follow PySD 3.14 (``pysd.py_backend.functions``): XIDZ/ZIDZ treat
``|denominator| < 1e-6`` as zero, STEP switches at ``time + dt/2 > start``,
PULSE/PULSE TRAIN use the same 1e-6 tolerance, INTEGER truncates toward
zero, lookups hold their end values outside the table.
"""

from __future__ import annotations

import math

import numpy as np

SMALL_VENSIM = 1e-6

#: the engine's random draws -> number of distribution arguments; six more name the draw
#: (seed, sample number, call number, t, t0, dt; :mod:`sdkit.engine.vrandom`)
DISTRIBUTIONS = {"random_uniform": 2, "random_normal": 4, "random_exponential": 4, "random_triangular": 5,
                 "random_poisson": 5}


def xidz(a, b, x):
    """``a / b``, or ``x`` where ``|b| < 1e-6``."""
    return np.where(np.abs(b) < SMALL_VENSIM, x, a / b)


def zidz(a, b):
    """``a / b``, or 0 where ``|b| < 1e-6``."""
    return np.where(np.abs(b) < SMALL_VENSIM, 0.0, a / b)


def step(height, start, t, dt):
    """STEP(height, start): ``height`` once ``t + dt/2 > start``."""
    return height * (t + dt / 2 > start)


def ramp(slope, start, finish, t):
    """RAMP(slope, start, finish)."""
    return (t + SMALL_VENSIM > start) * slope * (np.minimum(finish, t) - start)


def pulse(start, width, t, dt):
    """PULSE(start, width): 1 while ``start - 1e-6 <= t < start + width``."""
    return np.where((start - SMALL_VENSIM <= t) & (t < start + width), 1.0, 0.0)


def pulse_train(start, repeat, width, end, t, dt):
    """PULSE TRAIN(start, width, repeat time, end) with PySD's argument order."""
    from sdkit.engine import ufuncs as U

    single = (start - SMALL_VENSIM <= t) & (t < start + width)
    rep = (start <= t) & (t < end) & (U.fmod(t - start + SMALL_VENSIM, repeat) < width)
    return np.where(repeat == 0, single, rep) * 1.0


def quantum(a, b):
    """QUANTUM(a, b): ``b * INTEGER(a / b)``, or ``a`` where ``b < 1e-6``."""
    return np.where(b < SMALL_VENSIM, a, b * np.trunc(a / b))


def modulo(x, m):
    """MODULO(x, m) as ``x - QUANTUM(x, m)``."""
    return x - quantum(x, m)


def log(a, b):
    """LOG(a, base)."""
    from sdkit.engine import ufuncs as U

    return U.ln(a) / U.ln(b)


def lookup(x, xs, ys, mode):
    """Evaluate a lookup table at ``x``.

    ``mode`` 0: linear interpolation holding the end values; 1: hold backward
    (step function); 2: linear interpolation and extrapolation; 3: look forward (the
    value of the first x at or above ``x``; the last value beyond the table); 4: raw
    data (the value at an x of the table, NaN at any other ``x``, as PySD's ``:RAW:``).
    """
    if mode == 4:
        idx = np.clip(np.searchsorted(xs, x, side="left"), 0, xs.size - 1)
        return np.where(xs[idx] == x, ys[idx], np.nan)
    if mode == 1:
        idx = np.clip(np.searchsorted(xs, x, side="right") - 1, 0, xs.size - 1)
        return ys[idx]
    if mode == 3:
        idx = np.clip(np.searchsorted(xs, x, side="left"), 0, xs.size - 1)
        return np.where(x != x, x, ys[idx])
    out = np.interp(x, xs, ys)
    if mode == 2 and xs.size > 1:
        lo = ys[0] + (ys[1] - ys[0]) / (xs[1] - xs[0]) * (x - xs[0])
        hi = ys[-1] + (ys[-1] - ys[-2]) / (xs[-1] - xs[-2]) * (x - xs[-1])
        out = np.where(x < xs[0], lo, np.where(x > xs[-1], hi, out))
    return out


def _random(name: str):
    def draw(*args):
        from sdkit.engine import vrandom

        return vrandom.numpy_draw(name, *args)

    draw.__name__ = name
    return draw


random_uniform, random_normal, random_exponential, random_triangular, random_poisson = map(_random, DISTRIBUTIONS)


def _available(name: str):
    def call(*args):
        from sdkit.engine import available

        return available.numpy_call(name, *args)

    call.__name__ = name
    return call


#: ALLOCATE AVAILABLE's compiled functions (:mod:`sdkit.engine.available`), called as ``_F.<name>`` by both backends
ALLOCATION = ("available_level", "available_share")
available_level, available_share = map(_available, ALLOCATION)


def first_bad(values, offset=0):
    """Return ``(offset + position, sample)`` of the first non-finite value, or None."""
    for i, v in enumerate(values):
        if isinstance(v, float):  # a Python float or numpy.float64: one sample, no array to build
            if math.isfinite(v):
                continue
            return offset + i, 0
        a = np.asarray(v)
        fin = np.isfinite(a)
        if not fin.all():
            return offset + i, (int(np.flatnonzero(~fin.reshape(-1))[0]) if a.ndim else 0)
    return None


def scalar_binop(op: str, a: float, b: float) -> float:
    """Binary operator on Python floats (used for compile-time constants)."""
    from sdkit.engine import ufuncs as U

    with np.errstate(all="ignore"):
        a64, b64 = np.float64(a), np.float64(b)
        table = {
            "+": lambda: a64 + b64,
            "-": lambda: a64 - b64,
            "*": lambda: a64 * b64,
            "/": lambda: a64 / b64,
            "^": lambda: U.power(a64, b64),
            "==": lambda: a64 == b64,
            "!=": lambda: a64 != b64,
            "<": lambda: a64 < b64,
            ">": lambda: a64 > b64,
            "<=": lambda: a64 <= b64,
            ">=": lambda: a64 >= b64,
            "and": lambda: bool(a64) and bool(b64),
            "or": lambda: bool(a64) or bool(b64),
        }
        return float(table[op]())


def numpy_function(name: str):
    """Return the numpy-backend implementation of IR function ``name``."""
    from sdkit.engine import ufuncs as U

    table = {
        "abs": np.abs,
        "sqrt": np.sqrt,
        "log": log,
        "min": np.minimum,
        "max": np.maximum,
        "integer": np.trunc,
        "modulo": modulo,
        "quantum": quantum,
        "xidz": xidz,
        "zidz": zidz,
        "step": step,
        "ramp": ramp,
        "pulse": pulse,
        "pulse_train": pulse_train,
        "available_level": available_level,
        "available_share": available_share,
    }
    if name in table:
        return table[name]
    return getattr(U, name)
