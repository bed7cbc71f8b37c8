"""`sdkit check` on a model: per-check set, param, knockouts, margins, dt invariance, robustness."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from sdkit.check_robust import (
    CSV_COLUMNS,
    draw_constants,
    robust_checks,
    scenario_levers,
    write_robust_csv,
)
from sdkit.check_runs import dt_differences, half_step_model, run_checks, run_knockouts
from sdkit.checks import Check, margin, read_check_file
from sdkit.cli import main
from sdkit.model import load_model
from sdkit.report import checks_table, distinct
from sdkit.run import run

DEMO = "checks_demo"


@pytest.fixture
def demo(model_copy) -> Path:
    """tests/data/checks_demo.mdl with its scenarios and checks, in a private folder."""
    return model_copy(DEMO)


def cli(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def add_to_checks(path: Path, text: str) -> None:
    checks = path.with_name(f"{DEMO}.checks.toml")
    checks.write_text(checks.read_text() + text, encoding="utf-8")


def test_shipped_demo_checks_and_knockout_pass(capsys, demo):
    code, out, _ = cli(capsys, "check", demo)
    assert code == 0, out
    assert "1 of 1 mechanism tests pass" in out
    assert "reference modes no knockout covers: L, X" in out
    model = load_model(demo)
    suite = read_check_file(demo.with_name(f"{DEMO}.checks.toml"))
    baseline = run_checks(model, suite.checks)
    [knocked] = run_knockouts(model, suite, baseline)
    assert knocked.passed
    [bounded] = knocked.results
    # with crowding off the stock grows past its capacity: the excursion above it is positive
    assert bounded.value > 0
    assert not bounded.passed
    assert bounded.overrides == {"crowding": 0}


def test_knockout_whose_checks_still_pass_fails_the_command(capsys, demo):
    add_to_checks(demo, """
[[knockout]]
id = "KO.longer-life"
description = "a longer lifetime does not remove the bound"
set = { lifetime = 12 }
must_fail = ["G.bounded", "G.equilibrium"]
""")
    code, out, _ = cli(capsys, "check", demo)
    assert code == 1
    assert "KO.longer-life: FAIL" in out
    assert "1 of 2 mechanism tests pass" in out
    assert "still passes" in out


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[knockout]]\nid = "KO.x"\ndescription = "x"\nset = { "no such constant" = 1 }\nmust_fail = ["G.bounded"]\n',
         "knockout 'KO.x': set: model checks_demo.mdl has no variable 'no such constant'"),
        ('[[knockout]]\nid = "KO.x"\ndescription = "x"\nset = { crowding = 0 }\nmust_fail = ["G.nope"]\n',
         "knockout 'KO.x': must_fail names unknown check(s) ['G.nope']"),
        ('[[knockout]]\nid = "KO.x"\ndescription = "x"\nset = { Stock = 0 }\nmust_fail = ["G.bounded"]\n',
         "knockout 'KO.x': set: 'Stock' is a stock, not a constant"),
        ('[[check]]\nid = "Y.x"\nmode = "Y"\nscenario = "base"\ndescription = "x"\nset = { nonsense = 1 }\n'
         'measure = 1\nop = "<"\nthan = 2\n',
         "check 'Y.x': set: model checks_demo.mdl has no variable 'nonsense'"),
    ],
)
def test_unknown_names_are_one_line_errors(capsys, demo, text, message):
    add_to_checks(demo, "\n" + text)
    code, out, err = cli(capsys, "check", demo)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_param_reads_the_constant_of_the_run(demo):
    model = load_model(demo)
    read = {"fn": "param", "name": "lifetime"}
    checks = [
        Check("P.file", "P", "base", "x", read, "<", 100.0),
        Check("P.scenario", "P", "short_life", "x", read, "<", 100.0),
        Check("P.set", "P", "short_life", "x", read, "<", 100.0, overrides={"lifetime": 7.5}),
    ]
    assert [r.value for r in run_checks(model, checks)] == [10.0, 4.0, 7.5]


def test_check_set_changes_its_run_only(demo):
    model = load_model(demo)
    final = {"fn": "final", "var": "Stock"}
    plain, crowded = run_checks(model, [
        Check("S.plain", "S", "base", "x", final, ">", 0.0),
        Check("S.set", "S", "base", "x", final, ">", 0.0, overrides={"capacity": 50}),
    ])
    # equilibrium capacity * (1 - 1 / (growth rate * lifetime)) = 0.8 capacity
    assert plain.value == pytest.approx(80.0, rel=1e-3)
    assert crowded.value == pytest.approx(40.0, rel=1e-3)


def test_non_finite_run_fails_its_checks_with_a_note(demo):
    model = load_model(demo)
    broken = Check("N.x", "N", "base", "x", {"fn": "max", "var": "Stock"}, "<", 1e9, overrides={"lifetime": 0})
    fine = Check("N.ok", "N", "base", "x", {"fn": "max", "var": "Stock"}, "<", 1e9)
    bad, good = run_checks(model, [broken, fine])
    assert not bad.passed
    assert np.isnan(bad.value)
    assert "not finite" in bad.note
    assert good.passed


# ---------------------------------------------------------------------------- margins


def test_margins_are_signed_by_the_operator():
    assert margin(">", 3.0, 1.0) == 2.0
    assert margin(">=", 1.0, 3.0) == -2.0
    assert margin("<", 3.0, 1.0) == -2.0
    assert margin("<=", 1.0, 3.0) == 2.0


@pytest.mark.parametrize(
    ("value", "threshold"),
    [(2012.5, 2012.0), (0.1 + 0.2, 0.3), (1.0000001, 1.0), (-3.25e-9, -3.2e-9)],
)
def test_unequal_numbers_never_print_alike(value, threshold):
    a, b = distinct(value, threshold)
    assert a != b
    assert float(a) == pytest.approx(value, rel=1e-6)
    assert float(b) == pytest.approx(threshold, rel=1e-6)


def test_failing_line_shows_measured_threshold_and_margin(demo):
    model = load_model(demo)
    check = Check("F.late", "F", "base", "x", {"fn": "first_above", "var": "Stock", "level": 50}, "<=", 0.0)
    [result] = run_checks(model, [check])
    line = checks_table([result]).splitlines()[-1].split()
    assert line[0] == "F.late"
    assert line[-1] == "FAIL"
    measured, op, threshold, margin = line[2:6]
    assert (float(measured), op, float(threshold)) == (pytest.approx(result.value, rel=1e-5), "<=", 0.0)
    assert margin.startswith("-")
    assert float(margin) == pytest.approx(-result.value, rel=1e-3)


# ---------------------------------------------------------------------------- dt check


def test_dt_check_reports_a_verdict_that_depends_on_the_time_step(capsys, demo):
    model = load_model(demo)
    measure = {"fn": "at", "var": "Stock", "time": 5}
    coarse = run(model, scenarios=["base"], variables=["Stock"]).stock.sel(time=5).item()
    fine = run(half_step_model(model), scenarios=["base"], variables=["Stock"]).stock.sel(time=5).item()
    assert coarse != fine
    middle = (coarse + fine) / 2
    checks = [Check("D.split", "D", "base", "x", measure, "<", middle),
              Check("D.robust", "D", "base", "x", measure, "<", 1000.0)]
    results = run_checks(model, checks)
    [(at_dt, at_half)] = dt_differences(model, checks, results)
    assert at_dt.id == "D.split"
    assert at_dt.passed != at_half.passed
    add_to_checks(demo, f"""
[[check]]
id = "D.split"
mode = "D"
scenario = "base"
description = "between the values at dt and dt/2"
measure = {{ fn = "at", var = "Stock", time = 5 }}
op = "<"
than = {middle!r}
""")
    code, out, _ = cli(capsys, "check", demo, "--dt-check")
    assert code == 1
    assert "1 verdict(s) change when TIME STEP is halved" in out
    assert "D.split" in out.split("TIME STEP is halved")[1]


def test_dt_check_passes_when_verdicts_agree(capsys, demo):
    code, out, _ = cli(capsys, "check", demo, "--dt-check")
    assert code == 0
    assert "every verdict is the same at TIME STEP and at TIME STEP/2" in out


# ---------------------------------------------------------------------------- robust


def test_levers_are_not_perturbed_and_ranges_hold(demo):
    model = load_model(demo)
    # lifetime: set by a scenario; initial stock: listed in [_rules] levers
    assert scenario_levers(model) == {"lifetime", "initial_stock"}
    table = draw_constants(model, draws=200, spread=0.3, seed=1)
    assert sorted(table.columns) == ["capacity", "crowding", "growth rate"]
    assert table["crowding"].max() == 1.0  # clipped to its range [0,1]
    assert table["capacity"].between(70, 130).all()
    assert table["capacity"].std() > 5


def test_robust_is_deterministic_and_writes_the_columns(tmp_path, demo):
    model = load_model(demo)
    checks = read_check_file(demo.with_name(f"{DEMO}.checks.toml")).checks
    paths = []
    for name, seed in (("a.csv", 5), ("b.csv", 5), ("c.csv", 6)):
        report = robust_checks(model, checks, draws=12, spread=0.2, seed=seed)
        paths.append(write_robust_csv(report, tmp_path / name)[0])
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert paths[0].read_bytes() != paths[2].read_bytes()
    rows = list(csv.DictReader(paths[0].open()))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [r["check"] for r in rows] == [c.id for c in checks] + ["*", "*", "*"]
    assert [r["mode"] for r in rows if r["check"] == "*"] == ["G", "L", "X"]
    rates = {r["check"]: float(r["pass_rate"]) for r in rows if r["check"] != "*"}
    assert all(0 <= rate <= 1 for rate in rates.values())
    sidecar = (tmp_path / "a.csv.json").read_text()
    assert model.sha256 in sidecar
    assert '"seed": 5' in sidecar
    assert '"draws": 12' in sidecar


def test_robust_mode_passes_only_when_all_its_checks_pass_in_the_same_draw(demo):
    model = load_model(demo)
    checks = read_check_file(demo.with_name(f"{DEMO}.checks.toml")).checks
    report = robust_checks(model, checks, draws=40, spread=0.3, seed=2)
    both = report.passed["G.bounded"] & report.passed["G.equilibrium"]
    assert report.mode_rates()["G"] == both.mean()
    assert both.mean() < min(report.passed["G.bounded"].mean(), report.passed["G.equilibrium"].mean())


def test_robust_counts_non_finite_draws_as_failures(demo):
    model = load_model(demo)
    broken = Check("N.x", "N", "base", "x", {"fn": "max", "var": "Stock"}, "<", 1e9, overrides={"lifetime": 0})
    report = robust_checks(model, [broken], draws=5, spread=0.1, seed=0)
    assert not report.passed["N.x"].any()
    assert report.check_rows() == [("N.x", "N", 0.0, -np.inf)]


def test_robust_command_prints_rates_and_writes_csv(capsys, demo, tmp_path):
    out_file = tmp_path / "robust.csv"
    code, out, err = cli(capsys, "check", demo, "--robust", 8, "--spread", 0.1, "--seed", 3, "--out", out_file)
    assert code == 0
    assert "8 draws" in out
    assert "pass rate" in out
    assert out_file.exists()
    code, _, err = cli(capsys, "check", demo, "--robust", 8, "--spread", 1.5)
    assert code == 2
    assert "--spread must be between 0 and 1" in err


def test_robust_out_file_is_not_overwritten_without_force(capsys, demo, tmp_path):
    out_file = tmp_path / "robust.csv"
    out_file.write_text("keep me")
    code, _, err = cli(capsys, "check", demo, "--robust", 4, "--out", out_file)
    assert code == 2
    assert "already exists" in err
    assert out_file.read_text() == "keep me"


def test_unknown_lever_is_a_scenario_error(capsys, demo):
    scenarios = demo.with_name(f"{DEMO}.scenarios.toml")
    scenarios.write_text(scenarios.read_text().replace('levers = ["initial stock"]', 'levers = ["initial stack"]'))
    code, _, err = cli(capsys, "check", demo)
    assert code == 2
    assert "levers" in err
    assert "'initial stack'" in err


def test_margin_moves_lists_same_verdicts_whose_margin_shifts():
    from sdkit.check_runs import margin_moves
    from sdkit.checks import CheckResult

    def result(value: float) -> CheckResult:
        return CheckResult("M", "M", "s", "x", value, "<", 0.0, value < 0.0, None)

    pairs = [(result(-35.0), result(-6.5)), (result(-35.0), result(-30.0)), (result(-1.0), result(1.0))]
    assert margin_moves(pairs) == [pairs[0]]


def test_reference_mode_figures_leave_out_checks_measured_on_other_runs(demo, tmp_path):
    from sdkit.figures import figure_reference_modes
    from sdkit.plot.checks import _plan

    model = load_model(demo)
    checks = [*read_check_file(demo.with_name(f"{DEMO}.checks.toml")).checks,
              Check("G.low-capacity", "G", "base", "x", {"fn": "final", "var": "Stock"}, ">", 0.0, overrides={"capacity": 50})]
    results = run_checks(model, checks)
    dataset = run(model, scenarios=["base", "short_life"])
    plan = _plan(dataset, results, "G", checks, None)
    assert [r.id for r in plan.results] == ["G.bounded", "G.equilibrium", "G.low-capacity"]  # all count
    assert [m.result.id for m in plan.marks] == ["G.bounded", "G.equilibrium"]  # drawn: those of runs drawn
    written = figure_reference_modes(dataset, results, checks, tmp_path, "modes", {})
    # mode X has only a check with set: no figure of a run it was not measured on
    assert sorted({p.stem for p in written}) == ["modes-g", "modes-l"]


def test_plot_command_reads_constants_a_result_ran_with(capsys, demo, tmp_path):
    import xarray as xr

    from sdkit.plot.cli import _constants

    out_file = tmp_path / "run.nc"
    code, _, _ = cli(capsys, "run", demo, "--scenario", "short_life", "--set", "capacity=60", "--out", out_file)
    assert code == 0
    lookup = _constants(xr.load_dataset(out_file))
    assert lookup("capacity", "short_life") == 60.0  # from --set, recorded in the result
    assert lookup("lifetime", "short_life") == 4.0  # from the scenario
    assert lookup("growth rate", "short_life") == 0.5  # the model file's value


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--out", "x.csv"], "--out writes the table of --robust"),
        (["--robust", "3", "--dt-check"], "give --robust or --dt-check, not both"),
        (["--robust", "0"], "--robust must be at least 1"),
    ],
)
def test_check_flags_that_do_not_go_together(capsys, demo, argv, message):
    code, _, err = cli(capsys, "check", demo, *argv)
    assert code == 2
    assert message in err


def test_negative_zero_prints_as_zero():
    from sdkit.report import signed

    assert distinct(-0.0, 0.0) == ("0", "0")
    assert signed(-0.0) == "+0"
