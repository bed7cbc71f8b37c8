"""The figures and tables of ``docs/*.md``, one module per page.

Each module has ``write(models, img, metadata, sweeps=None) -> (files, text)``: it runs
what its page quotes, draws the page's figures with :mod:`sdkit.plot` into `img`
through :func:`sdkit.figures_io.write_figure`, and returns the files and the page's
markdown tables. ``sdkit reproduce`` calls them all in-process (into ``OUT/img``); the
scripts ``docs/make_*.py`` call one each (into ``docs/img``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from pathlib import Path

#: page module -> the script in docs/ that calls it
PAGES: dict[str, str] = {
    "core": "make_model_core_figures",
    "history": "make_history_figures",
    "four_orders": "make_four_orders_figures",
    "sensitivity": "make_sensitivity_figures",
    "four_orders_sensitivity": "make_four_orders_sensitivity_figures",
    "theory": "make_theory_parameters",
}


def writer(page: str) -> Callable[..., tuple[list[Path], str]]:
    """The ``write`` function of one page module."""
    return importlib.import_module(f"sdkit.kissinger.docs.{page}").write


def write_page(page: str, models: Path, img: Path, metadata: Mapping[str, str],
               sweeps: Path | None = None) -> tuple[list[Path], str]:
    """Figures and tables of one page (a key of :data:`PAGES`)."""
    img.mkdir(parents=True, exist_ok=True)
    return writer(page)(models, img, metadata, sweeps)
