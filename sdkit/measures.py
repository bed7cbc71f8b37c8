"""Trajectory measures: reduce simulated series to one number per run, for many runs at once.

Every measure takes values ``x`` shaped ``(run, time)``, the shared times ``t``
shaped ``(time,)`` and a boolean mask ``keep`` shaped like ``x`` that says which
samples the measure reads (its window, and only finite values). It returns one
number per run, shaped ``(run,)``; a run whose mask holds no sample gets NaN.
Arguments that are levels or times (``level``, ``when``, ``after``, window bounds)
are arrays shaped ``(run,)``, so each run may have its own.

One interpolation rule holds throughout: between two saved samples a series is
taken as linear. A crossing time (:func:`first_crossing`) is interpolated between
the samples either side of it and is NaN when the level is never crossed; the time
spent beyond a level (:func:`time_beyond`) counts each interval in proportion to
the part of it the linear series spends there; :func:`value_at` interpolates
linearly and is NaN outside the samples.

Reference-mode checks (:mod:`sdkit.checks`) and sweep metrics
(:mod:`sdkit.sensitivity.metrics`) both use these functions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import xarray as xr

__all__ = [
    "excursion",
    "final",
    "first_crossing",
    "initial",
    "maximum",
    "mean",
    "minimum",
    "resolve_variable",
    "safe_name",
    "settling_time",
    "time_beyond",
    "time_of_max",
    "time_of_min",
    "value_at",
    "window_mask",
]


# ---------------------------------------------------------------------------- names


def safe_name(name: str) -> str:
    """Lower-case name with every run of other characters as one ``_``: ``"Legit. Effort"`` -> ``"legit_effort"``."""
    return re.sub(r"[^0-9a-z]+", "_", str(name).strip().lower()).strip("_")


def resolve_variable(dataset: xr.Dataset, name: str) -> str | None:
    """The data variable of ``dataset`` that ``name`` means, or None.

    ``name`` may be the data variable itself, its model name (the ``long_name``
    attribute, e.g. ``"Institutional Authority"``) or a python-safe form of either;
    case, spaces and punctuation do not matter.
    """
    if name in dataset.data_vars:
        return str(name)
    wanted = safe_name(name)
    for var in dataset.data_vars:
        if safe_name(str(var)) == wanted:
            return str(var)
    for var in dataset.data_vars:
        long_name = dataset[var].attrs.get("long_name")
        if isinstance(long_name, str) and safe_name(long_name) == wanted:
            return str(var)
    return None


# ---------------------------------------------------------------------------- masks


def window_mask(x: np.ndarray, t: np.ndarray, t0: np.ndarray | None = None, t1: np.ndarray | None = None) -> np.ndarray:
    """Finite samples of ``x`` with ``t0 <= t <= t1`` (either bound may be None); NaN bounds keep nothing."""
    keep = np.isfinite(x)
    if t0 is not None:
        keep &= t[None, :] >= np.asarray(t0, dtype=float)[:, None]
    if t1 is not None:
        keep &= t[None, :] <= np.asarray(t1, dtype=float)[:, None]
    return keep


def _first_index(mask: np.ndarray) -> np.ndarray:
    """Index of the first True per row, -1 where a row has none."""
    return np.where(mask.any(axis=1), mask.argmax(axis=1), -1)


def _last_index(mask: np.ndarray) -> np.ndarray:
    """Index of the last True per row, -1 where a row has none."""
    last = mask.shape[1] - 1 - mask[:, ::-1].argmax(axis=1)
    return np.where(mask.any(axis=1), last, -1)


def _take(x: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``x[row, index[row]]``, NaN where ``index`` is -1."""
    rows = np.arange(x.shape[0])
    return np.where(index >= 0, x[rows, np.maximum(index, 0)], np.nan)


def _times_at(t: np.ndarray, index: np.ndarray) -> np.ndarray:
    return np.where(index >= 0, t[np.maximum(index, 0)], np.nan)


# ---------------------------------------------------------------------------- values


def initial(x: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """The first kept value of each run."""
    return _take(x, _first_index(keep))


def final(x: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """The last kept value of each run."""
    return _take(x, _last_index(keep))


def minimum(x: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """The smallest kept value of each run."""
    return np.where(keep.any(axis=1), np.where(keep, x, np.inf).min(axis=1), np.nan)


def maximum(x: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """The largest kept value of each run."""
    return np.where(keep.any(axis=1), np.where(keep, x, -np.inf).max(axis=1), np.nan)


def mean(x: np.ndarray, t: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Time average of the kept samples (trapezoidal); the value itself when one sample is kept."""
    both = keep[:, :-1] & keep[:, 1:]
    with np.errstate(invalid="ignore"):
        pieces = np.where(both, np.diff(t)[None, :] * (x[:, :-1] + x[:, 1:]) / 2.0, 0.0)
    first, last = _first_index(keep), _last_index(keep)
    span = _times_at(t, last) - _times_at(t, first)
    with np.errstate(invalid="ignore", divide="ignore"):
        average = pieces.sum(axis=1) / span
    return np.where(first == last, _take(x, first), average)


def value_at(x: np.ndarray, t: np.ndarray, when: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """The linearly interpolated value at time ``when``; NaN outside the kept samples."""
    when = np.asarray(when, dtype=float)
    if t.size == 1:
        return np.where(when == t[0], _take(x, _first_index(keep)), np.nan)
    index = np.clip(np.searchsorted(t, when, side="right") - 1, 0, t.size - 2)
    rows = np.arange(x.shape[0])
    x0, x1 = x[rows, index], x[rows, index + 1]
    with np.errstate(invalid="ignore"):
        fraction = (when - t[index]) / (t[index + 1] - t[index])
        value = np.where(fraction == 0, x0, np.where(fraction == 1, x1, x0 + (x1 - x0) * fraction))
    inside = (when >= _times_at(t, _first_index(keep))) & (when <= _times_at(t, _last_index(keep)))
    return np.where(inside, value, np.nan)


def excursion(x: np.ndarray, keep: np.ndarray, lo: np.ndarray | None = None, hi: np.ndarray | None = None) -> np.ndarray:
    """How far each run leaves ``[lo, hi]`` at its worst: ``max(lo - x, x - hi)`` over the kept samples.

    Negative when the series stays inside (then minus its closest approach to a
    bound), zero when it touches a bound, positive when it leaves the interval.
    Either bound may be None.
    """
    beyond = np.full(x.shape, -np.inf)
    with np.errstate(invalid="ignore"):
        if lo is not None:
            beyond = np.maximum(beyond, np.asarray(lo, dtype=float)[:, None] - x)
        if hi is not None:
            beyond = np.maximum(beyond, x - np.asarray(hi, dtype=float)[:, None])
    return maximum(beyond, keep)


# ---------------------------------------------------------------------------- times


def time_of_max(x: np.ndarray, t: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """The saved time of each run's largest kept value (the first, if tied)."""
    index = np.where(keep.any(axis=1), np.where(keep, x, -np.inf).argmax(axis=1), -1)
    return _times_at(t, index)


def time_of_min(x: np.ndarray, t: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """The saved time of each run's smallest kept value (the first, if tied)."""
    index = np.where(keep.any(axis=1), np.where(keep, x, np.inf).argmin(axis=1), -1)
    return _times_at(t, index)


def first_crossing(x: np.ndarray, t: np.ndarray, level: np.ndarray, keep: np.ndarray, below: bool) -> np.ndarray:
    """When each run first goes below (``below=True``) or above ``level`` within the kept samples.

    The crossing is interpolated linearly between the samples either side of it;
    a run already beyond the level at its first kept sample gets that sample's time;
    a run that never crosses gets NaN.
    """
    level = np.asarray(level, dtype=float)[:, None]
    with np.errstate(invalid="ignore"):
        hit = keep & ((x < level) if below else (x > level))
    index = _first_index(hit)
    start = _first_index(keep)
    before = np.maximum(index - 1, 0)
    rows = np.arange(x.shape[0])
    x0, x1 = x[rows, before], x[rows, np.maximum(index, 0)]
    t0, t1 = t[before], t[np.maximum(index, 0)]
    with np.errstate(invalid="ignore", divide="ignore"):
        crossing = t0 + (level[:, 0] - x0) * (t1 - t0) / (x1 - x0)
    crossing = np.where(index == start, t1, crossing)
    return np.where(index >= 0, crossing, np.nan)


def time_beyond(x: np.ndarray, t: np.ndarray, level: np.ndarray, keep: np.ndarray, below: bool) -> np.ndarray:
    """Time each run spends below (``below=True``) or above ``level`` within the kept samples.

    Between samples the series is linear, so an interval the level crosses counts
    in proportion. One kept sample gives 0; none gives NaN.
    """
    level = np.asarray(level, dtype=float)[:, None]
    margin = level - x if below else x - level  # > 0 where the condition holds
    a, b = margin[:, :-1], margin[:, 1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        fraction = np.where(
            (a > 0) & (b > 0),
            1.0,
            np.where((a <= 0) & (b <= 0), 0.0, np.where(a > 0, a / (a - b), b / (b - a))),
        )
    both = keep[:, :-1] & keep[:, 1:]
    total = np.where(both, np.diff(t)[None, :] * fraction, 0.0).sum(axis=1)
    return np.where(keep.any(axis=1), total, np.nan)


def settling_time(
    xs: Sequence[np.ndarray], t: np.ndarray, keeps: Sequence[np.ndarray], after: np.ndarray,
    tolerance: np.ndarray, atol: np.ndarray,
) -> np.ndarray:
    """Time after ``after`` until every series stays within ``tolerance * |reference| + atol`` of its reference.

    A series' reference is its last kept value after ``after`` (its equilibrium when
    the run has settled). A series settles at the sample after the last one outside
    the band (so a series that keeps moving settles only at its last sample).
    """
    after = np.asarray(after, dtype=float)
    tolerance = np.asarray(tolerance, dtype=float)[:, None]
    atol = np.asarray(atol, dtype=float)[:, None]
    worst = np.zeros(after.shape)
    for x, keep in zip(xs, keeps, strict=True):
        keep = keep & (t[None, :] >= after[:, None])
        last = _last_index(keep)
        reference = _take(x, last)[:, None]
        with np.errstate(invalid="ignore"):
            outside = keep & (np.abs(x - reference) > tolerance * np.abs(reference) + atol)
        last_out = _last_index(outside)
        settled_at = np.where(last_out < last, _times_at(t, np.minimum(last_out + 1, t.size - 1)), np.inf)
        settle = np.where(last_out >= 0, settled_at - after, 0.0)
        worst = np.maximum(worst, np.where(last >= 0, settle, np.nan))
    return worst
