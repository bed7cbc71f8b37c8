"""`sdkit reproduce --quick` regenerates everything, identically each time."""

import subprocess
import sys
from pathlib import Path

import pytest

from sdkit.cli import main

MODELS = Path(__file__).parent.parent / "models"


@pytest.mark.slow
# quick samples are small, so the sweeps rightly warn about indices outside [0, 1]
@pytest.mark.filterwarnings("ignore::sdkit.errors.SdkitWarning")
def test_two_quick_runs_give_identical_files(tmp_path, capsys, monkeypatch):
    """Also reads every figure back: time axes filled by their data, no overlapping text."""
    from sdkit import figures_io
    from sdkit.plot.lint import figure_problems

    problems: dict[str, list[str]] = {}
    save = figures_io.save_figure

    def save_after_reading(fig, path_stem, **options):
        problems[str(path_stem)] = figure_problems(fig)
        return save(fig, path_stem, **options)

    first, second = tmp_path / "a", tmp_path / "b"
    # the second run is another process, side by side with this one: identical files
    # must not depend on the process, and two cores finish both in the time of one
    other = subprocess.Popen([sys.executable, "-m", "sdkit", "reproduce", "--quick", "--models", str(MODELS),
                              "--out", str(second)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with monkeypatch.context() as patch:
        patch.setattr(figures_io, "save_figure", save_after_reading)
        assert main(["reproduce", "--quick", "--models", str(MODELS), "--out", str(first)]) == 0
    output, errors = other.communicate(timeout=900)
    assert other.returncode == 0, errors[-2000:]
    assert len(problems) >= 30
    assert {stem: found for stem, found in problems.items() if found} == {}
    printed = capsys.readouterr().out + output
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert {p.suffix for p in files} >= {".nc", ".png", ".pdf", ".txt"}
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    different = [str(p) for p in files if (first / p).read_bytes() != (second / p).read_bytes()]
    assert different == []
    assert "wrote" in printed


def test_quick_figures_are_marked_quick(tmp_path):
    from sdkit.reproduce import Context

    assert Context(models=MODELS, out=tmp_path, quick=True).metadata["sdkit:quick"] == "true"
    assert Context(models=MODELS, out=tmp_path).metadata["sdkit:quick"] == "false"


def test_missing_models_folder(tmp_path, capsys):
    assert main(["reproduce", "--models", str(tmp_path / "nope"), "--out", str(tmp_path / "out")]) == 2
    assert "models folder" in capsys.readouterr().err


def test_unwritable_output_folder(tmp_path, capsys):
    assert main(["reproduce", "--models", str(MODELS), "--out", "/proc/sdkit-cannot-write"]) == 2
    assert "cannot create --out" in capsys.readouterr().err
