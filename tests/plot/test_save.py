"""save_figure: byte-identical files, metadata, atomic writes, clear errors."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import json

import matplotlib.pyplot as plt
import pytest
from PIL import Image

from sdkit import plot
from sdkit.errors import OutputError
from sdkit.figures_io import save_figure
from tests.make_baselines import map_dataset, run_dataset

FORMATS = ("pdf", "png", "svg")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _figure():
    with plot.style("single"):
        return plot.trajectories(run_dataset(n_time=41))


def test_same_figure_saved_twice_is_byte_identical(tmp_path):
    fig = _figure()
    first = save_figure(fig, tmp_path / "a" / "fig", formats=FORMATS)
    second = save_figure(fig, tmp_path / "b" / "fig", formats=FORMATS)
    assert [p.name for p in first] == ["fig.pdf", "fig.png", "fig.svg"]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_fresh_figures_from_same_data_are_byte_identical(tmp_path):
    first = save_figure(_figure(), tmp_path / "a" / "fig", formats=FORMATS)
    second = save_figure(_figure(), tmp_path / "b" / "fig", formats=FORMATS)
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_different_figures_give_different_bytes(tmp_path):
    (a,) = save_figure(_figure(), tmp_path / "a", formats=("png",))
    with plot.style("single"):
        fig = plot.trajectories(run_dataset(("liberal",), n_time=41))
    (b,) = save_figure(fig, tmp_path / "b", formats=("png",))
    assert a.read_bytes() != b.read_bytes()


def test_files_carry_metadata_and_no_dates(tmp_path):
    md = {"sdkit:quick": "true", "model": "kissinger_core"}
    pdf, png, svg = save_figure(_figure(), tmp_path / "fig", formats=FORMATS, metadata=md)
    with Image.open(png) as im:
        assert im.text["sdkit:quick"] == "true"
        assert im.text["model"] == "kissinger_core"
        assert im.text["Software"] == "sdkit"
        assert im.info["dpi"][0] == pytest.approx(300, abs=0.01)
    pdf_bytes = pdf.read_bytes()
    assert b"/Keywords" in pdf_bytes
    assert b"/Subject" in pdf_bytes
    assert b"/CreationDate" not in pdf_bytes
    assert json.dumps(md, sort_keys=True, separators=(",", ":")).encode() in pdf_bytes
    svg_text = svg.read_text()
    assert "sdkit:quick=true" in svg_text
    assert "<dc:date>" not in svg_text


def test_png_is_300_dpi_at_the_preset_width(tmp_path):
    fig = _figure()
    (png,) = save_figure(fig, tmp_path / "fig", formats=("png",))
    with Image.open(png) as im:
        assert abs(im.size[0] - 85.0 / 25.4 * 300) <= 1.0


def test_pdf_is_vector_for_line_plots_and_rasterises_the_map(tmp_path):
    (lines_pdf,) = save_figure(_figure(), tmp_path / "lines", formats=("pdf",))
    data = lines_pdf.read_bytes()
    assert b"/Subtype /Image" not in data
    assert b"/FontFile2" in data  # TrueType (Type 42) fonts embedded, as journals ask
    assert b"/Type3" not in data
    with plot.style("single"):
        fig = plot.balance_map(map_dataset(50, 50)).get_figure()
    (map_pdf,) = save_figure(fig, tmp_path / "map", formats=("pdf",))
    assert b"/Subtype /Image" in map_pdf.read_bytes()


def test_missing_parent_folders_are_created_and_no_temp_files_remain(tmp_path):
    written = save_figure(_figure(), tmp_path / "x" / "y" / "fig")
    assert sorted(p.name for p in (tmp_path / "x" / "y").iterdir()) == ["fig.pdf", "fig.png"]
    assert all(p.stat().st_size > 0 for p in written)


def test_failed_write_leaves_no_partial_file(tmp_path, monkeypatch):
    fig = _figure()

    def broken(handle, **kwargs):
        handle.write(b"half a figure")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fig, "savefig", broken)
    with pytest.raises(OutputError, match="No space left"):
        save_figure(fig, tmp_path / "fig", formats=("png",))
    assert list(tmp_path.iterdir()) == []


def test_unwritable_folder_is_output_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(OutputError, match="cannot create figure folder") as info:
        save_figure(_figure(), blocker / "fig")
    assert "\n" not in str(info.value)


def test_unknown_format_is_output_error(tmp_path):
    with pytest.raises(OutputError, match="unsupported figure format 'jpg'"):
        save_figure(_figure(), tmp_path / "fig", formats=("jpg",))


def test_metadata_must_be_strings(tmp_path):
    with pytest.raises(OutputError, match="not str to str"):
        save_figure(_figure(), tmp_path / "fig", metadata={"quick": True})


def test_axes_saves_its_figure_and_other_objects_are_refused(tmp_path):
    fig = _figure()
    (from_axes,) = save_figure(fig.axes[0], tmp_path / "a", formats=("png",), dpi=50)
    (from_fig,) = save_figure(fig, tmp_path / "b", formats=("png",), dpi=50)
    assert from_axes.read_bytes() == from_fig.read_bytes()
    with pytest.raises(OutputError, match="must be a matplotlib Figure or Axes"):
        save_figure("not a figure", tmp_path / "c")
