"""Control variables written as expressions of constants (``FINAL TIME = horizon``) or of Time, as Vensim allows."""

import re
from pathlib import Path

import numpy as np
import pytest

from sdkit.cli import main
from sdkit.engine.conformance import load_canonical
from sdkit.errors import ModelFileError, ParameterError, ScenarioError
from sdkit.model import load_model
from sdkit.run import run
from sdkit.timing import TimeSettings
from tests.conftest import VARYING_TIME_STEP
from tests.shared_data import CONFORMANCE, absent

DECAY = (Path(__file__).parent / "data" / "decay.mdl").read_text()
HORIZON = "horizon = 12\n\t~\tYear [1,100]\n\t~\tHow far the run looks ahead.\n\t|\n\n"


def computed(text: str) -> str:
    """``decay.mdl`` with FINAL TIME read from a constant, INITIAL TIME negative and SAVEPER twice TIME STEP."""
    for old, new in (("FINAL TIME  = 20", "FINAL TIME  = horizon - 2"), ("INITIAL TIME  = 0", "INITIAL TIME  = -2"),
                     ("SAVEPER  = 1", "SAVEPER  = 2 * TIME STEP")):
        assert old in text, old
        text = text.replace(old, new, 1)
    return text.replace("{UTF-8}\n", "{UTF-8}\n" + HORIZON, 1)


@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / "horizon.mdl"
    path.write_text(computed(DECAY), encoding="utf-8")
    return path


def test_expressions_of_constants_give_the_time_settings(model_file):
    model = load_model(model_file)
    assert model.time == TimeSettings(initial_time=-2.0, final_time=10.0, time_step=0.125, saveper=0.25)
    assert model.control_constants == {"horizon"}


def test_both_engines_run_on_the_computed_grid(model_file):
    model = load_model(model_file)
    engine, pysd = (run(model, variables=["Stock"], engine=name) for name in ("engine", "pysd"))
    assert engine["time"].values[0] == -2.0
    assert engine["time"].values[-1] == 10.0
    assert np.allclose(np.diff(engine["time"].values), 0.25)
    np.testing.assert_array_equal(engine["time"].values, pysd["time"].values)
    np.testing.assert_allclose(engine["stock"].values, pysd["stock"].values, rtol=0, atol=1e-9)


@pytest.mark.parametrize("engine", ["engine", "pysd"])
def test_setting_a_constant_of_the_time_settings_is_refused(model_file, capsys, engine):
    assert main(["run", str(model_file), "--set", "horizon=30", "--engine", engine]) == 2
    err = capsys.readouterr().err
    assert "'horizon' sets the model's time settings" in err
    assert "[time] table" in err
    with pytest.raises(ParameterError, match="horizon"):
        run(load_model(model_file), overrides={"horizon": 30}, engine=engine)


def test_params_says_which_constant_sets_the_time(model_file, capsys):
    assert main(["params", str(model_file)]) == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[2:]}
    assert "sets the time" in rows["horizon"]
    assert "sets the time" not in rows["decay"]


def test_a_scenario_sets_the_time_instead(model_file):
    model_file.with_name("horizon.scenarios.toml").write_text("[long]\n[long.time]\nfinal_time = 30\n")
    result = run(load_model(model_file), scenarios=["long"], variables=["Stock"])
    assert result["time"].values[-1] == 30.0


CONTROLS = ["INITIAL TIME", "FINAL TIME", "TIME STEP", "SAVEPER"]
VARYING = VARYING_TIME_STEP


@pytest.fixture(scope="module")
def control_vars():
    """SDXorg's ``control_vars``: all four control variables change with Time; Vensim's output beside it."""
    case = CONFORMANCE / "control_vars"
    if not case.is_dir():
        pytest.skip(absent(CONFORMANCE))
    return case / "test_control_vars.mdl", load_canonical(case)


@pytest.mark.parametrize("engine", ["auto", "engine", "pysd"])
def test_control_variables_that_change_with_time_run_as_vensim_runs_them(control_vars, engine):
    path, vensim = control_vars
    model = load_model(path)
    assert model.time.varying == ("initial_time", "final_time", "time_step", "saveper")
    result = run(model, variables=["var", *CONTROLS], engine=engine)
    np.testing.assert_array_equal(result["time"].values, vensim.index.values)  # 0, 1, ..., 4, 4.5, ..., 10, 15, ..., 50
    for name in ["var", *CONTROLS]:
        column = result[model.resolve(name)]
        np.testing.assert_allclose(column.values[0], vensim[name].values, rtol=0, atol=1e-12, err_msg=name)
    assert result.attrs["time_varying"] == "INITIAL TIME, FINAL TIME, TIME STEP, SAVEPER"


def test_the_cli_runs_it_and_writes_vensim_times(control_vars, tmp_path, capsys):
    import xarray as xr

    path, vensim = control_vars
    out = tmp_path / "control_vars.nc"
    assert main(["run", str(path), "--vars", "var", "--out", str(out)]) == 0
    assert "default   50" in capsys.readouterr().out
    with xr.open_dataset(out) as written:
        np.testing.assert_array_equal(written["time"].values, vensim.index.values)
        np.testing.assert_array_equal(written["var"].values[0], vensim["var"].values)


@pytest.mark.parametrize("engine", ["engine", "pysd"])
def test_stocks_on_a_changing_time_step_equal_pysd(varying_time_step_pysd, engine):
    model = load_model(VARYING)
    assert model.control_constants == {"coarse_step", "switch_time"}  # fine step is an auxiliary
    result = run(model, engine=engine)
    np.testing.assert_array_equal(result["time"].values, varying_time_step_pysd.index.values)
    assert list(result["time"].values[-4:]) == [10, 12, 14, 16]  # SAVEPER 2 from time 10; the run ends at 16
    for name in model.default_outputs():
        expected = varying_time_step_pysd[model.variables[name].name].values
        np.testing.assert_allclose(result[name].values[0], expected, rtol=1e-12, atol=0, err_msg=name)
    np.testing.assert_array_equal(result["population"].values[0], varying_time_step_pysd["population"].values)


def test_a_scenario_sets_a_setting_that_does_not_change_and_the_grid_follows(tmp_path):
    path = tmp_path / "varying.mdl"
    path.write_text(VARYING.read_text())
    path.with_name("varying.scenarios.toml").write_text("[later]\n[later.time]\ninitial_time = 1\n")
    model = load_model(path)
    engine, pysd = (run(model, scenarios=["later"], variables=["population"], engine=name) for name in ("engine", "pysd"))
    assert list(engine["time"].values[:6]) == [1, 2, 3, 4, 4.5, 5]  # the steps halve at time 4 still
    np.testing.assert_array_equal(engine["time"].values, pysd["time"].values)
    np.testing.assert_allclose(engine["population"].values, pysd["population"].values, rtol=1e-12, atol=0)


def test_a_scenario_setting_one_that_changes_with_time_is_refused(tmp_path):
    path = tmp_path / "varying.mdl"
    path.write_text(VARYING.read_text())
    path.with_name("varying.scenarios.toml").write_text("[longer]\n[longer.time]\nfinal_time = 30\n")
    with pytest.raises(ScenarioError, match=r"'longer': final_time cannot be set: the model's FINAL TIME changes "
                                            r"with Time .*edit FINAL TIME in the model file") as caught:
        load_model(path)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("engine", ["engine", "pysd"])
def test_setting_a_constant_of_the_changing_time_step_is_refused(capsys, engine):
    assert main(["run", str(VARYING), "--set", "switch time=6", "--engine", engine]) == 2
    err = capsys.readouterr().err
    assert "'switch time' shapes the time grid through TIME STEP, which changes with Time" in err
    assert "edit 'switch time' in the model file" in err
    with pytest.raises(ParameterError, match="switch time"):
        run(load_model(VARYING), overrides={"switch time": 6}, engine=engine)


def test_a_sample_column_of_such_a_constant_is_refused():
    import pandas as pd

    from sdkit.ensemble import ensemble

    with pytest.raises(ParameterError, match="'coarse step' shapes the time grid"):
        ensemble(load_model(VARYING), pd.DataFrame({"coarse step": [1.0, 2.0]}))


def test_an_ensemble_runs_on_the_grid_on_both_engines():
    import pandas as pd

    from sdkit.ensemble import ensemble

    model = load_model(VARYING)
    samples = pd.DataFrame({"birth rate": [0.05, 0.1]})
    engine, pysd = (ensemble(model, samples, engine=name) for name in ("engine", "pysd"))
    np.testing.assert_array_equal(engine["time"].values, run(model, variables=["population"])["time"].values)
    np.testing.assert_array_equal(engine["time"].values, pysd["time"].values)
    np.testing.assert_allclose(engine["population"].values, pysd["population"].values, rtol=1e-12, atol=0)
    final = run(model, overrides={"birth rate": 0.1}, variables=["population"])["population"].values[0, -1]
    assert engine["population"].values[1, -1] == final


def test_loop_scores_are_refused_in_one_line(tmp_path, capsys):
    assert main(["loops", str(VARYING), "--dominance", "--out", str(tmp_path / "loops.nc")]) == 2
    err = capsys.readouterr().err
    assert "loop scores of varying_time_step.mdl are not computed: its FINAL TIME, TIME STEP, SAVEPER change" in err
    assert len(err.strip().splitlines()) == 1


def test_a_study_varying_such_a_constant_is_refused(tmp_path, capsys):
    (tmp_path / "varying.mdl").write_text(VARYING.read_text())
    study = tmp_path / "study.toml"
    study.write_text('model = "varying.mdl"\nmethod = "morris"\nsamples = 4\nseed = 7\n[parameters]\n"birth rate" = [0.05, 0.1]\n"switch time" = [3.0, 6.0]\n'
                     '[outputs.final]\nvariable = "population"\nmetric = "final"\n')
    assert main(["sweep", str(study), "--out", str(tmp_path / "out")]) == 2
    assert "'switch time' shapes the time grid through TIME STEP" in capsys.readouterr().err


def test_params_says_the_constant_shapes_the_grid(capsys):
    assert main(["params", str(VARYING)]) == 0
    rows = {line.split("  ")[0]: line for line in capsys.readouterr().out.splitlines()[2:]}
    assert "shapes the time grid: edit it in the model file" in rows["switch time"]
    assert "shapes the time grid" not in rows["birth rate"]


def test_the_model_says_which_settings_change():
    assert repr(load_model(VARYING)).endswith("0 to 16 by 1 at first (FINAL TIME, TIME STEP, SAVEPER change with Time)>")


@pytest.mark.parametrize(("old", "new", "needle"), [
    ("TIME STEP  = 0.125", "TIME STEP  = IF THEN ELSE(Time < 4, 0.25, 0)", "TIME STEP is 0 at time 4; it must be positive"),
    ("TIME STEP  = 0.125", "TIME STEP  = IF THEN ELSE(Time < 4, 0.25, -1)", "TIME STEP is -1 at time 4"),
    ("SAVEPER  = 1", "SAVEPER  = IF THEN ELSE(Time < 5, 1, 0)", "SAVEPER is 0 at time 5"),
    ("FINAL TIME  = 20", "FINAL TIME  = IF THEN ELSE(Time < 5, -1, 50)", "final_time (-1 at the start) must be after initial_time (0)"),
    ("FINAL TIME  = 20", "FINAL TIME  = IF THEN ELSE(Stock < 50, 10, 20)", "depends on 'stock', which changes during the run"),
])
def test_a_control_variable_that_changes_into_nonsense_is_refused_in_one_line(tmp_path, capsys, old, new, needle):
    assert old in DECAY
    path = tmp_path / "varying.mdl"
    path.write_text(DECAY.replace(old, new))
    with pytest.raises(ModelFileError, match=re.escape(needle)) as caught:
        load_model(path)
    assert "\n" not in str(caught.value)
    assert main(["run", str(path)]) == 2
    assert needle in capsys.readouterr().err


def test_the_engine_compiles_the_translation_the_load_made(model_file, monkeypatch):
    import sdkit.engine

    model = load_model(model_file)
    monkeypatch.setattr(sdkit.engine, "translate", lambda *args: pytest.fail("translated twice"))
    assert sdkit.engine.compile_model(model).final_time == 10.0
