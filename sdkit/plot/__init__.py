"""Figures for papers: plain functions ``f(data, *, ax=None, ...)`` and a publication style.

matplotlib is imported only by this subpackage. Each function selects data and
draws; none computes the science. Use them inside :func:`style` for print sizes
and fonts, and save with :func:`sdkit.figures_io.save_figure`::

    from sdkit import plot
    from sdkit.figures_io import save_figure

    with plot.style("double"):
        fig = plot.trajectories(ds)
        save_figure(fig, "figures/trajectories")
"""

from sdkit.plot.balance_map import OUTCOME_COLORS, balance_map
from sdkit.plot.checks import reference_mode_figure, reference_mode_panel, reference_mode_panels
from sdkit.plot.dominance import dominance_map, loop_dominance
from sdkit.plot.fan import fan_chart
from sdkit.plot.phase import phase_portrait
from sdkit.plot.sensitivity import convergence, morris, morris_labels, sobol_indices, time_resolved
from sdkit.plot.shares import scan_lines, stacked_shares
from sdkit.plot.style import (
    OKABE_ITO,
    ORDER_STYLES,
    PRESETS,
    PlotError,
    Preset,
    axis_label,
    order_style,
    order_styles,
    style,
)
from sdkit.plot.trajectories import default_variables, trajectories

__all__ = [
    "OKABE_ITO",
    "ORDER_STYLES",
    "OUTCOME_COLORS",
    "PRESETS",
    "PlotError",
    "Preset",
    "axis_label",
    "balance_map",
    "default_variables",
    "dominance_map",
    "convergence",
    "fan_chart",
    "loop_dominance",
    "morris",
    "morris_labels",
    "order_style",
    "order_styles",
    "phase_portrait",
    "reference_mode_figure",
    "reference_mode_panel",
    "reference_mode_panels",
    "scan_lines",
    "sobol_indices",
    "stacked_shares",
    "style",
    "time_resolved",
    "trajectories",
]
