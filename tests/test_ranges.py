"""Documented ranges (the ``[min, max]`` of a constant's units field) are enforced.

`--set`, scenario files, samples and sweep bounds outside a range are refused with one
line naming the constant, the value and the range (exit 2), unless
``--allow-outside-range`` / ``allow_outside_range=True``, which records them in the
output's provenance (attribute ``outside_range``).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import xarray as xr

import sdkit
from sdkit.cli import main
from sdkit.errors import ParameterError, ScenarioError
from sdkit.model import load_model
from sdkit.sensitivity import read_study
from sdkit.sensitivity.spec import check_against_model, outside_ranges

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent

STUDY = """model = "decay.mdl"
method = "morris"
samples = 4
seed = 1
[parameters]
"decay time" = [{low}, 20.0]
"initial stock" = [50.0, 150.0]
[outputs.final]
variable = "Stock"
metric = "final"
"""


@pytest.fixture
def decay(tmp_path) -> Path:
    """tests/data/decay.mdl (decay time in [1, 50], initial stock in [0, 1000]) and its scenarios."""
    for name in ("decay.mdl", "decay.scenarios.toml"):
        shutil.copy(DATA / name, tmp_path / name)
    return tmp_path / "decay.mdl"


def one_line_error(capsys, *argv) -> str:
    assert main([str(a) for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    return err


def test_set_outside_the_range_exits_2_naming_constant_value_and_range(decay, capsys):
    err = one_line_error(capsys, "run", decay, "--set", "decay time=0.5")
    assert "'decay time' = 0.5 is outside the documented range [1, 50]" in err
    assert "--allow-outside-range" in err
    err = one_line_error(capsys, "run", ROOT / "models" / "kissinger_core.mdl", "--set", "supremacy claim=1.7")
    assert "'supremacy claim' = 1.7 is outside the documented range [0, 1]" in err


def test_an_open_end_is_unbounded(decay, capsys):
    assert main(["run", str(decay), "--set", "initial stock=999", "--vars", "Stock"]) == 0
    capsys.readouterr()


def test_allow_outside_range_runs_and_records_the_setting(decay, tmp_path, capsys):
    out = tmp_path / "run.nc"
    assert main(["run", str(decay), "--scenario", "slow", "--set", "decay time=0.5",
                 "--allow-outside-range", "--out", str(out)]) == 0
    capsys.readouterr()
    with xr.open_dataset(out) as ds:
        assert json.loads(ds.attrs["outside_range"]) == {"slow": ["decay time = 0.5 (range [1, 50])"]}
        assert ds["stock"].isel(time=-1).item() < 1e-6  # it did run with 0.5


def test_within_the_range_records_nothing(decay):
    ds = sdkit.run(load_model(decay), set={"decay time": 1.0})
    assert "outside_range" not in ds.attrs


def test_python_run_refuses_and_allows(decay):
    model = load_model(decay)
    with pytest.raises(ParameterError, match=r"'decay time' = 60 is outside the documented range \[1, 50\]"):
        sdkit.run(model, set={"decay time": 60})
    ds = sdkit.run(model, set={"decay time": 60}, allow_outside_range=True)
    assert json.loads(ds.attrs["outside_range"]) == {"default": ["decay time = 60 (range [1, 50])"]}


def test_a_scenario_file_outside_a_range_is_refused_unless_allowed(decay, capsys):
    scenarios = decay.with_name("decay.scenarios.toml")
    scenarios.write_text(scenarios.read_text().replace('"decay time" = 40', '"decay time" = 80'))
    with pytest.raises(ScenarioError, match=r"scenario 'slow': 'decay time' = 80 is outside .* \[1, 50\]"):
        load_model(decay)
    err = one_line_error(capsys, "run", decay, "--scenario", "fast")
    assert "decay.scenarios.toml" in err
    model = load_model(decay, allow_outside_range=True)
    ds = sdkit.run(model, scenarios=["slow"], allow_outside_range=True)
    assert json.loads(ds.attrs["outside_range"]) == {"slow": ["decay time = 80 (range [1, 50])"]}


def test_samples_outside_a_range_are_refused_unless_allowed(decay, tmp_path, capsys):
    samples = tmp_path / "samples.csv"
    samples.write_text("decay time,initial stock\n5,100\n0.8,100\n0.9,100\n")
    out = tmp_path / "ens.nc"
    err = one_line_error(capsys, "ensemble", decay, "--samples", samples, "--out", out)
    assert "column 'decay time' row 2: 0.8 is outside the documented range [1, 50]" in err
    assert "(2 of 3 samples are)" in err
    assert not out.exists()
    assert main(["ensemble", str(decay), "--samples", str(samples), "--out", str(out),
                 "--allow-outside-range"]) == 0
    capsys.readouterr()
    with xr.open_dataset(out) as ds:
        assert json.loads(ds.attrs["outside_range"]) == ["decay time: 2 of 3 samples outside [1, 50]"]


def test_a_sweep_bound_outside_the_range_is_refused(decay, capsys):
    study = decay.with_name("study.toml")
    study.write_text(STUDY.format(low=0.5))
    err = one_line_error(capsys, "sweep", study, "--dry-run")
    assert "'decay time' bounds [0.5, 20] reach outside its documented range [1, 50]" in err
    model = load_model(decay)
    check_against_model(read_study(study), model, allow_outside_range=True)
    assert outside_ranges(read_study(study), model) == [
        "decay time: bounds [0.5, 20] reach outside its documented range [1, 50]"]
    study.write_text(STUDY.format(low=1.0))
    check_against_model(read_study(study), model)
    assert outside_ranges(read_study(study), model) == []


def test_a_sweep_allowed_outside_the_range_records_it(decay, tmp_path, capsys):
    study = decay.with_name("study.toml")
    study.write_text(STUDY.format(low=0.5))
    out = tmp_path / "sweep"
    assert main(["sweep", str(study), "--out", str(out), "--no-figures", "--allow-outside-range"]) == 0
    capsys.readouterr()
    with xr.open_dataset(out / "indices.nc") as ds:
        assert "decay time: bounds [0.5, 20]" in ds.attrs["outside_range"]


def test_a_normal_distribution_on_a_bounded_constant_is_refused(decay, capsys):
    study = decay.with_name("study.toml")
    text = STUDY.format(low=1.0).replace('"decay time" = [1.0, 20.0]', '"decay time" = { dist = "norm", mean = 10, sd = 2 }')
    study.write_text(text.replace('method = "morris"', 'method = "sobol"'))
    err = one_line_error(capsys, "sweep", study, "--dry-run")
    assert "normal distribution, which reaches outside its documented range [1, 50]" in err


@pytest.mark.parametrize("model", ["kissinger_core", "four_orders"])
def test_the_shipped_scenarios_lie_within_the_documented_ranges(model):
    load_model(ROOT / "models" / f"{model}.mdl")  # refuses a scenario outside a range


@pytest.mark.parametrize("study", sorted((ROOT / "sensitivity").glob("*.toml")), ids=lambda p: p.stem)
def test_the_shipped_sweeps_lie_within_the_documented_ranges(study):
    spec = read_study(study)
    check_against_model(spec, load_model(spec.model))
