"""The one simulation interface: Runs, both backends, the parameter arrays, labelled errors."""

import linecache
import traceback

import numpy as np
import pytest

import sdkit
from sdkit.backends.engine import parameter_arrays
from sdkit.errors import NonFiniteError, ParameterError
from sdkit.runs import Runs
from sdkit.scenarios import Override, overrides_for
from sdkit.simulate import label_nonfinite, simulate

BACKENDS = ["engine", "pysd"]


@pytest.fixture
def regions(regions_path):
    return sdkit.load_model(regions_path)


def _mixed_runs(model):
    """Three runs setting different constants: one element, the whole constant, nothing."""
    return Runs.of_scenarios([
        ("south_fast", overrides_for(model, {"growth[south]": 0.2})),
        ("both", overrides_for(model, {"growth": [0.1, 0.0]})),
        ("file", []),
    ])


@pytest.mark.parametrize("engine", BACKENDS)
def test_each_run_takes_only_its_own_values(regions, engine):
    """Run 3 sets nothing, so it gets the file's growth (0.02, 0.05) although run 1 and 2 set it."""
    ds = simulate(regions, _mixed_runs(regions), regions.time, ["capacity"], engine=engine)
    assert ds["capacity"].dims == ("scenario", "time", "Region")
    final = ds["capacity"].isel(time=-1)
    steps = 10 / 0.25
    expected = {"south_fast": (0.02, 0.2), "both": (0.1, 0.0), "file": (0.02, 0.05)}
    for label, rates in expected.items():
        np.testing.assert_allclose(final.sel(scenario=label), [(1 + r * 0.25) ** steps for r in rates], rtol=1e-12)
    assert ds["capacity"].attrs == {"long_name": "Capacity", "units": "Dmnl"}


def test_both_backends_agree_on_samples_and_final_values(regions):
    runs = Runs(tuple(range(4)), "sample", shared=tuple(overrides_for(regions, {"growth[north]": 0.03})),
                columns=(Override("growth", np.array([0.0, 0.01, 0.02, 0.04]), ("south",)),))
    by_engine = simulate(regions, runs, regions.time, ["capacity"], save="final", engine="engine")
    by_pysd = simulate(regions, runs, regions.time, ["capacity"], save="final", engine="pysd")
    assert by_engine["capacity"].dims == ("sample", "Region")
    np.testing.assert_allclose(by_pysd["capacity"], by_engine["capacity"], rtol=1e-12)
    assert by_engine.attrs["final_time"] == by_pysd.attrs["final_time"] == 10.0


def test_parameter_arrays_apply_shared_then_rows_then_columns(regions):
    runs = Runs((0, 1), "sample", shared=(Override("growth", 0.5),),
                rows=((Override("growth", 0.7, ("north",)),), ()),
                columns=(Override("growth", np.array([0.1, 0.2]), ("south",)),))
    np.testing.assert_array_equal(parameter_arrays(regions, runs)["growth"], [[0.7, 0.1], [0.5, 0.2]])


def test_taking_runs_keeps_their_labels_and_values(regions):
    runs = Runs((10, 11, 12), "sample", columns=(Override("growth", np.array([0.1, 0.2, 0.3]), ("south",)),))
    part = runs.take(1, 3)
    assert part.labels == (11, 12)
    assert [o.value for o in part.overrides(1)] == [0.3]
    assert part.describe(0) == "sample 11"


def test_runs_refuse_rows_or_columns_of_the_wrong_length():
    with pytest.raises(ParameterError, match="2 rows of overrides for 3 runs"):
        Runs(("a", "b", "c"), rows=((), ()))
    with pytest.raises(ParameterError, match="one number per run"):
        Runs((0, 1), "sample", columns=(Override("growth", np.zeros(3)),))


def test_unknown_backend_is_refused(regions):
    with pytest.raises(ParameterError, match="unknown engine 'vensim'; use one of engine, pysd"):
        simulate(regions, _mixed_runs(regions), regions.time, ["capacity"], engine="vensim")


def test_nonfinite_errors_are_labelled_from_their_attributes():
    error = NonFiniteError.at("outflow", 1, 2.5)
    by_scenario = label_nonfinite(error, Runs(("slow", "fast")))
    assert "at time 2.5 in scenario 'fast';" in str(by_scenario)
    assert (by_scenario.variable, by_scenario.sample, by_scenario.time) == ("outflow", 1, 2.5)
    by_sample = label_nonfinite(error, Runs((40, 41), "sample"))
    assert (by_sample.variable, by_sample.sample, by_sample.time) == ("outflow", 41, 2.5)
    assert "in sample 41;" in str(by_sample)
    unplaced = label_nonfinite(NonFiniteError("somewhere"), Runs((40, 41), "sample"))
    assert str(unplaced) == "somewhere (chunk starting at sample 40 of the ensemble)"


def test_overrides_keyword_and_its_earlier_name_set(decay_path):
    model = sdkit.load_model(decay_path)
    new = sdkit.run(model, scenarios=["fast"], overrides={"initial stock": 50}, engine="engine")
    old = sdkit.run(model, scenarios=["fast"], set={"initial stock": 50}, engine="engine")
    np.testing.assert_array_equal(new["stock"], old["stock"])
    assert float(new["stock"].isel(scenario=0, time=0)) == 50
    with pytest.raises(ParameterError, match="give the parameter values once"):
        sdkit.run(model, overrides={"initial stock": 5}, set={"initial stock": 5})
    with pytest.raises(TypeError, match="unexpected keyword argument 'sett'"):
        sdkit.run(model, sett={"initial stock": 5})


def test_numpy_kernel_traceback_shows_the_generated_line(decay_path):
    kernel = sdkit.load_model(decay_path).kernel
    run = kernel._function("numpy")
    filename = run.__code__.co_filename
    source = kernel.source("numpy").splitlines()
    assert linecache.getline(filename, run.__code__.co_firstlineno).rstrip() == source[run.__code__.co_firstlineno - 1]
    with pytest.raises(Exception) as caught:  # noqa: B017, PT011 - any failure inside the generated code
        run([], None, None, None, None, None, 0.0, 1.0, 0.5, 0.5, None)
    last = traceback.extract_tb(caught.value.__traceback__)[-1]
    assert last.filename == filename
    assert last.line
    assert last.line == source[last.lineno - 1].strip()
