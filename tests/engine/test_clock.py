"""Control variables that change with Time (TIME STEP, SAVEPER, FINAL TIME), against PySD and Vensim."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from sdkit.engine import compile_model
from sdkit.engine.conformance import run_case
from sdkit.errors import ParameterError, UnsupportedFeature
from tests.conftest import VARYING_TIME_STEP
from tests.shared_data import CONFORMANCE, absent

MODEL = VARYING_TIME_STEP


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_varying_time_step_equals_pysd(varying_time_step_pysd, backend):
    kernel = compile_model(MODEL)
    result = kernel.simulate(None, 1, backend=backend)
    np.testing.assert_array_equal(result.times, varying_time_step_pysd.index.values)
    # steps of 1 until time 4, then 0.5; saved every step until 10, then every 2; the run ends at 16
    assert list(result.times[:7]) == [0, 1, 2, 3, 4, 4.5, 5]
    assert list(result.times[-4:]) == [10, 12, 14, 16]
    for py, values in result.data.items():
        np.testing.assert_allclose(values[0], varying_time_step_pysd[kernel.names[py]].values, rtol=1e-12, atol=0, err_msg=py)
    # the stocks integrate with each step's own TIME STEP, to PySD's bit
    np.testing.assert_array_equal(result.data["population"][0], varying_time_step_pysd["population"].values)
    np.testing.assert_array_equal(result.data["smoothed_births"][0], varying_time_step_pysd["smoothed births"].values)


def test_backends_agree_bit_for_bit():
    kernel = compile_model(MODEL)
    runs = [kernel.simulate({"birth_rate": [0.05, 0.1]}, 2, backend=b) for b in ("numpy", "numba")]
    for py in runs[0].data:
        np.testing.assert_array_equal(runs[0].data[py], runs[1].data[py], err_msg=py)


def test_overrides_set_the_clock_only():
    kernel = compile_model(MODEL)
    result = kernel.simulate(None, 1, time={"final_time": 8.0}, variables=["final_time"])
    assert result.times[-1] == 8.0
    assert result.data["final_time"][0, -1] == 16.0  # the variable keeps its equation
    with pytest.raises(ParameterError, match="TIME STEP changes with Time"):
        kernel.simulate(None, 1, time={"time_step": 0.25})
    with pytest.raises(ParameterError, match="sets a control variable"):
        kernel.simulate({"switch_time": 6.0}, 1)  # the clock is shared by all samples


def _edited(tmp_path: Path, old: str, new: str) -> Path:
    text = MODEL.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "edited.mdl"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def test_control_variable_reading_a_stock_is_refused_on_one_line(tmp_path):
    path = _edited(tmp_path, "IF THEN ELSE(Time < 5, 10, 16)", "IF THEN ELSE(population < 150, 10, 16)")
    with pytest.raises(UnsupportedFeature) as info:
        compile_model(path)
    message = str(info.value)
    assert "'FINAL TIME' (line 54) depends on 'population'" in message
    assert "PySD runs it" in message
    assert "\n" not in message


def test_random_with_a_varying_time_step_is_refused(tmp_path):
    path = _edited(tmp_path, "(1 + 0.5 * SIN(Time))", "(1 + RANDOM UNIFORM(-0.5, 0.5, 1))")
    with pytest.raises(UnsupportedFeature, match=r"RANDOM functions in a model whose 'TIME STEP' \(line \d+\)"):
        compile_model(path)


def test_conformance_case_control_vars_matches_vensim():
    case = CONFORMANCE / "control_vars"
    if not case.is_dir():
        pytest.skip(absent(CONFORMANCE))
    result = run_case("control_vars", case / "test_control_vars.mdl")
    # var and the four control variables, at every time Vensim saved
    assert (result.status, result.compared) == ("passed", 5), result.cell()


SUBSCRIPTED = """{UTF-8}
Dim: (d1-d30) ~~|
rate[Dim] = 0.01 + 0.001 * s[Dim] ~~|
s[Dim] = INTEG(rate[Dim] * s[Dim] - out[Dim], 10) ~~|
out[Dim] = SMOOTH(s[Dim] / 5, 2) ~~|
total = SUM(s[Dim!]) ~~|
INITIAL TIME = 0 ~~|
FINAL TIME = 20 ~~|
TIME STEP = IF THEN ELSE(Time < 7, 0.5, 0.25) ~~|
SAVEPER = 1 ~~|
"""


def test_subscripted_stocks_compiled_as_loops_step_with_the_varying_time_step(tmp_path):
    import pysd

    from sdkit.engine.nbloops import loop_items

    path = tmp_path / "subscripted.mdl"
    path.write_text(SUBSCRIPTED, encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = pysd.read_vensim(str(path)).run()
    kernel = compile_model(path)
    assert loop_items(kernel.ir, kernel._sched) is not None  # the numba kernel loops over Dim
    runs = [kernel.simulate(None, 2, backend=backend) for backend in ("numpy", "numba")]
    np.testing.assert_array_equal(runs[0].times, expected.index.values)
    for py in runs[0].data:
        np.testing.assert_array_equal(runs[0].data[py], runs[1].data[py], err_msg=py)
    for j in range(30):
        np.testing.assert_array_equal(runs[0].data["s"][0, :, j], expected[f"s[d{j + 1}]"].values)
