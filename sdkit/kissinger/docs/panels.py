"""The study figure of the docs: small multiples of chosen variables, scenarios as lines."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import xarray as xr

from sdkit.plot.common import figure_legend

#: (level, label) reference lines per variable
Lines = Mapping[str, Sequence[tuple[float, str]]]
#: one dash pattern per reference line of a panel, so their legend entries differ
_LEVEL_DASHES = ((0, (1, 1.5)), (0, (5, 2)), (0, (5, 1.5, 1, 1.5)))


def study_figure(ds: xr.Dataset, title: str, scenarios: Sequence[str], variables: Sequence[str], *,
                 lines: Lines | None = None, shade: tuple[float, float] | None = None,
                 events: Sequence[float] = ()) -> Any:
    """:func:`sdkit.plot.trajectories` of `variables` for `scenarios`, three panels a row, titled.

    `lines` draws dotted reference levels on the panels of their variables (labelled in
    the legend), `shade` greys the years a check names, `events` marks years by
    dotted vertical lines.
    """
    from sdkit import plot

    fig = plot.trajectories(ds, scenarios=list(scenarios), variables=list(variables), ncols=3, ylim=None,
                            legend=False)
    for ax, variable in zip(fig.axes, variables, strict=False):
        if shade is not None:
            ax.axvspan(*shade, color="0.88", zorder=0, linewidth=0)
        for year in events:
            ax.axvline(year, color="0.45", linewidth=0.6, linestyle=":", zorder=1)
        levels = [ax.axhline(level, color="0.35", linewidth=0.7, linestyle=_LEVEL_DASHES[i % len(_LEVEL_DASHES)],
                             label=label)
                  for i, (level, label) in enumerate((lines or {}).get(variable, ()))]
        if levels:
            ax.legend(handles=levels, loc="best", handlelength=1.5)
    handles, labels = fig.axes[0].get_legend_handles_labels()
    keep = [(h, lab) for h, lab in zip(handles, labels, strict=True) if lab in scenarios]
    figure_legend(fig, [h for h, _ in keep], [lab for _, lab in keep], loc="outside lower center")
    fig.suptitle(title)
    return fig
