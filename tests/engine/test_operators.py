"""Vensim's operator precedence and associativity, in both backends.

Each row is a Vensim expression and the same expression with every grouping
written out in Python, following Vensim's documented precedence (unary
``:NOT:``, then ``^`` (right to left), ``* /``, ``+ -``, relations, ``:AND:``,
``:OR:``) with a leading minus that negates a whole power, as Vensim's own
output for the SDXorg case ``exponentiation`` shows (``-2^2`` is -4), and
``30^ - 30^-cons`` = 0.944 at cons = 1.2 (the case ``arithmetics_exp``).
"""

from __future__ import annotations

import numpy as np
import pytest

from sdkit.engine import compile_model

CONS = 1.2

#: (Vensim expression, Python reference as a function of Time T)
ROWS = [
    ("-2^2", lambda T: -(2.0**2)),
    ("- 2 ^ 2", lambda T: -(2.0**2)),
    ("(-2)^2", lambda T: (-2.0) ** 2),
    ("(-2)^3", lambda T: (-2.0) ** 3),
    ("POWER(-2, 3)", lambda T: (-2.0) ** 3),
    ("-2^3^2", lambda T: -(2.0 ** (3.0**2))),
    ("2^3^2", lambda T: 2.0 ** (3.0**2)),
    ("(2^3)^2", lambda T: (2.0**3) ** 2),
    ("30^ - 30^-cons", lambda T: 30.0 ** (-(30.0 ** (-CONS)))),
    ("2^-1", lambda T: 0.5),
    ("-cons^2", lambda T: -(CONS**2)),
    ("(-cons)^2", lambda T: (-CONS) ** 2),
    ("-(cons)^2", lambda T: -(CONS**2)),
    ("2 * -cons", lambda T: 2.0 * -CONS),
    ("1 - -cons", lambda T: 1.0 - (-CONS)),
    ("-cons * 3^2", lambda T: -CONS * 3.0**2),
    ("1 + 2 * 3 ^ 2", lambda T: 1.0 + 2.0 * 9.0),
    ("10 - 4 - 3", lambda T: (10.0 - 4.0) - 3.0),
    ("100 / 10 / 5", lambda T: (100.0 / 10.0) / 5.0),
    ("2 * 3 / 4 * 5", lambda T: ((2.0 * 3.0) / 4.0) * 5.0),
    ("-Time^2", lambda T: -(T**2)),
    ("(-Time)^2", lambda T: (-T) ** 2),
    ("2 ^ -Time", lambda T: 2.0 ** (-T)),
    (
        "IF THEN ELSE(Time > 5 :AND: Time < 8 :OR: Time = 1, 1, 0)",
        lambda T: float((T > 5 and T < 8) or T == 1),
    ),
    (
        "IF THEN ELSE(Time = 1 :OR: Time > 5 :AND: Time < 8, 1, 0)",
        lambda T: float(T == 1 or (T > 5 and T < 8)),
    ),
    (
        "IF THEN ELSE(Time <> 3 :OR: Time = 3 :AND: Time = 4 :OR: Time = 9, 1, 0)",
        lambda T: float(T != 3 or (T == 3 and T == 4) or T == 9),
    ),
    (
        "IF THEN ELSE(Time >= 3 :and: Time <= 4 :or: Time = 7, 1, 0)",
        lambda T: float((T >= 3 and T <= 4) or T == 7),
    ),
    ("IF THEN ELSE(:NOT: Time > 5, 1, 0)", lambda T: float(float(not T) > 5)),
    ("IF THEN ELSE(:NOT: (Time > 5), 1, 0)", lambda T: float(not T > 5)),
    ("IF THEN ELSE(:NOT: Time = 0, 1, 0)", lambda T: float(float(not T) == 0)),
    (
        "IF THEN ELSE(Time > 2 :AND: :NOT: (Time > 6), 1, 0)",
        lambda T: float(T > 2 and not T > 6),
    ),
    ("IF THEN ELSE(:NOT: Time, 1, 0)", lambda T: float(not T)),
    ("IF THEN ELSE(Time + 1 > 2 * 3, 1, 0)", lambda T: float(T + 1 > 6)),
    ("IF THEN ELSE(-Time^2 < -10, 1, 0)", lambda T: float(-(T**2) < -10)),
]


@pytest.fixture(scope="module")
def operators_model(tmp_path_factory):
    body = [f"cons = {CONS}\n\t~\t\n\t~\t|\n"]
    for i, (expr, _ref) in enumerate(ROWS):
        body.append(f"row {i} =\n\t{expr}\n\t~\t\n\t~\t|\n")
    body.append(
        "FINAL TIME = 10\n\t~\t\n\t~\t|\nINITIAL TIME = 0\n\t~\t\n\t~\t|\n"
        "SAVEPER = 1\n\t~\t\n\t~\t|\nTIME STEP = 1\n\t~\t\n\t~\t|\n"
    )
    path = tmp_path_factory.mktemp("operators") / "operators.mdl"
    path.write_text("{UTF-8}\n" + "".join(body), encoding="utf-8")
    return compile_model(path)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_operator_table_follows_vensim_precedence(operators_model, backend):
    res = operators_model.simulate({}, n=2, backend=backend)
    times = np.asarray(res.times, dtype=float)
    for i, (expr, ref) in enumerate(ROWS):
        want = np.array([ref(t) for t in times])
        got = res.data[f"row_{i}"]
        np.testing.assert_allclose(got[0], want, rtol=1e-15, atol=0, err_msg=expr)
        np.testing.assert_array_equal(got[1], got[0], err_msg=expr)


def test_backends_agree_bit_for_bit_on_operators(operators_model):
    a = operators_model.simulate({}, n=1, backend="numpy")
    b = operators_model.simulate({}, n=1, backend="numba")
    for name in a.data:
        np.testing.assert_array_equal(a.data[name], b.data[name], err_msg=name)


def test_vensim_canonical_values_of_the_sdxorg_cases(operators_model):
    """Vensim DSS: exponentiation's ``associativity`` = -4; arithmetics_exp's 0.944."""
    res = operators_model.simulate({}, n=1, backend="numpy")
    assert res.data["row_0"][0, 0] == -4.0
    assert round(float(res.data["row_8"][0, 0]), 3) == 0.944


def test_negative_literal_constant_stays_an_overridable_constant(tmp_path):
    path = tmp_path / "neg.mdl"
    path.write_text(
        "{UTF-8}\nc = -5\n\t~\t\n\t~\t|\nx = c * 2\n\t~\t\n\t~\t|\n"
        "FINAL TIME = 1\n\t~\t\n\t~\t|\nINITIAL TIME = 0\n\t~\t\n\t~\t|\n"
        "SAVEPER = 1\n\t~\t\n\t~\t|\nTIME STEP = 1\n\t~\t\n\t~\t|\n",
        encoding="utf-8",
    )
    k = compile_model(path)
    assert k.constants["c"] == -5.0
    assert k.simulate({"c": 3.0}, n=1).data["x"][0, -1] == 6.0


def test_pysd_parser_is_left_as_it_was(operators_model):
    """The engine's precedence applies only while it parses: PySD's own reader is unchanged."""
    from pysd.translators.vensim import vensim_element

    assert vensim_element.EquationVisitor.__module__ == vensim_element.__name__
