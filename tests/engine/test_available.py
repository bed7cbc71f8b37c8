"""ALLOCATE AVAILABLE in the engine: against PySD, against PySD's own curves solved exactly, and by hand.

PySD finds the priority level with ``scipy.optimize.least_squares`` at its default
tolerances, which leave the allocations about 1e-8 from the level that hands out the
supply; the engine bisects to the last bit. So the engine is compared with PySD's run
at 1e-7, and to 1e-12 with PySD's own curves (``Priorities.get_functions``) solved by
``scipy.optimize.brentq`` to 1e-15.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pytest

from sdkit.engine import compile_model
from sdkit.engine.oracles import pysd_model
from sdkit.errors import UnsupportedFeature

MODEL = Path(__file__).resolve().parents[1] / "data" / "functions" / "allocate_available.mdl"
KINDS = {"rectangular": 1, "triangular": 2, "normal": 3, "exponential": 4, "mixed": None}
BRANCHES = ["Boston", "Dayton", "Fresno"]


@pytest.fixture(scope="module")
def runs():
    return {backend: compile_model(MODEL).simulate(None, 1, backend=backend) for backend in ("numpy", "numba")}


@pytest.fixture(scope="module")
def pysd_run():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pysd_model(MODEL).run()


def test_backends_give_the_same_bits(runs):
    for kind in KINDS:
        name = f"shipments_{kind}"
        assert np.array_equal(runs["numpy"].data[name], runs["numba"].data[name]), kind


@pytest.mark.parametrize("kind", list(KINDS))
def test_equals_pysd_within_its_solver_tolerance(runs, pysd_run, kind):
    ours = runs["numpy"].data[f"shipments_{kind}"][0]
    for r, region in enumerate(["east", "west"]):
        theirs = np.column_stack([pysd_run[f"shipments {kind}[{region},{b}]"].values for b in BRANCHES])
        np.testing.assert_allclose(ours[:, r], theirs, rtol=0, atol=1e-7)
    # the run covers supply short of the demand and supply enough, in both regions
    supply, demand = runs["numpy"].data["supply"][0], runs["numpy"].data["demand"][0].sum(axis=-1)
    assert (supply < demand).any(axis=0).all()
    assert (supply >= demand).any(axis=0).all()


@pytest.mark.parametrize("kind", list(KINDS))
def test_equals_pysds_curves_solved_exactly(runs, kind):
    from pysd.py_backend.allocation import Priorities
    from scipy.optimize import brentq

    result = runs["numpy"].data
    profiles = np.array([[1, 5, 2, 0], [1, 6, 3, 0], [1, 3, 4, 0]], dtype=float)
    profiles[:, 0] = KINDS[kind] or [1, 3, 4]
    shipped = result[f"shipments_{kind}"][0]
    checked = 0
    for step in range(shipped.shape[0]):
        for r in range(2):
            request, supply = result["demand"][0][step, r], result["supply"][0][step, r]
            if supply >= request.sum():
                np.testing.assert_array_equal(shipped[step, r], request)
                continue
            curves, total, _ = Priorities.get_functions(request, profiles, "demand")
            level = brentq(lambda x, total=total, supply=supply: total(x) - supply, -200.0, 200.0,
                           xtol=1e-15, rtol=1e-15)
            np.testing.assert_allclose(shipped[step, r], [f(level) for f in curves], rtol=1e-12, atol=1e-12)
            assert shipped[step, r].sum() == pytest.approx(supply, rel=1e-14)
            checked += 1
    assert checked > 50


BY_HAND = """{{UTF-8}}
pprofile: ptype, ppriority, pwidth, pextra ~~|
Branch: A, B, C ~~|
request[Branch] = {requests} ~~|
curve[A, pprofile] = {a} ~~|
curve[B, pprofile] = {b} ~~|
curve[C, pprofile] = {c} ~~|
supply = 1 ~~|
shipments[Branch] = ALLOCATE AVAILABLE(request[Branch], curve[Branch, ptype], supply) ~~|
INITIAL TIME = 0 ~~|
FINAL TIME = 1 ~~|
TIME STEP = 1 ~~|
SAVEPER = TIME STEP ~~|
"""
PHI_1 = 0.5 * math.erfc(-1 / math.sqrt(2))  # the standard normal distribution at 1


@pytest.mark.parametrize(("requests", "curves", "supply", "shipped"), [
    # rectangles [2.5, 3.5], [0.5, 1.5], [1.5, 2.5]: A is served first, then C, then B
    ("4, 4, 4", ("1, 3, 1, 0", "1, 1, 1, 0", "1, 2, 1, 0"), 2.0, [2.0, 0.0, 0.0]),
    ("4, 4, 4", ("1, 3, 1, 0", "1, 1, 1, 0", "1, 2, 1, 0"), 6.0, [4.0, 0.0, 2.0]),
    ("4, 4, 4", ("1, 3, 1, 0", "1, 1, 1, 0", "1, 2, 1, 0"), 10.0, [4.0, 2.0, 4.0]),
    ("4, 4, 4", ("1, 3, 1, 0", "1, 1, 1, 0", "1, 2, 1, 0"), 0.0, [0.0, 0.0, 0.0]),
    ("4, 4, 4", ("1, 3, 1, 0", "1, 1, 1, 0", "1, 2, 1, 0"), 20.0, [4.0, 4.0, 4.0]),
    # triangles around 0 and 1, width 2: on [0, 1] A gets (1 - x)^2 and B 2 - x^2, total 3 - 2x
    ("2, 2, 0", ("2, 0, 2, 0", "2, 1, 2, 0", "2, 5, 2, 0"), 2.0, [0.25, 1.75, 0.0]),
    # exponential curves at level 0: A (priority 0) half its request, B (priority ln 2) 1 - e^-ln2 / 2
    ("1, 1, 0", ("4, 0, 1, 0", f"4, {math.log(2)!r}, 1, 0", "4, 5, 1, 0"), 1.25, [0.5, 0.75, 0.0]),
    # normal curves at level 0: A (mean 0) half, B (mean 1) the normal distribution at 1
    ("1, 1, 0", ("3, 0, 1, 0", "3, 1, 1, 0", "3, 5, 1, 0"), 0.5 + PHI_1, [0.5, PHI_1, 0.0]),
])
def test_shares_by_hand(tmp_path, requests, curves, supply, shipped):
    path = tmp_path / "by_hand.mdl"
    path.write_text(BY_HAND.format(requests=requests, a=curves[0], b=curves[1], c=curves[2]), encoding="utf-8")
    result = compile_model(path, backend="numpy").simulate({"supply": supply}, 1)
    np.testing.assert_allclose(result.data["shipments"][0, 0], shipped, rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize(("kind", "name"), [(0, "fixed quantity"), (5, "constant elasticity")])
def test_profiles_pysd_lacks_are_refused_on_one_line(tmp_path, kind, name):
    path = tmp_path / "unsupported.mdl"
    path.write_text(BY_HAND.format(requests="1, 1, 1", a=f"{kind}, 1, 1, 0", b="1, 1, 1, 0", c="1, 1, 1, 0"),
                    encoding="utf-8")
    with pytest.raises(UnsupportedFeature) as info:
        compile_model(path)
    message = str(info.value)
    assert message.startswith(f"ALLOCATE AVAILABLE priority profile type {kind} ({name}) in variable "
                              "'shipments' (line 9) is supported neither by the engine nor by PySD")
    assert "\n" not in message


def test_profiles_may_vary_per_sample_and_a_bad_type_is_named(tmp_path):
    from sdkit.errors import NonFiniteError

    path = tmp_path / "by_hand.mdl"
    path.write_text(BY_HAND.format(requests="4, 4, 4", a="1, 3, 1, 0", b="1, 1, 1, 0", c="1, 2, 1, 0"),
                    encoding="utf-8")
    kernel = compile_model(path, backend="numpy")
    curves = np.array([[1, 3, 1, 0], [1, 1, 1, 0], [1, 2, 1, 0]], dtype=float)
    swapped = curves.copy()
    swapped[[0, 2], 1] = 2, 3  # C now comes first, then A
    result = kernel.simulate({"curve": np.stack([curves, swapped]), "supply": 6.0}, 2)
    np.testing.assert_allclose(result.data["shipments"][:, 0], [[4, 0, 2], [2, 0, 4]], rtol=1e-14, atol=1e-14)
    curves[1, 0] = 5  # constant elasticity, which neither the engine nor PySD has
    with pytest.raises(NonFiniteError, match="'shipments"):
        kernel.simulate({"curve": curves}, 1)


@pytest.mark.parametrize(("supply", "pysd_gives"), [(6.8, [3.2, 2.3, 2.0]), (0.2, [0.0, 0.0, 0.0])])
def test_where_pysds_solver_stops_at_a_bound_the_engine_hands_out_the_supply(tmp_path, supply, pysd_gives):
    """PySD's least_squares stops at a bound of the triangular curves' interval: every request, or none."""
    from pysd.py_backend.allocation import Priorities, _allocate_available_1d
    from scipy.optimize import brentq

    requests = np.array([3.2, 2.3, 2.0])
    profiles = np.array([[2, 2.4, 1.9, 0], [2, 1.7, 2.8, 0], [2, 4.7, 2.8, 0]])
    np.testing.assert_array_equal(np.asarray(_allocate_available_1d(requests, profiles, supply), dtype=float),
                                  pysd_gives)
    path = tmp_path / "triangles.mdl"
    path.write_text(BY_HAND.format(requests="3.2, 2.3, 2.0", a="2, 2.4, 1.9, 0", b="2, 1.7, 2.8, 0",
                                   c="2, 4.7, 2.8, 0"), encoding="utf-8")
    shipped = compile_model(path, backend="numpy").simulate({"supply": supply}, 1).data["shipments"][0, 0]
    assert shipped.sum() == pytest.approx(supply, rel=1e-14)
    curves, total, _ = Priorities.get_functions(requests, profiles, "demand")
    level = brentq(lambda x: total(x) - supply, -10.0, 10.0, xtol=1e-15, rtol=1e-15)
    np.testing.assert_allclose(shipped, [f(level) for f in curves], rtol=1e-12, atol=1e-12)


def test_a_profile_of_two_elements_is_refused_on_one_line(tmp_path):
    path = tmp_path / "short.mdl"
    text = BY_HAND.format(requests="1, 1, 1", a="1, 1", b="1, 2", c="1, 3")
    path.write_text(text.replace("ptype, ppriority, pwidth, pextra", "ptype, ppriority"),
                    encoding="utf-8")
    with pytest.raises(UnsupportedFeature, match=r"^ALLOCATE AVAILABLE in variable 'shipments' \(line 9\) reads a "
                                                 r"priority profile of fewer than 3 elements"):
        compile_model(path)
