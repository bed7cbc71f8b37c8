"""The command line: outputs, summaries and one-line errors with exit code 2."""

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from sdkit.cli import main


def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_run_writes_netcdf_and_summary(capsys, model_copy, tmp_path):
    model = model_copy("decay")
    out = tmp_path / "out.nc"
    code, stdout, _ = run_cli(capsys, "run", model, "--all", "--engine", "pysd", "--out", out)
    assert code == 0
    assert "slow" in stdout
    assert "fast_long" in stdout
    with xr.open_dataset(out) as ds:
        assert list(ds["scenario"].values) == ["slow", "fast", "fast_long"]
        assert ds.attrs["command"].startswith("sdkit run")
        assert len(ds.attrs["model_sha256"]) == 64


def test_run_set_changes_result(capsys, model_copy, tmp_path):
    model = model_copy("decay")
    out = tmp_path / "out.nc"
    code, _, _ = run_cli(capsys, "run", model, "--set", "initial stock=10", "--engine", "pysd", "--out", out)
    assert code == 0
    with xr.open_dataset(out) as ds:
        np.testing.assert_allclose(ds["stock"].isel(scenario=0, time=0), 10)


def test_existing_output_needs_force(capsys, model_copy, tmp_path):
    model = model_copy("decay")
    out = tmp_path / "out.nc"
    out.write_text("keep me")
    code, _, err = run_cli(capsys, "run", model, "--engine", "pysd", "--out", out)
    assert code == 2
    assert "pass --force" in err
    assert out.read_text() == "keep me"
    assert run_cli(capsys, "run", model, "--engine", "pysd", "--out", out, "--force")[0] == 0


def test_scenarios_lists_descriptions(capsys, model_copy):
    code, stdout, _ = run_cli(capsys, "scenarios", model_copy("decay"))
    assert code == 0
    assert "short residence time" in stdout


def test_params_lists_constants(capsys, model_copy):
    code, stdout, _ = run_cli(capsys, "params", model_copy("decay"))
    assert code == 0
    assert "decay time" in stdout
    assert "[1, 50]" in stdout
    assert not any(line.startswith(("Stock ", "outflow ")) for line in stdout.splitlines())


def test_params_of_a_model_without_constants_says_so(capsys, tmp_path):
    path = tmp_path / "clock.mdl"
    path.write_text("{UTF-8}\nclock = Time\n\t~\tYear\n\t~\t|\n\nFINAL TIME = 10\n\t~\tYear\n\t~\t|\n\n"
                    "INITIAL TIME = 0\n\t~\tYear\n\t~\t|\n\nSAVEPER = 1\n\t~\tYear\n\t~\t|\n\n"
                    "TIME STEP = 1\n\t~\tYear\n\t~\t|\n", encoding="utf-8")
    code, stdout, _ = run_cli(capsys, "params", str(path))
    assert code == 0
    assert stdout.strip() == "clock.mdl has no constants: nothing a scenario, --set or a sweep can set"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "MISSING.mdl"], "does not exist"),
        (["run", "{model}", "--scenario", "nope"], "unknown scenario 'nope'"),
        (["run", "{model}", "--set", "decay time=abc"], "'abc' is not a number"),
        (["run", "{model}", "--set", "decay time"], "must look like NAME=VALUE"),
        (["run", "{model}", "--set", "no such thing=1"], "no variable 'no such thing'"),
        (["run", "{model}", "--out", "{tmp}/missing/out.nc"], "does not exist; create it first"),
        (["run", "{model}", "--all", "--scenario", "fast"], "either --all or --scenario"),
        (["scenarios", "{tmp}/not_a_model.txt"], "does not exist"),
    ],
)
def test_bad_input_is_one_line_exit_2(capsys, model_copy, tmp_path, argv, message):
    model = model_copy("decay")
    argv = [a.format(model=model, tmp=tmp_path) for a in argv]
    code, _, err = run_cli(capsys, *argv)
    assert code == 2
    assert message in err
    assert err.count("\n") == 1
    assert "Traceback" not in err
    assert not list(tmp_path.rglob("*.nc*"))


def test_malformed_model_file(capsys, tmp_path):
    bad = tmp_path / "bad.mdl"
    bad.write_text("{UTF-8}\nStock = INTEG (inflow, \n~ units ~ broken |\n")
    code, _, err = run_cli(capsys, "run", bad)
    assert code == 2
    assert "bad.mdl" in err


def test_missing_subcommand_is_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2


def test_another_librarys_warning_does_not_reach_the_user(capsys):
    from sdkit.cli import _show_warning
    from sdkit.errors import SdkitWarning

    _show_warning(FutureWarning("a numpy deprecation"), FutureWarning, "x.py", 1)
    _show_warning(SdkitWarning("TIME STEP too large"), SdkitWarning, "x.py", 1)
    assert capsys.readouterr().err == "sdkit: warning: TIME STEP too large\n"


def test_params_table_has_defaults_units_ranges_and_filters(capsys):
    import csv
    import io

    assert main(["params", str(MODELS / "four_orders.mdl"), "--grep", "ADHERENCE", "--format", "csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0] == ["parameter", "default", "units", "range", "description"]
    assert rows[1][:4] == ["initial adherence share", "(0.78, 0.06, 0.07, 0.09)", "Dmnl", "[0, 1]"]
    assert main(["params", str(MODELS / "kissinger_core.mdl"), "--grep", "CES exponent", "--format", "markdown"]) == 0
    assert capsys.readouterr().out.splitlines()[2].startswith("| CES exponent | -1 | Dmnl |")
    assert main(["params", str(MODELS / "kissinger_core.mdl"), "--grep", "no such text"]) == 2


def test_params_and_share_rules_never_compile_the_engine(monkeypatch, tmp_path, capsys):
    """Defaults come from the model file itself, also for the scenarios' sum-to-one rule."""
    import shutil

    import sdkit.engine

    def refuse(*args, **kwargs):
        raise AssertionError("the engine was compiled")

    monkeypatch.setattr(sdkit.engine, "compile_model", refuse)
    shutil.copy(MODELS / "four_orders.mdl", tmp_path / "four_orders.mdl")
    text = (MODELS / "four_orders.scenarios.toml").read_text(encoding="utf-8")
    text += '\n[bad_shares]\ndescription = "shares off"\n[bad_shares.parameters]\n"initial adherence share[liberal]" = 0.5\n'
    (tmp_path / "four_orders.scenarios.toml").write_text(text, encoding="utf-8")
    assert main(["params", str(MODELS / "four_orders.mdl")]) == 0
    assert main(["scenarios", str(tmp_path / "four_orders.mdl")]) == 2
    assert "add up to 0.72, not 1" in capsys.readouterr().err


MODELS = Path(__file__).parent.parent / "models"


def test_run_imports_no_other_command(tmp_path):
    """`sdkit run` loads neither the figures, the loop finder, the sweeps nor the web server:
    a modeller waiting at the shell pays only for what the run uses."""
    import subprocess
    import sys

    script = (
        "import sys\nfrom sdkit.cli import main\n"
        f"assert main(['run', {str(Path(__file__).parent / 'data' / 'decay.mdl')!r}, '--out', {str(tmp_path / 'o.nc')!r}]) == 0\n"
        "print('imported:', *(m for m in ('matplotlib', 'networkx', 'SALib', 'starlette', 'sdkit.plot', 'sdkit.loops',"
        " 'sdkit.sensitivity', 'sdkit.explore', 'sdkit.diagram') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                          cwd=Path(__file__).parent.parent)
    assert done.stdout.splitlines()[-1] == "imported:"
