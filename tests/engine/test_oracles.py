"""The engine against its three oracles: PySD, pysimlin and Vensim's semantics.

Where the oracles disagree, docs/engine.md ("Oracles") says which one is right;
the tests here pin the engine to that answer. pysimlin is a test-only
dependency: its tests skip when it is not installed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sdkit.engine import compile_model
from sdkit.engine import oracles as O
from sdkit.errors import UnsupportedFeature

ROOT = Path(__file__).resolve().parents[2]
PROJECT_MODELS = sorted((ROOT / "models").glob("*.mdl")) + sorted(
    (ROOT / "tests" / "data").glob("*.mdl")
)
CONTROL = (
    "FINAL TIME = {final}\n\t~\t\n\t~\t|\nINITIAL TIME = 0\n\t~\t\n\t~\t|\n"
    "SAVEPER = 1\n\t~\t\n\t~\t|\nTIME STEP = 1\n\t~\t\n\t~\t|\n"
)
# World3-03's land-use multiplier in miniature: a SMOOTHI whose initial value is the literal 1
INTEGER_STATE = (
    "S = INTEG(0.1, 1)\n\t~\t\n\t~\t|\n"
    "LUF = 1.5 + 0.1 * S\n\t~\t\n\t~\t|\n"
    "DLUF = SMOOTHI(LUF, 2, {init})\n\t~\t\n\t~\t|\n"
)


def _model(tmp_path: Path, body: str, final: int = 2, name: str = "m.mdl") -> Path:
    path = tmp_path / name
    path.write_text("{UTF-8}\n" + body + CONTROL.format(final=final), encoding="utf-8")
    return path


def _simlin_or_skip(path: Path) -> O.Series:
    pytest.importorskip("simlin")
    try:
        return O.simlin_series(path)
    except O.OracleUnavailable as exc:
        pytest.skip(str(exc))


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_smoothi_with_integer_initial_value_is_not_truncated(tmp_path, backend):
    """Vensim's arithmetic is real-valued: 1.0, 1.3, 1.455 (PySD stores the state as an
    integer and gives 1.0, 1.0, 1.305)."""
    path = _model(tmp_path, INTEGER_STATE.format(init="1"))
    res = compile_model(path).simulate({}, n=1, backend=backend)
    np.testing.assert_allclose(res.data["dluf"][0], [1.0, 1.3, 1.455], rtol=1e-15)


def test_pysimlin_agrees_on_the_integer_initial_value(tmp_path):
    path = _model(tmp_path, INTEGER_STATE.format(init="1"))
    simlin = _simlin_or_skip(path)
    np.testing.assert_allclose(simlin.columns["dluf"], [1.0, 1.3, 1.455], rtol=1e-15)


def test_pysd_agrees_once_the_initial_value_is_written_as_a_float(tmp_path):
    path = _model(tmp_path, INTEGER_STATE.format(init="1.0"))
    kernel = compile_model(path)
    engine = O.engine_series(kernel, kernel.simulate({}, n=1, backend="numpy"))
    pysd = O.pysd_series(O.pysd_model(path))
    diff, where, shared = O.max_rel_diff(engine, pysd)
    assert shared == 3
    assert diff <= 1e-15, where


@pytest.mark.parametrize("path", PROJECT_MODELS, ids=[p.name for p in PROJECT_MODELS])
def test_engine_agrees_with_pysimlin_on_project_models(path):
    """Every project and test model that both run: every shared variable within 1e-9."""
    try:
        kernel = compile_model(path)
    except UnsupportedFeature as exc:
        pytest.skip(f"the engine refuses {path.name}: {exc}")
    simlin = _simlin_or_skip(path)
    engine = O.engine_series(kernel, kernel.simulate({}, n=1, backend="numpy"))
    diff, where, shared = O.max_rel_diff(engine, simlin)
    assert shared >= len(kernel.stocks)
    assert diff <= 1e-9, f"{where}: relative difference {diff:.3g}"


def test_operator_table_agrees_with_pysimlin(tmp_path):
    from tests.engine.test_operators import ROWS

    rows = [expr for expr, _ref in ROWS if "POWER" not in expr]  # pysimlin has no POWER
    body = "cons = 1.2\n\t~\t\n\t~\t|\n" + "".join(
        f"row {i} =\n\t{expr}\n\t~\t\n\t~\t|\n" for i, expr in enumerate(rows)
    )
    path = _model(tmp_path, body, final=10)
    simlin = _simlin_or_skip(path)
    kernel = compile_model(path)
    engine = O.engine_series(kernel, kernel.simulate({}, n=1, backend="numpy"))
    diff, where, shared = O.max_rel_diff(engine, simlin)
    assert shared == len(rows) + 1
    assert diff <= 1e-15, where


def test_canonical_names_meet_across_tools():
    assert O.canonical('"Total  Capacity"[North, b_2]') == "total_capacity[north,b_2]"
    assert O.canonical("time_step") == "time_step"
    assert O.canonical("Row 0") == O.canonical("row_0")
