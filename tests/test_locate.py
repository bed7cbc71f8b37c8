"""Errors of the engine name the line where the offending equation starts."""

from __future__ import annotations

import pytest

from sdkit.engine import compile_model
from sdkit.errors import ModelFileError, UnsupportedFeature
from sdkit.locate import equation_lines

CONTROL = "\nFINAL TIME = 2 ~ ~ |\nINITIAL TIME = 0 ~ ~ |\nSAVEPER = 1 ~ ~ |\nTIME STEP = 1 ~ ~ |\n"


def _write(tmp_path, body):
    path = tmp_path / "m.mdl"
    path.write_text("{UTF-8}\na = 1\n\t~\t\n\t~\t|\n\n" + body + CONTROL, encoding="utf-8")
    return path


def test_equation_lines_find_multi_line_equations():
    text = "{UTF-8}\nx = 1 ~~|\n\n  Long  Name[Dim] =\n\tx +\n\t2 ~~|\nDim: a, b ~~|\n"
    assert equation_lines(text) == {"x": 2, "long_name": 4, "dim": 7}


def test_unsupported_function_names_the_line_of_a_multi_line_equation(tmp_path):
    path = _write(tmp_path, "b =\n\ta * 2 +\n\tRANDOM BETA(0, 1, 2, 3, 0, 1, 0)\n\t~\t\n\t~\t|\n")
    with pytest.raises(UnsupportedFeature) as info:
        compile_model(path)
    message = str(info.value)
    assert "'RANDOM BETA' in variable 'b' (line 6)" in message
    assert "\n" not in message


def test_parse_error_names_the_line_of_a_multi_line_equation(tmp_path):
    path = _write(tmp_path, "b =\n\ta * 2 +\n\t(3 ** 4\n\t~\t\n\t~\t|\n")
    with pytest.raises(ModelFileError) as info:
        compile_model(path)
    message = str(info.value)
    assert "equation 'b' (line 6) cannot be parsed" in message
    assert "line 1" not in message
