"""``sdkit sweep``: dry run, output folder rules, resume, executors, shipped studies."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from numpy.testing import assert_allclose

from sdkit.errors import OutputError, ParameterError
from sdkit.sensitivity import OutputSpec, compute_metric, read_study, run_study
from sdkit.sensitivity.cli import add_sweep_parser, cmd_sweep
from sdkit.sensitivity.spec import StudyError

DATA = Path(__file__).parents[1] / "data"
ROOT = Path(__file__).parents[2]

STUDY = """\
model = "{model}"
method = "sobol"
samples = {samples}
seed = 3
chunk_size = 100
[parameters]
"rate a" = [0.0, 1.0]
"rate b" = [0.0, 1.0]
"rate c" = [0.0, 2.0]
[outputs.final_stock]
variable = "Stock"
metric = "final"
"""


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="sdkit")
    add_sweep_parser(parser.add_subparsers(dest="command"), "run a sensitivity study")
    return parser.parse_args(["sweep", *argv])


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "linear.toml"
    path.write_text(STUDY.format(model=(DATA / "sens_linear.mdl").as_posix(), samples=64))
    return path


def test_dry_run_states_runs_and_time_and_writes_nothing(spec, tmp_path, capsys):
    assert cmd_sweep(_parse(str(spec), "--out", str(tmp_path / "out"), "--dry-run")) == 0
    text = capsys.readouterr().out
    assert "320 runs in 4 chunks" in text  # 64 x (3 + 2)
    assert "runs/s" in text
    assert not (tmp_path / "out").exists()


def test_sweep_writes_results_and_prints_top_parameters(spec, tmp_path, capsys):
    out = tmp_path / "out"
    assert cmd_sweep(_parse(str(spec), "--out", str(out))) == 0
    text = capsys.readouterr().out
    lines = [line for line in text.splitlines() if line.startswith(("final_stock", " "))]
    assert "rate c" in lines[0]  # the largest analytic index (36/41) ranks first
    for name in ("indices.nc", "samples.nc", "outputs.nc", "study.toml", "study.json"):
        assert (out / name).exists(), name
    with xr.open_dataset(out / "indices.nc") as ds:
        assert ds.attrs["method"] == "sobol"
        assert "rate a" in ds.attrs["definition"]
        assert ds.attrs["model_sha256"]
        assert ds["ST"].dims == ("output", "param")


def test_existing_folder_is_refused_without_resume_or_force(spec, tmp_path):
    out = tmp_path / "out"
    cmd_sweep(_parse(str(spec), "--out", str(out)))
    with pytest.raises(OutputError, match="--resume .* --force"):
        cmd_sweep(_parse(str(spec), "--out", str(out)))


def test_cli_resume_after_deleting_chunks_is_bit_identical(spec, tmp_path):
    out = tmp_path / "out"
    cmd_sweep(_parse(str(spec), "--out", str(out), "--keep-chunks"))
    before = (out / "indices.nc").read_bytes()
    for chunk in sorted((out / "chunks").glob("chunk-*.npz"))[1:3]:
        chunk.unlink()
    assert cmd_sweep(_parse(str(spec), "--out", str(out), "--resume")) == 0
    assert (out / "indices.nc").read_bytes() == before


def test_cli_resume_refuses_a_changed_definition(spec, tmp_path):
    out = tmp_path / "out"
    cmd_sweep(_parse(str(spec), "--out", str(out)))
    spec.write_text(spec.read_text().replace('"rate c" = [0.0, 2.0]', '"rate c" = [0.5, 2.0]'))  # within [0, 2]
    with pytest.raises(StudyError, match=r"parameters.*args.*\[0.0, 2.0\] -> \[0.5, 2.0\]"):
        cmd_sweep(_parse(str(spec), "--out", str(out), "--resume"))


def test_workers_and_scheduler_are_exclusive(spec):
    with pytest.raises(SystemExit):
        _parse(str(spec), "--workers", "2", "--scheduler", "tcp://localhost:8786")


def test_pysd_fallback_gives_the_engine_indices(spec):
    study = read_study(spec)
    engine = run_study(study, engine="auto")
    pysd = run_study(study, engine="pysd")
    assert_allclose(pysd.outputs["final_stock"], engine.outputs["final_stock"], rtol=1e-9)
    xr.testing.assert_allclose(pysd.indices, engine.indices)


@pytest.mark.slow
def test_dask_workers_give_the_in_process_results(spec, tmp_path):
    pytest.importorskip("dask.distributed")
    from sdkit.executors import executor

    study = read_study(spec)
    local = run_study(study)
    with executor(workers=2) as client:
        remote = run_study(study, tmp_path / "dask", executor=client)
    xr.testing.assert_identical(local.indices, remote.indices)


def test_series_step_thins_saved_times():
    times = np.arange(0.0, 5.0, 0.5)
    values = np.tile(times, (2, 1))
    spec = OutputSpec("o", "v", "series", window=(1.0, 4.5), step=1.0)
    assert_allclose(compute_metric(values, times, spec)[0], [1.0, 2.0, 3.0, 4.0])


def test_bad_spec_keys_are_named(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(STUDY.format(model="x.mdl", samples=64) + "sampels = 3\n")
    with pytest.raises(StudyError, match="unknown key 'sampels'"):
        read_study(path)


def test_convergence_sizes_beyond_samples_are_refused(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(STUDY.format(model="x.mdl", samples=64) + "[convergence]\nsizes = [32, 128]\n")
    with pytest.raises(ParameterError, match="size 128 exceeds the study's samples"):
        read_study(path)


@pytest.mark.parametrize("path", sorted((ROOT / "sensitivity").glob("*.toml")), ids=lambda p: p.stem)
def test_shipped_studies_are_valid_for_the_model(path):
    from sdkit.sensitivity import load_study_model

    study = read_study(path)
    model = load_study_model(study)
    assert study.scenario in model.scenarios


def test_leftover_temporary_file_does_not_block_a_fresh_sweep(tmp_path):
    from sdkit.sensitivity.folder import prepare_out, sweep_folder
    from sdkit.sensitivity.spec import read_study

    study = read_study(Path(__file__).parents[1] / "data" / "sens_linear.toml")
    out = tmp_path / "out"
    out.mkdir()
    (out / ".study.json.abc123.tmp").write_text("half written")
    with sweep_folder(out):
        prepare_out(out, {"k": 1}, study, resume=False, force=False)
    assert (out / "study.json").exists()
    assert not (out / ".study.json.abc123.tmp").exists()


def test_sweep_draws_its_figures_beside_its_indices(spec, tmp_path, capsys):
    import matplotlib

    matplotlib.use("Agg")
    from sdkit.sensitivity.figures import write_study_figures
    from sdkit.sensitivity.pipeline import run_study
    from sdkit.sensitivity.spec import read_study

    out = tmp_path / "out"
    assert cmd_sweep(_parse(str(spec), "--out", str(out))) == 0
    assert "figure files in" in capsys.readouterr().out
    with xr.open_dataset(out / "indices.nc") as ds:
        outputs = [str(o) for o in ds["output"].values]
    drawn = sorted(p.name for p in (out / "figures").iterdir())
    assert drawn == sorted(f"sobol-{o}.{fmt}" for o in outputs for fmt in ("pdf", "png", "svg"))

    quiet = tmp_path / "quiet"
    assert cmd_sweep(_parse(str(spec), "--out", str(quiet), "--no-figures")) == 0
    assert not (quiet / "figures").exists()

    from sdkit import plot
    from sdkit.plot.lint import figure_problems

    result = run_study(read_study(spec), tmp_path / "again")
    with plot.style("single", aspect=1.1):
        assert figure_problems(plot.sobol_indices({"study": result.indices}, outputs[0])) == []
    assert write_study_figures(result, tmp_path / "again")
