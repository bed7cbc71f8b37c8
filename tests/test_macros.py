"""Vensim macros expanded by sdkit: each call its own equations, same results as the model written out."""

from pathlib import Path

import numpy as np
import pytest

import sdkit
from sdkit.errors import ModelFileError
from sdkit.macros import expand_macros

CONTROL = """
INITIAL TIME = 0
	~	Year
	~		|
FINAL TIME = 10
	~	Year
	~		|
TIME STEP = 0.25
	~	Year
	~		|
SAVEPER = 1
	~	Year
	~		|

\\\\\\---/// Sketch information - do not modify anything except names
V300  Do not put anything below this section - it will be ignored
"""

MACROS = """{UTF-8}
:MACRO: FIRST ORDER(input, time constant : level out)
FIRST ORDER = INTEG((input - FIRST ORDER) / time constant, input)
	~	input
	~	A first-order smooth: one stock per call.
	|

level out = 2 * FIRST ORDER
	~	input
	~		|

:END OF MACRO:
:MACRO: POS(x)
POS = MAX(x, 0)
	~	x
	~		|

:END OF MACRO:
"""


def _model(tmp_path: Path, text: str, name: str = "m.mdl") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _pair(tmp_path: Path, with_macros: str, written_out: str):
    macro_model = sdkit.load_model(_model(tmp_path, MACROS + with_macros + CONTROL, "macro.mdl"))
    plain_model = sdkit.load_model(_model(tmp_path, "{UTF-8}\n" + written_out + CONTROL, "plain.mdl"))
    return macro_model, plain_model


def test_two_calls_keep_two_stocks_and_match_the_model_written_out(tmp_path):
    with_macros = """
fast = FIRST ORDER(signal, 1 : fast double)
	~	u
	~		|
slow = FIRST ORDER(signal, 4 : slow double)
	~	u
	~		|
signal = POS(STEP(2, 1) - 1)
	~	u
	~		|
"""
    written_out = """
fast = INTEG((signal - fast) / 1, signal)
	~	u
	~		|
fast double = 2 * fast
	~	u
	~		|
slow = INTEG((signal - slow) / 4, signal)
	~	u
	~		|
slow double = 2 * slow
	~	u
	~		|
signal = MAX(STEP(2, 1) - 1, 0)
	~	u
	~		|
"""
    macro_model, plain_model = _pair(tmp_path, with_macros, written_out)
    for engine in ("engine", "pysd"):
        expanded = sdkit.run(macro_model, engine=engine)
        plain = sdkit.run(plain_model, engine=engine)
        for name in ("fast", "slow", "fast_double", "slow_double", "signal"):
            np.testing.assert_allclose(expanded[name].values, plain[name].values, rtol=0, atol=1e-12)
    assert not np.allclose(expanded["fast"].values, expanded["slow"].values)  # two stocks, not one


def test_a_call_in_a_subscripted_equation_is_subscripted_alike(tmp_path):
    with_macros = """
region : north, south
	~
	~		|
demand[region] = 3, -2
	~	u
	~		|
served[region] = POS(demand[region]) + 1
	~	u
	~		|
"""
    written_out = """
region : north, south
	~
	~		|
demand[region] = 3, -2
	~	u
	~		|
served[region] = MAX(demand[region], 0) + 1
	~	u
	~		|
"""
    macro_model, plain_model = _pair(tmp_path, with_macros, written_out)
    for engine in ("engine", "pysd"):
        np.testing.assert_array_equal(sdkit.run(macro_model, engine=engine)["served"].values,
                                      sdkit.run(plain_model, engine=engine)["served"].values)


def test_a_macro_calling_a_macro(tmp_path):
    text = """{UTF-8}
:MACRO: POS(x)
POS = MAX(x, 0)
	~	x
	~		|
:END OF MACRO:
:MACRO: DOUBLE POS(x)
DOUBLE POS = 2 * POS(x)
	~	x
	~		|
:END OF MACRO:
y = DOUBLE POS(Time - 3)
	~	u
	~		|
""" + CONTROL
    ds = sdkit.run(sdkit.load_model(_model(tmp_path, text)))
    np.testing.assert_allclose(ds["y"].values[0], 2 * np.maximum(ds["time"].values - 3, 0))


def test_equations_keep_their_line_numbers(tmp_path):
    text = MACROS + "\ny = POS(Time)\n\t~\tu\n\t~\t\t|\n" + CONTROL
    expanded = expand_macros(text, tmp_path / "m.mdl")
    line_of_y = text.splitlines().index("y = POS(Time)")
    assert expanded.splitlines()[line_of_y] == "y = POS 1"
    assert "POS 1 = MAX((Time), 0)" in expanded
    assert ":MACRO:" not in expanded


def test_a_text_without_macros_is_returned_unchanged(tmp_path):
    text = (Path(__file__).parent / "data" / "decay.mdl").read_text(encoding="utf-8")
    assert expand_macros(text, Path("decay.mdl")) is text


@pytest.mark.parametrize(("body", "message"), [
    ("y = POS(1, 2)\n\t~\tu\n\t~\t\t|\n", "takes 1 input(s), the call at line 19 gives 2"),
    ("y = POS(1\n\t~\tu\n\t~\t\t|\n", "no closing ')'"),
])
def test_bad_calls_are_one_line_errors(tmp_path, body, message):
    with pytest.raises(ModelFileError, match=message.replace("(", r"\(").replace(")", r"\)")) as caught:
        sdkit.load_model(_model(tmp_path, MACROS + body + CONTROL))
    assert "\n" not in str(caught.value)


def test_a_recursive_macro_is_refused(tmp_path):
    text = """{UTF-8}
:MACRO: FOREVER(x)
FOREVER = FOREVER(x) + 1
	~	x
	~		|
:END OF MACRO:
y = FOREVER(1)
	~	u
	~		|
""" + CONTROL
    with pytest.raises(ModelFileError, match="cannot be recursive"):
        sdkit.load_model(_model(tmp_path, text))


def test_a_macro_without_its_value_equation_is_refused(tmp_path):
    text = "{UTF-8}\n:MACRO: EMPTY(x)\nother = x\n\t~\tx\n\t~\t\t|\n:END OF MACRO:\ny = EMPTY(1)\n\t~\tu\n\t~\t\t|\n"
    with pytest.raises(ModelFileError, match="no equation for 'EMPTY'"):
        sdkit.load_model(_model(tmp_path, text + CONTROL))


def test_a_macro_without_its_end_is_refused_with_its_line(tmp_path):
    text = "{UTF-8}\n\n:MACRO: OPEN(x)\nOPEN = x\n\t~\tx\n\t~\t\t|\ny = OPEN(1)\n\t~\tu\n\t~\t\t|\n"
    with pytest.raises(ModelFileError, match=r"the macro 'OPEN' at line 3 has no ':END OF MACRO:'"):
        sdkit.load_model(_model(tmp_path, text + CONTROL))


def test_an_error_in_a_copy_names_the_macro_line(tmp_path):
    text = "{UTF-8}\n:MACRO: BAD(x)\nBAD = NO SUCH FUNCTION(x)\n\t~\tx\n\t~\t\t|\n:END OF MACRO:\n" \
           "y = BAD(1)\n\t~\tu\n\t~\t\t|\n"
    with pytest.raises(ModelFileError, match=r"'BAD 1' \(line 3\)"):
        sdkit.load_model(_model(tmp_path, text + CONTROL))


def test_a_call_over_several_lines_keeps_the_lines_after_it(tmp_path):
    text = MACROS + "y = POS(Time \\\n\t\t- 3)\n\t~\tu\n\t~\t\t|\nz = y\n\t~\tu\n\t~\t\t|\n" + CONTROL
    expanded = expand_macros(text, tmp_path / "m.mdl")
    assert expanded.splitlines().index("z = y") == text.splitlines().index("z = y")
    ds = sdkit.run(sdkit.load_model(_model(tmp_path, text)))
    np.testing.assert_allclose(ds["z"].values[0], np.maximum(ds["time"].values - 3, 0))
