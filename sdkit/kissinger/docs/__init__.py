"""The figures and tables of ``docs/*.md``, one module per page.

Each module has ``write(models, img, metadata, sweeps=None) -> (files, text)``: it runs
what its page quotes, draws the page's figures with :mod:`sdkit.plot` into `img`
through :func:`sdkit.figures_io.write_figure`, and returns the files and the page's
markdown tables. ``sdkit reproduce`` calls them all in-process (into ``OUT/img``); the
scripts ``docs/make_*.py`` call one each (into ``docs/img``) through :func:`script_main`.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Script:
    """The script in ``docs/`` that draws one page, and what its command line offers beyond ``--img``."""

    name: str
    #: the page reads the sensitivity studies' results (``--results``)
    reads_sweeps: bool = False
    #: (flag, help, function of the page module taking the models folder) for a slow extra table
    extra: tuple[str, str, str] | None = None


#: page module -> its script in docs/
SCRIPTS: dict[str, Script] = {
    "core": Script("make_model_core_figures"),
    "history": Script("make_history_figures", extra=(
        "--grid", "also print how the checks fare on a grid of scenario values (slow)", "grid")),
    "four_orders": Script("make_four_orders_figures", extra=(
        "--robustness", "also print the +-20 %% robustness table (slow)", "robustness")),
    "sensitivity": Script("make_sensitivity_figures", reads_sweeps=True),
    "four_orders_sensitivity": Script("make_four_orders_sensitivity_figures", reads_sweeps=True),
    "theory": Script("make_theory_parameters"),
    "loops": Script("make_loop_figures"),
}

#: page module -> script, for the pages ``sdkit reproduce`` writes whole (its loop-dominance
#: step draws the loops page's RM2 alone)
PAGES: dict[str, str] = {page: script.name for page, script in SCRIPTS.items() if page != "loops"}


def _module(page: str) -> Any:
    return importlib.import_module(f"sdkit.kissinger.docs.{page}")


def writer(page: str) -> Callable[..., tuple[list[Path], str]]:
    """The ``write`` function of one page module."""
    return _module(page).write


def write_page(page: str, models: Path, img: Path, metadata: Mapping[str, str],
               sweeps: Path | None = None) -> tuple[list[Path], str]:
    """Figures and tables of one page (a key of :data:`SCRIPTS`)."""
    img.mkdir(parents=True, exist_ok=True)
    return writer(page)(models, img, metadata, sweeps)


def page_runs(path: Path, checks: Sequence[Any], scenarios: Iterable[str] = (), engine: str = "engine") -> Any:
    """The runs a page checks and draws: each scenario its checks read, then the others it names, once each."""
    from sdkit.checks import scenarios_needed
    from sdkit.model import load_model
    from sdkit.run import run

    names = list(scenarios_needed(checks))
    names += [s for s in dict.fromkeys(scenarios) if s not in names]
    return run(load_model(path), scenarios=names, engine=engine)


def script_main(page: str, root: Path, doc: str, argv: Sequence[str] | None = None) -> int:
    """The command line of a ``docs/make_*.py`` script: draw its page, print its tables.

    `root` is the repository (models in ``root/models``, figures by default in
    ``root/docs/img``); `doc` the script's docstring, whose first line describes it.
    """
    script = SCRIPTS[page]
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--img", type=Path, default=root / "docs" / "img", help="folder for the figures (default: docs/img)")
    if script.reads_sweeps:
        parser.add_argument("--results", type=Path, default=root / "results",
                            help="folder holding <study>/ (default: results/, where sdkit sweep writes)")
    if script.extra:
        parser.add_argument(script.extra[0], action="store_true", help=script.extra[1])
    args = parser.parse_args(argv)
    metadata = {"sdkit:command": f"python docs/{script.name}.py"}
    models = root / "models"
    _, text = write_page(page, models, args.img, metadata, sweeps=args.results if script.reads_sweeps else None)
    print(text)
    if script.extra and getattr(args, script.extra[0].lstrip("-")):
        print()
        print(getattr(_module(page), script.extra[2])(models))
    return 0
