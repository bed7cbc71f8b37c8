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
    from sdkit.ensemble import _columns_to_overrides, _starting_point
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
    base, settings = _starting_point(stepwise, scenario)
    runs = Runs(range(len(samples)), "sample", tuple(base), columns=tuple(_columns_to_overrides(stepwise, samples)))
    column_of = {node_names[i]: j for j, i in enumerate(program.dynamic)}
    missing = [v for v in variables if v not in column_of]
    if missing:
        raise ParameterError(f"{missing[0]!r} is not a stock or an auxiliary; only their trajectories are kept")
    steps = len(save_times(settings))
    size = chunk_size(len(program.dynamic) + len(program.links) + 3 * len(kept) + len(variables), steps)
    parts, counts = [], Counter()
    for start in (progress or (lambda chunks: chunks))(list(range(0, runs.n, size))):
        chunk = runs.take(start, min(start + size, runs.n))
        params = parameter_arrays(stepwise, chunk)
        try:
            time, values = stepwise.kernel.simulate_steps(params, chunk.n, program.dynamic, settings.__dict__)
        except NonFiniteError as exc:
            raise label_nonfinite(exc, chunk) from None
        constants = [np.broadcast_to(params.get(node_names[i], stepwise.kernel.constants[node_names[i]]), (chunk.n,))
                     for i in program.params]
        table = program.score(values, np.array(constants).reshape(len(constants), chunk.n), time,
                              time_control(settings))
        score, relative, dominant = scored_loops(table, links, kept)
        del table
        counts += dominance_counts(dominant, links)
        parts.append((score, relative, links.ids[dominant], {v: values[:, :, column_of[v]].copy() for v in variables},
                      {column.py_name: np.asarray(column.value, dtype=float) for column in chunk.columns}))
    attrs = provenance_attrs(stepwise, engine="engine", scenario=scenario, save="all")
    scored = _assembled(parts, kept, np.asarray(time), len(samples))
    for name in [*variables, *parts[0][4]]:
        scored[name].attrs.update(long_name=model.variables[name].name, units=model.variables[name].units)
    return scored, attrs, counts


def _assembled(parts: list[tuple], kept: Sequence[Loop], time: np.ndarray, n: int) -> xr.Dataset:
    """One dataset from the chunks' scores, dominant loops, trajectories and sampled constants."""
    dims = ("loop", "sample", "time")
    data = {
        "loop_score": (dims, np.concatenate([p[0] for p in parts], axis=1), {"long_name": "loop score", "units": "1"}),
        "relative_loop_score": (dims, np.concatenate([p[1] for p in parts], axis=1),
                                {"long_name": "relative loop score", "units": "1"}),
        "dominant_loop": (("sample", "time"), np.concatenate([p[2] for p in parts]),
                          {"long_name": "loop with the largest |loop score|"}),
    }
    for name in parts[0][3]:
        data[name] = (("sample", "time"), np.concatenate([p[3][name] for p in parts]))
    for name in parts[0][4]:
        data[name] = (("sample",), np.concatenate([p[4][name] for p in parts]))
    return xr.Dataset(data, coords={"loop": [loop.id for loop in kept], "name": ("loop", [loop.name for loop in kept]),
                                    "sample": np.arange(n), "time": time})
