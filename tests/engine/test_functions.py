"""Functions of PySD's Vensim builder added to the engine, each against PySD.

DELAY N / SMOOTH N with an order that is a named constant or INTEGER(...) of
one, DELAY FIXED, SAMPLE IF TRUE, FORECAST, GAME, ELMCOUNT, GET TIME VALUE
of the model's time and ACTIVE INITIAL inside an expression. Every variable at
every saved time must equal PySD's within 1e-12 (relative).

Beyond PySD's builder: DELAY MATERIAL with a constant delay time (Vensim's DELAY
FIXED, compared with PySD running DELAY FIXED) and SINTEG with min and max (INTEG
kept within bounds, compared with INTEG and with the Euler recurrence).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sdkit.engine import compile_model
from sdkit.engine import oracles as O
from sdkit.errors import NonFiniteError, ParameterError, UnsupportedFeature

CONTROL = (
    "FINAL TIME = 20\n\t~\t\n\t~\t|\nINITIAL TIME = 0\n\t~\t\n\t~\t|\n"
    "SAVEPER = 0.5\n\t~\t\n\t~\t|\nTIME STEP = 0.25\n\t~\t\n\t~\t|\n"
)
INPUT = "input = 10 + STEP(5, 3) + RAMP(1, 5, 12) + 3 * SIN(Time)\n\t~\t\n\t~\t|\n"
CASES = {
    "delay_n_named_order": "order = 3 ~~|\nout = DELAY N(input, 4, 10, order) ~~|\n",
    "delay_n_integer_order": "k = 2.7 ~~|\nout = DELAY N(input, 4, input, INTEGER(k)) ~~|\n",
    "delay_n_order_from_an_equation": (
        "k = 2.7 ~~|\norder = INTEGER(k) + 1 ~~|\nout = DELAY N(input, 4, 10, order) ~~|\n"
    ),
    "smooth_n_named_order": "order = 4 ~~|\nout = SMOOTH N(input, 3, 10, order) ~~|\n",
    "delay_fixed": "delay = 4 ~~|\nout = DELAY FIXED(input, delay, 7) ~~|\n",
    "delay_fixed_shorter_than_a_step": "out = DELAY FIXED(input * 2, 0.1, input) ~~|\n",
    "delay_fixed_not_a_multiple_of_the_step": "out = DELAY FIXED(input, 1.3, 0) ~~|\n",
    "sample_if_true": "out = SAMPLE IF TRUE(MODULO(Time, 2) = 0, input, 1) ~~|\n",
    "forecast": "out = FORECAST(input, 3, 2) ~~|\n",
    "game": "out = GAME(input * 2) ~~|\n",
    "active_initial_in_an_expression": (
        "level = INTEG(out / 10, 1) ~~|\nout = 1 + ACTIVE INITIAL(level * input, 5) ~~|\n"
    ),
    "get_time_value": "out = GET TIME VALUE(0, 2.5, 0) * input ~~|\n",
    "elmcount": (
        "Dim: a, b, c ~~|\nw[Dim] = 1, 2, 3 ~~|\nout[Dim] = w[Dim] / ELMCOUNT(Dim) + input ~~|\n"
    ),
}


def _write(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / f"{name}.mdl"
    path.write_text("{UTF-8}\n" + INPUT + body + CONTROL, encoding="utf-8")
    return path


@pytest.mark.parametrize("name", sorted(CASES))
def test_function_matches_pysd(tmp_path, name):
    path = _write(tmp_path, name, CASES[name])
    kernel = compile_model(path)
    engine = O.engine_series(kernel, kernel.simulate({}, n=1, backend="numpy"))
    pysd = O.pysd_series(O.pysd_model(path))
    diff, where, shared = O.max_rel_diff(engine, pysd)
    assert shared == len(engine.columns)
    assert diff <= 1e-12, f"{where}: {diff:.3g}"


VECTORS = (
    "Dim: a, b, c, d, e ~~|\nv[a] = input / 7 ~~|\nv[b] = 1 + COS(Time) ~~|\nv[c] = 2.2 ~~|\n"
    "v[d] = 3 + SIN(Time) ~~|\nv[e] = 0.5 * Time ~~|\nw[Dim] = 2, 1, 2, 0, 2 ~~|\n"
    "up[Dim] = VECTOR SORT ORDER(v[Dim], 1) ~~|\ndown[Dim] = VECTOR SORT ORDER(v[Dim], -1) ~~|\n"
    "rank up[Dim] = VECTOR RANK(v[Dim], 1) ~~|\nrank down[Dim] = VECTOR RANK(v[Dim], 0) ~~|\n"
    "ties[Dim] = VECTOR SORT ORDER(w[Dim], 1) ~~|\ntied ranks[Dim] = VECTOR RANK(w[Dim], -1) ~~|\n"
    "sorted[Dim] = VECTOR REORDER(v[Dim], up[Dim]) ~~|\n"
)


def _same_in_both_backends(path):
    """The model's kernel and its numpy run, after checking numba gives the same bits."""
    kernel = compile_model(path)
    a = kernel.simulate({}, n=1, backend="numpy")
    b = kernel.simulate({}, n=1, backend="numba")
    for key in a.data:
        np.testing.assert_array_equal(a.data[key], b.data[key], err_msg=key)
    return kernel, a


def _agrees_with_pysd(engine, path):
    diff, where, shared = O.max_rel_diff(engine, O.pysd_series(O.pysd_model(path)))
    assert shared == len(engine.columns)
    assert diff <= 1e-12, f"{where}: {diff:.3g}"


def test_vector_sort_order_rank_and_reorder_match_pysd_in_both_backends(tmp_path):
    """The values of v cross each other over time (never at a saved time), so several orders occur."""
    path = _write(tmp_path, "vectors", VECTORS)
    kernel, a = _same_in_both_backends(path)
    engine = O.engine_series(kernel, a)
    for tied in [c for c in engine.columns if c.startswith("tie")]:  # PySD's numpy argsort orders ties its own way
        del engine.columns[tied]
    _agrees_with_pysd(engine, path)
    assert len({tuple(row) for row in a.data["up"][0]}) > 3


def test_vector_ties_keep_their_order_like_a_stable_sort(tmp_path):
    kernel = compile_model(_write(tmp_path, "vectors", VECTORS))
    res = kernel.simulate({}, n=1, backend="numpy", save="final")
    w = np.array([2, 1, 2, 0, 2])
    ascending = np.argsort(w, kind="stable")
    np.testing.assert_array_equal(res.data["ties"][0], ascending)
    descending = np.argsort(ascending[::-1], kind="stable") + 1  # PySD: RANK = argsort(SORT ORDER) + 1
    np.testing.assert_array_equal(res.data["tied_ranks"][0], descending)


def test_vector_select_matches_pysd_for_every_numerical_action(tmp_path):
    body = ("Dim: a, b, c, d ~~|\nsel[Dim] = 1, 0, 2, 0.5 ~~|\nnone[Dim] = 0 ~~|\nx[a] = input / 5 ~~|\n"
            "x[b] = 3 ~~|\nx[c] = 2 - 0.1 * Time ~~|\nx[d] = 1.6 + SIN(Time) ~~|\n"
            "empty = VECTOR SELECT(none[Dim!], x[Dim!], -7, 0, 0) ~~|\n")
    body += "".join(f"s{k} = VECTOR SELECT(sel[Dim!], x[Dim!], -1, {k}, 0) ~~|\n" for k in range(11))
    path = _write(tmp_path, "select", body)
    kernel, a = _same_in_both_backends(path)
    _agrees_with_pysd(O.engine_series(kernel, a), path)
    assert np.all(a.data["empty"] == -7)


def test_vector_select_with_an_error_action_is_refused(tmp_path):
    body = "Dim: a, b ~~|\nsel[Dim] = 1, 0 ~~|\nout = VECTOR SELECT(sel[Dim!], sel[Dim!], 0, 0, 1) ~~|\n"
    with pytest.raises(UnsupportedFeature, match=r"VECTOR SELECT with an error action other than 0' in variable 'out'"):
        compile_model(_write(tmp_path, "m", body))


MATRIX = ("R: r1, r2, r3 ~~|\nC: c1, c2, c3 ~~|\nm[R, C] = 0, 2, 1; 1, 1, 0; 3, 0, 1 ~~|\n"
          "t[R, C] = m[R, C] + input / 100 ~~|\ninv[R, C] = INVERT MATRIX(t[R, C]) ~~|\n")


def test_invert_matrix_matches_pysd_in_both_backends(tmp_path):
    """The first pivot is 0, so the rows must be exchanged."""
    path = _write(tmp_path, "matrix", MATRIX)
    kernel, a = _same_in_both_backends(path)
    _agrees_with_pysd(O.engine_series(kernel, a), path)


def test_invert_matrix_of_a_singular_matrix_is_reported(tmp_path):
    body = MATRIX.replace("0, 2, 1; 1, 1, 0; 3, 0, 1", "1, 2, 3; 2, 4, 6; 1, 1, 1").replace(" + input / 100", "")
    kernel = compile_model(_write(tmp_path, "singular", body))
    with pytest.raises(NonFiniteError, match="INVERT MATRIX|inv"):
        kernel.simulate({}, n=1, backend="numpy")


def test_vector_functions_over_a_long_range_are_refused(tmp_path):
    elements = ", ".join(f"e{i}" for i in range(101))
    path = _write(tmp_path, "m", f"Dim: {elements} ~~|\nv[Dim] = input ~~|\nr[Dim] = VECTOR RANK(v[Dim], 1) ~~|\n")
    with pytest.raises(UnsupportedFeature, match=r"VECTOR RANK over more than 100 elements' in variable 'r' \(line"):
        compile_model(path)


def test_delay_material_with_a_constant_delay_time_is_pysds_delay_fixed(tmp_path):
    body = "delay = 4 ~~|\nout = {}(input, delay, 7, 0) ~~|\n"
    material = compile_model(_write(tmp_path, "material", body.format("DELAY MATERIAL")))
    engine = O.engine_series(material, material.simulate({}, n=1, backend="numpy"))
    fixed = tmp_path / "fixed.mdl"
    fixed.write_text("{UTF-8}\n" + INPUT + "delay = 4 ~~|\nout = DELAY FIXED(input, delay, 7) ~~|\n" + CONTROL,
                     encoding="utf-8")
    diff, where, shared = O.max_rel_diff(engine, O.pysd_series(O.pysd_model(fixed)))
    assert shared == len(engine.columns)
    assert diff <= 1e-12, f"{where}: {diff:.3g}"


def test_delay_material_with_a_varying_delay_time_is_refused_in_one_line(tmp_path):
    path = _write(tmp_path, "m", "out = DELAY MATERIAL(input, 2 + Time / 10, 0, 0) ~~|\n")
    with pytest.raises(UnsupportedFeature, match=r"DELAY MATERIAL delay time in variable 'out' \(line \d+\)") as err:
        compile_model(path)
    assert "\n" not in str(err.value)


def test_sinteg_without_bounds_is_integ_to_the_bit(tmp_path):
    body = "a = INTEG(input, 3) ~~|\nb = SINTEG(input, 3, :NA:, :NA:, :NA:, :NA:, :NA:) ~~|\n"
    kernel = compile_model(_write(tmp_path, "m", body))
    res = kernel.simulate({}, n=1, backend="numpy")
    np.testing.assert_array_equal(res.data["a"], res.data["b"])


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_sinteg_keeps_each_step_within_min_and_max(tmp_path, backend):
    body = "rate = 10 - Time ~~|\nb = SINTEG(rate, 1, 0.5, 30, :NA:, :NA:, :NA:) ~~|\n"
    kernel = compile_model(_write(tmp_path, "m", body))
    res = kernel.simulate({}, n=1, backend=backend, time={"saveper": 0.25})
    value, expected = 1.0, [1.0]
    for t in res.times[:-1]:
        value = min(max(value + (10 - t) * 0.25, 0.5), 30.0)
        expected.append(value)
    np.testing.assert_array_equal(res.data["b"][0], expected)
    assert res.data["b"].max() == 30.0
    assert res.data["b"][0, -1] < 30.0


def test_sinteg_with_quant_spec_or_thresh_is_refused(tmp_path):
    path = _write(tmp_path, "m", "b = SINTEG(input, 1, 0, 100, 1, :NA:, :NA:) ~~|\n")
    with pytest.raises(UnsupportedFeature, match=r"'SINTEG with quant, spec or thresh \(only min and max\)' in variable 'b'"):
        compile_model(path)


def test_new_functions_agree_across_backends(tmp_path):
    body = (
        "order = 3 ~~|\nout1 = DELAY N(input, 4, 10, order) ~~|\n"
        "out2 = SAMPLE IF TRUE(MODULO(Time, 2) = 0, input, 1) ~~|\n"
        "out3 = FORECAST(input, 3, 2) ~~|\n"
    )
    body += "out4 = DELAY FIXED(input, 1.5, 2) ~~|\nout5 = DELAY MATERIAL(input, 2, 1, 0) ~~|\n"
    body += "out6 = SINTEG(input, 1, :NA:, 60, :NA:, :NA:, :NA:) ~~|\n"
    kernel = compile_model(_write(tmp_path, "all", body))
    a = kernel.simulate({}, n=3, backend="numpy")
    b = kernel.simulate({}, n=3, backend="numba")
    for key in a.data:
        np.testing.assert_array_equal(a.data[key], b.data[key], err_msg=key)


def test_structural_constant_cannot_be_overridden(tmp_path):
    kernel = compile_model(_write(tmp_path, "m", CASES["delay_n_named_order"]))
    assert kernel.simulate({}, n=1).data["out"].shape[0] == 1
    with pytest.raises(ParameterError, match="'order' fixes the DELAY N order in 'out'"):
        kernel.simulate({"order": [2.0]}, n=1)


def test_delay_fixed_refuses_another_time_step(tmp_path):
    kernel = compile_model(_write(tmp_path, "m", CASES["delay_fixed"]))
    kernel.simulate({}, n=1, time={"final_time": 5})
    with pytest.raises(ParameterError, match="DELAY FIXED pipelines were built for TIME STEP"):
        kernel.simulate({}, n=1, time={"time_step": 0.5})


def test_order_read_from_a_stock_is_refused(tmp_path):
    body = "level = INTEG(1, 2) ~~|\nout = DELAY N(input, 4, 10, level) ~~|\n"
    path = _write(tmp_path, "m", body)
    with pytest.raises(UnsupportedFeature, match="DELAY N order in variable 'out'"):
        compile_model(path)


DELAY_LINES = (
    "k = 0.5 ~~|\nstart = 7 ~~|\nshifted input = input + k * Time ~~|\n"
    "out13 = DELAY FIXED(shifted input, 1.3, start) ~~|\n"  # 1.3 / 0.25 = 5.2: 5 steps
    "out4 = DELAY FIXED(shifted input, delay, shifted input) ~~|\ndelay = 4 ~~|\n"  # 16 steps from the input at t0
    "short = DELAY FIXED(shifted input * 2, 0.1, 1) ~~|\n"  # shorter than a step: 1 step
)
DELAY_STEPS = {"out13": 5, "out4": 16, "short": 1}
SAMPLES = {"k": np.array([0.5, -1.0, 2.0]), "start": np.array([7.0, 3.0, -2.0])}


def _shifted(series: np.ndarray, steps: int, initial) -> np.ndarray:
    """``series`` (samples x times, one saved time per step) delayed by ``steps``, ``initial`` before."""
    out = np.empty_like(series)
    out[:, :steps] = np.asarray(initial, dtype=float).reshape(-1, 1)
    out[:, steps:] = series[:, :-steps]
    return out


@pytest.mark.parametrize("kind", ["numpy", "one", "blocks"])
def test_delay_fixed_is_its_input_shifted_by_whole_steps(tmp_path, monkeypatch, kind):
    """Each DELAY FIXED equals its input of round(delay / TIME STEP) steps before, to the bit, its initial value
    (a constant or the input at the initial time) before that; in the numpy kernel, the one-function and the
    blocked numba kernels; the samples differ in the input and the initial value."""
    monkeypatch.setenv("SDKIT_NUMBA_BLOCKS", "1" if kind == "blocks" else "0")
    path = _write(tmp_path, "lines", DELAY_LINES)
    path.write_text(path.read_text(encoding="utf-8").replace("SAVEPER = 0.5", "SAVEPER = 0.25"), encoding="utf-8")
    kernel = compile_model(path)
    run = kernel.simulate(SAMPLES, n=3, backend="numpy" if kind == "numpy" else "numba")
    if kind != "numpy":
        assert kernel.numba_kind == kind
    inp = run.data["shifted_input"]
    initial = {"out13": SAMPLES["start"], "out4": inp[:, 0], "short": 1.0}
    for name, steps in DELAY_STEPS.items():
        source = inp * 2 if name == "short" else inp
        np.testing.assert_array_equal(run.data[name], _shifted(source, steps, initial[name]), err_msg=name)


def test_delay_fixed_over_a_subscript_range_in_the_looped_kernel(tmp_path):
    """A DELAY FIXED of each of 30 elements, in the kernel whose equations are loops over the elements: each
    element its input shifted by 5 steps, with its own initial value, in both backends."""
    weights = ", ".join(str(j + 1) for j in range(30))
    body = (f"Dim: (d1-d30) ~~|\nw[Dim] = {weights} ~~|\nx[Dim] = input * w[Dim] ~~|\n"
            "late[Dim] = DELAY FIXED(x[Dim], 1.3, 7 * w[Dim]) ~~|\n")
    path = _write(tmp_path, "looped", body)
    path.write_text(path.read_text(encoding="utf-8").replace("SAVEPER = 0.5", "SAVEPER = 0.25"), encoding="utf-8")
    kernel = compile_model(path)
    assert "for e in range(30):" in kernel.source("numba")
    for backend in ("numpy", "numba"):
        run = kernel.simulate({}, n=2, backend=backend)
        x, late = run.data["x"], run.data["late"]  # samples x times x elements
        for e in range(30):
            np.testing.assert_array_equal(late[:, :, e], _shifted(x[:, :, e], 5, 7.0 * (e + 1)), err_msg=f"{backend} {e}")


def test_a_longer_delay_fixed_is_a_longer_ring_not_a_longer_kernel(tmp_path):
    """The kernel keeps a DELAY FIXED's past inputs in a ring (one write and one read per step), so its code does
    not grow with the number of steps delayed."""
    sources = [compile_model(_write(tmp_path, f"d{d}", f"out = DELAY FIXED(input, {d}, 0) ~~|\n")).source("numba")
               for d in (1, 40)]
    assert len(sources[0].splitlines()) == len(sources[1].splitlines())
    assert "RINGS = _np.array([" in sources[1]
