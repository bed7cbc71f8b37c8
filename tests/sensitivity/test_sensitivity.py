"""Sensitivity pipeline against known answers: a linear stock-and-flow model and Ishigami."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from numpy.testing import assert_allclose
from SALib.test_functions import Ishigami

from sdkit.errors import OutputError, ParameterError, SdkitWarning
from sdkit.sensitivity import (
    FunctionModel,
    OutputSpec,
    StudyError,
    compute_metric,
    compute_outputs,
    index_problems,
    read_study,
    run_study,
    study_from_dict,
    verdicts,
)
from sdkit.sensitivity.analyse import warn_index_problems

DATA = Path(__file__).parents[1] / "data"
LINEAR = DATA / "sens_linear.toml"

# Stock(t) = t (1 a + 2 b + 3 c), a, b ~ U(0, 1), c ~ U(0, 2): w_i^2 var_i = 1/12, 4/12, 36/12, 0.
LINEAR_S = np.array([1.0, 4.0, 36.0, 0.0]) / 41.0

# Ishigami with a = 7, b = 0.1 (Sobol' & Levitan 1999; SALib's test function).
ISHIGAMI_S1 = np.array([0.3139, 0.4424, 0.0])
ISHIGAMI_ST = np.array([0.5576, 0.4424, 0.2437])


def _linear(**changes) -> dict:
    data = tomllib.loads(LINEAR.read_text())
    data["model"] = str(DATA / "sens_linear.mdl")
    for key, value in changes.items():
        data[key] = value
    return data


def _ishigami_study(samples: int = 1024, **extra) -> dict:
    return {
        "model": "none.mdl", "method": "sobol", "samples": samples, "seed": 11,
        "parameters": {f"x{i}": [-np.pi, np.pi] for i in (1, 2, 3)},
        "outputs": {"y": {"variable": "y", "metric": "final"}}, **extra,
    }


ISHIGAMI = FunctionModel(lambda x: {"y": Ishigami.evaluate(x)[:, None]}, name="ishigami")


@pytest.fixture(scope="module")
def linear_result():
    return run_study(read_study(LINEAR))


def test_linear_model_sobol_matches_analytic(linear_result):
    for output in ("final_stock", "mean_stock"):
        indices = linear_result.indices.sel(output=output)
        assert_allclose(indices["S1"].to_numpy(), LINEAR_S, atol=0.01)
        assert_allclose(indices["ST"].to_numpy(), LINEAR_S, atol=0.01)


def test_linear_model_time_resolved_indices_at_every_time(linear_result):
    tr = linear_result.time_resolved.sel(output="stock")
    assert_allclose(tr["time"].to_numpy(), [5, 6, 7, 8, 9, 10])
    assert tr["ST"].dims == ("param", "time")
    for k in range(tr.sizes["time"]):
        assert_allclose(tr["ST"].isel(time=k).to_numpy(), LINEAR_S, atol=0.01)


def test_linear_model_metric_values_are_the_closed_form(linear_result):
    x = linear_result.x
    expected = 10 * (x[:, 0] + 2 * x[:, 1] + 3 * x[:, 2])
    assert_allclose(linear_result.outputs["final_stock"].to_numpy(), expected, rtol=1e-9)


def test_linear_model_morris_mu_star_is_the_slope():
    # Unscaled elementary effects are taken in the unit cube: dY/du_i = 10 w_i (high_i - low_i).
    study = study_from_dict(_linear(method="morris", samples=10, options={"num_levels": 4},
                                    outputs={"final_stock": {"variable": "Stock"}}))
    result = run_study(study)
    indices = result.indices.sel(output="final_stock")
    assert_allclose(indices["mu_star"].to_numpy(), [10, 20, 60, 0], atol=1e-6)
    assert_allclose(indices["sigma"].to_numpy(), 0, atol=1e-6)


def test_ishigami_through_the_analysis_path():
    result = run_study(study_from_dict(_ishigami_study(4096)), model=ISHIGAMI)
    indices = result.indices.sel(output="y")
    assert_allclose(indices["S1"].to_numpy(), ISHIGAMI_S1, atol=0.03)
    assert_allclose(indices["ST"].to_numpy(), ISHIGAMI_ST, atol=0.03)
    assert result.indices.attrs["method"] == "sobol"


def test_ishigami_convergence_narrows_intervals_and_gives_a_verdict():
    study = study_from_dict(_ishigami_study(4096, convergence={"sizes": [64, 512, 4096], "threshold": 0.1}))
    conv = run_study(study, model=ISHIGAMI).convergence
    assert conv["ST"].dims == ("size", "output", "param")
    widest = conv["widest_conf"].sel(output="y").to_numpy()
    assert widest[0] > widest[-1]
    verdict = verdicts(conv)["y"]
    assert verdict["converged"] == (widest[-1] < 0.1)
    strict = study_from_dict(_ishigami_study(256, convergence={"sizes": [256], "threshold": 1e-4}))
    assert not verdicts(run_study(strict, model=ISHIGAMI).convergence)["y"]["converged"]


@pytest.mark.parametrize(
    ("metric", "extra", "expected"),
    [
        ("final", {}, [0.1, 0.9]),
        ("min", {}, [0.1, 0.5]),
        ("max", {"window": (1.0, 3.0)}, [0.8, 0.9]),
        ("mean", {"window": (2.0, 4.0)}, [(0.6 + 0.4) / 2 * 1 / 2 + (0.4 + 0.1) / 2 * 1 / 2, 0.875]),
        # crossings are interpolated between saved times (sdkit.measures): 0.6 at t=2, 0.4 at t=3
        ("first_below", {"threshold": 0.5}, [2.5, 4.0]),
        ("first_below", {"threshold": 0.2, "never": -1.0}, [3.0 + 2.0 / 3.0, -1.0]),
        ("first_above", {"threshold": 0.95}, [4.0, 4.0]),
        # time beyond the level counts the crossed interval in proportion
        ("years_below", {"threshold": 0.5}, [0.5 + 1.0, 0.0]),
        ("years_above", {"threshold": 0.7}, [1.0 + 0.5, 0.5 + 1.0 + 1.0]),
    ],
)
def test_metrics_on_hand_computed_trajectories(metric, extra, expected):
    times = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    values = np.array([[0.7, 0.8, 0.6, 0.4, 0.1], [0.5, 0.6, 0.8, 0.9, 0.9]])
    spec = OutputSpec("o", "v", metric, extra.get("window"), extra.get("threshold"), extra.get("never"))
    assert_allclose(compute_metric(values, times, spec), expected)


def test_index_problems_flag_negative_and_above_one():
    ds = xr.Dataset(
        {"S1": (("output", "param"), [[-0.2, 0.5]]), "S1_conf": (("output", "param"), [[0.05, 0.05]]),
         "ST": (("output", "param"), [[1.3, -0.01]]), "ST_conf": (("output", "param"), [[0.1, 0.05]])},
        coords={"output": ["y"], "param": ["a", "b"]},
    )
    problems = index_problems(ds)
    assert len(problems) == 2
    assert "S1 of 'a'" in problems[0]
    assert "ST of 'a'" in problems[1]
    assert "above 1" in problems[1]
    with pytest.warns(SdkitWarning, match="beyond its confidence interval") as record:
        warn_index_problems(ds)
    assert len(record) == 2


# --- bad input -------------------------------------------------------------------------


def test_unknown_parameter_is_named():
    study = study_from_dict(_linear(parameters={"rate a": [0, 1], "no such rate": [0, 1]}))
    with pytest.raises(ParameterError, match="no such rate"):
        run_study(study)


def test_range_low_not_below_high():
    with pytest.raises(ParameterError, match=r"low \(1\) must be below high \(1\)"):
        study_from_dict(_linear(parameters={"rate a": [1, 1], "rate b": [0, 1]}))


def test_unknown_method():
    with pytest.raises(StudyError, match="unknown method 'sobl'; use one of sobol, morris"):
        study_from_dict(_linear(method="sobl"))


def test_unknown_output_variable():
    study = study_from_dict(_linear(outputs={"x": {"variable": "Stok", "metric": "final"}}))
    with pytest.raises(ParameterError, match=r"\[outputs.x\].*no variable 'Stok'"):
        run_study(study)


def test_unknown_metric():
    with pytest.raises(StudyError, match="unknown metric 'last'"):
        study_from_dict(_linear(outputs={"x": {"variable": "Stock", "metric": "last"}}))


@pytest.mark.parametrize(("method", "samples", "valid"), [
    ("sobol", 1000, "power of 2"), ("efast", 64, "above 4"), ("morris", 1, "at least 2"),
])
def test_unusable_sample_size_states_valid_sizes(method, samples, valid):
    with pytest.raises(ParameterError, match=f"sample size {samples} is not usable for {method}; use .*{valid}"):
        study_from_dict(_linear(method=method, samples=samples, options={}))


def test_threshold_metric_needs_threshold():
    with pytest.raises(StudyError, match="needs `threshold"):
        study_from_dict(_linear(outputs={"x": {"variable": "Stock", "metric": "years_below"}}))


# --- output folder, resume ---------------------------------------------------------------


class _Interrupt(Exception):
    pass


def _stop_after(k: int):
    def progress(chunks):
        for done, chunk in enumerate(chunks):
            if done == k:
                raise _Interrupt
            yield chunk
    return progress


def _counting(model: FunctionModel, calls: list) -> FunctionModel:
    def function(x):
        calls.append(x.shape[0])
        return model.function(x)
    return FunctionModel(function, model.times, model.name)


def test_resume_after_interrupt_is_bit_identical(tmp_path):
    study = study_from_dict(_ishigami_study(256, chunk_size=300))  # 1280 runs, 5 chunks
    reference = run_study(study, tmp_path / "clean", model=ISHIGAMI)
    with pytest.raises(_Interrupt):
        run_study(study, tmp_path / "cut", model=ISHIGAMI, progress=_stop_after(2))
    assert len(list((tmp_path / "cut" / "chunks").glob("chunk-*.npz"))) == 2
    assert not (tmp_path / "cut" / "indices.nc").exists()
    calls: list[int] = []
    resumed = run_study(study, tmp_path / "cut", model=_counting(ISHIGAMI, calls), resume=True)
    assert calls == [300, 300, 80]
    xr.testing.assert_identical(resumed.indices, reference.indices)
    for name in ("indices.nc", "samples.nc", "outputs.nc"):
        clean, cut = (tmp_path / "clean" / name).read_bytes(), (tmp_path / "cut" / name).read_bytes()
        assert clean == cut, f"{name} differs after resume"


def test_resume_with_model_file_recomputes_only_missing_chunks(tmp_path):
    study = study_from_dict(_linear(samples=64, chunk_size=100, outputs={"f": {"variable": "Stock"}}))
    reference = run_study(study, tmp_path / "a", keep_chunks=True)
    (tmp_path / "a" / "chunks" / "chunk-000001.npz").unlink()
    resumed = run_study(study, tmp_path / "a", resume=True)
    xr.testing.assert_identical(resumed.indices, reference.indices)


def test_resume_against_changed_definition_is_refused(tmp_path):
    run_study(study_from_dict(_ishigami_study(256)), tmp_path, model=ISHIGAMI)
    changed = study_from_dict(_ishigami_study(512))
    with pytest.raises(StudyError, match=r"definition changed \(study.samples 256 -> 512\)"):
        run_study(changed, tmp_path, model=ISHIGAMI, resume=True)


def test_non_empty_folder_needs_resume_or_force(tmp_path):
    study = study_from_dict(_ishigami_study(64))
    run_study(study, tmp_path, model=ISHIGAMI)
    with pytest.raises(OutputError, match="is not empty; pass --resume"):
        run_study(study, tmp_path, model=ISHIGAMI)
    forced = run_study(study, tmp_path, model=ISHIGAMI, force=True)
    assert forced.indices is not None


# --- the other methods on known answers ---------------------------------------------------

LINEAR_FUNCTION = FunctionModel(lambda x: {"y": (10 * (x[:, 0] + 2 * x[:, 1] + 3 * x[:, 2]))[:, None]},
                                name="linear")


def _linear_function_study(method: str, samples: int) -> dict:
    return {
        "model": "none.mdl", "method": method, "samples": samples, "seed": 5,
        "parameters": {"a": [0, 1], "b": [0, 1], "c": [0, 2], "unused": [0, 1]},
        "outputs": {"y": {"variable": "y"}},
    }


def test_efast_matches_ishigami():
    study = study_from_dict({**_ishigami_study(), "method": "efast", "samples": 2000})
    indices = run_study(study, model=ISHIGAMI).indices.sel(output="y")
    assert_allclose(indices["S1"].to_numpy(), ISHIGAMI_S1, atol=0.03)
    assert_allclose(indices["ST"].to_numpy(), ISHIGAMI_ST, atol=0.05)


def test_delta_first_order_matches_the_linear_model():
    study = study_from_dict({**_linear_function_study("delta", 500), "options": {"num_resamples": 5}})
    indices = run_study(study, model=LINEAR_FUNCTION).indices
    assert_allclose(indices["S1"].sel(output="y").to_numpy(), LINEAR_S, atol=0.08)
    # Borgonovo's estimator is biased upwards for weak inputs at this N: only the dominant one is clear-cut
    delta = indices["delta"].sel(output="y").to_numpy()
    assert delta[2] > 0.4
    assert np.all(delta[[0, 1, 3]] < 0.2)


def test_pawn_ranks_the_linear_model_and_leaves_the_unused_parameter_low():
    indices = run_study(study_from_dict(_linear_function_study("pawn", 2000)), model=LINEAR_FUNCTION).indices
    median = indices["median"].sel(output="y").to_numpy()
    assert list(np.argsort(-median)[:3]) == [2, 1, 0]
    assert median[3] < 0.1 < median[2]


def test_morris_convergence_on_the_linear_function_is_exact_at_every_size():
    study = study_from_dict({**_linear_function_study("morris", 40), "convergence": {"sizes": [5, 20, 40]}})
    conv = run_study(study, model=LINEAR_FUNCTION).convergence
    assert conv["mu_star"].dims == ("size", "output", "param")
    assert_allclose(conv["mu_star"].sel(output="y").to_numpy(), np.tile([10.0, 20.0, 60.0, 0.0], (3, 1)), atol=1e-9)
    assert verdicts(conv)["y"]["converged"]


@pytest.mark.parametrize(("metric", "threshold", "window", "words"), [
    ("min", None, None, "Minimum restraint"),
    ("first_below", 0.5, None, "First year restraint falls below 0.5"),
    ("final", None, None, "Final institutional authority"),
    ("series", None, (0.0, 50.0), "Institutional authority over time"),
    ("years_above", 0.2, None, "Years with disorder above 0.2"),
    ("mean", None, (2.0, 10.0), "Mean GDP growth, 2-10"),
])
def test_outputs_are_described_in_words(metric, threshold, window, words):
    from sdkit.sensitivity.metrics import describe

    names = {"min": "Restraint", "first_below": "Restraint", "final": "Institutional Authority",
             "series": "Institutional Authority", "years_above": "Disorder", "mean": "GDP Growth"}
    assert describe(OutputSpec("o", "v", metric, window, threshold), names[metric]) == words


def test_time_outputs_carry_the_model_time_units():
    runs = xr.Dataset({"stock": (("sample", "time"), np.array([[1.0, 0.2, 0.1]]), {"long_name": "Stock"})},
                      coords={"time": ("time", [0.0, 1.0, 2.0], {"units": "Month"})})
    (out,) = compute_outputs(runs, [OutputSpec("t", "Stock", "first_below", threshold=0.5)], {"Stock": "stock"}).values()
    assert out.attrs["units"] == "Month"
    assert out.attrs["long_name"] == "First month stock falls below 0.5"
