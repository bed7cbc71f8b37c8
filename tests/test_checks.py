"""The reference-mode check vocabulary on small datasets with known answers."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from sdkit.checks import (
    Check,
    checks_path_for,
    evaluate,
    evaluate_batch,
    load_checks,
    read_check_file,
    scenarios_needed,
)
from sdkit.errors import CheckError

TIME = np.arange(0.0, 10.5, 0.5)  # 0, 0.5, ..., 10


@pytest.fixture
def dataset() -> xr.Dataset:
    """Two scenarios of a linear ramp t/10 and a decay exp(-t/2); scenario "b" doubles both."""
    ramp = TIME / 10.0
    decay = np.exp(-TIME / 2.0)
    ds = xr.Dataset(
        {
            "ramp_level": (("scenario", "time"), np.stack([ramp, 2 * ramp])),
            "decay": (("scenario", "time"), np.stack([decay, 2 * decay])),
        },
        coords={"scenario": ["a", "b"], "time": TIME},
    )
    ds["ramp_level"].attrs["long_name"] = "Ramp Level"
    ds["decay"].attrs["long_name"] = "Decay"
    return ds


def value(dataset: xr.Dataset, measure, scenario: str = "a") -> float:
    check = Check("t", "T", scenario, "test", measure, "<", 0.0)
    return evaluate([check], dataset)[0].value


@pytest.mark.parametrize(
    ("measure", "expected"),
    [
        ({"fn": "initial", "var": "Ramp Level"}, 0.0),
        ({"fn": "final", "var": "ramp_level"}, 1.0),
        ({"fn": "min", "var": "Decay"}, math.exp(-5.0)),
        ({"fn": "max", "var": "Decay"}, 1.0),
        ({"fn": "mean", "var": "Ramp Level"}, 0.5),
        ({"fn": "mean", "var": "Ramp Level", "window": [2, 4]}, 0.3),
        ({"fn": "max", "var": "Ramp Level", "window": [2, 4]}, 0.4),
        ({"fn": "at", "var": "Ramp Level", "time": 3.25}, 0.325),
        ({"fn": "value_at_time_of", "var": "Decay", "time": 2}, math.exp(-1.0)),
        ({"fn": "time_of_max", "var": "Ramp Level"}, 10.0),
        ({"fn": "time_of_min", "var": "Ramp Level", "window": [3, 7]}, 3.0),
        ({"fn": "time_of_max", "var": "Decay"}, 0.0),
        # crossing times interpolate linearly between samples
        ({"fn": "first_above", "var": "Ramp Level", "level": 0.25}, 2.5),
        ({"fn": "first_above", "var": "Ramp Level", "level": 0.33}, 3.3),
        ({"fn": "first_above", "var": "Ramp Level", "level": 0.1, "after": 6}, 6.0),
        ({"fn": "first_below", "var": "Decay", "level": math.exp(-2.0)}, 4.0 + 0.0),
        ({"fn": "years_below", "var": "Ramp Level", "level": 0.3}, 3.0),
        ({"fn": "years_above", "var": "Ramp Level", "level": 0.3}, 7.0),
        ({"fn": "years_above", "var": "Ramp Level", "level": 0.3, "window": [0, 5]}, 2.0),
        ({"fn": "years_above", "var": "Ramp Level", "level": 0.32}, 6.8),
        ({"fn": "years_below", "var": "Ramp Level", "level": 0.32}, 3.2),
        ({"fn": "diff", "a": 3, "b": {"fn": "final", "var": "Ramp Level"}}, 2.0),
        ({"fn": "ratio", "a": {"fn": "at", "var": "Ramp Level", "time": 5}, "b": 0.25}, 2.0),
        ({"fn": "abs", "of": {"fn": "diff", "a": 1, "b": 4}}, 3.0),
        # excursion: max(lo - x, x - hi); the ramp runs 0..1
        ({"fn": "excursion", "var": "Ramp Level", "lo": 0, "hi": 0.5}, 0.5),
        ({"fn": "excursion", "var": "Ramp Level", "lo": -1, "hi": 2}, -1.0),
        ({"fn": "excursion", "var": "Ramp Level", "lo": 0.2}, 0.2),
        ({"fn": "excursion", "var": "Ramp Level", "hi": 0.7, "window": [0, 5]}, -0.2),
        # a measure may read another scenario of the same dataset
        ({"fn": "final", "var": "Ramp Level", "scenario": "b"}, 2.0),
        # window bounds may be measures
        (
            {
                "fn": "max",
                "var": "Decay",
                "window": [{"fn": "first_above", "var": "Ramp Level", "level": 0.5}, 10],
            },
            math.exp(-2.5),
        ),
    ],
)
def test_measure_known_answers(dataset, measure, expected):
    assert value(dataset, measure) == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_first_below_interpolates_between_samples(dataset):
    # exp(-t/2) crosses 0.5 at t = 2 ln 2 = 1.386; linear interpolation between 1.0 and 1.5
    x0, x1 = math.exp(-0.5), math.exp(-0.75)
    expected = 1.0 + (0.5 - x0) * 0.5 / (x1 - x0)
    got = value(dataset, {"fn": "first_below", "var": "Decay", "level": 0.5})
    assert got == pytest.approx(expected)
    assert abs(got - 2 * math.log(2)) < 0.02


def test_settling_time_of_exponential_decay(dataset):
    atol, tol = 0.01, 0.05
    measure = {"fn": "settling_time", "vars": ["Decay"], "tolerance": tol, "atol": atol, "after": 0}
    reference = math.exp(-5.0)
    # |exp(-t/2) - ref| <= tol*ref + atol from t* on; settled at the first sample at or after t*
    t_star = -2.0 * math.log(reference + tol * reference + atol)
    expected = TIME[TIME >= t_star][0]
    assert value(dataset, measure) == pytest.approx(expected)


def test_settling_time_is_zero_for_a_settled_series(dataset):
    measure = {"fn": "settling_time", "vars": ["Ramp Level"], "tolerance": 0.05, "after": 10}
    assert value(dataset, measure) == 0.0


def test_settling_time_takes_the_slowest_variable(dataset):
    decay_only = {
        "fn": "settling_time",
        "vars": ["Decay"],
        "tolerance": 0.05,
        "atol": 0.01,
        "after": 0,
    }
    both = dict(decay_only, vars=["Decay", "Ramp Level"])
    # the ramp enters the band |x - 1| <= 0.06 only at t > 9.4: settled at the sample t = 9.5
    assert value(dataset, both) == 9.5
    assert value(dataset, both) > value(dataset, decay_only)


def test_never_crossed_level_is_nan_and_fails(dataset):
    measure = {"fn": "first_below", "var": "Ramp Level", "level": -1}
    check = Check("never", "T", "a", "never crosses", measure, "<", 100.0)
    result = evaluate([check], dataset)[0]
    assert math.isnan(result.value)
    assert result.passed is False


@pytest.mark.parametrize(("op", "passed"), [("<", False), ("<=", True), (">", False), (">=", True)])
def test_operators(dataset, op, passed):
    check = Check("op", "T", "a", "final ramp vs 1", {"fn": "final", "var": "Ramp Level"}, op, 1.0)
    assert evaluate([check], dataset)[0].passed is passed


def test_threshold_may_be_a_measure(dataset):
    check = Check(
        "cross",
        "T",
        "a",
        "ramp in a below ramp in b",
        {"fn": "final", "var": "Ramp Level"},
        "<",
        {"fn": "final", "var": "Ramp Level", "scenario": "b"},
    )
    result = evaluate([check], dataset)[0]
    assert (result.value, result.threshold, result.passed) == (1.0, 2.0, True)


def test_nan_padding_of_shorter_runs_is_ignored(dataset):
    ds = dataset.copy(deep=True)
    ds["ramp_level"].loc[{"scenario": "b", "time": TIME[TIME > 5]}] = np.nan
    assert value(ds, {"fn": "final", "var": "Ramp Level"}, scenario="b") == pytest.approx(1.0)


# ----------------------------------------------------------------------- files and errors

GOOD = """
[[check]]
id = "T.one"
mode = "T"
scenario = "a"
description = "ramp ends at 1"
measure = { fn = "final", var = "Ramp Level" }
op = ">="
than = 1
xfail = "just testing"

[[check]]
id = "T.two"
mode = "T"
scenario = "b"
description = "uses a"
measure = { fn = "diff", a = { fn = "final", var = "Decay", scenario = "c" }, b = 0 }
op = "<"
than = { fn = "max", var = "Decay", scenario = "a" }
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "m.checks.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_load_checks_and_scenarios_needed(tmp_path):
    checks = load_checks(write(tmp_path, GOOD))
    assert [c.id for c in checks] == ["T.one", "T.two"]
    assert checks[0].xfail == "just testing"
    assert checks[1].xfail is None
    assert scenarios_needed(checks) == ["a", "b", "c"]


def test_evaluate_returns_results_in_order(tmp_path, dataset):
    checks = load_checks(write(tmp_path, GOOD))[:1]
    (result,) = evaluate(checks, dataset)
    assert (result.id, result.mode, result.scenario, result.op) == ("T.one", "T", "a", ">=")
    assert (result.value, result.threshold, result.passed, result.xfail) == (
        1.0,
        1.0,
        True,
        "just testing",
    )


def test_checks_path_for():
    assert checks_path_for("models/x.mdl") == Path("models/x.checks.toml")


def replace(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new, 1)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (replace('fn = "final"', 'fn = "median"'), r"T\.one.*unknown fn 'median'"),
        (replace('op = ">="', 'op = "=="'), r"T\.one.*unknown op"),
        (replace('mode = "T"\n', ""), r"T\.one.*missing key 'mode'"),
        (replace("than = 1\n", ""), r"T\.one.*missing key 'than'"),
        (
            replace('fn = "final", var = "Ramp Level"', 'fn = "final"'),
            r"T\.one.*needs key\(s\) \['var'\]",
        ),
        (
            replace('var = "Ramp Level" }', 'var = "Ramp Level", level = 2 }'),
            r"T\.one.*does not take",
        ),
        (replace('xfail = "just testing"', 'colour = "red"'), r"T\.one.*unknown key"),
        (replace('id = "T.two"', 'id = "T.one"'), r"duplicate check id 'T\.one'"),
        (replace("than = 1\n", 'than = "one"\n'), r"T\.one.*number or a measure table"),
        (replace("than = 1\n", "than = true\n"), r"T\.one.*boolean"),
        (
            replace('{ fn = "final", var = "Ramp Level" }', '{ var = "Ramp Level" }'),
            r"T\.one.*no 'fn'",
        ),
        ("[[check]\n", r"not valid TOML"),
        ("title = 'x'\n", r"unknown top-level key"),
    ],
)
def test_malformed_checks_raise(tmp_path, text, match):
    path = write(tmp_path, text)
    with pytest.raises(CheckError, match=match):
        load_checks(path)


def test_missing_file_raises(tmp_path):
    missing = tmp_path / "absent.checks.toml"
    with pytest.raises(CheckError, match="cannot read checks file"):
        load_checks(missing)


def test_unknown_variable_raises(dataset):
    check = Check("T.var", "T", "a", "x", {"fn": "final", "var": "Nonsense"}, "<", 1.0)
    with pytest.raises(CheckError, match=r"T\.var.*unknown variable 'Nonsense'"):
        evaluate([check], dataset)


def test_scenario_missing_from_dataset_raises(dataset):
    check = Check("T.sc", "T", "zzz", "x", {"fn": "final", "var": "Decay"}, "<", 1.0)
    with pytest.raises(CheckError, match=r"T\.sc.*scenario 'zzz'"):
        evaluate([check], dataset)


def test_checks_built_in_code_are_validated(dataset):
    check = Check("T.code", "T", "a", "x", {"fn": "__init__", "var": "Decay"}, "<", 1.0)
    with pytest.raises(CheckError, match=r"T\.code.*unknown fn '__init__'"):
        evaluate([check], dataset)


def test_param_needs_the_constants(dataset):
    check = Check("T.p", "T", "a", "x", {"fn": "param", "name": "k"}, "<", 1.0)
    with pytest.raises(CheckError, match=r"T\.p.*'param' needs the model's constants"):
        evaluate([check], dataset)
    [result] = evaluate([check], dataset, constants=lambda name, scenario: 0.25)
    assert (result.value, result.passed, result.margin) == (0.25, True, 0.75)


def test_excursion_needs_a_bound(tmp_path):
    path = write(tmp_path, replace('{ fn = "final", var = "Ramp Level" }', '{ fn = "excursion", var = "Ramp Level" }'))
    with pytest.raises(CheckError, match=r"T\.one.*'excursion' needs 'lo', 'hi' or both"):
        load_checks(path)


def test_knockouts_are_read_and_cover_modes(tmp_path):
    text = GOOD + """
[[knockout]]
id = "KO.a"
description = "switch a off"
set = { "a constant" = 0, "b[x]" = 1 }
must_fail = ["T.two"]
"""
    suite = read_check_file(write(tmp_path, text))
    [knockout] = suite.knockouts
    assert (knockout.id, knockout.overrides, knockout.must_fail) == ("KO.a", {"a constant": 0, "b[x]": 1}, ("T.two",))
    assert suite.modes_without_knockout() == []
    suite = read_check_file(write(tmp_path, text.replace('must_fail = ["T.two"]', 'must_fail = ["T.one"]')
                                  .replace('mode = "T"\nscenario = "b"', 'mode = "U"\nscenario = "b"')))
    assert suite.modes_without_knockout() == ["U"]


@pytest.mark.parametrize(
    ("knockout", "match"),
    [
        ('id = "KO.a"\ndescription = "d"\nset = { k = 0 }\n', r"KO\.a.*missing key 'must_fail'"),
        ('id = "KO.a"\ndescription = "d"\nset = {}\nmust_fail = ["T.one"]\n', r"KO\.a.*'set' is empty"),
        ('id = "KO.a"\ndescription = "d"\nset = { k = "x" }\nmust_fail = ["T.one"]\n', r"KO\.a.*must be a number"),
        ('id = "KO.a"\ndescription = "d"\nset = { k = 0 }\nmust_fail = []\n', r"KO\.a.*non-empty list"),
        ('id = "KO.a"\ndescription = "d"\nset = { k = 0 }\nmust_fail = ["T.zzz"]\n', r"KO\.a.*unknown check"),
        ('id = "T.one"\ndescription = "d"\nset = { k = 0 }\nmust_fail = ["T.two"]\n', r"duplicate check id 'T\.one'"),
        ('id = "KO.a"\ndescription = "d"\nset = { k = 0 }\nmust_fail = ["T.one"]\ncolour = 1\n', r"KO\.a.*unknown key"),
    ],
)
def test_malformed_knockouts_raise(tmp_path, knockout, match):
    with pytest.raises(CheckError, match=match):
        read_check_file(write(tmp_path, GOOD + "\n[[knockout]]\n" + knockout))


def test_check_set_is_read(tmp_path):
    checks = load_checks(write(tmp_path, replace('than = 1\n', 'than = 1\nset = { "a b" = 0.5 }\n')))
    assert checks[0].overrides == {"a b": 0.5}
    assert checks[1].overrides == {}


def test_batch_evaluation_gives_one_value_per_sample(dataset):
    batch = xr.concat([dataset, dataset * 2], dim="sample")
    for name in dataset.data_vars:
        batch[name].attrs = dataset[name].attrs
    check = Check("B", "T", "a", "x", {"fn": "first_above", "var": "Ramp Level", "level": 0.25}, "<", 2.0)
    [result] = evaluate_batch([check], batch)
    assert result.values == pytest.approx([2.5, 1.25])
    assert result.passed.tolist() == [False, True]
    assert result.margins == pytest.approx([-0.5, 0.75])
