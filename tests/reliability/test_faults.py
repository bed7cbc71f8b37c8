"""Sweeps under faults, and reproducibility (docs/reliability.md, items 4 and 5).

* A sweep killed with SIGKILL at 20 random points, each time resumed, ends with
  result files byte-identical to an uninterrupted sweep.
* A dask worker killed mid-ensemble does not stop it, and the results are identical.
* The same inputs give byte-identical netCDF files whatever the chunk size and the
  executor, and every file records what produced it.

The sweep runs in a forked child (imports done once) so that the kills land in the
sweep itself rather than in interpreter start-up.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import sdkit
from sdkit.ensemble import ensemble
from sdkit.io import write_netcdf

DATA = Path(__file__).parents[1] / "data"
SEED = 20261125

# Decay model with a fine time step: each chunk takes a noticeable fraction of a second
# in the numpy backend, so random kills land between, during and after chunk writes.
MODEL = (DATA / "decay.mdl").read_text().replace("TIME STEP  = 0.125", "TIME STEP  = 0.004").replace(
    "FINAL TIME  = 20", "FINAL TIME  = 40"
)
STUDY = """
description = "fault-injection sweep"
model = "decay.mdl"
method = "morris"
samples = 6
seed = 7
chunk_size = 2
[options]
num_levels = 4
[parameters]
"decay time" = [2, 30]
"initial stock" = [50, 150]
[outputs.final_stock]
variable = "Stock"
metric = "final"
[outputs.mean_outflow]
variable = "outflow"
metric = "mean"
"""
RESULT_FILES = ("samples.nc", "outputs.nc", "indices.nc")


@pytest.fixture
def study_folder(tmp_path: Path) -> Path:
    (tmp_path / "decay.mdl").write_text(MODEL)
    (tmp_path / "study.toml").write_text(STUDY)
    return tmp_path


def _sweep(spec: Path, out: Path, resume: bool, keep_chunks: bool = False) -> None:
    """Run the sweep in this (child) process; exit code 0 on success, 1 on an error."""
    from sdkit.sensitivity.pipeline import run_study
    from sdkit.sensitivity.spec import read_study

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_study(read_study(spec), out, resume=resume, engine="engine", keep_chunks=keep_chunks)


def _child(spec: Path, out: Path, resume: bool, keep_chunks: bool = False) -> multiprocessing.Process:
    process = multiprocessing.get_context("fork").Process(target=_sweep, args=(spec, out, resume, keep_chunks))
    process.start()
    return process


def _chunks(out: Path) -> int:
    return len(list((out / "chunks").glob("chunk-*.npz"))) if (out / "chunks").is_dir() else 0


def _wait_for_chunks(process, out: Path, count: int, limit: float = 120.0) -> None:
    """Return once ``out`` holds ``count`` chunks, the process has ended, or ``limit`` seconds passed."""
    deadline = time.perf_counter() + limit
    while _chunks(out) < count and process.is_alive() and time.perf_counter() < deadline:
        time.sleep(0.002)


@pytest.mark.slow
def test_sweep_killed_at_20_random_points_and_resumed_is_byte_identical(study_folder):
    """20 kill points, one in each twentieth of an uninterrupted sweep's life (random within it).

    For each point a fresh sweep is killed there; its resume is killed again at a random
    time; a second resume finishes it. The result files must equal the uninterrupted ones.
    A point is a share of the sweep's chunks (then a random part of one chunk's time), not
    of its duration, so a loaded machine that starts processes slowly kills at the same
    places in the sweep.
    """
    from sdkit.sensitivity.spec import read_study

    spec = study_folder / "study.toml"
    read_study(spec)
    _sweep(spec, study_folder / "warm", resume=False)  # imports and compiling done before forking

    clean = study_folder / "clean"
    started = time.perf_counter()
    process = _child(spec, clean, resume=False, keep_chunks=True)  # kept, to count them
    process.join(120)
    duration = time.perf_counter() - started
    assert process.exitcode == 0
    total = _chunks(clean)
    assert total >= 8  # enough chunks for kills to land between them
    expected = {name: (clean / name).read_bytes() for name in RESULT_FILES}
    assert expected == {name: (study_folder / "warm" / name).read_bytes() for name in RESULT_FILES}

    rng = random.Random(SEED)
    landed_mid_sweep = 0
    for point in range(20):
        out = study_folder / f"killed-{point:02d}"
        share, chunk_part, resume_delay = (point + rng.random()) / 20, rng.random(), rng.uniform(0, duration)
        for attempt in range(2):
            process = _child(spec, out, resume=attempt > 0)
            if attempt == 0:
                _wait_for_chunks(process, out, int(share * total))
                time.sleep(chunk_part * duration / total)
            else:
                time.sleep(resume_delay)
            before = _chunks(out)
            if process.exitcode is None:  # polling reaps a finished child: kill only a live one
                os.kill(process.pid, signal.SIGKILL)
            process.join(30)
            assert process.exitcode in (0, -signal.SIGKILL), process.exitcode
            if attempt == 0 and process.exitcode == -signal.SIGKILL:
                landed_mid_sweep += 0 < before < total
        process = _child(spec, out, resume=True)
        process.join(120)
        assert process.exitcode == 0, f"resuming after the kill at point {point} failed"
        for name in RESULT_FILES:
            assert (out / name).read_bytes() == expected[name], (point, name)
        assert sorted(p.name for p in out.glob("*.nc")) == sorted(RESULT_FILES)
        assert not (out / "chunks").exists(), "a finished sweep keeps its chunks"
        assert not list(out.rglob("*.tmp")), "a temporary file outlived the resume"
    assert landed_mid_sweep >= 5, f"only {landed_mid_sweep} kills landed between the first and last chunk"


def _samples(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(SEED)
    return pd.DataFrame({"decay time": rng.uniform(2, 30, n), "initial stock": rng.uniform(50, 150, n)})


def _write(dataset: xr.Dataset, path: Path) -> bytes:
    write_netcdf(dataset, path)
    return path.read_bytes()


@pytest.mark.slow
def test_dask_worker_killed_mid_ensemble_and_executors_agree(study_folder):
    from dask.distributed import Client, LocalCluster

    model = sdkit.load_model(study_folder / "decay.mdl")
    samples = _samples(24)
    reference = ensemble(model, samples, chunk_size=3, save=[0.0, 10.0, 40.0])
    expected = _write(reference, study_folder / "in-process.nc")

    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        pids = client.run(os.getpid)
        killed: list[int] = []

        def kill_one_after_first(chunks):
            for item in chunks:
                if not killed:
                    victim = sorted(pids.values())[0]
                    os.kill(victim, signal.SIGKILL)
                    killed.append(victim)
                yield item

        result = ensemble(model, samples, chunk_size=3, save=[0.0, 10.0, 40.0], executor=client,
                          progress=kill_one_after_first)
        assert killed, "no worker was killed"
        assert killed[0] not in client.run(os.getpid).values(), "the worker survived the kill"
    assert _write(result, study_folder / "dask.nc") == expected


def test_results_do_not_depend_on_chunk_size(study_folder):
    model = sdkit.load_model(study_folder / "decay.mdl")
    samples = _samples(10)
    files = {size: _write(ensemble(model, samples, chunk_size=size, save="final"), study_folder / f"c{size}.nc")
             for size in (1, 3, 10, 64)}
    assert len(set(files.values())) == 1
    with xr.open_dataset(study_folder / "c3.nc") as ds:
        assert ds.attrs["model_sha256"] == sdkit.model.sha256_of(study_folder / "decay.mdl")
        assert ds.attrs["sdkit_version"] == sdkit.__version__
        assert ds.attrs["engine"] == "engine"
        np.testing.assert_array_equal(ds["parameters"].values, samples.to_numpy())


def test_rerun_of_the_same_command_is_byte_identical(tmp_path, model_copy, monkeypatch):
    """The command is recorded in the file, so both runs use the same relative --out in their own folder."""
    from sdkit.cli import main

    model = model_copy("decay")
    outputs = []
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        monkeypatch.chdir(tmp_path / folder)
        assert main(["run", str(model), "--all", "--engine", "engine", "--out", "out.nc"]) == 0
        outputs.append((tmp_path / folder / "out.nc").read_bytes())
    assert outputs[0] == outputs[1]


def test_every_sweep_file_records_what_produced_it(study_folder):
    from sdkit.sensitivity.pipeline import run_study
    from sdkit.sensitivity.spec import read_study

    small = STUDY.replace("samples = 6", "samples = 2").replace("TIME STEP", "")
    (study_folder / "small.toml").write_text(small)
    out = study_folder / "out"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_study(read_study(study_folder / "small.toml"), out, engine="engine")
    written = sorted(out.glob("*.nc"))
    assert {p.name for p in written} >= set(RESULT_FILES)
    sha = sdkit.model.sha256_of(study_folder / "decay.mdl")
    for path in written:
        with xr.open_dataset(path) as ds:
            assert ds.attrs.get("model_sha256") == sha, path.name
            assert ds.attrs.get("sdkit_version"), path.name
            assert "seed = 7" in ds.attrs.get("definition", ""), path.name
