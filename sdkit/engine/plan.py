"""The plan of one kernel call: the time grid (:mod:`sdkit.timing`), the steps to save and the nodes to keep.

The plan is pure data, decided before any integration; :class:`~sdkit.engine.kernel.Kernel`
fills it with parameter values, executes it and collects the saved values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from sdkit.errors import ParameterError
from sdkit.timing import RPREC, saveper_mask, time_grid


@dataclass(frozen=True)
class Plan:
    """Everything about a kernel call that does not depend on parameter values.

    Attributes
    ----------
    names : list of str
        Python names of the variables to return.
    t0, tf, dt, sp : float
        Initial time, final time, time step and SAVEPER.
    times : list of float
        The time grid (PySD's).
    check : numpy.ndarray
        Per step: whether values are checked for NaN/infinity there (the SAVEPER points).
    save_index : numpy.ndarray
        Per step: the position of the step among the saved ones, or -1.
    steps : numpy.ndarray
        The saved steps.
    final : bool
        Only the final values are returned (no time axis).
    decimals : int or numpy.ndarray
        Decimals that saved times are rounded to (like PySD's output index); per step
        when the TIME STEP changes with Time.
    var_nodes : list of numpy.ndarray
        Per returned variable, its node indices (shaped like its subscripts; -1 for none).
    saved_nodes : numpy.ndarray
        The nodes the kernel writes into its output buffer, in buffer order.
    """

    names: list[str]
    t0: float
    tf: float
    dt: float
    sp: float
    times: list[float]
    check: np.ndarray
    save_index: np.ndarray
    steps: np.ndarray
    final: bool
    decimals: int | np.ndarray
    var_nodes: list[np.ndarray]
    saved_nodes: np.ndarray

    @property
    def out_times(self) -> np.ndarray:
        times = np.asarray(self.times)[self.steps]
        if isinstance(self.decimals, np.ndarray):  # per step: the TIME STEP changes with Time
            return np.array([np.round(x, d) for x, d in zip(times, self.decimals[self.steps], strict=True)])
        return np.round(times, self.decimals)

    def refuse_oversized(self, n: int) -> None:
        """Raise ParameterError when the results of ``n`` samples would not fit in the memory available now."""
        size = 8 * n * self.steps.size * self.saved_nodes.size
        if size < 2**30:
            return
        import psutil

        available = psutil.virtual_memory().available
        if size > available:
            raise ParameterError(
                f"the results would take {size / 1e9:.3g} GB ({n:,} samples x {self.steps.size:,} saved times x "
                f"{self.saved_nodes.size:,} values), more than the {available / 1e9:.3g} GB of memory available; "
                "return fewer variables (variables=[...]), save='final' or fewer times, or fewer samples per call"
            )

    def column(self) -> dict[int, int]:
        """Node -> its position in the output buffer."""
        return {int(node): j for j, node in enumerate(self.saved_nodes)}

    def rounded(self, t: float) -> float:
        return float(np.round(t, np.max(self.decimals)))


def make_plan(names: list[str], var_nodes: Mapping[str, np.ndarray], t: tuple,
              save: str | Sequence[float] | np.ndarray) -> Plan:
    """The plan for ``names`` under time settings ``t`` = (t0, tf, dt, saveper), saving ``save``.

    A fifth item of ``t``, a :class:`sdkit.engine.clock.Grid`, gives the times of a
    model whose control variables change with Time (``dt`` is then the kernel's).
    """
    for v in names:
        if v not in var_nodes:
            raise ParameterError(f"variable '{v}' is not in the model; see kernel.variables")
    t0, tf, dt, sp, *varying = t
    if varying:  # control variables that change with Time (sdkit.engine.clock)
        times, check, decimals = varying[0].times, varying[0].check, varying[0].decimals
        steps = save_steps(save, times, check, t0, tf, varying[0].min_step)
    else:
        times = time_grid(t0, tf, dt)
        check = saveper_mask(times, t0, dt, sp)
        decimals = -int(np.log10(dt * RPREC))
        steps = save_steps(save, times, check, t0, tf, dt)
    save_index = np.full(len(times), -1, dtype=np.int64)
    save_index[steps] = np.arange(steps.size)
    nodes = [var_nodes[v] for v in names]
    saved = sorted({int(i) for idx in nodes for i in np.ravel(idx) if i >= 0})
    return Plan(names, t0, tf, dt, sp, times, check, save_index, steps,
                final=isinstance(save, str) and save == "final", decimals=decimals,
                var_nodes=nodes, saved_nodes=np.asarray(saved, dtype=np.int64))


def save_steps(save: str | Sequence[float] | np.ndarray, times: list[float], check: np.ndarray, t0: float,
               tf: float, dt: float) -> np.ndarray:
    """The steps ``save`` asks for: every SAVEPER point, the last step, or the steps of given times."""
    if isinstance(save, str):
        if save == "all":
            return np.flatnonzero(check)
        if save == "final":
            return np.array([len(times) - 1])
        raise ParameterError(f"save='{save}' is unknown; use 'all', 'final' or an array")
    requested = np.atleast_1d(np.asarray(save, dtype=np.float64))
    if requested.ndim != 1 or requested.size == 0:
        raise ParameterError("save must be 'all', 'final' or a non-empty 1-D array of times")
    steps = _grid_steps(np.asarray(times), requested, dt * RPREC)
    missing = steps < 0
    if missing.any():
        r = requested[np.argmax(missing)]
        raise ParameterError(f"save time {r} is not on the time-step grid from {t0} to {tf} with step {dt}")
    if np.any(np.diff(steps) <= 0):
        raise ParameterError("save times must be strictly increasing")
    return steps


def _grid_steps(grid: np.ndarray, requested: np.ndarray, rtol: float) -> np.ndarray:
    """For each requested time, the first step of the ascending ``grid`` that ``np.isclose``
    (relative tolerance ``rtol``) finds equal to it, or -1: the two grid points around it
    are the only candidates while the tolerance is below half a step."""
    tolerance = 1e-8 + rtol * np.abs(requested)  # np.isclose's default atol, then rtol
    spacing = np.diff(grid).min() if grid.size > 1 else np.inf
    if np.any(tolerance >= spacing / 2):  # times so large that several steps are "close"
        return np.array([next(iter(np.flatnonzero(np.isclose(grid, r, rtol))), -1) for r in requested])
    above = np.clip(np.searchsorted(grid, requested), 0, grid.size - 1)
    below = np.clip(above - 1, 0, grid.size - 1)
    close_below = np.abs(grid[below] - requested) <= tolerance
    close_above = np.abs(grid[above] - requested) <= tolerance
    return np.where(close_below, below, np.where(close_above, above, -1))
