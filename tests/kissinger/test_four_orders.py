"""The four-orders model: it runs in plain PySD, conserves adherence and reproduces RM6-RM7."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest

from sdkit import run
from sdkit.check_runs import run_checks
from sdkit.checks import checks_path_for, load_checks
from sdkit.model import load_model
from tests.kissinger.verdicts import unexpected_failures, unexpected_passes

MODEL = Path(__file__).resolve().parents[2] / "models" / "four_orders.mdl"
ORDERS = ["liberal", "transformative", "mercantilist", "sovereign"]
REQUIRED_SCENARIOS = {
    "hegemonic_start",
    "declining_leader",
    "low_supremacy",
    "high_supremacy",
    "coalition_on",
    "coalition_off",
    "climate_open",
}
# The presets of the table in docs/theory.md "The four orders as parameters" (LIO, TI, MN, SI).
THEORY_PRESETS = {
    "legitimacy emphasis": [0.60, 0.80, 0.10, 0.50],
    "commitment to top floor": [0.70, 0.60, 0.05, 0.75],
    "openness to civil society": [0.60, 0.90, 0.35, 0.20],
    "zero sum logic": [0.30, 0.20, 0.95, 0.40],
    "expansiveness": [0.90, 0.70, 0.10, 0.20],
    "supremacy claim": [0.80, 0.30, 0.60, 0.20],
}
SHARES = "adherence_share"


@pytest.fixture(scope="module")
def model():
    return load_model(MODEL)


def _with_time(model, names, **time):
    """A fresh copy of the model whose scenarios ``names`` carry extra time settings."""
    fresh = load_model(MODEL)
    for name in names:
        scenario = model.scenarios[name]
        fresh.scenarios[name] = dataclasses.replace(scenario, time={**scenario.time, **time})
    return fresh


def test_translates_and_runs_in_plain_pysd(tmp_path):
    import pysd

    copy = tmp_path / MODEL.name
    shutil.copyfile(MODEL, copy)
    pysd_model = pysd.read_vensim(str(copy))
    frame = pysd_model.run(
        params={"leader share decline rate": 0.008},
        final_time=10,
        return_columns=["Adherence Share", "Concentration", "Restraint"],
    )
    shares = frame[[f"Adherence Share[{o}]" for o in ORDERS]].to_numpy(float)
    assert frame.index[-1] == 10
    assert np.isfinite(frame.to_numpy(float)).all()
    np.testing.assert_allclose(shares.sum(axis=1), 1.0, rtol=0, atol=1e-9)
    np.testing.assert_allclose(frame["Concentration"], (shares**2).sum(axis=1), rtol=1e-12)


def test_structure_names_units_and_comments(model):
    assert model.dims["Order"] == ORDERS
    assert model.dims["Partner"] == ORDERS
    for name in ["Adherence Share", "Order Legitimacy", "Order Power"]:
        variable = model.variables[model.resolve(name)]
        assert (variable.kind, variable.dims) == ("stock", ("Order",)), name
    for name in ["Institutional Authority", "Civil Society Pressure", "Disorder"]:
        assert model.variables[model.resolve(name)].kind == "stock", name
    for name in ["Concentration", "Restraint"]:
        assert model.variables[model.resolve(name)].kind == "auxiliary", name
    coalition = model.variables[model.resolve("coalition")]
    assert (coalition.kind, coalition.dims) == ("constant", ("Order", "Partner"))
    undocumented = [
        v.name
        for v in model.variables.values()
        if v.kind != "control" and (not v.units or not v.comment)
    ]
    assert undocumented == []


def test_order_presets_are_the_theory_table(model):
    ds = run(model, variables=list(THEORY_PRESETS), engine="engine")
    for name, expected in THEORY_PRESETS.items():
        variable = model.variables[model.resolve(name)]
        assert (variable.dims, variable.limits) == (("Order",), (0.0, 1.0)), name
        values = ds[variable.py_name].isel(scenario=0, time=0).sel(Order=ORDERS).to_numpy()
        np.testing.assert_allclose(values, expected, err_msg=name)


def test_scenarios_are_described(model):
    assert REQUIRED_SCENARIOS <= set(model.scenarios)
    assert all(model.scenarios[name].description for name in model.scenarios)


def test_engine_agrees_with_pysd(model):
    # coalition_on exercises the decline, the 2-D coalition matrix and, with the
    # override below, one element of a subscripted constant
    names = ["coalition_on"]
    short = _with_time(model, names, final_time=8)
    variables = ["Adherence Share", "Institutional Authority", "Restraint", "Disorder", "Grievance",
                 "Revisionist Pressure"]
    override = {"supremacy claim[liberal]": 0.95}
    by_engine = run(short, scenarios=names, set=override, variables=variables, engine="engine")
    by_pysd = run(short, scenarios=names, set=override, variables=variables, engine="pysd")
    assert float(by_engine["time"].max()) == 8
    for name in by_engine.data_vars:
        np.testing.assert_allclose(by_engine[name], by_pysd[name], rtol=0, atol=1e-9)


# Constants the two models share, with the same name and value (docs/model-four-orders.md,
# "Shared with the core model"); the ones that differ are listed there with the check that
# records why (restraint threshold, exhaustion rate, revisionism adjustment time).
SHARED_WITH_CORE = [
    "CES exponent", "restraint steepness", "disorder growth time", "disorder decay time",
    "exhaustion time", "settlement rate", "settlement memory time", "unrestrained escalation",
    "institutional containment", "imbalance grievance",
]


def test_shared_constants_have_the_core_models_values(model):
    core = load_model(MODEL.with_name("kissinger_core.mdl"))
    mine = run(model, variables=SHARED_WITH_CORE, engine="engine").isel(scenario=0, time=0)
    theirs = run(core, variables=SHARED_WITH_CORE, engine="engine").isel(scenario=0, time=0)
    differ = {name: (float(mine[model.resolve(name)]), float(theirs[core.resolve(name)]))
              for name in SHARED_WITH_CORE if float(mine[model.resolve(name)]) != float(theirs[core.resolve(name)])}
    assert differ == {}, f"four-orders vs core values: {differ}"


def test_shares_sum_to_one_every_time_step_in_every_scenario(model):
    names = list(model.scenarios)
    every_step = _with_time(model, names, saveper=model.time.time_step)
    ds = run(
        every_step, scenarios=names, variables=["Adherence Share", "Concentration"], engine="engine"
    )
    assert ds.sizes["time"] == round(model.time.final_time / model.time.time_step) + 1
    shares = ds[SHARES]
    np.testing.assert_allclose(shares.sum("Order"), 1.0, rtol=0, atol=1e-9)
    assert float(shares.min()) >= 0.0
    concentration = ds["concentration"]
    assert float(concentration.min()) >= 0.25 - 1e-12
    assert float(concentration.max()) <= 1.0 + 1e-12


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_shares_conserved_for_random_parameters(model, seed):
    rng = np.random.default_rng(seed)
    coalition = rng.uniform(0, 1, (4, 4))
    overrides = {
        "initial adherence share": rng.uniform(0.01, 1, 4).tolist(),
        "supremacy claim": rng.uniform(0, 1, 4).tolist(),
        "coalition": ((coalition + coalition.T) / 2).tolist(),
        "recognition threshold": float(rng.uniform(0, 0.5)),
        "choice intensity": float(rng.uniform(1, 10)),
        "leader share decline rate": float(rng.uniform(0, 0.03)),
        "climate pressure": float(rng.uniform(0, 0.6)),
    }
    ds = run(
        model,
        scenarios=["declining_leader"],
        set=overrides,
        variables=["Adherence Share", "Concentration", "Institutional Authority", "Restraint"],
        engine="engine",
    )
    np.testing.assert_allclose(ds[SHARES].sum("Order"), 1.0, rtol=0, atol=1e-9)
    assert float(ds["concentration"].min()) >= 0.25 - 1e-12
    for name in ["institutional_authority", "restraint"]:
        values = ds[name].to_numpy()
        assert np.isfinite(values).all(), name
        assert values.min() >= 0.0, name
        assert values.max() <= 1.0, name


@pytest.fixture(scope="module")
def results(model):
    checks = load_checks(checks_path_for(MODEL))
    return run_checks(model, checks, engine="engine")


def test_checks_cover_rm6_and_rm7(results):
    assert {r.mode for r in results} == {"RM6", "RM7"}


def test_reference_modes_reproduce(results):
    assert unexpected_failures(results) == []


def test_xfail_checks_still_fail(results):
    assert unexpected_passes(results) == []


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ('"initial adherence share" = [0.5, 0.2, 0.2, 0.2]', "add up to 1.1, not 1"),
        ('"initial adherence share[liberal]" = 0.5', "add up to 0.72, not 1"),
    ],
)
def test_shares_that_do_not_sum_to_one_are_refused(tmp_path, values, expected):
    import shutil

    from sdkit.errors import ScenarioError
    from sdkit.model import load_model

    shutil.copy(MODEL, tmp_path / MODEL.name)
    text = MODEL.with_name("four_orders.scenarios.toml").read_text(encoding="utf-8")
    text += f'\n[bad_shares]\ndescription = "shares off"\n[bad_shares.parameters]\n{values}\n'
    (tmp_path / "four_orders.scenarios.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError, match=f"scenario 'bad_shares'.*{expected}"):
        load_model(tmp_path / MODEL.name)
