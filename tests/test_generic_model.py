"""The generic commands work on any model, not only the project's: here a logistic stock from tests/data."""

import shutil
from pathlib import Path

import pytest
import xarray as xr

from sdkit.cli import main

DATA = Path(__file__).parent / "data"
DEMO = "checks_demo"

SWEEP = """model = "../models/sens_linear.mdl"
method = "sobol"
samples = 64
seed = 3
[parameters]
"rate a" = [0.0, 1.0]
"rate c" = [0.0, 2.0]
[outputs.final_stock]
variable = "Stock"
metric = "final"
"""


@pytest.fixture
def project(tmp_path):
    """A project folder holding only tests/data models: models/ and a sensitivity/ study beside it."""
    models = tmp_path / "models"
    models.mkdir()
    for name in (f"{DEMO}.mdl", f"{DEMO}.scenarios.toml", f"{DEMO}.checks.toml", "sens_linear.mdl"):
        shutil.copy(DATA / name, models / name)
    (tmp_path / "sensitivity").mkdir()
    (tmp_path / "sensitivity" / "linear.toml").write_text(SWEEP, encoding="utf-8")
    return tmp_path


def test_run_check_params_scenarios_plot(project, capsys):
    model = str(project / "models" / f"{DEMO}.mdl")
    assert main(["params", model]) == 0
    assert "capacity" in capsys.readouterr().out
    assert main(["scenarios", model]) == 0
    assert "short_life" in capsys.readouterr().out
    assert main(["check", model]) == 0
    assert "G.equilibrium" in capsys.readouterr().out
    run_file = project / "run.nc"
    assert main(["run", model, "--all", "--out", str(run_file)]) == 0
    with xr.open_dataset(run_file) as ds:
        assert list(ds["scenario"].values) == ["base", "short_life"]
        assert float(ds["stock"].sel(scenario="base").isel(time=-1)) > 75
    for kind, extra in (("trajectories", []), ("phase", ["--var", "Stock", "inflow"])):
        figure = project / f"{kind}.svg"
        assert main(["plot", str(run_file), "--kind", kind, *extra, "--out", str(figure)]) == 0
        assert "<text" in figure.read_text(encoding="utf-8")
    from sdkit import plot

    with xr.open_dataset(run_file) as ds:  # a stock of 0-100 is not drawn in the unit square of indices
        ax = plot.phase_portrait(ds, x="stock", y="inflow")
        assert ax.get_xlim()[1] >= float(ds["stock"].max())


def test_ensemble_and_sweep(project):
    model = str(project / "models" / f"{DEMO}.mdl")
    samples = project / "samples.csv"
    samples.write_text("growth rate,lifetime\n0.4,8\n0.6,12\n", encoding="utf-8")
    out = project / "ensemble.nc"
    assert main(["ensemble", model, "--samples", str(samples), "--final", "--out", str(out)]) == 0
    with xr.open_dataset(out) as ds:
        assert ds.sizes["sample"] == 2
    sweep = project / "sweep"
    assert main(["sweep", str(project / "sensitivity" / "linear.toml"), "--out", str(sweep)]) == 0
    with xr.open_dataset(sweep / "indices.nc") as indices:
        assert set(indices["param"].values) == {"rate a", "rate c"}


@pytest.mark.filterwarnings("ignore::sdkit.errors.SdkitWarning")  # 64 Sobol samples: wide intervals
def test_reproduce_on_a_folder_of_other_models(project, capsys):
    out = project / "results"
    assert main(["reproduce", "--models", str(project / "models"), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "core-model figures" not in printed  # the project's study steps need the project's models
    written = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    assert {f"{DEMO}.nc", f"{DEMO}-checks.txt", "sweeps/linear/indices.nc"} <= written
    assert f"figures/reference-modes-{DEMO.replace('_', '-')}-g.svg" in written
