"""The engine backend: all rows of a call in one vectorised kernel call.

:func:`parameter_arrays` is the one builder of the kernel's parameter arrays (used by
``run``, ``ensemble`` and sweeps); :func:`run_kernel` is the one place that calls the
kernel and pins a non-finite value down to the exact time step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from sdkit.errors import NonFiniteError, SdkitError

if TYPE_CHECKING:
    from sdkit.model import Model, TimeSettings
    from sdkit.runs import Runs, Save


def parameter_arrays(model: Model, runs: Runs) -> dict[str, np.ndarray]:
    """One ``(runs, *subscripts)`` array per overridden constant: defaults, then shared, rows, columns."""
    kernel = model.kernel
    n = runs.n
    params: dict[str, np.ndarray] = {}

    def target(py_name: str) -> np.ndarray:
        if py_name not in params:
            params[py_name] = kernel.default_values(py_name, n)
        return params[py_name]

    for override in runs.shared:
        target(override.py_name)[(slice(None), *override.index(model))] = override.value
    for row, overrides in enumerate(runs.rows):
        for override in overrides:
            target(override.py_name)[(row, *override.index(model))] = override.value
    for column in runs.columns:
        index = column.index(model)
        array = target(column.py_name)
        values = np.asarray(column.value)
        array[(slice(None), *index)] = values.reshape((n,) + (1,) * (array.ndim - 1 - len(index)))
    return params


def run_kernel(kernel: Any, params: Mapping[str, np.ndarray], n: int, variables: Sequence[str], save: Save,
               time: Mapping[str, float], first_sample: int = 0) -> Any:
    """``kernel.simulate`` with full time settings; a non-finite value names its exact time step.

    ``first_sample`` is the number of the first row in its ensemble: a model's RANDOM
    draws follow the sample number, so a chunk draws what the whole ensemble would.

    The kernel checks values where it saves them; when SAVEPER is not TIME STEP, the
    failing run is rerun alone saving every step, so the error names the first step
    that went non-finite (``.sample`` stays the row within ``params``).
    """
    save = save if isinstance(save, str) else np.asarray(save, dtype=float)
    try:
        return kernel.simulate(params, n, list(variables), save=save, time=dict(time), first_sample=first_sample)
    except NonFiniteError as exc:
        raise _pinpoint(kernel, params, n, variables, time, exc, first_sample) from None


def _pinpoint(kernel: Any, params: Mapping[str, np.ndarray], n: int, variables: Sequence[str],
              time: Mapping[str, float], exc: NonFiniteError, first_sample: int) -> NonFiniteError:
    sample = exc.sample
    if sample is None or not 0 <= sample < n or "time_step" not in time or time.get("saveper") == time["time_step"]:
        # (a TIME STEP that changes with Time, not given: the error names the saved time)
        return exc
    where = exc
    one = {name: np.asarray(value)[sample : sample + 1] for name, value in params.items()}
    try:
        kernel.simulate(one, 1, list(variables), save="all", time={**time, "saveper": time["time_step"]},
                        first_sample=first_sample + sample)
    except NonFiniteError as exact:
        where = exact if exact.time is not None else exc
    except SdkitError:
        pass
    if where.time is None:
        return exc
    return NonFiniteError.at(where.variable, sample, where.time)


class EngineBackend:
    """sdkit's vectorised engine: every row of a call in one kernel call."""

    name = "engine"
    vectorised = True

    def run(self, model: Model, runs: Runs, time: TimeSettings, variables: Sequence[str],
            save: Save) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        result = run_kernel(model.kernel, parameter_arrays(model, runs), runs.n, variables, save, time.fixed())
        return np.asarray(result.times), result.data
