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

import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import xarray as xr

from sdkit.errors import NonFiniteError, ParameterError
from sdkit.runs import save_times

if TYPE_CHECKING:
    from sdkit.loops.linkcode import LinkProgram
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
    from sdkit.engine.kernel_choice import prewarm
    from sdkit.ensemble import columns_to_overrides, starting_point
    from sdkit.loops.dominance import (
        dominance_counts,
        loop_scorer,
        scorable,
        scored_links,
        time_control,
    )
    from sdkit.loops.linkcode import link_program
    from sdkit.provenance import provenance_attrs
    from sdkit.runs import Runs
    from sdkit.simulate import label_nonfinite

    ir, nodes = scorable(model)
    program = link_program(ir)
    links = loop_scorer(loops, scored_links(program, nodes))
    base, settings = starting_point(stepwise, scenario)
    runs = Runs(range(len(samples)), "sample", tuple(base), columns=tuple(columns_to_overrides(stepwise, samples)))
    column_of = {nodes[i].py_name: j for j, i in enumerate(program.dynamic) if not nodes[i].dims}
    missing = [v for v in variables if v not in column_of]
    if missing:
        raise ParameterError(f"{missing[0]!r} is not a stock or an auxiliary without subscripts; only their "
                             "trajectories are kept over samples")
    steps = len(save_times(settings))
    size = min(runs.n, chunk_size(len(program.dynamic) + len(program.links) + 3 * len(kept) + len(variables), steps))
    held = _Held(kept, variables, runs.n, steps, links.ids.dtype)
    # one chunk's runs and link scores, reused: no new pages for every chunk
    scratch = np.empty(len(program.links) * size * steps)
    saved = np.empty(size * steps * len(program.dynamic))
    counts = Counter()
    backend = program.backend(runs.n * (steps - 1))  # the whole ensemble's points, not a chunk's
    compiling = None
    if backend == "numba" and not program.numba_compiled() and prewarm():
        compiling = program.compile_in_background()
    for start in (progress or (lambda chunks: chunks))(list(range(0, runs.n, size))):
        chunk = runs.take(start, min(start + size, runs.n))
        params = parameter_arrays(stepwise, chunk)
        try:
            time, values = stepwise.kernel.simulate_steps(
                params, chunk.n, program.dynamic, settings.fixed(),
                saved[:chunk.n * steps * len(program.dynamic)].reshape(chunk.n, steps, len(program.dynamic)),
                first_sample=start)
        except NonFiniteError as exc:
            raise label_nonfinite(exc, chunk) from None
        constants = [_constant(params, stepwise.kernel, nodes[i], chunk.n) for i in program.params]
        table = scratch[:len(program.links) * chunk.n * steps].reshape(len(program.links), chunk.n, steps)
        program.score(values, np.array(constants).reshape(len(constants), chunk.n), time, time_control(settings), table,
                      chunk_backend(backend, compiling, program))
        rows = slice(start, start + chunk.n)
        _, _, dominant = links.scores(table, kept, (held.score[:, rows], held.relative[:, rows]))
        counts += dominance_counts(dominant, links)
        held.dominant[rows] = links.ids[dominant]
        for name, trajectory in held.trajectories.items():
            trajectory[rows] = values[:, :, column_of[name]]
    attrs = provenance_attrs(stepwise, engine="engine", scenario=scenario, save="all")
    return held.dataset(model, np.asarray(time), runs.columns), attrs, counts


def chunk_backend(backend: str, compiling: threading.Event | None, program: LinkProgram) -> str:
    """How a chunk's links are scored: ``backend`` when nothing compiles in the background (``compiling`` None);
    while the numba function compiles there (``compiling`` not set), with numpy, whose bits are the same; then with
    numba if numba's cache holds it, else (the compile failed, which the background compile has logged) numpy."""
    if compiling is None:
        return backend
    return "numba" if compiling.is_set() and program.numba_compiled() else "numpy"


def sampled_name(target: Any) -> str:
    """The result's name of a sampled constant (an :class:`~sdkit.scenarios.Override` or a
    :class:`~sdkit.scenarios.Target`): its Python name, with the elements a column sets in brackets."""
    return f"{target.py_name}[{','.join(target.elements)}]" if target.elements else target.py_name


def _constant(params: dict[str, np.ndarray], kernel: Any, name: Any, n: int) -> np.ndarray:
    """One element of a constant over a chunk's ``n`` runs: its sampled values ``(n, *subscripts)``
    or its default ``(*subscripts)``."""
    if name.py_name in params:
        return np.asarray(params[name.py_name], dtype=float)[(slice(None), *name.position)]
    return np.broadcast_to(np.asarray(kernel.constants[name.py_name], dtype=float)[name.position], (n,))


class _Held:
    """What the result keeps, for every sample, filled chunk by chunk."""

    def __init__(self, kept: Sequence[Loop], variables: Sequence[str], n: int, steps: int, ids: np.dtype) -> None:
        self.kept = list(kept)
        self.score = np.empty((len(kept), n, steps))
        self.relative = np.empty((len(kept), n, steps))
        self.dominant = np.empty((n, steps), dtype=ids)
        self.trajectories = {name: np.empty((n, steps)) for name in variables}

    def dataset(self, model: Model, time: np.ndarray, sampled: Sequence[Any]) -> xr.Dataset:
        """The scores, dominant loops, trajectories and ``sampled`` constants (the runs' columns:
        overrides of one value per run), with their names and units."""
        dims = ("loop", "sample", "time")
        described = {name: {"long_name": model.variables[name].name, "units": model.variables[name].units}
                     for name in self.trajectories}
        for column in sampled:
            variable = model.variables[column.py_name]
            elements = f"[{','.join(column.elements)}]" if column.elements else ""
            described[sampled_name(column)] = {"long_name": variable.name + elements, "units": variable.units}
        sampled = {sampled_name(column): np.asarray(column.value, dtype=float) for column in sampled}
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
