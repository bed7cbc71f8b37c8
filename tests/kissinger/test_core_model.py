"""The core balance model: it runs in plain PySD and reproduces RM1-RM5."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from sdkit import run
from sdkit.check_runs import run_checks
from sdkit.checks import checks_path_for, load_checks
from sdkit.model import load_model
from tests.kissinger.verdicts import unexpected_failures, unexpected_passes

MODEL = Path(__file__).resolve().parents[2] / "models" / "kissinger_core.mdl"

STOCKS = [
    "Legitimacy",
    "Power",
    "Institutional Authority",
    "Civil Society Pressure",
    "Revisionist Pressure",
    "Perceived Revisionism",
    "Disorder",
    "Emphasis",
    "Settlement",
    "Social Neglect",
    "Nationalist Support",
    "Exhaustion",
]
ORDER_PARAMETERS = [
    "legitimacy emphasis",
    "commitment to top floor",
    "openness to civil society",
    "zero sum logic",
    "expansiveness",
    "supremacy claim",
]
NAMED_AUXILIARIES = [
    "Effective Order",
    "Balance",
    "Restraint",
    "Challenger Capability",
    "Guarantor Resource Share",
    "Social Driver",
]


@pytest.fixture(scope="module")
def model():
    return load_model(MODEL)


def test_translates_and_runs_in_plain_pysd(tmp_path):
    import pysd

    copy = tmp_path / MODEL.name
    shutil.copyfile(MODEL, copy)
    frame = pysd.read_vensim(str(copy)).run(return_columns=STOCKS + ["Restraint", "Balance"])
    assert frame.index[0] == 0
    assert frame.index[-1] == 200
    values = frame.to_numpy(float)
    assert np.isfinite(values).all()
    assert values.min() >= 0.0
    assert values.max() <= 1.0


def test_required_names_units_and_comments(model):
    kinds = {name: model.variables[model.resolve(name)].kind for name in STOCKS}
    assert set(kinds.values()) == {"stock"}
    for name in ORDER_PARAMETERS:
        variable = model.variables[model.resolve(name)]
        assert (variable.kind, variable.limits) == ("constant", (0.0, 1.0)), name
    for name in NAMED_AUXILIARIES:
        assert model.variables[model.resolve(name)].kind == "auxiliary", name
    undocumented = [
        v.name
        for v in model.variables.values()
        if v.kind != "control" and (not v.units or not v.comment)
    ]
    assert undocumented == []


def test_every_scenario_runs_within_the_unit_interval(model):
    names = list(model.scenarios)
    assert {"liberal", "transformative", "mercantilist", "sovereign", "balanced"} <= set(names)
    assert all(model.scenarios[n].description for n in names)
    ds = run(model, scenarios=names, variables=STOCKS, engine="engine")
    for name in ds.data_vars:
        values = ds[name].to_numpy()
        values = values[np.isfinite(values)]
        assert values.min() >= 0.0, name
        assert values.max() <= 1.0, name


def check_results(model, engine):
    checks = load_checks(checks_path_for(MODEL))
    return run_checks(model, checks, engine=engine)


@pytest.fixture(scope="module")
def results(model):
    return check_results(model, "engine")


def test_checks_cover_rm1_to_rm5(results):
    assert {r.mode for r in results} >= {"RM1", "RM2", "RM3", "RM4", "RM5"}


@pytest.mark.slow
def test_pysd_gives_the_same_verdicts(model, results):
    by_pysd = check_results(model, "pysd")
    assert [(r.id, r.passed) for r in by_pysd] == [(r.id, r.passed) for r in results]


def test_reference_modes_reproduce(results):
    assert unexpected_failures(results) == []


def test_xfail_checks_still_fail(results):
    assert unexpected_passes(results) == []


def test_engine_matches_pysd(model):
    # the model uses only functions the vectorised engine supports (PULSE, MIN, MAX, EXP, ...)
    import xarray as xr

    names = ["rm1_shock_power", "versailles", "drift_1989"]
    reference = run(model, scenarios=names, engine="pysd")
    engine = run(model, scenarios=names, engine="engine")
    assert set(engine.data_vars) == set(reference.data_vars)
    xr.testing.assert_allclose(engine, reference, rtol=1e-9, atol=1e-12)


def test_check_fails_on_a_copy_with_substitutes(tmp_path):
    """The balance does the work: with ``CES exponent`` = 1 (legitimacy and power perfect
    substitutes) ``sdkit check`` on a copy of the core model exits 1."""
    from sdkit.cli import main

    for path in MODEL.parent.glob("kissinger_core.*"):
        shutil.copy(path, tmp_path / path.name)
    copy = tmp_path / MODEL.name
    text = copy.read_text(encoding="utf-8")
    assert text.count("CES exponent=\n\t-1\n") == 1
    copy.write_text(text.replace("CES exponent=\n\t-1\n", "CES exponent=\n\t1\n"), encoding="utf-8")
    assert main(["check", str(copy)]) == 1
