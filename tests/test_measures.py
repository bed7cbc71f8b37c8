"""Vectorised trajectory measures: one value per run, per-run levels and windows, one interpolation rule."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from sdkit import measures

T = np.arange(0.0, 11.0)  # 0, 1, ..., 10
RAMPS = np.stack([T / 10, 2 * T / 10, np.full(T.size, 0.5)])  # three runs


def everything(x: np.ndarray = RAMPS) -> np.ndarray:
    return measures.window_mask(x, T)


def test_crossing_is_interpolated_per_run_and_nan_when_never():
    level = np.array([0.25, 0.25, 0.25])
    got = measures.first_crossing(RAMPS, T, level, everything(), below=False)
    assert got[:2] == pytest.approx([2.5, 1.25])
    assert got[2] == 0.0  # already above at its first sample
    never = measures.first_crossing(RAMPS, T, np.array([2.5, 2.5, 2.5]), everything(), below=False)
    assert np.isnan(never).all()


def test_each_run_may_have_its_own_level_and_window():
    level = np.array([0.15, 0.35, 0.45])
    got = measures.first_crossing(RAMPS, T, level, everything(), below=False)
    assert got == pytest.approx([1.5, 1.75, 0.0])
    keep = measures.window_mask(RAMPS, T, np.array([0.0, 2.0, 4.0]), np.array([5.0, 6.0, 10.0]))
    assert measures.maximum(RAMPS, keep) == pytest.approx([0.5, 1.2, 0.5])
    assert measures.mean(RAMPS, T, keep) == pytest.approx([0.25, 0.8, 0.5])
    assert measures.initial(RAMPS, keep) == pytest.approx([0.0, 0.4, 0.5])


def test_time_beyond_counts_the_crossed_interval_in_proportion():
    level = np.array([0.32, 0.32, 0.32])
    got = measures.time_beyond(RAMPS, T, level, everything(), below=True)
    assert got == pytest.approx([3.2, 1.6, 0.0])


def test_value_at_interpolates_and_is_nan_outside():
    got = measures.value_at(RAMPS, T, np.array([3.25, 10.0, 11.0]), everything())
    assert got[:2] == pytest.approx([0.325, 2.0])
    assert np.isnan(got[2])


def test_nan_padding_and_empty_masks():
    x = RAMPS.copy()
    x[0, 6:] = np.nan  # a shorter run
    keep = everything(x)
    assert measures.final(x, keep)[0] == pytest.approx(0.5)
    empty = measures.window_mask(x, T, np.array([np.nan] * 3), None)
    for values in (measures.final(x, empty), measures.maximum(x, empty), measures.time_of_max(x, T, empty)):
        assert np.isnan(values).all()


def test_settling_waits_for_the_last_sample_outside_the_band():
    decaying = np.exp(-T / 2)[None, :]
    oscillating = (np.cos(np.pi * T) * 0.5 + 1)[None, :]
    common = dict(after=np.zeros(1), tolerance=np.full(1, 0.05), atol=np.full(1, 0.0))
    # an oscillation around its last value is outside the band until the sample before the last
    assert measures.settling_time([oscillating], T, [everything(oscillating)], **common)[0] == 10.0
    settled = measures.settling_time([decaying], T, [everything(decaying)], **dict(common, atol=np.full(1, 0.01)))
    assert 0 < settled[0] < 10


def test_excursion_sign():
    got = measures.excursion(RAMPS, everything(), np.zeros(3), np.ones(3))
    assert got == pytest.approx([0.0, 1.0, -0.5])


def test_resolve_variable_accepts_model_and_safe_names():
    ds = xr.Dataset({"institutional_authority": ("time", T)})
    ds["institutional_authority"].attrs["long_name"] = "Institutional Authority"
    for name in ("institutional_authority", "Institutional Authority", "institutional authority", "INSTITUTIONAL-AUTHORITY"):
        assert measures.resolve_variable(ds, name) == "institutional_authority"
    assert measures.resolve_variable(ds, "authority") is None
