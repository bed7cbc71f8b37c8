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
    from sdkit.ensemble import ensemble
    from sdkit.loops.dominance import (
        ARROW,
        LoopLinks,
        dominance_counts,
        scorable,
        scored_loops,
        time_control,
    )
    from sdkit.loops.linkcode import link_program

    ir, node_names = scorable(model)
    program = link_program(ir)
    label = {i: model.variables[node_names[i]].name for i in program.dynamic}
    links = LoopLinks(loops, {f"{label[a]}{ARROW}{label[b]}": row for row, (a, b) in enumerate(program.links)})
    dynamic = [node_names[i] for i in program.dynamic]
    sampled = [model.resolve(column) for column in samples.columns]
    constants = list(dict.fromkeys([*(node_names[i] for i in program.params), *sampled]))
    watched = dynamic + [v for v in variables if v not in dynamic]
    steps = len(_times(stepwise, scenario))
    size = chunk_size(2 * len(watched) + len(program.links) + 3 * len(kept), steps)
    starts = list(range(0, len(samples), size))
    parts, attrs, counts = [], {}, Counter()
    for start in (progress or (lambda chunks: chunks))(starts):
        part = samples.iloc[start:start + size].reset_index(drop=True)
        runs = ensemble(stepwise, part, variables=watched, scenario=scenario)
        fixed = ensemble(stepwise, part, variables=constants, save="final", scenario=scenario)
        values = np.stack([runs[name].values for name in dynamic])
        table = program.score(values, np.stack([fixed[node_names[i]].values for i in program.params])
                              if program.params else np.empty((0, len(part))), runs["time"].values,
                              time_control(stepwise.time.replace(stepwise.scenarios[scenario].time)))
        del values
        score, relative, dominant = scored_loops(table, links, kept)
        counts += dominance_counts(dominant, links)
        parts.append((score, relative, links.ids[dominant], {v: runs[v].values for v in variables},
                      {c: fixed[c].values for c in sampled}))
        time, attrs = runs["time"].values, dict(runs.attrs)
    return _assembled(parts, kept, time, len(samples)), attrs, counts


def _times(stepwise: Model, scenario: str) -> np.ndarray:
    from sdkit.runs import save_times

    return np.asarray(save_times(stepwise.time.replace(stepwise.scenarios[scenario].time)))


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
