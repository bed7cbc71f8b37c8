"""Loop scores of an ensemble, chunk by chunk, so memory grows with the loops kept, not the runs.

Each chunk of samples is run by the engine saving every time step of the stocks and
auxiliaries only (the constants once, as final values); its link scores
(:class:`sdkit.loops.linkcode.LinkProgram`) and loop scores
(:func:`sdkit.loops.dominance.scored_loops`) are computed at once, and only what the
result holds is kept: the kept loops' scores, the dominant loop, the trajectories
asked for and the sampled constants. Every sample is computed on its own, so the
result does not depend on the chunk size.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import xarray as xr

from sdkit.errors import NonFiniteError, ParameterError
from sdkit.runs import save_times

if TYPE_CHECKING:
    from sdkit.loops.loop import Loop
    from sdkit.model import Model

#: bytes a chunk's runs and link scores may take while it is scored
CHUNK_BYTES = 1 << 30


def chunk_size(values_per_step: int, steps: int, budget: float = CHUNK_BYTES) -> int:
    """Samples per chunk: as many as ``budget`` holds (values saved, stacked and scored per
    sample and step), at least 32 so that both of two threads get a full block of lanes."""
    return max(32, int(budget // (8 * steps * max(values_per_step, 1))))


def score_samples(model: Model, stepwise: Model, scenario: str, samples: pd.DataFrame, loops: Sequence[Loop],
                  kept: Sequence[Loop], variables: Sequence[str],
                  progress: Callable[[Iterable[Any]], Iterable[Any]] | None = None) -> tuple[xr.Dataset, dict, Counter]:
    """Scores of ``kept`` loops and the dominant loop over ``samples`` (one run per row) of the
    scenario ``scenario`` of ``stepwise`` (which saves every time step), the provenance of the
    runs, and how often each loop dominates (:func:`sdkit.loops.dominance.dominance_counts`)."""
    from sdkit.backends.engine import parameter_arrays
    from sdkit.ensemble import columns_to_overrides, starting_point
    from sdkit.loops.dominance import (
        ARROW,
        LoopLinks,
        dominance_counts,
        scorable,
        scored_loops,
        time_control,
    )
    from sdkit.loops.linkcode import link_program
    from sdkit.provenance import provenance_attrs
    from sdkit.runs import Runs
    from sdkit.simulate import label_nonfinite

    ir, node_names = scorable(model)
    program = link_program(ir)
    label = {i: model.variables[node_names[i]].name for i in program.dynamic}
    links = LoopLinks(loops, {f"{label[a]}{ARROW}{label[b]}": row for row, (a, b) in enumerate(program.links)})
    base, settings = starting_point(stepwise, scenario)
    runs = Runs(range(len(samples)), "sample", tuple(base), columns=tuple(columns_to_overrides(stepwise, samples)))
    column_of = {node_names[i]: j for j, i in enumerate(program.dynamic)}
    missing = [v for v in variables if v not in column_of]
    if missing:
        raise ParameterError(f"{missing[0]!r} is not a stock or an auxiliary; only their trajectories are kept")
    steps = len(save_times(settings))
    size = min(runs.n, chunk_size(len(program.dynamic) + len(program.links) + 3 * len(kept) + len(variables), steps))
    held = _Held(kept, variables, runs.n, steps, links.ids.dtype)
    # one chunk's runs and link scores, reused: no new pages for every chunk
    scratch = np.empty(len(program.links) * size * steps)
    saved = np.empty(size * steps * len(program.dynamic))
    counts = Counter()
    for start in (progress or (lambda chunks: chunks))(list(range(0, runs.n, size))):
        chunk = runs.take(start, min(start + size, runs.n))
        params = parameter_arrays(stepwise, chunk)
        try:
            time, values = stepwise.kernel.simulate_steps(
                params, chunk.n, program.dynamic, settings.__dict__,
                saved[:chunk.n * steps * len(program.dynamic)].reshape(chunk.n, steps, len(program.dynamic)),
                first_sample=start)
        except NonFiniteError as exc:
            raise label_nonfinite(exc, chunk) from None
        constants = [np.broadcast_to(params.get(node_names[i], stepwise.kernel.constants[node_names[i]]), (chunk.n,))
                     for i in program.params]
        table = scratch[:len(program.links) * chunk.n * steps].reshape(len(program.links), chunk.n, steps)
        program.score(values, np.array(constants).reshape(len(constants), chunk.n), time, time_control(settings), table)
        rows = slice(start, start + chunk.n)
        _, _, dominant = scored_loops(table, links, kept, (held.score[:, rows], held.relative[:, rows]))
        counts += dominance_counts(dominant, links)
        held.dominant[rows] = links.ids[dominant]
        for name, trajectory in held.trajectories.items():
            trajectory[rows] = values[:, :, column_of[name]]
    attrs = provenance_attrs(stepwise, engine="engine", scenario=scenario, save="all")
    sampled = {column.py_name: np.asarray(column.value, dtype=float) for column in runs.columns}
    return held.dataset(model, np.asarray(time), sampled), attrs, counts


class _Held:
    """What the result keeps, for every sample, filled chunk by chunk."""

    def __init__(self, kept: Sequence[Loop], variables: Sequence[str], n: int, steps: int, ids: np.dtype) -> None:
        self.kept = list(kept)
        self.score = np.empty((len(kept), n, steps))
        self.relative = np.empty((len(kept), n, steps))
        self.dominant = np.empty((n, steps), dtype=ids)
        self.trajectories = {name: np.empty((n, steps)) for name in variables}

    def dataset(self, model: Model, time: np.ndarray, sampled: dict[str, np.ndarray]) -> xr.Dataset:
        """The scores, dominant loops, trajectories and sampled constants (with their names and units)."""
        dims = ("loop", "sample", "time")
        described = {name: {"long_name": model.variables[name].name, "units": model.variables[name].units}
                     for name in [*self.trajectories, *sampled]}
        data = {
            "loop_score": (dims, self.score, {"long_name": "loop score", "units": "1"}),
            "relative_loop_score": (dims, self.relative, {"long_name": "relative loop score", "units": "1"}),
            "dominant_loop": (("sample", "time"), self.dominant, {"long_name": "loop with the largest |loop score|"}),
            **{name: (("sample", "time"), values, described[name]) for name, values in self.trajectories.items()},
            **{name: (("sample",), values, described[name]) for name, values in sampled.items()},
        }
        coords = {"loop": [loop.id for loop in self.kept], "name": ("loop", [loop.name for loop in self.kept]),
                  "sample": np.arange(self.dominant.shape[0]), "time": time}
        return xr.Dataset(data, coords=coords)
