"""What one simulation call runs: rows of overrides (one per scenario or sample) and the saved times.

A :class:`Runs` is the data form every backend takes (:mod:`sdkit.simulate`): the engine
turns it into parameter arrays, PySD into one parameter dictionary per run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sdkit.errors import ParameterError
from sdkit.scenarios import Override
from sdkit.timing import TimeSettings, saveper_mask, time_grid

#: what ``save`` may be: "all" (every SAVEPER), "final", or the times to keep
Save = str | Sequence[float] | np.ndarray


@dataclass(frozen=True)
class Runs:
    """The runs of one simulation call, all sharing the same time settings.

    Run ``i`` starts from the model file's own values, then takes ``shared`` (e.g. a
    scenario every sample starts from), then ``rows[i]`` (one list of overrides per
    scenario, when given), then the ``i``-th number of each of ``columns`` (overrides
    whose value holds one number per run, e.g. a column of a sample table).

    Attributes
    ----------
    labels : sequence
        One label per run: scenario names, or sample numbers of an ensemble (a ``range``).
    dim : str
        What a run is: ``"scenario"`` or ``"sample"`` (the Dataset's first dimension).
    """

    labels: Sequence[Any]
    dim: str = "scenario"
    shared: tuple[Override, ...] = ()
    rows: tuple[tuple[Override, ...], ...] = ()
    columns: tuple[Override, ...] = ()

    def __post_init__(self) -> None:
        if self.rows and len(self.rows) != len(self.labels):
            raise ParameterError(f"{len(self.rows)} rows of overrides for {len(self.labels)} runs; give one per run")
        for column in self.columns:
            if np.shape(column.value) != (len(self.labels),):
                raise ParameterError(f"the values of {column.py_name!r} have shape {np.shape(column.value)}; "
                                     f"give one number per run ({len(self.labels)})")

    @classmethod
    def of_scenarios(cls, named: Sequence[tuple[str, Sequence[Override]]]) -> Runs:
        """One run per ``(scenario name, overrides)``."""
        return cls(tuple(name for name, _ in named), "scenario", rows=tuple(tuple(o) for _, o in named))

    @property
    def n(self) -> int:
        return len(self.labels)

    def overrides(self, i: int) -> list[Override]:
        """Every override of run ``i``, in the order they apply."""
        row = self.rows[i] if self.rows else ()
        columns = [Override(c.py_name, float(c.value[i]), c.elements) for c in self.columns]
        return [*self.shared, *row, *columns]

    def take(self, start: int, stop: int) -> Runs:
        """Runs ``start`` to ``stop - 1`` (labels kept, so errors still name the global run)."""
        columns = tuple(Override(c.py_name, np.asarray(c.value)[start:stop], c.elements) for c in self.columns)
        return Runs(self.labels[start:stop], self.dim, self.shared, self.rows[start:stop], columns)

    def describe(self, i: int) -> str:
        """Run ``i`` in words: ``scenario 'fast'`` or ``sample 12``."""
        return f"scenario {self.labels[i]!r}" if self.dim == "scenario" else f"{self.dim} {self.labels[i]}"


def save_times(time: TimeSettings) -> np.ndarray:
    """The times a run saves: every SAVEPER from INITIAL TIME, and FINAL TIME whatever SAVEPER says."""
    grid, mask = step_grid(time)
    mask[-1] = True
    return grid[mask]


def saved_grid(time: TimeSettings, save: Save) -> np.ndarray:
    """The times ``save`` keeps, as the engine's kernel keeps them (``"all"``: SAVEPER points only)."""
    if isinstance(save, str):
        grid, mask = step_grid(time)
        if save == "final":
            return grid[-1:]
        if save == "all":
            return grid[mask]
        raise ParameterError(f"save must be 'all', 'final' or a list of times, got {save!r}")
    return np.asarray(save, dtype=float)


def step_grid(time: TimeSettings) -> tuple[np.ndarray, np.ndarray]:
    """Every step's time and whether it lies on the SAVEPER grid (a new mask each call)."""
    if time.clock is not None:  # control variables that change with Time: the engine's clock
        _, grid = time.clock.run(time.fixed())
        return np.asarray(grid.times), grid.check.copy()
    grid = np.asarray(time_grid(time.initial_time, time.final_time, time.time_step))
    return grid, saveper_mask(grid, time.initial_time, time.time_step, time.saveper)
