"""The project's own studies of the Kissinger models (``models/kissinger_core.mdl``,
``models/four_orders.mdl``): the four orders, the outcome classes of an order, the
figures and tables of ``docs/`` and the study steps of ``sdkit reproduce``.

Nothing outside this subpackage knows these models; the generic package
(:mod:`sdkit.run`, :mod:`sdkit.plot`, :mod:`sdkit.sensitivity`, ...) works on any model.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

#: The four orders of the core model, as its scenarios name them, in the order figures draw them.
ORDERS: tuple[str, ...] = ("liberal", "transformative", "mercantilist", "sovereign")

#: The four stocks of the core model named in the mission: the panels of its trajectory figures.
STOCKS: tuple[str, ...] = ("legitimacy", "power", "institutional_authority", "civil_society_pressure")

#: File stems of the two models under ``models/``.
CORE = "kissinger_core"
FOUR_ORDERS = "four_orders"


def holds_models(folder: Path) -> bool:
    """Whether a models folder is the project's: it holds both of its models."""
    return all((folder / f"{stem}.mdl").is_file() for stem in (CORE, FOUR_ORDERS))


def reproduce_steps() -> list[tuple[str, Callable]]:
    """The study steps ``sdkit reproduce`` runs after its generic ones on the project's models."""
    from sdkit.kissinger import reproduce

    return [
        ("core-model figures", reproduce.step_core_figures),
        ("balance map", reproduce.step_balance_map),
        ("sensitivity figures", reproduce.step_sensitivity_figures),
        ("ensemble fan charts", reproduce.step_fans),
        ("loop dominance", reproduce.step_loop_dominance),
        ("figures and tables of docs/", reproduce.step_docs_figures),
    ]
