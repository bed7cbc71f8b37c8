"""Loops That Matter for one run: link scores, loop scores, relative loop scores.

Schoenberg, Davidsen & Eberlein (2020), "Understanding model behavior using the
Loops that Matter method", *System Dynamics Review* 36(2). Between two saved times
``t - dt`` and ``t``, the score of a link ``x -> z`` is

    LS(x -> z) = |Δx z / Δz| * sign(Δx z / Δx)

where ``Δz = z(t) - z(t - dt)`` and ``Δx z = f(x(t), others(t - dt)) - z(t - dt)`` is
the change of z had only x changed (0 when Δz or Δx is 0). For a stock, ``z`` is its
net flow (the expression inside INTEG), so a link from a flow is ``+|Δin / Δnet|``
for an inflow and ``-|Δout / Δnet|`` for an outflow, as in the paper. A loop's score
is the product of its links' scores; its relative score is that divided by the sum
of the absolute scores of the loops compared.

The equations are evaluated by code generated from the engine's own expression code
(:mod:`sdkit.loops.linkcode`) on the values a run saved: every stock and auxiliary, and
the constants; every loop's score at once along a graph of the loops' links
(:mod:`sdkit.loops.automaton`); an ensemble chunk by chunk (:mod:`sdkit.loops.samples`).
The differences are taken between saved times, so a run should save every time step
(``SAVEPER = TIME STEP``) for the scores to be the paper's; a coarser SAVEPER gives
scores over longer intervals.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from sdkit.errors import ParameterError, UnsupportedFeature
from sdkit.loops.automaton import loop_automaton
from sdkit.loops.elements import ElementLoops, NodeName, ScoredLink, node_names, relative_scores
from sdkit.loops.linkcode import LinkProgram, link_program
from sdkit.timing import varying_text

if TYPE_CHECKING:
    from sdkit.engine.ir import ModelIR
    from sdkit.loops.loop import Loop
    from sdkit.model import Model

ARROW = " -> "


def saved_variables(model: Model) -> list[str]:
    """What a run must save for :func:`link_scores`: stocks, auxiliaries and constants."""
    return [v.py_name for v in model.variables.values() if v.kind in ("stock", "auxiliary", "constant")]


def link_scores(model: Model, dataset: xr.Dataset, scenario: str | None = None) -> xr.DataArray:
    """The score of every link between stocks and auxiliaries in a run or an ensemble, over time.

    Parameters
    ----------
    model : Model
        A model without stateful functions other than INTEG (subscripts are scored element by element).
    dataset : xarray.Dataset
        A run (``sdkit.run.run``) or an ensemble (``sdkit.ensemble.ensemble``, dim
        ``sample``) that saved :func:`saved_variables`.
    scenario : str, optional
        The scenario of a run to score (default: the only one in the dataset).

    Returns
    -------
    xarray.DataArray
        Dims ``(link, time)``, or ``(link, sample, time)`` for an ensemble; ``link``
        is ``"source -> target"`` (model names, an element in brackets after the name of
        a subscripted variable: ``"Order Power[liberal] -> Power Share[liberal]"``) with
        ``source`` and ``target`` coordinates, and ``source_variable`` and
        ``target_variable`` (the names without elements); 0 at the first time.
    """
    ir, nodes = scorable(model)
    run, chosen = _one_scenario(dataset, scenario)
    program = link_program(ir)
    lead = [d for d in run[nodes[program.dynamic[0]].py_name].dims if d not in ("time", *nodes[program.dynamic[0]].dims)]
    settings = model.time.replace(_scenario_time(dataset, chosen))
    values = _values(program, {i: _series(run, ir.nodes[i], nodes[i], model, lead) for i in program.dynamic})
    constants = _constants(program, {i: _series(run, ir.nodes[i], nodes[i], model, lead)[..., 0]
                                     for i in program.params}, values.shape[0])
    table = program.score(values, constants, run["time"].values, time_control(settings))
    rows = scored_links(program, nodes)
    shape = (len(program.links), *(run.sizes[d] for d in lead), run.sizes["time"])
    return xr.DataArray(
        table.reshape(shape), dims=("link", *lead, "time"),
        coords={"link": [f"{r.source}{ARROW}{r.target}" for r in rows], "source": ("link", [r.source for r in rows]),
                "target": ("link", [r.target for r in rows]),
                "source_variable": ("link", [r.source_variable for r in rows]),
                "target_variable": ("link", [r.target_variable for r in rows]),
                **{d: run[d].values for d in (*lead, "time")}},
        name="link_score", attrs={"long_name": "link score (Loops That Matter)", "units": "1"})


def scored_links(program: LinkProgram, nodes: dict[int, NodeName]) -> list[ScoredLink]:
    """What each row of the program's link scores links: variables and elements (model names)."""
    return [ScoredLink(nodes[a].variable, nodes[a].label, nodes[b].variable, nodes[b].label) for a, b in program.links]


def _values(program: LinkProgram, series: dict[int, np.ndarray]) -> np.ndarray:
    """The runs' stocks and auxiliaries as ``(run, time, node)``."""
    return np.stack([series[i].reshape(-1, series[i].shape[-1]) for i in program.dynamic], axis=-1)


def _constants(program: LinkProgram, series: dict[int, np.ndarray], runs: int) -> np.ndarray:
    """The runs' constants as ``(node, run)``."""
    rows = [np.broadcast_to(np.asarray(series[i], dtype=float).reshape(-1), (runs,)) for i in program.params]
    return np.stack(rows) if rows else np.empty((0, runs))


def time_control(settings) -> tuple[float, float, float, float]:
    return settings.initial_time, settings.final_time, settings.time_step, settings.saveper


def loop_scores(scores: xr.DataArray, loops: Sequence[Loop], keep: Sequence[Loop] | None = None) -> xr.Dataset:
    """Loop scores (product of link scores) and relative loop scores, over time.

    ``scores`` are :func:`link_scores`. The relative score divides by the sum of the
    absolute scores of all ``loops`` (pass all the loops of a model, or of one strongly
    connected component); in a subscripted model a loop's score is the sum of its element
    loops' and the relative scores divide by the sum of all element loops' absolute scores
    (:mod:`sdkit.loops.elements`);
    ``dominant_loop`` is the id of the loop with the largest absolute score at each
    time. Only the scores of ``keep`` (default: all ``loops``) are returned, so an
    ensemble need not hold every loop's scores.
    """
    dims = ("link", *(d for d in scores.dims if d not in ("link", "time")), "time")
    table = scores.transpose(*dims).values
    kept = list(loops if keep is None else keep)
    flat = table.reshape(table.shape[0], -1, table.shape[-1])
    rows = [ScoredLink(*(str(scores[c].values[row]) for c in ("source_variable", "source", "target_variable", "target")))
            for row in range(scores.sizes["link"])]
    links = loop_scorer(loops, rows)
    score, relative, dominant = links.scores(flat, kept)
    loop_dims = ("loop", *dims[1:])
    shape = table.shape[1:]
    return xr.Dataset(
        {"loop_score": (loop_dims, score.reshape(-1, *shape), {"long_name": "loop score", "units": "1"}),
         "relative_loop_score": (loop_dims, relative.reshape(-1, *shape), {"long_name": "relative loop score", "units": "1"}),
         "dominant_loop": (dims[1:], links.ids[dominant].reshape(shape),
                           {"long_name": "loop with the largest |loop score|"})},
        coords={"loop": [loop.id for loop in kept], "name": ("loop", [loop.name for loop in kept]),
                **{d: scores[d].values for d in dims[1:]}})


def loop_scorer(loops: Sequence[Loop], rows: Sequence[ScoredLink]) -> LoopLinks | ElementLoops:
    """What scores ``loops`` from link scores whose rows link ``rows``: the automaton when every
    link is between scalar variables, else the sums over element loops (:mod:`sdkit.loops.elements`)."""
    if all(r.source == r.source_variable and r.target == r.target_variable for r in rows):
        return LoopLinks(loops, {f"{r.source}{ARROW}{r.target}": row for row, r in enumerate(rows)})
    return ElementLoops(loops, rows)


class LoopLinks:
    """The link rows of each loop (in the loop's order) and the automaton that scores them all."""

    def __init__(self, loops: Sequence[Loop], row_of: dict[str, int]) -> None:
        self.loops = list(loops)
        self.rows = {loop.id: _rows(loop, row_of) for loop in self.loops}
        self.automaton = loop_automaton([self.rows[loop.id] for loop in self.loops])
        self.ids = np.array([*(loop.id for loop in self.loops), ""])

    def scores(self, table: np.ndarray, kept: Sequence[Loop],
               out: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Loop scores and relative loop scores of ``kept`` ``(loop, run, time)`` (into ``out`` when
        given), and the index (in ``self.loops``) of the dominant loop ``(run, time)`` (-1 where
        every loop scores 0), from link scores ``(link, run, time)``; ``self.ids[index]`` are the
        ids ("" for -1)."""
        dominant, total = self.automaton.dominance(table)
        shape = (len(kept), *table.shape[1:])
        score, relative = out if out is not None else (np.empty(shape), np.empty(shape))
        for number, loop in enumerate(kept):
            product = score[number]
            product[...] = 1.0
            for row in self.rows[loop.id]:
                np.multiply(product, table[row], out=product)
        return score, relative_scores(score, total, relative), dominant


def _rows(loop: Loop, row_of: dict[str, int]) -> list[int]:
    """The rows of a loop's link scores, in the loop's order."""
    targets = (*loop.variables[1:], loop.variables[0])
    rows = []
    for label in (f"{a}{ARROW}{b}" for a, b in zip(loop.variables, targets, strict=True)):
        if label not in row_of:
            raise ParameterError(f"loop {loop.name or loop.id} uses the link {label}, which has no score; "
                                 "score the links of the model the loop comes from")
        rows.append(row_of[label])
    return rows


def scorable(model: Model) -> tuple[ModelIR, dict[int, NodeName]]:
    """The engine IR the model's kernel was compiled from, and what each of its nodes is
    (:func:`~sdkit.loops.elements.node_names`), if link scores can be computed.

    Raises
    ------
    UnsupportedFeature
        The engine cannot compile the model, or it has stateful functions other than INTEG, or
        control variables that change with Time (the scores assume one TIME STEP).
    """
    if model.time.varying:
        raise UnsupportedFeature(
            f"loop scores of {model.path.name} are not computed: its {varying_text(model.time)}, and the scores "
            "assume one TIME STEP; write the control variables as numbers to score its loops"
        )
    ir = model.kernel.ir
    return ir, node_names(model, ir)


def _one_scenario(dataset: xr.Dataset, scenario: str | None) -> tuple[xr.Dataset, str | None]:
    """The run of one scenario, and its name (None for a dataset without scenarios)."""
    if "scenario" not in dataset.dims:
        return dataset, scenario
    names = [str(s) for s in dataset["scenario"].values]
    if scenario is None and len(names) != 1:
        raise ParameterError(f"the run holds the scenarios {', '.join(names)}; name the one to score")
    chosen = scenario if scenario is not None else names[0]
    if chosen not in names:
        raise ParameterError(f"the run has no scenario {chosen!r}; it holds {', '.join(names)}")
    return dataset.sel(scenario=chosen), chosen


def _scenario_time(dataset: xr.Dataset, scenario: str | None) -> dict[str, float]:
    """The time settings a run's provenance records for a scenario ({} if none)."""
    import json

    try:
        recorded = json.loads(dataset.attrs.get("scenarios", "{}"))
    except ValueError:
        return {}
    return dict(recorded.get(scenario, {}).get("time", {})) if isinstance(recorded, dict) else {}


def _series(run: xr.Dataset, node, name: NodeName, model: Model, lead: list[str]) -> np.ndarray:
    """A node's values over (lead dims..., time)."""
    shape = (*(run.sizes[d] for d in lead), run.sizes["time"])
    py_name = name.py_name
    if py_name in run:
        values = run[py_name]
        values = values.sel(dict(zip(name.dims, name.element, strict=True))) if name.dims else values
        missing = {d: run.sizes[d] for d in (*lead, "time") if d not in values.dims}
        return np.asarray(values.expand_dims(missing).transpose(*lead, "time").values, dtype=float)
    if node.kind == "param":
        return np.full(shape, float(node.default))
    raise ParameterError(f"the run did not save {model.variables[py_name].name!r}; run with "
                         "variables=saved_variables(model) to score the links")


def score_scenario(model: Model, scenario: str | None = None, loops: Sequence[Loop] | None = None,
                   samples: Any = None, keep: Sequence[Loop] | None = None,
                   variables: Sequence[str] = (), progress: Any = None) -> xr.Dataset:
    """Run one scenario with the engine, saving every time step, and score its links and loops.

    Parameters
    ----------
    model : Model
    scenario : str, optional
        A scenario of the model (default: the model file's own values).
    loops : list of Loop, optional
        The loops to score (default: every loop :func:`~sdkit.loops.find_loops` lists).
    samples : DataFrame, optional
        Parameter sets (one column per constant, one row per run) on top of the
        scenario: an ensemble (:func:`sdkit.ensemble.ensemble`) instead of one run.
    keep : list of Loop, optional
        The loops whose scores the result holds (default: all ``loops``); relative
        scores and ``dominant_loop`` still count every loop.
    variables : list of str
        Python names of variables whose trajectories the result holds too (an
        ensemble's result also holds the values of the constants its samples set).
    progress : callable, optional
        Wraps the iterable of an ensemble's chunks (e.g. ``tqdm.tqdm``).

    Returns
    -------
    xarray.Dataset
        ``loop_score`` and ``relative_loop_score`` (loop, time) or (loop, sample,
        time), ``dominant_loop`` ([sample,] time), for one run ``link_score``
        (link, time), the loops' ``name``, ``polarity`` and ``cycle``; the run's
        provenance in the attributes.
    """
    from sdkit.loops.find import find_loops
    from sdkit.loops.samples import score_samples

    scorable(model)  # refuse before running what cannot be scored
    loops = list(loops) if loops is not None else find_loops(model).loops
    held = list(loops if keep is None else keep)
    _check_size(model, len(held), 1 if samples is None else len(samples), len(variables))
    name, every_step = _every_step(model, scenario)
    stepwise = model.with_scenarios({**model.scenarios, name: every_step})
    if samples is None:
        scored, attrs = _score_run(model, stepwise, name, loops, held, variables)
        counts = Counter(str(i) for i in scored["dominant_loop"].values[1:])
    else:
        scored, attrs, counts = score_samples(model, stepwise, name, samples, loops, held, variables, progress)
    scored = scored.assign_coords(
        polarity=("loop", [loop.polarity for loop in held]),
        cycle=("loop", [ARROW.join(loop.variables) for loop in held]))
    scored = scored.assign(leading_loops(counts, loops, scored["dominant_loop"][..., 1:].size))
    scored.attrs = {**attrs, "scenario": name,
                    "method": "Loops That Matter (Schoenberg, Davidsen & Eberlein 2020): link scores between "
                              "successive time steps; loop score = product of its link scores; relative "
                              "loop score = loop score / sum of |loop scores| of the loops in the file"}
    return scored


def _score_run(model: Model, stepwise: Model, name: str, loops: Sequence[Loop], held: Sequence[Loop],
               variables: Sequence[str]) -> tuple[xr.Dataset, dict]:
    """One run of the scenario: its link scores beside its loop scores, and the trajectories asked for."""
    from sdkit.run import run

    dataset = run(stepwise, scenarios=[name], variables=saved_variables(model), engine="engine")
    links = link_scores(model, dataset, name)
    scored = loop_scores(links, loops, held)
    scored["link_score"] = links.drop_vars(["source", "target", "source_variable", "target_variable"])
    for variable in variables:
        values = dataset[variable]
        scored[variable] = values.sel(scenario=name).drop_vars("scenario") if "scenario" in values.dims else values
    return scored, dict(dataset.attrs)


def leading_loops(counts: Mapping[str, int], loops: Sequence[Loop], points: int) -> xr.Dataset:
    """What each loop that ever has the largest |loop score| is: its ``leading_name`` ("" when
    unnamed), ``leading_polarity``, ``leading_cycle`` and ``leading_share`` (the share of the
    ``points``, time steps after the first over all runs, at which it has), over the dim
    ``leading_loop`` (ids), so a figure can say which loop dominates also when ``keep`` left
    out its scores. ``counts``: loop id -> the points at which it has the largest score."""
    ids = sorted(i for i, count in counts.items() if i and count)
    by_id = {loop.id: loop for loop in loops}
    chosen = [by_id[i] for i in ids]
    return xr.Dataset(
        {"leading_name": ("leading_loop", np.array([loop.name or "" for loop in chosen], dtype=str)),
         "leading_polarity": ("leading_loop", np.array([loop.polarity for loop in chosen], dtype=str)),
         "leading_cycle": ("leading_loop", np.array([ARROW.join(loop.variables) for loop in chosen], dtype=str)),
         "leading_share": ("leading_loop", np.array([counts[i] / max(points, 1) for i in ids]),
                           {"long_name": "share of the time steps (after the first, over all runs) it dominates"})},
        coords={"leading_loop": np.array(ids, dtype=str)})


def dominance_counts(index: np.ndarray, links: LoopLinks) -> Counter:
    """Loop id -> the points (time steps after the first, over all runs) at which it dominates,
    from the dominant loops' indices ``(run, time)`` (-1: none)."""
    counts = np.bincount(index[:, 1:].ravel() + 1, minlength=len(links.loops) + 1)
    return Counter({links.loops[i].id: int(c) for i, c in enumerate(counts[1:]) if c})


def _check_size(model: Model, loops: int, runs: int, variables: int = 0) -> None:
    """Refuse, before any run, scores that would not fit in half the machine's memory: per run
    and time step, each kept loop's score and relative score, the dominant loop's id (up to
    9 characters of 4 bytes) and each trajectory kept, besides one chunk's work."""
    from sdkit.ensemble import default_memory_limit
    from sdkit.loops.samples import CHUNK_BYTES

    steps = round((model.time.final_time - model.time.initial_time) / model.time.time_step) + 1
    nodes = len(model.kernel.ir.nodes)  # every element of a subscripted variable is one
    working = min(CHUNK_BYTES, 8.0 * steps * runs * 2 * nodes)  # one chunk's runs and links
    size = steps * runs * (16.0 * loops + 36.0 + 8.0 * variables) + working
    if size > default_memory_limit():
        raise ParameterError(f"the loop scores of {loops:,} loops over {runs:,} runs of {steps:,} time steps take "
                             f"about {size / 1e9:.0f} GB, more than half this machine's memory; keep fewer loops "
                             "(--named) or give fewer samples")


def _every_step(model: Model, scenario: str | None) -> tuple[str, Any]:
    """The scenario's name and a copy of it that saves every time step."""
    from dataclasses import replace

    from sdkit.errors import ScenarioError
    from sdkit.scenarios import DEFAULT_SCENARIO, Scenario

    name = scenario or DEFAULT_SCENARIO
    if name in model.scenarios:
        chosen = model.scenarios[name]
    elif name == DEFAULT_SCENARIO:
        chosen = Scenario(DEFAULT_SCENARIO, "the model file's own values")
    else:
        raise ScenarioError(model.unknown_scenario(name))
    return name, replace(chosen, time={**chosen.time, "saveper": model.time.replace(chosen.time).time_step})
