"""Standing attack suite, part 2 (docs/security.md): planted caches, special files, data
files, and the right numbers whatever SAVEPER says. Crafted model, scenario, check,
sweep and samples files that must end in exit code 2 with one line are cases of the
failure catalogue (``test_inputs``, ``test_sweeps``; the step-size warning in
``test_runs``).
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import xarray as xr

import sdkit
from sdkit.cache import cache_folder, cached_file, untrusted_reason
from sdkit.cli import main
from sdkit.ensemble import ensemble
from tests.reliability.expect import refused

ROOT = Path(__file__).parents[2]
DATA = Path(__file__).parents[1] / "data"
DECAY = (DATA / "decay.mdl").read_text()
PLANTED = "open({marker!r}, 'w').close()\n"


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("SDKIT_CACHE_DIR", str(folder))
    return folder


def _decay(folder: Path, text: str = DECAY) -> Path:
    path = folder / "decay.mdl"
    path.write_text(text)
    return path


def test_cache_folders_are_created_private(private_cache):
    folder = cache_folder("pysd", "abc")
    assert folder.is_relative_to(private_cache)
    for level in (private_cache, private_cache / "pysd", folder):
        assert stat.S_IMODE(level.stat().st_mode) == 0o700
        assert untrusted_reason(level) == ""


def test_a_planted_pysd_translation_is_replaced_before_import(private_cache, tmp_path):
    marker = tmp_path / "MARKER"
    model = sdkit.load_model(_decay(tmp_path))
    expected = sdkit.run(model, engine="pysd")["stock"].values
    [translated] = private_cache.glob("pysd/*/decay.py")
    translated.write_text(PLANTED.format(marker=str(marker)) + translated.read_text())
    again = sdkit.run(sdkit.load_model(model.path), engine="pysd")["stock"].values
    assert not marker.exists()
    assert (again == expected).all()
    assert "MARKER" not in translated.read_text()


def test_a_planted_engine_kernel_file_is_replaced(private_cache, tmp_path):
    marker = tmp_path / "MARKER"
    folder = cache_folder("engine")
    (folder / "kernel.py").write_text(PLANTED.format(marker=str(marker)))
    path = cached_file(folder, "kernel.py", "RESULT = 1\n")
    assert path.read_text() == "RESULT = 1\n"
    assert not marker.exists()


@pytest.mark.parametrize("how", ["group-writable", "world-writable", "symlink"] + (["other-user"] if os.geteuid() == 0 else []))
def test_a_cache_folder_others_can_write_is_not_used(how, private_cache, tmp_path):
    marker = tmp_path / "MARKER"
    if how == "symlink":
        target = tmp_path / "elsewhere"
        target.mkdir(mode=0o700)
        private_cache.symlink_to(target)
    else:
        private_cache.mkdir(mode=0o700)
        if how == "other-user":
            os.chown(private_cache, 4321, 4321)
        else:
            private_cache.chmod(0o770 if how == "group-writable" else 0o777)
    model = sdkit.load_model(_decay(tmp_path))
    sdkit.run(model, engine="pysd")
    assert not list(private_cache.rglob("*.py"))
    assert not marker.exists()


def test_the_old_shared_temp_caches_are_never_read(private_cache, tmp_path, monkeypatch):
    """Files planted where earlier versions cached translations and models are ignored."""
    import tempfile

    marker = tmp_path / "MARKER"
    shared = tmp_path / "tmp"
    monkeypatch.setenv("TMPDIR", str(shared))
    monkeypatch.setattr(tempfile, "tempdir", None)
    model_path = _decay(tmp_path)
    model = sdkit.load_model(model_path)
    for old in (shared / "sdkit-pysd" / model.sha256[:16], shared / "sdkit-models" / model.sha256[:16]):
        old.mkdir(parents=True)
        (old / "decay.py").write_text(PLANTED.format(marker=str(marker)))
        (old / "decay.mdl").write_text(DECAY.replace("decay time = 10", "decay time = 1"))
    by_pysd = sdkit.run(model, engine="pysd")["stock"].values[0, -1]
    by_ensemble = ensemble(model, {"decay_time": [10.0]}, save="final")["stock"].values[0]
    assert not marker.exists()
    assert abs(by_pysd - by_ensemble) < 1e-9
    assert abs(by_pysd - 13.364) < 1e-3


# ---------------------------------------------------------------- special files


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("kind", ["fifo", "folder", "dev-null"])
def test_out_is_only_ever_a_regular_file(kind, tmp_path, capsys):
    out = {"fifo": lambda: _fifo(tmp_path / "out.nc"), "folder": lambda: tmp_path,
           "dev-null": lambda: Path(os.devnull)}[kind]()
    before = out.stat().st_mode
    code = main(["run", str(_decay(tmp_path)), "--out", str(out), "--force"])
    err = capsys.readouterr().err
    refused(code, err)
    assert out.stat().st_mode == before


def _zero_link(path: Path) -> Path:
    path.symlink_to("/dev/zero")
    return path


@pytest.mark.parametrize("special", [_fifo, _zero_link], ids=["fifo", "dev-zero"])
@pytest.mark.parametrize("role", ["scenarios", "checks", "samples", "study", "model"])
def test_inputs_are_read_only_from_regular_files(special, role, tmp_path, capsys):
    if role == "model":
        model = special(tmp_path / "decay.mdl")
        argv = ["params", str(model)]
    else:
        model = _decay(tmp_path)
        target = {"scenarios": tmp_path / "decay.scenarios.toml", "checks": tmp_path / "decay.checks.toml",
                  "samples": tmp_path / "samples.csv", "study": tmp_path / "study.toml"}[role]
        special(target)
        argv = {"scenarios": ["scenarios", str(model)], "checks": ["check", str(model)],
                "samples": ["ensemble", str(model), "--samples", str(target), "--out", str(tmp_path / "e.nc")],
                "study": ["sweep", str(target)]}[role]
    code = main(argv)
    err = capsys.readouterr().err
    refused(code, err, "regular file", exact=True)


def test_outputs_honour_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        out = tmp_path / "out.nc"
        assert main(["run", str(_decay(tmp_path)), "--out", str(out)]) == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["decay.mdl", "out.nc"]


def test_broken_pipe_ends_quietly(tmp_path):
    """``sdkit params MODEL | head -1`` with more output than a pipe holds (64 KB)."""
    constants = "".join(f"c{i} = {i}\n\t~\twidgets\n\t~\t{'a comment that makes the table wide ' * 2}\n\t|\n\n"
                        for i in range(1500))
    model = _decay(tmp_path, DECAY.replace("{UTF-8}\n", "{UTF-8}\n" + constants))
    command = f"{sys.executable} -m sdkit params {model} | head -1"
    done = subprocess.run(["bash", "-c", f"set -o pipefail; {command}"], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)
    assert done.stderr == ""
    assert done.stdout.startswith("parameter")
    assert done.returncode == 0
    full = subprocess.run([sys.executable, "-m", "sdkit", "params", str(model)], capture_output=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)
    assert len(full.stdout) > 65536  # more than the pipe holds: the writer must meet the closed pipe


# ---------------------------------------------------------------- right numbers


@pytest.mark.parametrize("engine", ["engine", "pysd"])
def test_final_values_are_at_final_time_whatever_saveper_says(engine, tmp_path, capsys):
    coarse = _decay(tmp_path, DECAY.replace("SAVEPER  = 1", "SAVEPER  = 30"))
    assert main(["run", str(coarse), "--engine", engine, "--out", str(tmp_path / "coarse.nc")]) == 0
    table = capsys.readouterr().out
    every_year = sdkit.run(DATA / "decay.mdl", engine=engine)
    final = float(every_year["stock"].sel(time=20.0).values[0])
    coarse_run = xr.open_dataset(tmp_path / "coarse.nc")
    assert list(coarse_run.time.values) == [0.0, 20.0]
    assert abs(float(coarse_run["stock"].values[0, -1]) - final) < 1e-9
    assert f"{final:.4g}" in table


# ---------------------------------------------------------------- data files and caches


@pytest.mark.parametrize("engine", ["pysd", "engine"])
def test_data_files_are_read_beside_the_model(tmp_path, monkeypatch, engine):
    (tmp_path / "series.csv").write_text("time,value\n0,1\n10,2\n20,3\n")
    path = _decay(tmp_path, DECAY.replace(
        "{UTF-8}\n",
        "{UTF-8}\nseries := GET DIRECT DATA('series.csv', ',', 'A', 'B2')\n\t~\twidgets\n\t~\t\n\t|\n\n"
        "doubled = series * 2\n\t~\twidgets\n\t~\t\n\t|\n\n",
    ))
    monkeypatch.chdir(tmp_path.parent)
    result = sdkit.run(path, variables=["doubled"], engine=engine)
    assert float(result["doubled"].sel(time=20.0).values[0]) == 6.0


def test_an_uncreatable_cache_falls_back_to_a_private_folder(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("not a folder")
    monkeypatch.setenv("SDKIT_CACHE_DIR", str(tmp_path / "file" / "cache"))
    folder = cache_folder("pysd")
    assert not folder.is_relative_to(tmp_path)
    assert untrusted_reason(folder) == ""
    assert untrusted_reason(folder.parent) == ""
