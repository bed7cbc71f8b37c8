"""Lookups written as one flat list of x then y values (DYNAMO style), read as (x, y) pairs."""

from __future__ import annotations

import numpy as np
import pytest

from sdkit.engine import compile_model
from sdkit.engine import oracles as O
from sdkit.errors import UnsupportedFeature
from sdkit.flat_lookups import pair_flat_lookups

CONTROL = "FINAL TIME = 10 ~~|\nINITIAL TIME = 0 ~~|\nSAVEPER = 1 ~~|\nTIME STEP = 0.5 ~~|\n"
FLAT = "table(0,0.4,\\\n\t\t1,0, 0.7,\\\n\t\t1)\n\t~\tDmnl\n\t~\t|\n"
PAIRS = "table((0,0),(0.4,0.7),(1,1))\n\t~\tDmnl\n\t~\t|\n"
USE = "x = table(Time / 10) ~~|\ny = MAX(1, 2) + table(0.2) ~~|\n"


def test_a_flat_list_becomes_pairs_and_keeps_every_line():
    text = "{UTF-8}\n" + FLAT + USE + CONTROL
    paired = pair_flat_lookups(text)
    assert "table((0,0),(0.4,0.7),(1,1))" in paired
    assert paired.count("\n") == text.count("\n")
    assert paired.splitlines()[6:] == text.splitlines()[6:]  # the equations after it are untouched


@pytest.mark.parametrize("text", [
    "y = MAX(1, 2) ~~|\n",  # a call in an equation
    "odd(1, 2, 3) ~~|\n",  # an odd count is not a table
    "two(1, 2) ~~|\n",  # one point is not a flat table
    "z = \\\n\tMAX(1,2,3,4)\n\t~\t|\n",  # a continuation line, not the start of an equation
    "pairs((0,0),(1,1)) ~~|\n",
])
def test_other_equations_are_left_alone(text):
    assert pair_flat_lookups("{UTF-8}\n" + text) == "{UTF-8}\n" + text


def test_the_flat_table_runs_like_the_same_table_written_in_pairs(tmp_path):
    flat, pairs = tmp_path / "flat.mdl", tmp_path / "pairs.mdl"
    flat.write_text("{UTF-8}\n" + FLAT + USE + CONTROL, encoding="utf-8")
    pairs.write_text("{UTF-8}\n" + PAIRS + USE + CONTROL, encoding="utf-8")
    engine = compile_model(flat)
    result = engine.simulate({}, 1, backend="numpy")
    pysd = O.pysd_series(O.pysd_model(pairs))
    assert O.max_rel_diff(O.engine_series(engine, result), pysd)[0] <= 1e-12
    assert np.isclose(result.data["y"][0, 0], 2 + 0.7 / 2)


def test_an_error_after_a_flat_table_names_its_own_line(tmp_path):
    path = tmp_path / "m.mdl"
    path.write_text("{UTF-8}\n" + FLAT + USE + "w = RANDOM BETA(0, 1, 2, 3, 0, 1, 0) ~~|\n" + CONTROL,
                    encoding="utf-8")
    with pytest.raises(UnsupportedFeature, match=r"'w' \(line 9\)"):
        compile_model(path)
