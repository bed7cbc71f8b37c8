"""The run API: labelled results, closed-form answers, no leaking between runs."""

import json

import numpy as np
import pytest
import xarray as xr

import sdkit
from sdkit.errors import ParameterError, ScenarioError

ENGINES = ["pysd", "engine"]


def euler_decay(x0: float, tau: float, dt: float, times: np.ndarray) -> np.ndarray:
    """Euler's exact answer for dx/dt = -x/tau: x_k = x0 (1 - dt/tau)^k."""
    return x0 * (1 - dt / tau) ** (times / dt)


@pytest.mark.parametrize("engine", ENGINES)
def test_decay_matches_closed_form(decay_path, engine):
    ds = sdkit.run(decay_path, scenarios=["slow", "fast"], engine=engine)
    assert ds["stock"].dims == ("scenario", "time")
    times = ds["time"].to_numpy()
    np.testing.assert_allclose(ds["stock"].sel(scenario="slow"), euler_decay(100, 40, 0.125, times), rtol=1e-12)
    np.testing.assert_allclose(ds["stock"].sel(scenario="fast"), euler_decay(100, 2.5, 0.125, times), rtol=1e-12)


def test_dataset_is_labelled_with_provenance(decay_path):
    model = sdkit.load_model(decay_path)
    ds = sdkit.run(model, scenarios=["fast"], set={"initial stock": 50}, engine="pysd")
    assert list(ds["scenario"].values) == ["fast"]
    assert ds["stock"].attrs == {"long_name": "Stock", "units": "widgets"}
    assert ds["outflow"].attrs["units"] == "widgets/Year"
    assert ds.attrs["model_sha256"] == model.sha256
    assert ds.attrs["pysd_version"]
    recorded = json.loads(ds.attrs["scenarios"])
    assert recorded["fast"]["parameters"] == {"decay time": 2.5, "initial stock": 50}
    assert float(ds["stock"].isel(scenario=0, time=0)) == 50


@pytest.mark.parametrize("engine", ENGINES)
def test_runs_do_not_leak_parameters(decay_path, engine):
    model = sdkit.load_model(decay_path)
    first = sdkit.run(model, scenarios=["slow"], engine=engine)
    sdkit.run(model, scenarios=["fast"], set={"initial stock": 7}, engine=engine)
    again = sdkit.run(model, scenarios=["slow"], engine=engine)
    xr.testing.assert_identical(first, again)


@pytest.mark.parametrize("engine", ENGINES)
def test_scenario_time_override(decay_path, engine):
    ds = sdkit.run(decay_path, scenarios=["fast", "fast_long"], engine=engine)
    assert float(ds["time"].max()) == 40
    assert np.isnan(ds["stock"].sel(scenario="fast", time=30))
    np.testing.assert_allclose(ds["stock"].sel(scenario="fast_long", time=30), euler_decay(100, 2.5, 0.125, np.array(30.0)))


@pytest.mark.parametrize("engine", ENGINES)
def test_subscripted_override(regions_path, engine):
    ds = sdkit.run(regions_path, set={"growth[south]": 0.1}, engine=engine)
    assert ds["capacity"].dims == ("scenario", "time", "Region")
    final = ds["capacity"].isel(time=-1, scenario=0)
    np.testing.assert_allclose(final.sel(Region="south"), (1 + 0.1 * 0.25) ** 40, rtol=1e-12)
    np.testing.assert_allclose(final.sel(Region="north"), (1 + 0.02 * 0.25) ** 40, rtol=1e-12)
    np.testing.assert_allclose(ds["total_capacity"].isel(time=-1, scenario=0), final.sum(), rtol=1e-12)


def test_default_scenario_is_the_model_file(decay_path):
    ds = sdkit.run(decay_path, engine="pysd")
    assert list(ds["scenario"].values) == ["default"]
    np.testing.assert_allclose(ds["stock"].isel(scenario=0), euler_decay(100, 10, 0.125, ds["time"].to_numpy()))


def test_unknown_scenario(decay_path):
    with pytest.raises(ScenarioError, match="unknown scenario 'nope'.*known: slow, fast"):
        sdkit.run(decay_path, scenarios=["nope"])


def test_unknown_parameter(decay_path):
    with pytest.raises(ParameterError, match="no variable 'decay tme'"):
        sdkit.run(decay_path, set={"decay tme": 3})


def test_stock_is_not_a_parameter(decay_path):
    with pytest.raises(ParameterError, match="'Stock' is a stock, not a constant"):
        sdkit.run(decay_path, set={"Stock": 3})


def test_unknown_engine(decay_path):
    with pytest.raises(ParameterError, match="unknown engine 'fast'"):
        sdkit.run(decay_path, engine="fast")


def test_element_of_wrong_range(regions_path):
    with pytest.raises(ParameterError, match="'east' is not an element of Region"):
        sdkit.run(regions_path, set={"growth[east]": 0.1})


@pytest.mark.parametrize("engine", ENGINES)
def test_subscript_copy_has_the_elements_of_its_range(engine):
    from pathlib import Path

    model = sdkit.load_model(Path(__file__).parent / "data" / "copy_range.mdl")
    assert model.dims["Partner"] == ["north", "south"]
    ds = sdkit.run(model, set={"link[south, north]": 10}, engine=engine)
    np.testing.assert_array_equal(ds["row_total"].isel(scenario=0, time=0), [3, 14])
