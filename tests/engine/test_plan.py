"""Which steps a list of save times picks (sdkit/engine/plan.py)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sdkit.engine.plan import _grid_steps
from sdkit.timing import time_grid


def _first_isclose(grid, requested, rtol):
    """The definition: the first grid step np.isclose finds equal, else -1."""
    return np.array([next(iter(np.flatnonzero(np.isclose(grid, r, rtol))), -1) for r in requested])


@settings(max_examples=300, deadline=None)
@given(t0=st.floats(-1e3, 1e3), steps=st.integers(0, 400), dt=st.sampled_from([1.0, 0.5, 0.25, 0.125, 0.1, 0.0625, 1 / 3]),
       picks=st.lists(st.tuples(st.integers(0, 400), st.sampled_from([0.0, 1e-12, 1e-9, 1e-6, 0.3, -0.3, 0.5]))),
       rtol=st.sampled_from([1e-9, 1e-6, 1e-3]))
def test_grid_steps_are_the_first_isclose_step(t0, steps, dt, picks, rtol):
    grid = np.asarray(time_grid(t0, t0 + steps * dt, dt))
    requested = np.array([t0 + min(i, steps) * dt + shift * dt for i, shift in picks] + [np.nan, np.inf, t0 - 5 * dt])
    np.testing.assert_array_equal(_grid_steps(grid, requested, rtol), _first_isclose(grid, requested, rtol))


def test_times_beyond_the_resolution_of_the_step_use_the_definition():
    grid = np.arange(0.0, 10.0) * 1e-3 + 1e9
    requested = grid[[2, 5]]
    np.testing.assert_array_equal(_grid_steps(grid, requested, 1e-6), _first_isclose(grid, requested, 1e-6))
