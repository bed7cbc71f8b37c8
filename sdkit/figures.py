"""Figures of any model's results, written for ``sdkit reproduce``: draw, then save.

Each ``figure_*`` function draws one figure with :mod:`sdkit.plot` in the publication
style and writes it through :func:`sdkit.figures_io.write_figure` (300-dpi PNG, PDF
and SVG with its text kept as text) under a stem in the output folder.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import xarray as xr

from sdkit import figures_io


def figure_reference_modes(ds: xr.Dataset, results: Sequence[Any], checks: Sequence[Any], out: Path, stem: str, metadata: Mapping[str, str]) -> list[Path]:
    """One figure per reference mode: a panel per variable its checks read, thresholds drawn."""
    from sdkit import plot

    written: list[Path] = []
    # modes whose checks all set constants on top of their scenarios were measured on runs ds does not hold
    for mode in dict.fromkeys(r.mode for r in results if not getattr(r, "overrides", None)):
        with plot.style("double"):
            fig, _ = plot.reference_mode_figure(ds, results, mode, checks=checks)
            written += figures_io.write_figure(fig, out, f"{stem}-{mode.lower()}", metadata)
    return written


def figure_balance_map(ds_map: xr.Dataset, out: Path, metadata: Mapping[str, str]) -> list[Path]:
    """Regime map over two parameters."""
    from sdkit import plot

    with plot.style("single", aspect=0.9):
        ax = plot.balance_map(ds_map)
        return figures_io.write_figure(ax.figure, out, "balance-map", metadata)


def figure_fan(ensembles: Mapping[str, xr.Dataset], variable: str, out: Path, metadata: Mapping[str, str]) -> list[Path]:
    """Median with 50 % and 90 % bands of one variable, one panel per ensemble."""
    from sdkit import plot

    with plot.style("double"):
        fig = plot.fan_chart(dict(ensembles), variable)
        return figures_io.write_figure(fig, out, f"fan-{variable.replace('_', '-')}", metadata)
