"""What became of an order: the outcome classes of the balance map.

An order *holds* while its restraint is above ``threshold`` (the restraint
sigmoid's midpoint by default). Its outcome over a run is

* ``0`` stable order: restraint never fell below the threshold;
* ``1`` collapse, then a new order: it fell below and ended above;
* ``2`` lasting disorder: it ended below.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import xarray as xr

from sdkit.model import Model

OUTCOME_MEANINGS = ("stable_order", "collapse_then_new_order", "lasting_disorder")
RESTRAINT_HOLDS = 0.5


def classify_outcome(restraint: xr.DataArray, threshold: float = RESTRAINT_HOLDS) -> xr.DataArray:
    """Outcome code per trajectory of restraint (reduces over ``time``).

    Parameters
    ----------
    restraint : xarray.DataArray
        Restraint trajectories with a ``time`` dimension, values in [0, 1].
    threshold : float
        Restraint below which the order counts as broken.

    Returns
    -------
    xarray.DataArray of int8
        0 stable order, 1 collapse then new order, 2 lasting disorder, with CF flag attributes.
    """
    broke = (restraint < threshold).any("time")
    ended_broken = restraint.isel(time=-1) < threshold
    outcome = xr.where(ended_broken, 2, xr.where(broke, 1, 0)).astype(np.int8)
    outcome.attrs = outcome_attrs(threshold)
    return outcome


def outcome_attrs(threshold: float = RESTRAINT_HOLDS) -> dict:
    """CF flag attributes of an outcome variable."""
    return {
        "long_name": "outcome of the order",
        "flag_values": np.array([0, 1, 2], dtype=np.int8),
        "flag_meanings": " ".join(OUTCOME_MEANINGS),
        "restraint_threshold": threshold,
    }


def restraint_map(
    model: Model,
    x: tuple[str, float, float],
    y: tuple[str, float, float],
    resolution: int = 200,
    scenario: str | None = None,
    threshold: float = RESTRAINT_HOLDS,
    executor: Any = None,
    progress: Callable[[Iterable[Any]], Iterable[Any]] | None = None,
) -> xr.Dataset:
    """The balance map of an order: :func:`sdkit.balance.balance_map` of ``Restraint``, classified by outcome."""
    from sdkit.balance import balance_map

    return balance_map(
        model, x, y, "Restraint", lambda restraint: classify_outcome(restraint, threshold),
        resolution=resolution, scenario=scenario, executor=executor, progress=progress,
    )
