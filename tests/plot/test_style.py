"""The publication style: presets, per-order looks, labels, and untouched global rcParams."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib as mpl
import matplotlib.pyplot as plt
import pytest
from matplotlib.colors import to_hex
from matplotlib.text import Text

from sdkit import plot
from sdkit.errors import SdkitError
from sdkit.plot.style import FALLBACK_STYLES, axis_label, order_styles
from tests.make_baselines import BASELINES, run_dataset


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _snapshot() -> dict:
    return {key: mpl.rcParams[key] for key in mpl.rcParams}


@pytest.mark.parametrize(("preset", "width_mm"), [("single", 85.0), ("double", 178.0)])
def test_preset_sets_figure_width(preset, width_mm):
    with plot.style(preset) as chosen:
        assert mpl.rcParams["figure.figsize"][0] == pytest.approx(width_mm / 25.4)
        fig = plot.trajectories(run_dataset())
    assert chosen.width_mm == width_mm
    assert fig.get_figwidth() == pytest.approx(width_mm / 25.4)


def test_global_rcparams_untouched_by_style():
    before = _snapshot()
    with plot.style("double"):
        assert mpl.rcParams["font.size"] == 8.0
        assert mpl.rcParams != before
    assert _snapshot() == before


def test_global_rcparams_restored_after_error_in_block():
    before = _snapshot()
    with pytest.raises(RuntimeError), plot.style("single"):
        raise RuntimeError("inside the block")
    assert _snapshot() == before


def test_plot_functions_leave_rcparams_untouched():
    before = _snapshot()
    plot.trajectories(run_dataset())
    plot.phase_portrait(run_dataset())
    assert _snapshot() == before


def test_unknown_preset_is_sdkit_error_naming_presets():
    with pytest.raises(SdkitError, match="'single', 'double'") as info:
        plot.style("poster").__enter__()
    assert not isinstance(info.value, ValueError)
    assert "\n" not in str(info.value)


def test_every_order_has_its_own_colour_and_line_style():
    names = ["liberal", "transformative", "mercantilist", "sovereign", "balanced"]
    styles = order_styles(names)
    colours = {to_hex(styles[n]["color"]) for n in names}
    dashes = {str(styles[n]["linestyle"]) for n in names}
    assert len(colours) == len(names)
    assert len(dashes) == len(names)
    okabe_ito = {to_hex(c) for c in plot.OKABE_ITO.values()}
    assert colours <= okabe_ito


def test_order_style_is_fixed_whatever_the_other_scenarios():
    alone = order_styles(["sovereign"])["sovereign"]
    mixed = order_styles(["versailles", "liberal", "sovereign"])["sovereign"]
    assert alone == mixed == plot.ORDER_STYLES["sovereign"]
    assert plot.order_style("Liberal") == plot.ORDER_STYLES["liberal"]


def test_unknown_scenarios_get_distinct_fallback_styles():
    styles = order_styles(["versailles", "versailles_inclusion", "liberal"])
    assert styles["versailles"] == FALLBACK_STYLES[0]
    assert styles["versailles_inclusion"] == FALLBACK_STYLES[1]
    assert styles["versailles"] != styles["versailles_inclusion"]
    fixed = {to_hex(s["color"]) + str(s["linestyle"]) for s in plot.ORDER_STYLES.values()}
    assert to_hex(styles["versailles"]["color"]) + str(styles["versailles"]["linestyle"]) \
        not in fixed


def test_axis_label_uses_long_name_and_units():
    ds = run_dataset()
    assert axis_label(ds["institutional_authority"]) == \
        "Institutional Authority [dimensionless]"
    assert axis_label(ds["time"], default="Time") == "Time [year]"
    bare = ds["power"].copy()
    bare.attrs = {}
    assert axis_label(bare) == "Power"


def test_styled_figure_text_is_at_least_7_points():
    ds = run_dataset()
    with plot.style("single"):
        fig = plot.trajectories(ds)
        fig.canvas.draw()
    texts = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    assert len(texts) > 10
    assert min(t.get_fontsize() for t in texts) >= 7.0


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_every_styled_figure_keeps_text_at_or_above_7_points(name):
    fig = BASELINES[name]()
    fig.canvas.draw()
    sizes = [t.get_fontsize() for t in fig.findobj(Text)
             if t.get_visible() and t.get_text().strip()]
    assert sizes
    assert min(sizes) >= 7.0


def test_one_spelling_of_units_on_every_axis():
    import xarray as xr

    from sdkit.plot.style import axis_label, time_label, units_text

    assert [units_text(u) for u in ("Year", "years", " yr ", "Dmnl", "1", "km")] == ["year", "year", "year", "", "", "km"]
    assert time_label(xr.DataArray([0.0], dims="time", attrs={"units": "Year"})) == "Time [year]"
    assert axis_label(xr.DataArray([0.0], attrs={"long_name": "First collapse", "units": "Years"})) == "First collapse [year]"
