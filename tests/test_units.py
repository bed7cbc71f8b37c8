"""The units check: `sdkit.units.check_units` and `sdkit check --units`."""

from __future__ import annotations

from pathlib import Path

import pytest

from sdkit.cli import main
from sdkit.errors import UnitsError
from sdkit.model import load_model
from sdkit.units import Units, check_units

ROOT = Path(__file__).parent.parent
DATA = Path(__file__).parent / "data"

CONTROL = """
FINAL TIME = 10 ~ Year ~|
INITIAL TIME = 0 ~ Year ~|
TIME STEP = 0.5 ~ Year [0,?] ~|
SAVEPER = 1 ~ Year [0,?] ~|
"""

CONSISTENT = """{UTF-8}
Inventory = INTEG(production - shipments, 100) ~ widgets [0,?] ~|
production = MAX(0, desired inventory - Inventory) / adjustment time ~ widgets/Year ~|
shipments = Inventory * shipment fraction * SMOOTH(pressure, adjustment time) ~ widgets/Year ~|
pressure = MIN(1, EXP(-Inventory / desired inventory)) + effect(Time / adjustment time) ~ Dmnl ~|
effect([(0,0)-(10,1)],(0,1),(10,0.5)) ~ Dmnl ~|
desired inventory = 80 ~ widgets [0,1000] ~|
adjustment time = 4 ~ Years [1,10] ~|
shipment fraction = 0.1 ~ 1/Year [0,1] ~|
price = cost * (1 + margin) ~ $/(person*Year) ~|
cost = 3 ~ $/(Person*year) ~|
margin = 0.2 ~ Dmnl [0,1] ~|
""" + CONTROL


def write(tmp_path: Path, text: str, name: str = "m.mdl") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_consistent_model_passes(tmp_path):
    report = check_units(load_model(write(tmp_path, CONSISTENT)))
    assert report.problems == []
    assert report.time_unit == "Year"
    assert {"Inventory", "production", "shipments", "pressure", "price"} <= set(report.checked)


@pytest.mark.parametrize("model", ["kissinger_core", "four_orders"])
def test_the_shipped_models_pass_with_no_exception_list(model, capsys):
    assert main(["check", "--units", str(ROOT / "models" / f"{model}.mdl")]) == 0
    out = capsys.readouterr().out
    assert "all consistent" in out
    assert "time unit Year" in out


def test_a_rate_with_wrong_units_names_both_sides(tmp_path, capsys):
    text = CONSISTENT.replace("/ adjustment time ~ widgets/Year", "* adjustment time ~ widgets/Year")
    path = write(tmp_path, text)
    [problem] = check_units(load_model(path)).problems
    assert problem.variable == "production"
    assert problem.line == 3
    assert (problem.left, problem.right) == ("widgets/Year", "widgets*Year")
    assert "Year^2" in problem.fix
    assert main(["check", "--units", str(path)]) == 1
    out = capsys.readouterr().out
    assert "1 inconsistent" in out
    assert "production" in out
    assert "widgets/Year" in out


def test_a_stock_whose_flows_are_not_per_time_unit_is_flagged(tmp_path):
    text = "Stock = INTEG(inflow, 0) ~ widgets ~|\ninflow = 5 * Stock ~ widgets ~|\n" + CONTROL
    [problem] = check_units(load_model(write(tmp_path, text))).problems
    assert (problem.variable, problem.left, problem.right) == ("Stock", "widgets/Year", "widgets")
    assert "need widgets/Year" in problem.fix


def test_flows_of_different_units_are_flagged_where_they_meet(tmp_path):
    text = CONSISTENT.replace("/ adjustment time ~ widgets/Year", "~ widgets")
    [problem] = check_units(load_model(write(tmp_path, text))).problems
    assert (problem.variable, problem.where) == ("Inventory", "production - shipments")
    assert (problem.left, problem.right) == ("widgets", "widgets/Year")


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("desired inventory - Inventory", "desired inventory - shipment fraction", "desired inventory - shipment fraction"),
        ("EXP(-Inventory / desired inventory)", "EXP(-Inventory)", "EXP(-Inventory)"),
        ("SMOOTH(pressure, adjustment time)", "SMOOTH(pressure, desired inventory)", "SMOOTH"),
    ],
)
def test_sums_functions_and_delays_need_their_units(tmp_path, old, new, where):
    problems = check_units(load_model(write(tmp_path, CONSISTENT.replace(old, new)))).problems
    assert problems, new
    assert where in problems[0].where


def test_numbers_take_whatever_units_fit(tmp_path):
    text = CONSISTENT.replace("shipments = Inventory * shipment fraction *", "shipments = Inventory / 10 *")
    assert check_units(load_model(write(tmp_path, text))).problems == []


def test_a_time_unit_other_than_the_models_is_flagged(tmp_path):
    text = CONSISTENT.replace("adjustment time = 4 ~ Years", "adjustment time = 4 ~ Month")
    variables = {p.variable for p in check_units(load_model(write(tmp_path, text))).problems}
    assert {"production", "shipments"} <= variables


def test_an_unparsable_units_string_is_a_one_line_error(tmp_path, capsys):
    path = write(tmp_path, CONSISTENT.replace("~ widgets [0,1000]", "~ widgets/(Year [0,1000]"))
    with pytest.raises(UnitsError, match=r"'desired inventory' \(line 7\), 'widgets/\(Year', do not parse"):
        check_units(load_model(path))
    assert main(["check", "--units", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "desired inventory" in err
    assert "widgets/Year" in err


@pytest.mark.parametrize(
    ("text", "shown"),
    [("Dmnl", "Dmnl"), ("dimensionless", "Dmnl"), ("1", "Dmnl"), ("1/Year", "1/Year"),
     ("widgets/Year", "widgets/Year"), ("$/(person*Year)", "$/(person*Year)"), ("Year^2", "Year^2"),
     ("Years", "Year"), ("tons of CO2/Year", "tons of CO2/Year")],
)
def test_units_strings_read_as_vensim_writes_them(text, shown):
    units = Units()
    units.parse("Year")  # the first spelling met is the one shown
    assert units.text(units.parse(text)) == shown


@pytest.mark.parametrize("text", ["widgets//Year", "(Year", "Year^x", "*", "Year)", "widgets % Year"])
def test_malformed_units_strings_raise(text):
    with pytest.raises(ValueError, match="unexpected|followed by a number|not closed|ends after"):
        Units().parse(text)


def test_plain_check_prints_the_units_findings(tmp_path, capsys):
    for suffix in (".mdl", ".scenarios.toml", ".checks.toml"):
        (tmp_path / f"checks_demo{suffix}").write_bytes((DATA / f"checks_demo{suffix}").read_bytes())
    model = tmp_path / "checks_demo.mdl"
    assert main(["check", str(model)]) == 0
    assert "units: " in capsys.readouterr().out
    text = model.read_text(encoding="utf-8")
    model.write_text(text.replace("1/Year [0.1,2]", "Year [0.1,2]", 1), encoding="utf-8")
    assert main(["check", str(model)]) == 1
    assert "inconsistent" in capsys.readouterr().out


def test_units_refuses_other_check_options(capsys):
    assert main(["check", "--units", str(DATA / "decay.mdl"), "--dt-check"]) == 2
    assert "--units runs only the units check" in capsys.readouterr().err


def test_a_literal_exponent_gives_its_power_and_an_overflowing_one_is_no_crash(tmp_path):
    text = "side = area ^ (1/2) ~ m ~|\narea = 4 ~ m*m ~|\nhuge = area ^ (10^400) ~ m ~|\n" + CONTROL
    [problem] = check_units(load_model(write(tmp_path, text))).problems
    assert (problem.variable, problem.right) == ("huge", "m^2")
    assert "variable power" in problem.fix
