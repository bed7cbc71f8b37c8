"""Sensitivity studies of the four-orders model: element parameters, study files, one tiny sweep.

The shipped studies (``sensitivity/four_orders_*.toml``) vary single elements of subscripted
constants (``"supremacy claim[liberal]"``, ``"coalition[liberal, sovereign]"``). These tests
check that the sweep definition accepts such names and applies each value to that element
only (compared with :func:`sdkit.run`, which sets parameters through the scenario path), that
every shipped four-orders study validates against the model, and that a tiny sample of each
runs end to end on the engine.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

import sdkit
from sdkit.errors import ParameterError
from sdkit.sensitivity import read_study, run_study
from sdkit.sensitivity.pipeline import evaluate, load_study_model
from sdkit.sensitivity.spec import StudyError, check_against_model, study_from_dict

ROOT = Path(__file__).parents[2]
MODEL = ROOT / "models" / "four_orders.mdl"
STUDIES = sorted((ROOT / "sensitivity").glob("four_orders_*.toml"))


@pytest.fixture(scope="module")
def model() -> sdkit.Model:
    return sdkit.load_model(MODEL)


def _study(parameters: dict, samples: int = 2, scenario: str = "declining_leader", **extra) -> object:
    data = {
        "model": str(MODEL), "scenario": scenario, "method": "sobol", "samples": samples, "seed": 7,
        "parameters": parameters,
        "outputs": {"final_concentration": {"variable": "Concentration", "metric": "final"}},
        **extra,
    }
    return study_from_dict(data, name="probe")


def test_element_names_validate_against_the_model(model):
    study = _study({"supremacy claim[liberal]": [0.6, 0.95], "supremacy claim[sovereign]": [0.05, 0.4],
                    "coalition[liberal, sovereign]": [0.0, 1.0], "recognition threshold": [0.0, 0.5]})
    check_against_model(study, model)  # raises on failure


@pytest.mark.parametrize(("name", "error", "match"), [
    ("supremacy claim", StudyError, r"subscripted over \(Order\); vary one element at a time, "
                                    r"e\.g\. \"supremacy claim\[liberal\]\""),
    ("coalition", StudyError, r"subscripted over \(Order, Partner\).*coalition\[liberal, liberal\]"),
    ("supremacy claim[hegemon]", ParameterError, r"'hegemon' is not an element of Order"),
    ("coalition[liberal]", ParameterError, r"names 1 subscript\(s\) but the constant has 2"),
    ("recognition threshold[liberal]", ParameterError, r"names 1 subscript\(s\) but the constant has 0"),
])
def test_bad_element_names_are_refused(model, name, error, match):
    study = _study({name: [0.1, 0.2], "conformity": [0.0, 1.0]})
    with pytest.raises(error, match=match):
        check_against_model(study, model)


def test_the_same_element_twice_is_refused_but_two_elements_are_not(model):
    check_against_model(_study({"coalition[liberal, sovereign]": [0, 1], "coalition[sovereign, liberal]": [0, 1]}),
                        model)
    with pytest.raises(StudyError, match="are the same constant"):
        check_against_model(_study({"coalition[liberal, sovereign]": [0, 1],
                                    "Coalition[liberal,sovereign]": [0, 1]}), model)


def test_element_values_reach_that_element_only(model):
    """Each sweep row equals a scenario run with the same element values set (RM6/RM7 scenarios)."""
    names = ["supremacy claim[liberal]", "coalition[sovereign, liberal]", "commitment to top floor[sovereign]"]
    study = _study(dict.fromkeys(names, [0.0, 1.0]), scenario="coalition_on",
                   outputs={"authority": {"variable": "Institutional Authority", "metric": "min"},
                            "concentration": {"variable": "Concentration", "metric": "final"}})
    x = np.array([[0.95, 0.0, 0.2], [0.3, 0.9, 0.9], [0.8, 0.5, 0.75]])
    runs, _ = evaluate(study, model, x, engine="engine")
    for row, values in enumerate(x):
        expected = sdkit.run(model, scenarios=["coalition_on"], set=dict(zip(names, values, strict=True)),
                             variables=["Institutional Authority", "Concentration"], engine="engine")
        for var in ("institutional_authority", "concentration"):
            assert_allclose(runs[var].isel(sample=row).to_numpy(),
                            expected[var].isel(scenario=0).to_numpy(), rtol=1e-12, atol=1e-14)
    # the three rows differ, so the values did reach the model (row 2 is the scenario's own values)
    finals = runs["institutional_authority"].isel(time=-1).to_numpy()
    assert np.ptp(finals) > 1e-3


def test_pysd_fallback_sets_element_parameters_like_the_engine(model):
    """The PySD backend sets one element of a subscripted constant, on top of a scenario's vectors."""
    study = _study({"supremacy claim[liberal]": [0.6, 0.95], "conformity": [0.0, 1.0]}, scenario="low_supremacy")
    x = np.array([[0.7, 0.2]])
    by_pysd, _ = evaluate(study, model, x, engine="pysd")
    by_engine, _ = evaluate(study, model, x, engine="engine")
    assert_allclose(by_pysd["concentration"], by_engine["concentration"], rtol=1e-9)
    scenario_only = sdkit.run(model, scenarios=["low_supremacy"], variables=["Concentration"], engine="engine")
    assert np.abs(by_pysd["concentration"].to_numpy()[0] - scenario_only["concentration"].to_numpy()[0]).max() > 1e-6


def test_there_are_four_orders_studies():
    stems = {p.stem for p in STUDIES}
    assert {"four_orders_hegemony_sobol", "four_orders_hegemony_morris", "four_orders_hegemony_orders_sobol",
            "four_orders_coalition_sobol"} <= stems


@pytest.mark.parametrize("path", STUDIES, ids=lambda p: p.stem)
def test_study_file_validates_against_the_model(path):
    study = read_study(path)
    model = load_study_model(study)  # checks parameters, outputs and scenario
    assert study.model == MODEL.resolve()
    assert study.scenario in model.scenarios
    # every varied element range lies inside the constant's declared range in the model file
    for parameter in study.parameters:
        name = parameter.name.split("[")[0]
        low, high = model.variables[model.resolve(name)].limits[:2]
        assert low is None or parameter.args[0] >= low, parameter.name
        assert high is None or parameter.args[1] <= high, parameter.name


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:.*beyond its confidence interval:sdkit.errors.SdkitWarning")  # 4 samples
@pytest.mark.parametrize("path", STUDIES, ids=lambda p: p.stem)
def test_tiny_sample_runs_end_to_end(path, tmp_path):
    study = read_study(path)
    tiny = dataclasses.replace(study, samples=4 if study.method == "sobol" else 2, convergence=None)
    result = run_study(tiny, out=tmp_path / "out")
    assert result.indices is not None
    assert set(result.indices["output"].values) == {o.name for o in study.scalar_outputs}
    assert list(result.indices["param"].values) == study.parameter_names
    for name, values in result.outputs.items():
        assert np.all(np.isfinite(values.to_numpy())), name
    assert (tmp_path / "out" / "indices.nc").is_file()
