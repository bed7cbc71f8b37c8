"""The registry of sweep methods: every record is complete, options are range-checked, a new method is one record."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sdkit.errors import ParameterError
from sdkit.sensitivity import FunctionModel, StudyError, n_runs, run_study, study_from_dict
from sdkit.sensitivity.analyse import analyse
from sdkit.sensitivity.budget import Limits, check_budget
from sdkit.sensitivity.cli import top_table
from sdkit.sensitivity.methods import METHODS
from sdkit.sensitivity.sample import sample
from sdkit.sensitivity.spec import problem

LINEAR = FunctionModel(lambda x: {"y": (x[:, 0] + 2 * x[:, 1] + 3 * x[:, 2])[:, None]}, name="linear")


def _study(method: str = "sobol", samples: int | None = None, options: dict | None = None, **extra) -> dict:
    record = METHODS[method]
    return {
        "model": "none.mdl", "method": method, "seed": 4,
        "samples": samples if samples is not None else record.smallest({**record.defaults(), **(options or {})}),
        "options": options or {},
        "parameters": {"a": [0.0, 1.0], "b": [0.0, 1.0], "c": [0.0, 1.0]},
        "outputs": {"y": {"variable": "y", "metric": "final"}}, **extra,
    }


@pytest.mark.parametrize("name", sorted(METHODS))
def test_every_record_draws_its_run_count_and_returns_its_indices(name):
    """Sampler, run count, analyser and index names of one record agree with each other."""
    record = METHODS[name]
    study = study_from_dict(_study(name))
    x = sample(study)
    assert x.shape == (record.runs(study.samples, 3, study.options), 3)
    y = x @ np.array([1.0, 2.0, 3.0])
    indices = analyse(name, problem(study), x, y, study.options, seed=1)
    assert set(indices) == set(record.index_names(study.options))
    assert record.ranking in indices
    assert all(np.isfinite(v).all() for k, v in indices.items() if not k.startswith("S2"))


@pytest.mark.parametrize("name", sorted(METHODS))
def test_every_default_option_is_in_its_own_valid_range(name):
    record = METHODS[name]
    assert record.option_problem(record.defaults()) is None


@pytest.mark.parametrize(("method", "options", "needles"), [
    ("efast", {"M": -3}, ("M = -3", "from 1")),
    ("efast", {"M": 0}, ("M = 0", "from 1")),
    ("efast", {"M": 2.5}, ("option M must be an integer",)),
    ("sobol", {"num_resamples": 0}, ("num_resamples = 0", "from 2")),
    ("morris", {"num_resamples": -5}, ("num_resamples = -5",)),
    ("delta", {"num_resamples": 1}, ("num_resamples = 1",)),
    ("sobol", {"conf_level": 2}, ("conf_level = 2", "between 0 and 1")),
    ("efast", {"conf_level": 0.0}, ("conf_level = 0.0",)),
    ("delta", {"conf_level": 1}, ("conf_level = 1",)),
    ("morris", {"num_levels": 3}, ("num_levels = 3", "even")),
    ("morris", {"num_levels": 0}, ("num_levels = 0",)),
    ("pawn", {"S": 1}, ("S = 1", "from 2")),
    ("sobol", {"scramble": 1}, ("option scramble must be true or false",)),
])
def test_options_out_of_range_are_refused_naming_option_value_and_range(method, options, needles):
    data = _study(method, samples=1024, options=options)
    with pytest.raises((ParameterError, StudyError)) as info:
        study_from_dict(data)
    message = str(info.value)
    assert "\n" not in message
    for needle in needles:
        assert needle in message, message


@pytest.mark.parametrize(("method", "samples", "options", "rule"), [
    ("efast", 256, {"M": 8}, "257 or more with M = 8"),
    ("efast", 65, {}, None),
    ("efast", 64, {}, "65 or more with M = 4"),
    ("pawn", 59, {"S": 30}, "at least 60"),
    ("pawn", 60, {"S": 30}, None),
    ("sobol", 96, {}, "power of 2"),
])
def test_sample_size_rules_follow_the_options(method, samples, options, rule):
    data = _study(method, samples=samples, options=options)
    if rule is None:
        assert study_from_dict(data).samples == samples
    else:
        with pytest.raises(ParameterError, match=f"sample size {samples} is not usable for {method}; use .*{rule}"):
            study_from_dict(data)


def test_delta_refuses_parameter_names_salib_reserves():
    data = _study("delta", parameters={"a_conf": [0.0, 1.0], "b": [0.0, 1.0]})
    with pytest.raises(StudyError, match="'a_conf'.*_conf"):
        study_from_dict(data)


def test_a_new_method_is_one_record(monkeypatch):
    """A record added to the registry is sampled, analysed, ranked and recorded with no other change."""
    record = dataclasses.replace(METHODS["pawn"], name="pawn_slides", ranking="maximum",
                                 sampler="SALib.sample.latin (test record)")
    monkeypatch.setitem(METHODS, "pawn_slides", record)
    result = run_study(study_from_dict(_study("pawn_slides", samples=200)), model=LINEAR)
    assert result.indices.attrs["method"] == "pawn_slides"
    assert result.indices.attrs["sampler"] == "SALib.sample.latin (test record)"
    assert n_runs("pawn_slides", 200, 3) == 200
    table = top_table(result.indices, 3)
    assert "maximum" in table.splitlines()[0]
    assert table.splitlines()[2].split()[2] == "c"  # the weight-3 parameter ranks first


@pytest.mark.parametrize(("method", "samples", "limit", "option"), [
    ("sobol", 2**24, Limits(), "--max-runs 83886080"),
    ("morris", 10**9, Limits(), "--max-runs 4000000000"),
    ("sobol", 2**14, Limits(max_memory=1e6), "--max-memory 1 (GB)"),
])
def test_budget_refuses_with_the_estimate_and_the_option(method, samples, limit, option):
    study = study_from_dict(_study(method, samples=samples))
    with pytest.raises(ParameterError) as info:
        check_budget(study, saved_times=1, limits=limit)
    assert option in str(info.value)
    assert "\n" not in str(info.value)


def test_budget_accepts_a_study_within_limits():
    study = study_from_dict(_study("sobol", samples=1024))
    cost = check_budget(study, saved_times=11)
    assert cost["runs"] == 1024 * 5
    assert cost["memory"] == sum(cost["parts"].values()) > 0


def test_run_study_checks_the_budget_before_drawing(monkeypatch):
    import sdkit.sensitivity.pipeline as pipeline

    monkeypatch.setattr(pipeline, "sample", lambda *a, **k: pytest.fail("sampled before the budget check"))
    with pytest.raises(ParameterError, match="--max-runs"):
        run_study(study_from_dict(_study("sobol", samples=1024)), model=LINEAR, limits=Limits(max_runs=100))
