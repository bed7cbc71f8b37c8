"""Catalogue of failure cases (docs/reliability.md): numerical faults and output files.

Expected times are worked out from the equations, not read from sdkit's output:
``outflow = Stock / (decay time - Time)`` divides by zero exactly when ``Time``
reaches ``decay time``, and every time below lies on the 0.125 time-step grid.
"""

from __future__ import annotations

import errno
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import sdkit
from sdkit.cli import main
from sdkit.ensemble import ensemble
from sdkit.errors import NonFiniteError, OutputError, SdkitWarning
from tests.reliability.expect import one_line, refused

DATA = Path(__file__).parents[1] / "data"
DECAY = (DATA / "decay.mdl").read_text()
SCENARIOS = (DATA / "decay.scenarios.toml").read_text()


def write_model(folder: Path, text: str, scenarios: str | None = SCENARIOS) -> Path:
    path = folder / "decay.mdl"
    path.write_text(text)
    if scenarios is not None:
        (folder / "decay.scenarios.toml").write_text(scenarios)
    return path


@pytest.fixture
def singular(tmp_path: Path) -> Path:
    """Decay model whose outflow divides by zero when Time reaches decay time."""
    return write_model(tmp_path, DECAY.replace("Stock / decay time", "Stock / (decay time - Time)"))


# ---------------------------------------------------------------- numerical faults


@pytest.mark.parametrize("engine", ["engine", "pysd"])
def test_N01_non_finite_names_variable_scenario_and_time(singular, engine):
    """slow (decay time 40) survives the 20-year run; fast (2.5) divides by zero at t = 2.5."""
    with pytest.raises(NonFiniteError) as caught:
        sdkit.run(singular, scenarios=["slow", "fast"], engine=engine)
    one_line(caught.value, "'outflow'", "time 2.5", "'fast'")


def test_N02_non_finite_names_time_between_save_points(singular):
    """SAVEPER is 1, but the first non-finite value is at 12.5, a time step, not a save point."""
    model = sdkit.load_model(singular)
    with pytest.raises(NonFiniteError) as caught:
        sdkit.run(model, set={"decay time": 12.5}, engine="engine")
    one_line(caught.value, "'outflow'", "time 12.5")


@pytest.mark.parametrize("chunk_size", [1, 2, 4])
def test_N03_ensemble_names_global_sample_and_time(singular, chunk_size):
    samples = pd.DataFrame({"decay time": [30.0, 40.0, 12.5, 50.0]})
    with pytest.raises(NonFiniteError) as caught:
        ensemble(singular, samples, chunk_size=chunk_size)
    one_line(caught.value, "'outflow'", "sample 2", "time 12.5")
    assert (caught.value.variable, caught.value.sample, caught.value.time) == ("outflow", 2, 12.5)


def test_N04_overflow_is_caught_at_the_first_step(tmp_path):
    """EXP(100 Time) exceeds the largest double (e^709.78) after t = 7.0978: first step 7.125."""
    boom = DECAY + "\nboom = EXP(100 * Time)\n\t~\tDmnl\n\t~\t\n\t|\n"
    path = write_model(tmp_path, boom, None)
    for engine in ("engine", "pysd"):
        with pytest.raises(NonFiniteError) as caught:
            sdkit.run(path, engine=engine)
        one_line(caught.value, "'boom'", "time 7.125")


def test_N05_non_finite_at_the_command_line(singular, capsys):
    code = main(["run", str(singular), "--scenario", "fast", "--engine", "engine"])
    refused(code, capsys.readouterr().err, "'outflow'", "time 2.5")


def test_N06_time_step_too_large_warns_naming_the_constant(decay_path):
    """decay time 0.2 is the only time constant: Euler at TIME STEP 0.125 > 0.2 / 2 is inaccurate."""
    with pytest.warns(SdkitWarning, match=r"'decay time'.*time constant 0\.2.*0\.05 or less"):
        sdkit.run(decay_path, set={"decay time": 0.2}, engine="engine", allow_outside_range=True)  # below [1, 50]


def test_N06b_warning_at_the_command_line_is_one_line(decay_path, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("always", SdkitWarning)
        code = main(["run", str(decay_path), "--set", "decay time=0.2", "--engine", "engine", "--allow-outside-range"])
    err = capsys.readouterr().err
    assert code == 0
    assert err.strip().splitlines() == [
        "sdkit: warning: scenario 'default': TIME STEP 0.125 is too large for 'decay time' (0.2: time "
        "constant 0.2); Euler steps above half the fastest time constant are inaccurate and above twice "
        "it unstable. Set TIME STEP to 0.05 or less"
    ]


def test_N07_no_warning_when_the_time_step_is_small_enough(decay_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error", SdkitWarning)
        sdkit.run(decay_path, set={"decay time": 0.5}, engine="engine", allow_outside_range=True)  # 0.125 <= 0.5 / 2


def test_N08_scenario_time_step_override_warns_naming_the_scenario(tmp_path):
    path = write_model(tmp_path, DECAY, '[coarse]\n[coarse.time]\ntime_step = 8\n')
    with pytest.warns(SdkitWarning, match=r"scenario 'coarse'.*TIME STEP 8.*'decay time'"):
        sdkit.run(path, scenarios=["coarse"], engine="pysd")


def test_N09_rate_constants_and_delay_orders_count(tmp_path):
    """A rate of 10/Year is a time constant of 0.1; a third-order SMOOTH of 0.9 has stages of 0.3."""
    rate = DECAY.replace("Stock / decay time", "Stock * leak rate") + "\nleak rate = 10\n\t~\t1/Year\n\t~\t\n\t|\n"
    model = sdkit.load_model(write_model(tmp_path, rate, None))
    assert "'leak rate'" in model.check_time_step(0.125)
    smooth = DECAY.replace("Stock / decay time", "SMOOTH3(Stock / decay time, lag)") + "\nlag = 0.9\n\t~\tYear\n\t~\t\n\t|\n"
    model = sdkit.load_model(write_model(tmp_path, smooth, None))
    one_line(model.check_time_step(0.25), "'lag'", "over 3 stages")
    assert model.check_time_step(0.125) == ""  # 0.125 <= 0.3 / 2


def test_N10_ensemble_warns_for_the_fastest_sample(decay_path):
    samples = pd.DataFrame({"decay time": [10.0, 0.1, 20.0]})
    with pytest.warns(SdkitWarning, match=r"'decay time'.*time constant 0\.1"):
        ensemble(decay_path, samples, save="final", allow_outside_range=True)  # 0.1 is below [1, 50]


def test_N11_shipped_models_do_not_warn():
    root = Path(__file__).parents[2] / "models"
    for path in sorted(root.glob("*.mdl")):
        model = sdkit.load_model(path)
        assert model.time_constants, path
        assert model.check_time_step(model.time.time_step) == "", path


@pytest.mark.parametrize(
    ("old", "new", "named"),
    [
        ("Stock = INTEG (-outflow, initial stock)", "Stock = INTEG (-Stock / 0.1, initial stock)", "0.1"),
        ("outflow = Stock / decay time", "outflow = DELAY3(Stock, 0.2) / decay time", "0.2"),
        ("outflow = Stock / decay time", "outflow = SMOOTH(Stock, short) / decay time\n\t~\twidgets/Year\n\t~\t\n\t|\n\nshort = 0.1", "short"),
    ],
    ids=["N12-literal-divisor", "N12-literal-delay3", "N12-named-smooth-time-with-other-units"],
)
def test_N12_every_kind_of_time_constant_is_seen(old, new, named, tmp_path):
    """A literal divisor, a literal DELAY3 time and a named SMOOTH time, at TIME STEP 0.25."""
    text = DECAY.replace(old, new).replace("TIME STEP  = 0.125", "TIME STEP  = 0.25")
    model = sdkit.load_model(write_model(tmp_path, text, None))
    warning = model.check_time_step(model.time.time_step)
    assert "too large" in warning
    assert named in warning


# ---------------------------------------------------------------- output files


def test_O01_existing_output_is_kept_without_force(model_copy, tmp_path, capsys):
    out = tmp_path / "out.nc"
    out.write_bytes(b"earlier results")
    model = model_copy("decay")
    assert main(["run", str(model), "--engine", "pysd", "--out", str(out)]) == 2
    assert "--force" in capsys.readouterr().err
    samples = tmp_path / "s.csv"
    samples.write_text("decay time\n5\n")
    assert main(["ensemble", str(model), "--samples", str(samples), "--out", str(out)]) == 2
    assert out.read_bytes() == b"earlier results"
    assert main(["run", str(model), "--engine", "pysd", "--out", str(out), "--force"]) == 0
    with xr.open_dataset(out) as ds:
        assert "stock" in ds


def _fail_netcdf_writes(monkeypatch, error: BaseException) -> None:
    """Both ways sdkit writes a netCDF file (``to_netcdf``; ``dump_to_store`` into a file
    netCDF4 has created) fail with ``error`` after some bytes reached the disk."""
    def to_netcdf(self, path, *args, **kwargs):
        Path(path).write_bytes(b"CDF\x01 partial")
        raise error

    def dump_to_store(self, store, **kwargs):
        assert Path(store.ds.filepath()).stat().st_size > 0  # netCDF4 wrote the file's header
        raise error

    monkeypatch.setattr(xr.Dataset, "to_netcdf", to_netcdf)
    monkeypatch.setattr(xr.Dataset, "dump_to_store", dump_to_store)


@pytest.mark.parametrize(
    "error",
    [OSError(errno.ENOSPC, "No space left on device"), OSError(errno.EDQUOT, "Disk quota exceeded")],
    ids=["disk-full", "quota"],
)
def test_O02_full_disk_leaves_no_partial_file(error, model_copy, tmp_path, monkeypatch, capsys):
    out = tmp_path / "out.nc"
    _fail_netcdf_writes(monkeypatch, error)
    code = main(["run", str(model_copy("decay")), "--engine", "pysd", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("sdkit: error: cannot write")
    assert error.strerror in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["decay.mdl", "decay.scenarios.toml"]


def test_O02b_full_disk_named_when_netcdf_says_hdf_error(tmp_path, monkeypatch, capsys):
    """netCDF reports a full disk as ``RuntimeError: NetCDF: HDF error``, not as ENOSPC."""
    import sdkit.io

    _fail_netcdf_writes(monkeypatch, RuntimeError("NetCDF: HDF error"))
    monkeypatch.setattr(sdkit.io, "_disk_full", lambda folder: True)
    model = write_model(tmp_path, DECAY, None)
    code = main(["run", str(model), "--out", str(tmp_path / "out.nc")])
    refused(code, capsys.readouterr().err, "the disk is full", exact=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["decay.mdl"]
    monkeypatch.setattr(sdkit.io, "_disk_full", lambda folder: False)
    assert main(["run", str(model), "--out", str(tmp_path / "out.nc")]) == 3


def test_O03_interrupted_write_keeps_the_old_file(model_copy, tmp_path, monkeypatch, capsys):
    out = tmp_path / "out.nc"
    out.write_bytes(b"earlier results")
    _fail_netcdf_writes(monkeypatch, KeyboardInterrupt())
    code = main(["run", str(model_copy("decay")), "--engine", "pysd", "--out", str(out), "--force"])
    assert code == 130
    assert out.read_bytes() == b"earlier results"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["decay.mdl", "decay.scenarios.toml", "out.nc"]


def test_O04_unwritable_location(decay_path):
    from sdkit.io import write_netcdf

    with pytest.raises(OutputError) as caught:
        write_netcdf(xr.Dataset({"a": ("x", np.ones(2))}), "/proc/sdkit-test.nc")
    one_line(caught.value, "/proc/sdkit-test.nc", "choose another --out")


def test_O05_bad_output_folder_is_refused_before_running(model_copy, tmp_path, monkeypatch, capsys):
    run_module = sys.modules["sdkit.run"]

    def must_not_run(*args, **kwargs):
        raise AssertionError("simulated although the output cannot be written")

    monkeypatch.setattr(run_module, "run", must_not_run)
    code = main(["run", str(model_copy("decay")), "--out", str(tmp_path / "missing" / "out.nc")])
    assert code == 2
    assert "does not exist" in capsys.readouterr().err


def test_O06_outputs_record_what_produced_them(model_copy, tmp_path):
    out = tmp_path / "out.nc"
    model = model_copy("decay")
    assert main(["run", str(model), "--scenario", "fast", "--engine", "pysd", "--out", str(out)]) == 0
    with xr.open_dataset(out) as ds:
        attrs = dict(ds.attrs)
    assert attrs["model_sha256"] == sdkit.model.sha256_of(model)
    assert attrs["command"].startswith("sdkit run")
    assert "--scenario fast" in attrs["command"]
    for key in ("sdkit_version", "pysd_version", "numpy_version", "engine", "scenarios"):
        assert attrs.get(key), key


def test_O07_ensemble_store_keeps_finished_chunks(model_copy, tmp_path, monkeypatch, capsys):
    """With --store, a rerun after a crash reuses every finished chunk and gives the same file."""
    import importlib

    ensemble_module = importlib.import_module("sdkit.ensemble")  # `sdkit.ensemble` is also the function

    model = model_copy("decay")
    samples = tmp_path / "s.csv"
    samples.write_text("decay time\n" + "\n".join(str(v) for v in range(2, 12)) + "\n")
    argv = ["ensemble", str(model), "--samples", str(samples), "--chunk-size", "3", "--store", str(tmp_path / "store")]
    calls = []
    real = ensemble_module.run_chunk

    def crash_on_third(task):
        calls.append(task.start)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(task)

    monkeypatch.setattr(ensemble_module, "run_chunk", crash_on_third)
    assert main([*argv, "--out", str(tmp_path / "a.nc")]) == 130
    assert not (tmp_path / "a.nc").exists()
    assert len(list((tmp_path / "store").glob("chunk-*.npz"))) == 2
    calls.clear()
    monkeypatch.setattr(ensemble_module, "run_chunk", lambda task: calls.append(task.start) or real(task))
    assert main([*argv, "--out", str(tmp_path / "a.nc")]) == 0
    assert sorted(calls) == [6, 9]  # only the two missing chunks were computed
    monkeypatch.setattr(ensemble_module, "run_chunk", real)
    assert main(["ensemble", str(model), "--samples", str(samples), "--chunk-size", "3", "--out", str(tmp_path / "b.nc")]) == 0
    with xr.open_dataset(tmp_path / "a.nc") as a, xr.open_dataset(tmp_path / "b.nc") as b:
        xr.testing.assert_equal(a["stock"], b["stock"])
    capsys.readouterr()
