"""Historical runs of the core model in calendar years (H1 Versailles, H2 the liberal order).

The extensions that make them possible (phase shifts, the competitor, the historical
guarantor share) must be neutral by default, so every other scenario is unchanged;
the H1/H2 checks must reproduce on both engines.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from sdkit import run
from sdkit.check_runs import constant_lookup
from sdkit.checks import checks_path_for, evaluate, load_checks, scenarios_needed
from sdkit.errors import SdkitError
from sdkit.model import load_model
from sdkit.scenarios import load_scenarios, scenarios_path_for
from tests.kissinger.verdicts import unexpected_failures, unexpected_passes

MODEL = Path(__file__).resolve().parents[2] / "models" / "kissinger_core.mdl"
HISTORICAL = {
    "versailles_1919",
    "versailles_1919_long",
    "liberal_1945",
    "liberal_1945_no_competitor",
}


@pytest.fixture(scope="module")
def model():
    return load_model(MODEL)


@pytest.fixture(scope="module")
def historical_checks():
    return [c for c in load_checks(checks_path_for(MODEL)) if c.mode in {"H1", "H2"}]


@pytest.fixture(scope="module")
def runs(model, historical_checks):
    names = scenarios_needed(historical_checks)
    return {engine: run(model, scenarios=names, engine=engine) for engine in ("engine", "pysd")}


def test_historical_scenarios_are_in_calendar_years(model):
    scenarios = load_scenarios(scenarios_path_for(MODEL), model)
    assert HISTORICAL <= set(scenarios)
    windows = {
        name: (
            model.time.replace(scenarios[name].time).initial_time,
            model.time.replace(scenarios[name].time).final_time,
        )
        for name in HISTORICAL
    }
    assert windows == {
        "versailles_1919": (1919, 1950),
        "versailles_1919_long": (1919, 1970),
        "liberal_1945": (1945, 2030),
        "liberal_1945_no_competitor": (1945, 2030),
    }


def test_checks_cover_both_historical_modes(historical_checks):
    assert {c.mode for c in historical_checks} == {"H1", "H2"}
    assert set(scenarios_needed(historical_checks)) == HISTORICAL


@pytest.mark.parametrize("engine", ["engine", "pysd"])
def test_historical_checks_reproduce(model, runs, historical_checks, engine):
    results = evaluate(historical_checks, runs[engine], constant_lookup(model, {}))
    assert unexpected_failures(results) == []
    assert unexpected_passes(results) == []


def test_engine_matches_pysd_on_calendar_time(runs):
    engine, pysd = runs["engine"], runs["pysd"]
    np.testing.assert_array_equal(engine["time"].values, pysd["time"].values)
    for name in (
        "legitimacy",
        "power",
        "restraint",
        "emphasis",
        "institutional_authority",
        "guarantor_resource_share",
    ):
        np.testing.assert_allclose(
            engine[name].values, pysd[name].values, rtol=1e-9, atol=1e-12, err_msg=name
        )


def test_phases_switch_at_their_calendar_years(runs):
    # liberal_1945: anchor 0.55, +0.10 from 1989, -0.15 (relative to 0.55) from 2014;
    # the competitor's discipline (1) lasts until 1991
    # scenarios of different spans share one time axis, padded with NaN
    ds = runs["engine"].sel(scenario="liberal_1945").dropna("time")
    assert (ds["time"].values[0], ds["time"].values[-1]) == (1945, 2030)
    t = ds["time"].values
    expected_anchor = np.where(t < 1989, 0.55, np.where(t < 2014, 0.65, 0.40))
    np.testing.assert_allclose(ds["phased_emphasis"].values, expected_anchor, atol=1e-12)
    np.testing.assert_array_equal(ds["competitor_presence"].values, np.where(t < 1991, 1.0, 0.0))
    expected_supremacy = np.where(t < 1989, 0.6, 0.8)  # +0.2 in both later phases
    np.testing.assert_allclose(
        ds["effective_supremacy_claim"].values, expected_supremacy, atol=1e-12
    )
    expected_expansiveness = np.where((t >= 1989) & (t < 2014), 0.9, 0.7)
    np.testing.assert_allclose(
        ds["effective_expansiveness"].values, expected_expansiveness, atol=1e-12
    )


def test_guarantor_withdrawal_and_return(runs):
    # the historical path: the United States withdraws in 1920 and re-enters in 1941
    share = (
        runs["engine"]["guarantor_resource_share"].sel(scenario="versailles_1919").dropna("time")
    )
    assert float(share.sel(time=1920)) < float(share.sel(time=1919))
    assert float(share.sel(time=1941)) > float(share.sel(time=1938))
    # and after 1950 the West's share declines
    west = runs["engine"]["guarantor_resource_share"].sel(scenario="liberal_1945").dropna("time")
    assert float(west.sel(time=2030)) < float(west.sel(time=1950))


@pytest.mark.parametrize("engine", ["engine", "pysd"])
def test_extensions_are_neutral_in_every_other_scenario(model, engine):
    # with their default values the historical extensions reduce exactly to the
    # original equations, so the reference-mode scenarios are unchanged
    others = [n for n in load_scenarios(scenarios_path_for(MODEL), model) if n not in HISTORICAL]
    if engine == "pysd":  # PySD is slow: two scenarios that move most of these parameters
        others = ["versailles", "drift_1989"]
    ds = run(
        model,
        scenarios=others,
        engine=engine,
        variables=[
            "legitimacy emphasis",
            "Phased Emphasis",
            "expansiveness",
            "Effective Expansiveness",
            "supremacy claim",
            "Effective Supremacy Claim",
            "Competitor Presence",
            "guarantor share initial",
            "guarantor share decline rate",
            "guarantor share decline start",
            "Guarantor Resource Share",
        ],
    )
    # runs of different spans are padded with NaN: compare where a run has values
    ran = np.isfinite(ds["legitimacy_emphasis"].values)
    assert ran.sum() > 0.5 * ran.size
    for derived, parameter in [
        ("phased_emphasis", "legitimacy_emphasis"),
        ("effective_expansiveness", "expansiveness"),
        ("effective_supremacy_claim", "supremacy_claim"),
    ]:
        np.testing.assert_array_equal(
            ds[derived].values[ran], ds[parameter].values[ran], err_msg=derived
        )
    np.testing.assert_array_equal(ds["competitor_presence"].values[ran], 0.0)
    t = ds["time"].values
    exponential = ds["guarantor_share_initial"] * np.exp(
        -ds["guarantor_share_decline_rate"]
        * np.maximum(0.0, t - ds["guarantor_share_decline_start"])
    )
    np.testing.assert_allclose(
        ds["guarantor_resource_share"].values[ran], exponential.values[ran], rtol=1e-14
    )


@pytest.mark.parametrize("engine", ["engine", "pysd"])
def test_calendar_time_outside_the_model_range_is_refused(tmp_path, engine):
    shutil.copy(MODEL, tmp_path / MODEL.name)
    text = scenarios_path_for(MODEL).read_text(encoding="utf-8")
    text += '\n[too_late]\nbase = "liberal_1945"\n[too_late.time]\nfinal_time = 2300\n'
    (tmp_path / f"{MODEL.stem}.scenarios.toml").write_text(text, encoding="utf-8")
    with pytest.raises(SdkitError, match="2300") as info:
        run(tmp_path / MODEL.name, scenarios=["too_late"], engine=engine)
    assert "\n" not in str(info.value)
    assert "'Guarantor Resource Share' reads at Time" in str(info.value)
