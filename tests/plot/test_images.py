"""Image comparison of four figures against the baselines in tests/baseline/.

The baselines are drawn by ``tests/make_baselines.py``; rerun it (and look at
the PNGs) after a deliberate change of a figure's look.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
from matplotlib.testing.compare import compare_images

from sdkit import plot
from sdkit.figures_io import save_figure
from sdkit.plot.lint import figure_problems
from tests.make_baselines import BASELINE_DIR, BASELINES, render, run_dataset

#: RMS difference (0-255 grey levels) tolerated: absorbs anti-aliasing noise
#: between FreeType builds, far below a moved line or a changed colour.
TOLERANCE = 2.0


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_figure_matches_baseline(name, tmp_path):
    expected = BASELINE_DIR / f"{name}.png"
    assert expected.exists(), f"missing baseline {expected}; run tests/make_baselines.py"
    actual = render(name, tmp_path)
    result = compare_images(str(expected), str(actual), tol=TOLERANCE)
    assert result is None, result


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_baseline_figure_reads_cleanly(name):
    """No overlapping text and full time axes at the baselines' single-column size."""
    assert figure_problems(BASELINES[name]()) == []


def test_comparison_catches_a_changed_order_colour(tmp_path):
    """The tolerance is tight enough to see one order drawn in another colour."""
    with plot.style("single"):
        fig = plot.trajectories(run_dataset())
    for ax in fig.axes:
        for line in ax.get_lines():
            if line.get_label() == "mercantilist":
                line.set_color(plot.ORDER_STYLES["liberal"]["color"])
    (actual,) = save_figure(fig, tmp_path / "trajectories", formats=("png",), dpi=100)
    result = compare_images(str(BASELINE_DIR / "trajectories.png"), str(actual),
                            tol=TOLERANCE)
    assert result is not None
