"""Model variants: one scenarios and checks file for a base model and its variant
(``--scenarios FILE``, ``--checks FILE`` on run, ensemble, sweep and plot), and
several models side by side (``sdkit.compare``, ``sdkit run A.mdl B.mdl``)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import xarray as xr

import sdkit
from sdkit.cli import main
from sdkit.compare import model_provenance

#: A variant of tests/data/decay.mdl: a leak adds half again to the outflow.
LEAK = ("leak fraction = 0.5\n\t~\tDmnl [0,1]\n\t~\tShare of the outflow that leaks on top of decay.\n\t|\n\n"
        "leak flow = Stock / decay time * leak fraction\n\t~\twidgets/Year\n\t~\tThe leak.\n\t|\n\n")

CHECKS = '''
[[check]]
id = "S.slow-keeps-half"
mode = "S"
scenario = "slow"
description = "with slow decay more than half of the stock remains"
measure = { fn = "final", var = "Stock" }
op = ">"
than = 50

[[check]]
id = "S.long-residence"
mode = "S"
scenario = "slow"
description = "the residence time is long"
measure = { fn = "param", name = "decay time" }
op = ">"
than = 20

[[check]]
id = "F.fast-drains"
mode = "F"
scenario = "fast"
description = "with fast decay the stock drains"
measure = { fn = "final", var = "Stock" }
op = "<"
than = 1

[[check]]
id = "F.drains-even-when-doubled"
mode = "F"
scenario = "fast"
description = "set on top of the scenario: needs runs of its own"
set = { "initial stock" = 200 }
measure = { fn = "final", var = "Stock" }
op = "<"
than = 1
'''


def final_stock(decay_time, initial=100.0, leak=0.0):
    """Euler's final value of tests/data/decay.mdl: 160 steps of 0.125 years."""
    return initial * (1 - 0.125 * (1 + leak) / np.asarray(decay_time, dtype=float)) ** 160


@pytest.fixture
def variant(model_copy, tmp_path):
    """decay.mdl (with its scenarios), leaky.mdl (no scenarios of its own) and a shared checks file."""
    base = model_copy("decay")
    text = base.read_text(encoding="utf-8").replace("outflow = Stock / decay time", "outflow = Stock / decay time + leak flow")
    (tmp_path / "leaky.mdl").write_text(text.replace("decay time = 10", LEAK + "decay time = 10"), encoding="utf-8")
    scenarios = tmp_path / "leaky.shared.toml"
    scenarios.write_text(base.with_name("decay.scenarios.toml").read_text(encoding="utf-8")
                         + '\n[slow_tight]\nbase = "slow"\n[slow_tight.parameters]\n"leak fraction" = 0\n')
    (tmp_path / "shared.checks.toml").write_text(CHECKS, encoding="utf-8")
    return base, tmp_path / "leaky.mdl", base.with_name("decay.scenarios.toml"), tmp_path / "shared.checks.toml"


def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def row(stdout, check_id):
    return next(line for line in stdout.splitlines() if line.startswith(check_id + " "))


# ---------------------------------------------------------------- sdkit.compare, sdkit run A B


def test_compare_keeps_each_models_provenance_through_a_file(variant, tmp_path):
    base, leaky, scenarios, _ = variant
    ds = sdkit.compare([base, leaky], scenarios=["slow", "fast"], scenarios_file=scenarios)
    assert list(ds["model"].values) == ["decay", "leaky"]
    assert "model_file" not in ds.attrs
    assert "model_sha256" not in ds.attrs
    ds.to_netcdf(tmp_path / "both.nc")
    with xr.open_dataset(tmp_path / "both.nc") as read:
        records = model_provenance(read)
        for label, path in (("decay", base), ("leaky", leaky)):
            sha = sdkit.load_model(path, scenarios=scenarios).sha256
            assert records[label]["model_sha256"] == sha
            assert str(read["model_sha256"].sel(model=label).values) == sha
            assert records[label]["model_path"] == str(path.resolve())
            assert set(records[label]["scenarios"]) == {"slow", "fast"}
        assert str(read.sel(model="leaky")["model_file"].values) == str(leaky)
        finals = read["stock"].isel(time=-1)
        np.testing.assert_allclose(finals.sel(model="decay", scenario="slow"), final_stock(40), rtol=1e-9)
        np.testing.assert_allclose(finals.sel(model="leaky", scenario="slow"), final_stock(40, leak=0.5), rtol=1e-9)


def test_compare_a_variable_one_model_lacks_is_nan_there(variant):
    base, leaky, scenarios, _ = variant
    ds = sdkit.compare({"base": base, "variant": leaky}, scenarios=["slow"], scenarios_file=scenarios)
    assert list(ds["model"].values) == ["base", "variant"]
    assert bool(ds["leak_flow"].sel(model="base").isnull().all())
    np.testing.assert_allclose(ds["leak_flow"].sel(model="variant", scenario="slow"),
                               ds["stock"].sel(model="variant", scenario="slow") / 40 * 0.5, rtol=1e-12)
    assert "leak_fraction" not in ds  # a constant: not among the default outputs


def test_compare_refuses_two_models_with_one_label(variant, tmp_path):
    base, *_ = variant
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "decay.mdl").write_bytes(base.read_bytes())
    with pytest.raises(sdkit.SdkitError, match="two models are labelled 'decay'.*mapping"):
        sdkit.compare([base, other / "decay.mdl"])


def test_run_of_two_models_prints_each_and_writes_one_file(variant, tmp_path, capsys):
    base, leaky, scenarios, _ = variant
    out = tmp_path / "both.nc"
    code, stdout, _ = run_cli(capsys, "run", base, leaky, "--scenario", "slow", "--scenarios", scenarios, "--out", out)
    assert code == 0
    lines = stdout.splitlines()
    assert lines[0].split()[:3] == ["model", "scenario", "Stock"]
    decay_row = next(line for line in lines if line.startswith("decay "))
    leaky_row = next(line for line in lines if line.startswith("leaky "))
    assert float(decay_row.split()[2]) == pytest.approx(final_stock(40), rel=1e-3)
    assert float(leaky_row.split()[2]) == pytest.approx(final_stock(40, leak=0.5), rel=1e-3)
    with xr.open_dataset(out) as ds:
        assert ds.attrs["command"].startswith("sdkit run")
        assert set(json.loads(ds.attrs["models"])) == {"decay", "leaky"}


def test_plot_draws_two_models_side_by_side(variant, tmp_path, capsys):
    base, leaky, scenarios, _ = variant
    both = tmp_path / "both.nc"
    assert run_cli(capsys, "run", base, leaky, "--scenario", "slow", "--scenarios", scenarios, "--out", both)[0] == 0
    code, stdout, _ = run_cli(capsys, "plot", both, "--var", "Stock", "--out", tmp_path / "both.png")
    assert code == 0
    assert (tmp_path / "both.png").stat().st_size > 0
    code, _, err = run_cli(capsys, "plot", both, "--kind", "checks", "--out", tmp_path / "checks.png")
    assert code == 2
    assert "several models (decay, leaky)" in err
    assert err.count("\n") == 1


# ---------------------------------------------------------------- --scenarios FILE


def test_scenarios_setting_a_constant_the_model_lacks_name_it(variant, tmp_path, capsys):
    base, leaky, _, _ = variant
    code, _, err = run_cli(capsys, "run", base, "--scenarios", tmp_path / "leaky.shared.toml", "--scenario", "slow")
    assert code == 2
    assert err.count("\n") == 1
    assert "scenario 'slow_tight'" in err
    assert "no variable 'leak fraction'" in err
    assert run_cli(capsys, "run", leaky, "--scenarios", tmp_path / "leaky.shared.toml", "--scenario", "slow_tight")[0] == 0


# ---------------------------------------------------------------- --checks FILE


def test_run_checks_evaluates_the_checks_its_runs_answer(variant, tmp_path, capsys):
    base, leaky, scenarios, checks = variant
    out = tmp_path / "runs.nc"
    code, stdout, _ = run_cli(capsys, "run", base, "--checks", checks, "--out", out)
    assert code == 0
    assert "pass" in row(stdout, "S.slow-keeps-half")
    assert "pass" in row(stdout, "F.fast-drains")
    assert "1 check(s) set constants" in stdout
    assert "F.drains-even-when-doubled" in stdout
    with xr.open_dataset(out) as ds:
        assert [str(s) for s in ds["scenario"].values] == ["slow", "fast"]  # the scenarios the checks read
        assert ds.attrs["checks_file"] == str(checks.resolve())
    code, stdout, _ = run_cli(capsys, "run", leaky, "--scenarios", scenarios, "--checks", checks)
    assert final_stock(40, leak=0.5) < 50
    assert code == 1
    assert "FAIL" in row(stdout, "S.slow-keeps-half")


def test_plot_reads_the_checks_file_a_run_was_checked_with(variant, tmp_path, capsys):
    base, _, _, checks = variant
    out = tmp_path / "runs.nc"
    assert run_cli(capsys, "run", base, "--checks", checks, "--out", out)[0] == 0
    assert not base.with_name("decay.checks.toml").exists()
    code, stdout, err = run_cli(capsys, "plot", out, "--kind", "checks", "--mode", "S", "--out", tmp_path / "s.png")
    assert code == 0, err


def test_ensemble_checks_give_pass_shares_over_the_samples(variant, tmp_path, capsys):
    base, _, _, checks = variant
    times = np.array([5.0, 10.0, 40.0, 50.0, 30.0, 25.0])  # shares 50 % and 67 %
    (tmp_path / "draws.csv").write_text("decay time\n" + "\n".join(f"{t:g}" for t in times) + "\n")
    code, stdout, _ = run_cli(capsys, "ensemble", base, "--samples", tmp_path / "draws.csv", "--scenario", "slow",
                              "--checks", checks, "--out", tmp_path / "e.nc")
    assert code == 0
    assert f"{np.mean(final_stock(times) > 50):.0%}" in row(stdout, "S.slow-keeps-half").split()
    assert f"{np.mean(times > 20):.0%}" in row(stdout, "S.long-residence").split()  # each run's own decay time
    assert not any(line.startswith("F.") for line in stdout.splitlines())
    code, _, err = run_cli(capsys, "ensemble", base, "--samples", tmp_path / "draws.csv", "--scenario", "slow",
                           "--checks", checks, "--final", "--out", tmp_path / "f.nc")
    assert code == 2
    assert "drop --final" in err
    assert not (tmp_path / "f.nc").exists()


STUDY = '''model = "{model}"
scenario = "slow"
method = "morris"
samples = 4
seed = 3
[parameters]
"decay time" = [5, 50]
"initial stock" = [50, 150]
[outputs.final_stock]
variable = "Stock"
metric = "final"
'''


def test_sweep_reads_scenarios_and_checks_by_option(variant, tmp_path, capsys):
    base, leaky, scenarios, checks = variant
    study = tmp_path / "leaky_study.toml"
    study.write_text(STUDY.format(model="leaky.mdl"), encoding="utf-8")
    code, _, err = run_cli(capsys, "sweep", study, "--out", tmp_path / "out", "--no-figures")
    assert code == 2
    assert "no scenario 'slow'" in err
    code, stdout, err = run_cli(capsys, "sweep", study, "--out", tmp_path / "out", "--no-figures",
                                "--scenarios", scenarios, "--checks", checks)
    assert code == 0, err
    with xr.open_dataset(tmp_path / "out" / "samples.nc") as samples:
        x = samples["x"].to_pandas()
    expected = np.mean(final_stock(x["decay time"], x["initial stock"], leak=0.5) > 50)
    assert f"{expected:.0%}" in row(stdout, "S.slow-keeps-half").split()
    assert re.search(r"over the \d+ runs", stdout)
    code, _, err = run_cli(capsys, "sweep", study, "--out", tmp_path / "out", "--no-figures", "--resume",
                           "--scenarios", scenarios)  # the chunks kept the checks' variables: not the same job
    assert code == 2
    assert "check_variables removed" in err


def test_checks_file_not_found_names_the_place_and_the_option(variant, tmp_path, capsys):
    base, leaky, scenarios, _ = variant
    code, _, err = run_cli(capsys, "check", leaky, "--scenarios", scenarios)
    assert code == 2
    assert err.count("\n") == 1
    assert f"looked for {tmp_path / 'leaky.checks.toml'}" in err
    assert "--checks FILE" in err
    code, _, err = run_cli(capsys, "run", base, "--checks", tmp_path / "none.toml")
    assert code == 2
    assert f"no checks file {tmp_path / 'none.toml'} (looked for" in err
    assert "--checks" in err


# ---------------------------------------------------------------- not found: where sdkit looked, and the fix


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (["run", "{tmp}/none.mdl"], ("model file", "looked for {tmp}/none.mdl", ".mdl file")),
        (["run", "{base}", "--scenarios", "{tmp}/none.toml"], ("looked for {tmp}/none.toml", "--scenarios")),
        (["run", "{leaky}", "--scenario", "slow"], ("looked for {tmp}/leaky.scenarios.toml", "--scenarios FILE")),
        (["run", "{base}", "--scenario", "sloww"], ("unknown scenario 'sloww'", "from {tmp}/decay.scenarios.toml", "--scenarios FILE")),
        (["run", "{base}", "--vars", "Stok"], ("no variable 'Stok'", "as it is written in {base}")),
        (["run", "{base}", "--set", "decay tme=3"], ("no variable 'decay tme'", "sdkit params")),
        (["check", "{leaky}"], ("looked for {tmp}/leaky.checks.toml", "--checks FILE")),
        (["ensemble", "{base}", "--samples", "{tmp}/none.csv", "--out", "{tmp}/e.nc"], ("looked for {tmp}/none.csv", "--samples")),
        (["sweep", "{tmp}/none.toml"], ("study file", "looked for {tmp}/none.toml", "sweep .toml")),
        (["sweep", "{study}", "--checks", "{tmp}/none.toml"], ("looked for {tmp}/none.toml", "--checks")),
        (["plot", "{tmp}/none.nc", "--out", "{tmp}/x.png"], ("looked for {tmp}/none.nc", "--out FILE.nc")),
        (["plot", "{runs}", "--labels", "{tmp}/none.toml", "--out", "{tmp}/x.png"], ("looked for {tmp}/none.toml", "--labels")),
        (["plot", "{runs}", "--kind", "checks", "--out", "{tmp}/x.png"], ("looked for {tmp}/decay.checks.toml", "--checks FILE")),
        (["scenarios", "{base}", "--scenarios", "{tmp}/none.toml"], ("looked for {tmp}/none.toml", "--scenarios")),
        (["plot", "{runs}", "--kind", "checks", "--checks", "{checks}", "--scenarios", "{tmp}/none.toml", "--out", "{tmp}/x.png"],
         ("looked for {tmp}/none.toml", "--scenarios")),
    ],
    ids=lambda v: "-".join(v[:2]).replace("{", "").replace("}", "") if isinstance(v, list) else "",
)
def test_not_found_names_where_sdkit_looked_and_the_option(variant, tmp_path, capsys, argv, needles):
    base, leaky, scenarios, checks = variant
    study = tmp_path / "study.toml"
    study.write_text(STUDY.format(model="decay.mdl"), encoding="utf-8")
    runs = tmp_path / "runs.nc"
    xr.Dataset({"stock": (("scenario", "time"), [[1.0, 2.0]])},
               coords={"scenario": ["slow"], "time": [0.0, 1.0]},
               attrs={"model_file": str(base), "model_path": str(base)}).to_netcdf(runs)
    names = {"tmp": tmp_path, "base": base, "leaky": leaky, "study": study, "runs": runs, "checks": checks}
    code, _, err = run_cli(capsys, *[a.format(**names) for a in argv])
    assert code == 2
    assert err.count("\n") == 1
    for needle in needles:
        assert needle.format(**names) in err


def test_a_check_reading_a_variable_the_model_lacks_is_refused_before_any_run(variant, tmp_path, capsys):
    base, *_ = variant
    bad = tmp_path / "bad.checks.toml"
    bad.write_text(CHECKS.replace('var = "Stock" }\nop = ">"', 'var = "Stok" }\nop = ">"', 1), encoding="utf-8")
    code, stdout, err = run_cli(capsys, "run", base, "--checks", bad, "--out", tmp_path / "runs.nc")
    assert code == 2
    assert "check 'S.slow-keeps-half'" in err
    assert "no variable 'Stok'" in err
    assert stdout == ""  # nothing ran
    assert not (tmp_path / "runs.nc").exists()
