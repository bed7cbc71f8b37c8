"""Control variables written as expressions of constants (``FINAL TIME = horizon``), as Vensim allows."""

from pathlib import Path

import numpy as np
import pytest

from sdkit.cli import main
from sdkit.errors import ModelFileError, ParameterError
from sdkit.model import load_model
from sdkit.run import run
from sdkit.timing import TimeSettings

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


def test_a_control_variable_that_changes_with_time_is_refused(tmp_path):
    path = tmp_path / "varying.mdl"
    path.write_text(DECAY.replace("TIME STEP  = 0.125", "TIME STEP  = IF THEN ELSE(Time < 4, 0.25, 0.125)"))
    with pytest.raises(ModelFileError, match=r"TIME STEP changes with Time.*expression of constants"):
        load_model(path)


def test_the_engine_compiles_the_translation_the_load_made(model_file, monkeypatch):
    import sdkit.engine

    model = load_model(model_file)
    monkeypatch.setattr(sdkit.engine, "translate", lambda *args: pytest.fail("translated twice"))
    assert sdkit.engine.compile_model(model).final_time == 10.0
