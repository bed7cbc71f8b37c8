"""Each plotting function draws what its data say: lines, labels, colours, values."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import xarray as xr
from matplotlib.collections import PolyCollection, QuadMesh
from matplotlib.colors import to_hex, to_rgba
from matplotlib.container import BarContainer
from matplotlib.patches import FancyArrowPatch, Rectangle

from sdkit import plot
from sdkit.checks import Check, CheckResult
from sdkit.plot import PlotError
from tests.make_baselines import (
    ORDERS,
    PARAMS,
    convergence_dataset,
    ensemble_dataset,
    map_dataset,
    morris_dataset,
    restraint_region,
    run_dataset,
    sobol_dataset,
    time_resolved_dataset,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _hex(colour) -> str:
    return to_hex(colour)


# --------------------------------------------------------------------------- trajectories


def test_trajectories_one_panel_per_stock_one_line_per_order():
    ds = run_dataset()
    fig = plot.trajectories(ds)
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in panels] == [
        "Legitimacy", "Power", "Institutional Authority", "Civil Society Pressure"]
    for ax, var in zip(panels, plot.default_variables(ds), strict=True):
        lines = ax.get_lines()
        assert [ln.get_label() for ln in lines] == list(ORDERS)
        for ln, order in zip(lines, ORDERS, strict=True):
            assert _hex(ln.get_color()) == _hex(plot.ORDER_STYLES[order]["color"])
            np.testing.assert_array_equal(ln.get_ydata(), ds[var].sel(scenario=order).values)
    # shared axes and one legend naming every order
    assert panels[0].get_shared_x_axes().joined(panels[0], panels[3])
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == list(ORDERS)
    assert "Time [year]" in {ax.get_xlabel() for ax in panels}


def test_trajectories_selects_scenarios_and_variables():
    fig = plot.trajectories(run_dataset(), scenarios=["sovereign", "liberal"],
                            variables=["restraint"])
    (ax,) = [a for a in fig.axes if a.get_visible()]
    assert [ln.get_label() for ln in ax.get_lines()] == ["sovereign", "liberal"]
    assert ax.get_lines()[0].get_linestyle() == ":"


def test_trajectories_rejects_unknown_names():
    with pytest.raises(PlotError, match="no variable 'trust'"):
        plot.trajectories(run_dataset(), variables=["trust"])
    with pytest.raises(PlotError, match="unknown scenario 'versailles'"):
        plot.trajectories(run_dataset(), scenarios=["versailles"])


# --------------------------------------------------------------------------- phase portrait


def test_phase_portrait_draws_paths_arrows_and_region():
    ds = run_dataset(("liberal", "versailles"))
    ax = plot.phase_portrait(ds, region=restraint_region(), region_label="restraint holds", arrows=3)
    paths = [ln for ln in ax.get_lines() if ln.get_label() in ("liberal", "versailles")]
    assert len(paths) == 2
    np.testing.assert_array_equal(paths[0].get_xdata(), ds["legitimacy"].sel(scenario="liberal"))
    np.testing.assert_array_equal(paths[0].get_ydata(), ds["power"].sel(scenario="liberal"))
    arrows = [t for t in ax.texts if isinstance(t.arrow_patch, FancyArrowPatch)]
    assert len(arrows) == 6
    first = arrows[0]  # points along the liberal path, from an earlier to a later state
    assert _hex(first.arrow_patch.get_edgecolor()) == _hex(plot.ORDER_STYLES["liberal"]["color"])
    xs = ds["legitimacy"].sel(scenario="liberal").values
    tail = int(np.flatnonzero(xs == first.xyann[0])[0])
    head = int(np.flatnonzero(xs == first.xy[0])[0])
    assert head == tail + 1
    assert len(ax.collections) >= 1  # the shaded region
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["restraint holds", "liberal", "versailles"]
    assert ax.get_xlabel() == "Legitimacy [dimensionless]"
    assert ax.get_ylabel() == "Power [dimensionless]"


def test_phase_portrait_no_arrows_on_a_standing_point_and_no_region_when_none():
    ds = run_dataset(("balanced",))
    ds["legitimacy"][:] = 0.5
    ds["power"][:] = 0.5
    ax = plot.phase_portrait(ds)
    assert [t for t in ax.texts if t.arrow_patch is not None] == []
    assert len(ax.collections) == 0


def test_phase_portrait_rejects_region_with_wrong_dims():
    bad = restraint_region().rename(power="p")
    with pytest.raises(PlotError, match="dimension 'power'"):
        plot.phase_portrait(run_dataset(), region=bad)


# --------------------------------------------------------------------------- balance map


def test_balance_map_draws_every_cell_in_its_flag_colour():
    ds = map_dataset(30, 20)
    ax = plot.balance_map(ds)
    (mesh,) = [c for c in ax.collections if isinstance(c, QuadMesh)]
    drawn = np.asarray(mesh.get_array()).reshape(20, 30)
    np.testing.assert_array_equal(drawn, ds["outcome"].values)
    rgba = mesh.to_rgba(mesh.get_array()).reshape(-1, 4)
    flat = ds["outcome"].values.ravel()
    for flag, colour in plot.OUTCOME_COLORS.items():
        assert np.allclose(rgba[flat == flag], to_rgba(colour))
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["stable order", "collapse then new order", "lasting disorder"]
    assert ax.get_legend().get_title().get_text() == "Regime outcome"
    assert ax.get_xlabel() == "Guarantor share (initial) [dimensionless]"


def test_balance_map_rejects_values_that_are_not_flags():
    ds = map_dataset(10, 10)
    ds["outcome"][0, 0] = 7
    with pytest.raises(PlotError, match="value 7"):
        plot.balance_map(ds)


def test_balance_map_rejects_mismatched_meanings():
    ds = map_dataset(10, 10)
    ds["outcome"].attrs["flag_meanings"] = "stable disorder"
    with pytest.raises(PlotError, match="one meaning per value"):
        plot.balance_map(ds)


# --------------------------------------------------------------------------- fan chart


def test_fan_chart_median_and_bands_per_order():
    ens = {o: ensemble_dataset(seed=i) for i, o in enumerate(ORDERS[:3])}
    fig = plot.fan_chart(ens, "institutional_authority")
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in panels] == list(ORDERS[:3])
    for ax, order in zip(panels, ORDERS[:3], strict=True):
        values = ens[order]["institutional_authority"].values
        (median,) = ax.get_lines()
        np.testing.assert_allclose(median.get_ydata(), np.median(values, axis=0))
        assert _hex(median.get_color()) == _hex(plot.ORDER_STYLES[order]["color"])
        bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
        assert len(bands) == 2
        outer = bands[0].get_paths()[0].vertices[:, 1]
        inner = bands[1].get_paths()[0].vertices[:, 1]
        assert outer.min() == pytest.approx(np.quantile(values, 0.05, axis=0).min())
        assert outer.max() == pytest.approx(np.quantile(values, 0.95, axis=0).max())
        assert inner.min() == pytest.approx(np.quantile(values, 0.25, axis=0).min())


def test_fan_chart_accepts_a_dataset_with_a_scenario_dim():
    ens = {o: ensemble_dataset(seed=i) for i, o in enumerate(ORDERS[:2])}
    stacked = xr.concat([ens[o] for o in ORDERS[:2]], dim=xr.DataArray(list(ORDERS[:2]),
                                                                      dims="scenario"))
    fig = plot.fan_chart(stacked, "institutional_authority")
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in panels] == list(ORDERS[:2])
    np.testing.assert_allclose(panels[1].get_lines()[0].get_ydata(),
                               np.median(ens[ORDERS[1]]["institutional_authority"], axis=0))


def test_fan_chart_rejects_bad_bands():
    with pytest.raises(PlotError, match="inner < outer"):
        plot.fan_chart(ensemble_dataset(), "institutional_authority", bands=(0.9, 0.5))


# --------------------------------------------------------------------------- sensitivity


def test_sobol_panels_of_one_study_share_one_x_scale():
    res = {o: sobol_dataset(o, i) for i, o in enumerate(ORDERS)}
    res["liberal"] = res["liberal"].assign(ST=res["liberal"]["ST"] * 2.0)  # one order reaches further
    fig = plot.sobol_indices(res, "disorder_peak")
    limits = {ax.get_xlim() for ax in fig.axes}
    assert len(limits) == 1
    (low, high), = limits
    assert low <= 0.0
    assert high >= float(res["liberal"]["ST"].sel(output="disorder_peak").max())


def test_an_unresolved_interval_does_not_squeeze_the_study():
    res = {o: sobol_dataset(o, i) for i, o in enumerate(ORDERS)}
    res["mercantilist"]["ST_conf"][:] = 4.0  # a tiny sample: intervals far outside [0, 1]
    fig = plot.sobol_indices(res, "disorder_peak")
    low, high = fig.axes[0].get_xlim()
    assert -0.35 < low <= 0.0
    assert 1.0 < high < 1.35


def test_balance_map_marks_the_cells_of_a_rare_outcome():
    ds = map_dataset(50, 50)
    outcome = ds["outcome"].values
    outcome[outcome == 2] = 0
    outcome[[3, 20, 40], [5, 25, 45]] = 2
    ax = plot.balance_map(ds)
    (marks,) = ax.collections[1:]
    np.testing.assert_allclose(np.sort(marks.get_offsets()[:, 0]), np.sort(ds[ds["outcome"].dims[1]].values[[5, 25, 45]]))
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[2] == "lasting disorder (3 cells, marked)"


def test_sobol_indices_bars_and_intervals_per_order():
    res = {o: sobol_dataset(o, i) for i, o in enumerate(ORDERS)}
    fig = plot.sobol_indices(res, "disorder_peak")
    panels = fig.axes
    assert [ax.get_title() for ax in panels] == list(ORDERS)
    for ax, order in zip(panels, ORDERS, strict=True):
        bars = [p for p in ax.patches if isinstance(p, Rectangle)]
        assert len(bars) == 2 * len(PARAMS)
        widths = np.array([b.get_width() for b in bars])
        sel = res[order].sel(output="disorder_peak")
        np.testing.assert_allclose(widths[: len(PARAMS)], sel["ST"].values)
        np.testing.assert_allclose(widths[len(PARAMS):], sel["S1"].values)
        st_colour = {_hex(b.get_facecolor()) for b in bars[: len(PARAMS)]}
        assert st_colour == {_hex(plot.ORDER_STYLES[order]["color"])}
        bar_sets = [c for c in ax.containers if isinstance(c, BarContainer)]
        assert len(bar_sets) == 2
        assert all(c.errorbar is not None for c in bar_sets)
    assert [t.get_text() for t in panels[0].get_yticklabels()][0] == "Legitimacy emphasis"


def test_sobol_indices_needs_an_output_when_there_are_several():
    with pytest.raises(PlotError, match="pass `output=`"):
        plot.sobol_indices({"liberal": sobol_dataset("liberal")})


def test_sobol_indices_single_dataset_titled_by_its_scenario():
    fig = plot.sobol_indices(sobol_dataset("mercantilist", outputs=("restraint_min",)))
    assert [ax.get_title() for ax in fig.axes] == ["mercantilist"]


def test_morris_points_labels_and_colour():
    ds = morris_dataset("sovereign")
    ax = plot.morris(ds)
    (container,) = [c for c in ax.containers if c.get_label() == "sovereign"]
    points = container.lines[0]
    np.testing.assert_allclose(points.get_xdata(), ds["mu_star"].values[0])
    np.testing.assert_allclose(points.get_ydata(), ds["sigma"].values[0])
    assert _hex(points.get_color()) == _hex(plot.ORDER_STYLES["sovereign"]["color"])
    names = sorted(t.get_text() for t in ax.texts)
    assert names == sorted(p.replace("_", " ").capitalize() for p in PARAMS)


def test_time_resolved_heatmap_and_areas():
    ds = time_resolved_dataset()
    ax = plot.time_resolved(ds)
    (mesh,) = [c for c in ax.collections if isinstance(c, QuadMesh)]
    np.testing.assert_allclose(np.asarray(mesh.get_array()).reshape(len(PARAMS), -1),
                               ds["ST"].values[0])
    assert mesh.norm.vmin == 0.0
    assert mesh.norm.vmax == 1.0
    ax2 = plot.time_resolved(ds, kind="area")
    assert len([c for c in ax2.collections if isinstance(c, PolyCollection)]) == len(PARAMS)
    with pytest.raises(PlotError, match="unknown `kind`"):
        plot.time_resolved(ds, kind="pie")


def test_convergence_one_line_per_param_on_log_axis():
    ds = convergence_dataset()
    ax = plot.convergence(ds, params=["expansiveness", "supremacy_claim"])
    lines = ax.get_lines()
    assert [ln.get_label() for ln in lines] == ["Expansiveness", "Supremacy claim"]
    np.testing.assert_allclose(lines[1].get_ydata(),
                               ds["ST"].sel(param="supremacy_claim").values[:, 0])
    assert ax.get_xscale() == "log"
    assert len(ax.collections) == 2  # the +- conf bands


# --------------------------------------------------------------------------- reference modes


def _checks_and_results():
    checks = [
        Check("RM2.breaks", "RM2", "versailles", "restraint breaks",
              {"fn": "min", "var": "Restraint"}, "<", 0.3),
        Check("RM2.when", "RM2", "versailles", "breaks early",
              {"fn": "first_below", "var": "restraint", "level": 0.5}, "<", 40.0),
        Check("RM1.calm", "RM1", "balanced", "disorder stays low",
              {"fn": "max", "var": "Disorder"}, "<", 0.2),
    ]
    results = [
        CheckResult("RM2.breaks", "RM2", "versailles", "", 0.21, "<", 0.3, True, None),
        CheckResult("RM2.when", "RM2", "versailles", "", 35.0, "<", 40.0, True, None),
        CheckResult("RM1.calm", "RM1", "balanced", "", 0.7, "<", 0.2, False, None),
    ]
    return checks, results


def test_reference_mode_panel_thresholds_and_verdict():
    ds = run_dataset(("balanced", "versailles"))
    checks, results = _checks_and_results()
    ax = plot.reference_mode_panel(ds, results, "RM2", checks=checks)
    assert ax.get_title().startswith("RM2 PASS (2/2 checks)")
    (series,) = [ln for ln in ax.get_lines() if ln.get_label() == "Restraint"]
    np.testing.assert_array_equal(series.get_ydata(), ds["restraint"].sel(scenario="versailles"))
    horizontal = [ln for ln in ax.get_lines() if list(ln.get_ydata()) == [0.3, 0.3]]
    vertical = [ln for ln in ax.get_lines() if list(ln.get_xdata()) == [40.0, 40.0]]
    assert len(horizontal) == 1
    assert len(vertical) == 1

    ax1 = plot.reference_mode_panel(ds, results, "RM1", checks=checks)
    assert ax1.get_title().startswith("RM1 FAIL (0/1 checks)")
    assert [ln.get_label() for ln in ax1.get_lines() if not ln.get_label().startswith("_")] \
        == ["Disorder"]


def test_reference_mode_panels_one_per_mode_and_unknown_mode():
    ds = run_dataset(("balanced", "versailles"))
    checks, results = _checks_and_results()
    fig = plot.reference_mode_panels(ds, results, checks=checks)
    assert [ax.get_title().split()[0] for ax in fig.axes] == ["RM2", "RM1"]
    with pytest.raises(PlotError, match="no check results for mode 'RM9'"):
        plot.reference_mode_panel(ds, results, "RM9")


def test_morris_uses_output_description_and_units():
    ds = morris_dataset("liberal")
    ds["output_description"] = ("output", ["Minimum restraint"])
    ds["output_units"] = ("output", ["Year"])
    ax = plot.morris(ds)
    assert ax.get_title() == "Minimum restraint"
    assert ax.get_xlabel().endswith("[year]")


def test_phase_portrait_float_region_and_short_path():
    ds = run_dataset(("liberal",))
    ds["legitimacy"][:] = np.linspace(0.50, 0.55, ds.sizes["time"])  # a path 0.05 long
    ds["power"][:] = 0.5
    region = restraint_region().astype(float) * 0.9  # restraint level, not a boolean
    ax = plot.phase_portrait(ds, region=region, region_label="restraint holds", arrows=3)
    assert len([t for t in ax.texts if t.arrow_patch is not None]) == 1
    assert len(ax.collections) >= 1
    empty = plot.phase_portrait(ds, region=region * 0.0)
    assert len(empty.collections) == 0


def test_reference_mode_panel_two_scenarios_colour_by_variable_dash_by_scenario():
    ds = run_dataset(("versailles", "versailles_inclusion"))
    checks = [Check("RM2.cf", "RM2", "versailles", "counterfactual keeps restraint",
                    {"fn": "diff", "a": {"fn": "min", "var": "Restraint"},
                     "b": {"fn": "min", "var": "Restraint", "scenario": "versailles_inclusion"}},
                    "<", 0.0)]
    results = [CheckResult("RM2.cf", "RM2", "versailles", "", -0.4, "<", 0.0, True, None)]
    ax = plot.reference_mode_panel(ds, results, "RM2", checks=checks)
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    a, b = lines["Restraint (versailles)"], lines["Restraint (versailles_inclusion)"]
    assert _hex(a.get_color()) == _hex(b.get_color())
    assert a._unscaled_dash_pattern != b._unscaled_dash_pattern  # no public getter
    # a difference of two measures is no level: no threshold line is drawn
    assert [ln for ln in ax.get_lines() if len(ln.get_xdata()) == 2] == []
    keys = [t.get_text() for t in ax.get_legend().get_texts()]
    assert keys == ["Restraint", "versailles", "versailles_inclusion"]


def test_trajectories_draw_into_given_axes():
    fig, axes = plt.subplots(1, 2)
    out = plot.trajectories(run_dataset(), variables=["power", "disorder"], axes=axes)
    assert out is fig
    assert [ax.get_title() for ax in axes] == ["Power", "Disorder"]
    assert all(len(ax.get_lines()) == len(ORDERS) for ax in axes)
    with pytest.raises(PlotError, match="has 2 panels for 3 variables"):
        plot.trajectories(run_dataset(), variables=["power", "disorder", "legitimacy"], axes=axes)


def test_missing_variable_names_the_command_that_makes_it():
    import numpy as np
    import pytest
    import xarray as xr

    from sdkit import plot
    from sdkit.errors import PlotError

    ds = xr.Dataset({"legitimacy": (("scenario", "time"), np.zeros((1, 3)))}, coords={"scenario": ["liberal"], "time": [0, 1, 2]})
    with pytest.raises(PlotError, match=r"no variable 'power'.*sdkit run MODEL --all"):
        plot.trajectories(ds, variables=["legitimacy", "power"])


def test_stacked_shares_one_panel_per_scenario_layers_sum_to_the_shares():
    t = np.linspace(0.0, 10.0, 11)
    first = np.stack([np.full(t.size, 0.7), np.full(t.size, 0.3)], axis=-1)
    second = np.stack([t / 10.0, 1.0 - t / 10.0], axis=-1)
    ds = xr.Dataset({"share": (("scenario", "time", "Order"), np.stack([first, second]), {"long_name": "Share"})},
                    coords={"scenario": ["a", "b"], "time": ("time", t, {"units": "year"}), "Order": ["liberal", "sovereign"]})
    fig = plot.stacked_shares(ds, "share", "Order")
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in panels] == ["a", "b"]
    top_of_first_layer = panels[1].collections[0].get_paths()[0].vertices[:, 1].max()
    assert top_of_first_layer == pytest.approx(1.0)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["liberal", "sovereign"]


def test_scan_lines_one_line_per_group_and_the_reference():
    ds = xr.Dataset({"ratio": (("group", "s"), [[0.5, 0.8, 1.0], [0.5, 0.6, 0.7]])},
                    coords={"group": ["both", "one"], "s": [0.0, 0.5, 1.0]})
    fig = plot.scan_lines(ds, "ratio", "s", "group", reference=(0.9, "90 %"))
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.get_lines()] == ["both", "one", "90 %"]
    np.testing.assert_array_equal(ax.get_lines()[1].get_ydata(), [0.5, 0.6, 0.7])
