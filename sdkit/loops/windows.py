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


@dataclass(frozen=True)
class Event:
    """``variable`` going below (``below=True``) or above ``level``."""

    variable: str
    level: float
    below: bool

    def __str__(self) -> str:
        return f"{self.variable} {'<' if self.below else '>'} {self.level:g}"


_CONDITION = re.compile(r"^\s*(?P<name>[^<>]+?)\s*(?P<op>[<>])\s*(?P<level>[-+0-9.eE]+)\s*$")


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


def window_table(window: xr.Dataset, names: dict[str, str], event: Event, years: float,
                 parameters: xr.Dataset | None = None) -> str:
    """How many runs each loop dominates in the window before the event (``names``: id -> what
    to show), and with ``parameters`` (the sampled constants, dim ``sample``) the mean of
    each over those runs and over the runs that never reach the event."""
    from sdkit.report import table

    leaders = np.ravel(window["window_dominant_loop"].values).astype(str)
    reached = np.ravel(np.isfinite(window["event_time"].values))
    groups = [(loop, leaders == loop) for loop, _ in Counter(leaders[leaders != ""]).most_common()]
    columns = list(parameters.data_vars) if parameters is not None else []
    if columns and not reached.all():
        groups.append(("(never)", ~reached))
    rows = []
    for loop, members in groups:
        means = [f"{float(np.ravel(parameters[c].values)[members].mean()):.3g}" for c in columns]
        rows.append([loop, int(members.sum()), f"{members.mean():.0%}", *means, names.get(loop, "")])
    at_start = int(reached.sum() - (leaders != "").sum())
    head = (f"the loop dominant most often in the {years:g} years before {event} "
            f"({int(reached.sum())} of {leaders.size} runs reach it"
            f"{f', {at_start} from the start, with no time before it' if at_start else ''})")
    header = ["id", "runs", "share of runs", *(f"mean {parameters[c].attrs.get('long_name', c)}" for c in columns), "loop"]
    return head + ("\n" + table(header, rows) if rows else "")


#: what a run's window shows when no loop dominates it
NEVER, AT_START = "(never)", "(at start)"


def window_by_parameter(window: xr.Dataset, parameters: xr.Dataset, bins: int = 5) -> xr.Dataset:
    """The share of runs in which each loop dominates the window before the event, as a function
    of each sampled parameter: per bin of equal counts (quantiles) of its values, or per value
    when it takes at most ``bins`` values.

    Parameters
    ----------
    window : xarray.Dataset
        :func:`dominance_before`'s result over samples.
    parameters : xarray.Dataset
        The sampled constants, each with the dim ``sample``.
    bins : int

    Returns
    -------
    xarray.Dataset
        ``window_share`` (parameter, bin, leader): the share of the bin's runs whose window
        each loop dominates; ``leader`` is the loops' ids (most runs first), then
        ``(at start)`` (the event happens at the start, with no time before it) and
        ``(never)`` (it never happens). ``bin_low`` and ``bin_high`` (parameter, bin) bound
        each bin's values, ``bin_runs`` counts its runs (an empty bin's shares are NaN).
    """
    if bins < 1:
        raise ParameterError(f"--bins must be at least 1, got {bins}")
    outcome = _outcomes(window)
    leaders = [lead for lead, _ in Counter(outcome[~np.isin(outcome, (AT_START, NEVER))]).most_common()]
    leaders += [lead for lead in (AT_START, NEVER) if (outcome == lead).any()]
    names = list(parameters.data_vars)
    share = np.full((len(names), bins, len(leaders)), np.nan)
    low, high, runs = (np.full((len(names), bins), np.nan) for _ in range(3))
    for p, name in enumerate(names):
        values = np.ravel(parameters[name].values).astype(float)
        for b, members in enumerate(_bins(values, bins)):
            runs[p, b] = members.sum()
            if members.any():
                low[p, b], high[p, b] = values[members].min(), values[members].max()
                share[p, b] = [(outcome[members] == lead).mean() for lead in leaders]
    return xr.Dataset(
        {"window_share": (("parameter", "bin", "leader"), share,
                          {"long_name": "share of the bin's runs in which the loop dominates the window before the event"}),
         "bin_low": (("parameter", "bin"), low), "bin_high": (("parameter", "bin"), high),
         "bin_runs": (("parameter", "bin"), runs)},
        coords={"parameter": names, "bin": np.arange(bins), "leader": np.array(leaders, dtype=str)})


def _outcomes(window: xr.Dataset) -> np.ndarray:
    """Per run: the window's dominant loop, AT_START or NEVER."""
    leaders = np.ravel(window["window_dominant_loop"].values).astype(str)
    reached = np.ravel(np.isfinite(window["event_time"].values))
    return np.where(leaders != "", leaders, np.where(reached, AT_START, NEVER)).astype(object)


def _bins(values: np.ndarray, bins: int) -> list[np.ndarray]:
    """Masks of the runs in each bin: one per distinct value when there are at most ``bins`` of
    them (the rest empty), else bins of equal counts between quantiles of the values."""
    distinct = np.unique(values)
    if distinct.size <= bins:
        return [values == v for v in distinct] + [np.zeros(values.size, bool)] * (bins - distinct.size)
    edges = np.quantile(values, np.linspace(0, 1, bins + 1)[1:-1])
    index = np.searchsorted(edges, values, side="right")
    return [index == b for b in range(bins)]


def parameter_table(by_parameter: xr.Dataset, parameters: xr.Dataset, columns: int = 5) -> str:
    """One table per sampled parameter: per bin its range, runs and the share of runs each of the
    ``columns`` loops that lead most runs dominates (the rest as ``other``), then AT_START, NEVER."""
    from sdkit.report import table

    leaders = [str(v) for v in by_parameter["leader"].values]
    loops = [lead for lead in leaders if lead not in (AT_START, NEVER)]
    shown, rest = loops[:columns], loops[columns:]
    tails = [lead for lead in (AT_START, NEVER) if lead in leaders]
    blocks = []
    for name in (str(v) for v in by_parameter["parameter"].values):
        rows = []
        for b in by_parameter["bin"].values:
            cell = by_parameter.sel(parameter=name, bin=b)
            if not cell["bin_runs"] > 0:
                continue
            share = {lead: float(v) for lead, v in zip(leaders, cell["window_share"].values, strict=True)}
            span = f"{float(cell['bin_low']):.3g}" + ("" if cell["bin_low"] == cell["bin_high"] else f" to {float(cell['bin_high']):.3g}")
            rows.append([span, int(cell["bin_runs"]), *(f"{share[lead]:.0%}" for lead in shown),
                         *([f"{sum(share[lead] for lead in rest):.0%}"] if rest else []),
                         *(f"{share[lead]:.0%}" for lead in tails)])
        label = parameters[name].attrs.get("long_name", name) if name in parameters else name
        header = [label, "runs", *shown, *(["other"] if rest else []), *tails]
        blocks.append(table(header, rows))
    return "\n\n".join(blocks)
