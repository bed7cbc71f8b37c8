"""ALLOCATE BY PRIORITY in the engine, against PySD and by hand."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from sdkit.engine import compile_model

SHARED = """{UTF-8}
Branch: Boston, Dayton, Fresno ~~|
Region: east, west ~~|
supply available[east] = 10 + 4 * SIN(Time) ~~|
supply available[west] = 7 ~ widgets ~ |
demand[east, Boston] = 3 + Time/2 ~~|
demand[east, Dayton] = 5 ~~|
demand[east, Fresno] = 1 + Time ~~|
demand[west, Branch] = 2 + MODULO(Time, 3) ~ widgets ~ |
priority[Branch] = 3, 1, 2 ~ Dmnl ~ |
width = 1.5 ~ Dmnl ~ |
shipments[Region, Branch] = ALLOCATE BY PRIORITY(demand[Region, Branch], priority[Branch],
    ELMCOUNT(Branch), width, supply available[Region]) ~ widgets ~ |
total shipped = SUM(shipments[Region!, Branch!]) ~ widgets ~ |
stock = INTEG(total shipped, 0) ~ widgets ~ |
INITIAL TIME = 0 ~~|
FINAL TIME = 10 ~~|
TIME STEP = 0.25 ~~|
SAVEPER = TIME STEP ~~|
"""

BY_HAND = """{UTF-8}
Branch: Boston, Dayton, Fresno ~~|
request[Branch] = 4, 4, 4 ~ widgets ~ |
priority[Branch] = 3, 1, 2 ~ Dmnl ~ |
width = 1.5 ~ Dmnl ~ |
supply = 6 ~ widgets ~ |
shipments[Branch] = ALLOCATE BY PRIORITY(request[Branch], priority[Branch], 3, width, supply) ~ widgets ~ |
INITIAL TIME = 0 ~~|
FINAL TIME = 1 ~~|
TIME STEP = 1 ~~|
SAVEPER = TIME STEP ~~|
"""


@pytest.fixture
def shared(tmp_path):
    path = tmp_path / "allocation.mdl"
    path.write_text(SHARED, encoding="utf-8")
    return path


def test_shipments_equal_pysds_on_both_backends(shared):
    import pysd

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = pysd.read_vensim(str(shared)).run()
    runs = {backend: compile_model(shared, backend=backend).simulate(None, 1) for backend in ("numpy", "numba")}
    for region_at, region in enumerate(["east", "west"]):
        for branch_at, branch in enumerate(["Boston", "Dayton", "Fresno"]):
            want = expected[f"shipments[{region},{branch}]"].values
            for result in runs.values():
                np.testing.assert_allclose(result.data["shipments"][0, :, region_at, branch_at], want,
                                           rtol=1e-12, atol=1e-12)
    assert np.array_equal(runs["numpy"].data["shipments"], runs["numba"].data["shipments"])
    # the run covers both cases: supply short of the demand, and supply enough
    demand = runs["numpy"].data["demand"][0].sum(axis=-1)
    supply = runs["numpy"].data["supply_available"][0]
    assert (supply < demand).any()
    assert (supply >= demand).any()


@pytest.mark.parametrize(("supply", "shipped"), [
    (6.0, [4.0, 0.0, 2.0]),    # priority level 1.25: Boston in full, Fresno (2 - 1.25) / 1.5 of 4
    (0.0, [0.0, 0.0, 0.0]),
    (12.0, [4.0, 4.0, 4.0]),   # supply covers every request
    (20.0, [4.0, 4.0, 4.0]),   # and more: none is overfilled
    (4.0, [10 / 3, 0.0, 2 / 3]),  # level 1.75, from 4 = 4 (3 - p) / 1.5 + 4 (2 - p) / 1.5
])
def test_shares_by_hand(tmp_path, supply, shipped):
    path = tmp_path / "by_hand.mdl"
    path.write_text(BY_HAND, encoding="utf-8")
    result = compile_model(path, backend="numpy").simulate({"supply": supply}, 1)
    np.testing.assert_allclose(result.data["shipments"][0, 0], shipped, rtol=1e-12, atol=1e-12)
