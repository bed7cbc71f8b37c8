"""`sdkit plot`: a saved result drawn as PNG, PDF or SVG, with a label map."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pytest

from sdkit.cli import main
from tests.make_baselines import morris_dataset, sobol_dataset
from tests.plot.test_lint import two_calendars


@pytest.fixture
def run_file(tmp_path):
    path = tmp_path / "runs.nc"
    two_calendars().to_netcdf(path)
    return path


def test_svg_keeps_text_as_text_and_labels_rename(run_file, tmp_path, capsys):
    labels = tmp_path / "labels.toml"
    labels.write_text('[scenarios]\nbalanced = "Balanced order"\n[variables]\nrestraint = "Restraint of the powers"\n')
    out = tmp_path / "fig.svg"
    assert main(["plot", str(run_file), "--var", "restraint", "--labels", str(labels), "--out", str(out)]) == 0
    svg = out.read_text()
    assert "<text" in svg
    assert "Restraint of the powers" in svg
    assert "Balanced order" in svg
    printed = capsys.readouterr().out
    assert "drawing the scenarios of 0-200 (Balanced order)" in printed
    assert "liberal_1945" in printed


def test_pdf_of_a_chosen_scenario(run_file, tmp_path):
    out = tmp_path / "fig.pdf"
    assert main(["plot", str(run_file), "--scenario", "liberal_1945", "--width", "single", "--out", str(out)]) == 0
    assert out.read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize(("extra", "message"), [
    (["--scenario", "balanced", "liberal_1945"], "cover different spans of time"),
    (["--var", "nonsense"], "--var 'nonsense' is not in the result"),
    (["--kind", "sobol"], "has no variable 'S1'"),
])
def test_bad_requests_are_one_line(run_file, tmp_path, capsys, extra, message):
    assert main(["plot", str(run_file), *extra, "--out", str(tmp_path / "f.png")]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_unknown_format_and_missing_file(run_file, tmp_path, capsys):
    assert main(["plot", str(run_file), "--out", str(tmp_path / "f.jpg")]) == 2
    assert "end it in .png, .pdf or .svg" in capsys.readouterr().err
    assert main(["plot", str(tmp_path / "none.nc"), "--out", str(tmp_path / "f.png")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_indices_files_choose_their_figure(tmp_path, capsys):
    one = sobol_dataset("liberal")
    sobol = tmp_path / "sobol.nc"
    one.to_netcdf(sobol)
    morris = tmp_path / "morris.nc"
    morris_dataset("liberal").to_netcdf(morris)
    assert main(["plot", str(sobol), "--out", str(tmp_path / "s.png")]) == 2
    assert "choose one with --output" in capsys.readouterr().err
    output = str(one["output"].values[0])
    assert main(["plot", str(sobol), "--output", output, "--out", str(tmp_path / "s.png")]) == 0
    assert "(sobol)" in capsys.readouterr().out
    output = str(morris_dataset("liberal")["output"].values[0])
    assert main(["plot", str(morris), "--output", output, "--out", str(tmp_path / "m.png")]) == 0
    assert "(morris)" in capsys.readouterr().out
