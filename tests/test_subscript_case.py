"""Subscript names in any letter case, as Vensim reads them (sdkit/subscript_case.py)."""

from __future__ import annotations

import numpy as np
import pytest

import sdkit

MIXED_CASE = """{UTF-8}
region: North, South ~~|
x[Region] = 1, 2 ~~|
y[REGION] = x[region] * 2 ~~|
z = y[north] + SUM(x[Region!]) + y[SOUTH] ~~|
s = INTEG(z, 0) ~~|
INITIAL TIME = 0 ~~|
FINAL TIME = 2 ~~|
TIME STEP = 1 ~~|
SAVEPER = 1 ~~|
"""


@pytest.mark.parametrize("engine", ["engine", "pysd"])
def test_a_range_and_its_elements_are_one_name_in_any_case(tmp_path, engine):
    path = tmp_path / "mixed_case.mdl"
    path.write_text(MIXED_CASE, encoding="utf-8")
    result = sdkit.run(path, variables=["z", "s", "y"], engine=engine)
    # z = y[North] + x[North] + x[South] + y[South] = 2 + 1 + 2 + 4, every step
    assert np.all(result["z"].values == 9.0)
    assert float(result["s"].sel(time=2.0).values[0]) == 18.0
    assert list(result["y"].coords["region"].values) == ["North", "South"]
