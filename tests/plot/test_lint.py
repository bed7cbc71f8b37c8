"""Figures read back from their artists: each time axis spans its data, no text overlaps."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import xarray as xr

from sdkit import plot
from sdkit.checks import Check, CheckResult
from sdkit.plot.lint import figure_problems, time_axis_fill


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def two_calendars() -> xr.Dataset:
    """A 0-200 scenario and a 1919-2030 history on one NaN-padded time axis, as `run --all` makes."""
    t = np.union1d(np.arange(0.0, 200.5, 0.5), np.arange(1919.0, 2030.5, 0.5))
    scenario = np.where(t <= 200, 0.5 + 0.4 * np.sin(t / 20), np.nan)
    history = np.where(t >= 1919, 0.5 + 0.4 * np.cos((t - 1919) / 15), np.nan)
    data = {
        name: xr.DataArray(np.vstack([scenario, history]), dims=("scenario", "time"),
                           attrs={"long_name": name.title(), "units": "Dmnl"})
        for name in ("restraint", "disorder")
    }
    return xr.Dataset(data, coords={"scenario": ["balanced", "liberal_1945"], "time": ("time", t, {"units": "Year"})})


def test_each_scenario_fills_its_own_time_axis():
    ds = two_calendars()
    for scenario, (low, high) in (("balanced", (0, 200)), ("liberal_1945", (1919, 2030))):
        fig = plot.trajectories(ds, scenarios=[scenario], variables=["restraint", "disorder"])
        assert [ax.get_xlim() for ax in fig.axes] == [(low, high)] * 2
        assert figure_problems(fig) == []


def test_reference_mode_figure_spans_its_scenario_and_marks_thresholds():
    ds = two_calendars()
    checks = [Check("H2.low", "H2", "liberal_1945", "restraint dips", {"fn": "min", "var": "Restraint"}, "<", 0.2),
              Check("H2.high", "H2", "liberal_1945", "restraint recovers", {"fn": "max", "var": "Restraint"}, ">", 0.21)]
    results = [CheckResult("H2.low", "H2", "liberal_1945", "", 0.1, "<", 0.2, True, None),
               CheckResult("H2.high", "H2", "liberal_1945", "", 0.9, ">", 0.21, True, None)]
    fig, axes = plot.reference_mode_figure(ds, results, "H2", checks=checks)
    ax = axes.ravel()[0]
    assert ax.get_xlim() == (1919.0, 2030.0)
    assert ax.get_title() == "Restraint: PASS (2/2)"
    levels = sorted(line.get_ydata()[0] for line in ax.get_lines() if len(line.get_xdata()) == 2)
    assert levels == [0.2, 0.21]
    assert figure_problems(fig) == []  # the two labels 0.01 apart are stacked, not overprinted


def test_problems_are_found_when_present():
    ds = two_calendars()
    fig = plot.trajectories(ds, scenarios=["balanced"], variables=["restraint"])
    ax = fig.axes[0]
    ax.set_xlim(0, 2030)
    ax.text(100, 0.5, "a label")
    ax.text(100, 0.5, "another label")
    problems = figure_problems(fig)
    assert any("data fill 10% of the time axis" in p for p in problems)
    assert any("'a label' overlaps 'another label'" in p for p in problems)
    assert time_axis_fill(ax) == pytest.approx(200 / 2030)


def test_a_legend_beyond_the_figure_is_found():
    fig = plot.trajectories(two_calendars(), scenarios=["balanced"], variables=["restraint"])
    fig.axes[0].legend(["a very long legend entry " * 6], loc="upper left", bbox_to_anchor=(0.5, 1.0))
    assert any("reaches beyond the figure" in p for p in figure_problems(fig))
