"""Which loop dominates before an event: "the ten years before restraint collapses".

The event is the first time a variable goes below (or above) a level, found with the
checks' own rule (:func:`sdkit.measures.first_crossing`, interpolated between saved
times); the window is the ``years`` before it. In each run the loop that dominates
the window is the one with the largest absolute loop score at most of its time steps.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import numpy as np
import xarray as xr

from sdkit.errors import ParameterError

_CONDITION = re.compile(r"^\s*(?P<name>[^<>]+?)\s*(?P<op>[<>])\s*(?P<level>[-+0-9.eE]+)\s*$")


@dataclass(frozen=True)
class Event:
    """``variable`` going below (``below=True``) or above ``level``."""

    variable: str
    level: float
    below: bool

    def __str__(self) -> str:
        return f"{self.variable} {'<' if self.below else '>'} {self.level:g}"


def parse_event(text: str) -> Event:
    """``"Restraint < 0.5"`` -> Event("Restraint", 0.5, below=True)."""
    match = _CONDITION.match(text)
    if not match:
        raise ParameterError(f"--before {text!r} must look like NAME<LEVEL or NAME>LEVEL, e.g. --before 'Restraint<0.5'")
    try:
        level = float(match["level"])
    except ValueError:
        raise ParameterError(f"--before {text!r}: {match['level']!r} is not a number") from None
    return Event(match["name"].strip(), level, match["op"] == "<")


def dominance_before(scored: xr.Dataset, trajectory: xr.DataArray, event: Event, years: float) -> xr.Dataset:
    """The event's time and the loop that dominates the ``years`` before it, per run.

    Parameters
    ----------
    scored : xarray.Dataset
        :func:`sdkit.loops.dominance.score_scenario`'s result (``dominant_loop``).
    trajectory : xarray.DataArray
        The event's variable over the same time (and samples).
    event : Event
    years : float
        Length of the window before the event, in the model's time units.

    Returns
    -------
    xarray.Dataset
        ``event_time`` (NaN where the event never happens) and ``window_dominant_loop``
        ("" where it never happens), with a ``sample`` dim for an ensemble.
    """
    if not years > 0:
        raise ParameterError(f"--years must be a positive number of years, got {years:g}")
    lead = [d for d in trajectory.dims if d != "time"]
    x = trajectory.transpose(*lead, "time").values.reshape(-1, trajectory.sizes["time"])
    leader = scored["dominant_loop"].transpose(*lead, "time").values.reshape(x.shape)
    t = trajectory["time"].values
    from sdkit.measures import first_crossing

    when = first_crossing(x, t, np.full(x.shape[0], event.level), np.ones(x.shape, bool), event.below)
    window = [_most_common(row[(t >= w - years) & (t < w)]) if np.isfinite(w) else "" for row, w in zip(leader, when, strict=True)]
    shape = tuple(trajectory.sizes[d] for d in lead)
    coords = {d: trajectory[d].values for d in lead}
    return xr.Dataset(
        {"event_time": (lead, when.reshape(shape), {"long_name": f"first time {event}"}),
         "window_dominant_loop": (lead, np.array(window, dtype=str).reshape(shape),
                                  {"long_name": f"loop dominant most often in the {years:g} years before {event}"})},
        coords=coords)


def _most_common(ids: np.ndarray) -> str:
    found = Counter(str(i) for i in ids if str(i))
    return found.most_common(1)[0][0] if found else ""


def window_table(window: xr.Dataset, names: dict[str, str], event: Event, years: float) -> str:
    """How many runs each loop dominates in the window before the event (``names``: id -> what to show)."""
    from sdkit.report import table

    ids = [str(v) for v in np.ravel(window["window_dominant_loop"].values)]
    reached = int(np.isfinite(window["event_time"].values).sum())
    counts = Counter(i for i in ids if i)
    rows = [[loop, count, f"{count / len(ids):.0%}", names.get(loop, "")] for loop, count in counts.most_common()]
    at_start = reached - sum(counts.values())
    head = (f"the loop dominant most often in the {years:g} years before {event} "
            f"({reached} of {len(ids)} runs reach it"
            f"{f', {at_start} from the start, with no time before it' if at_start else ''})")
    return head + ("\n" + table(["id", "runs", "share of runs", "loop"], rows) if rows else "")
