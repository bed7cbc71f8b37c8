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

The equations are evaluated by the engine's own generated numpy code
(:func:`sdkit.engine.codegen.expression_function`) on the values a run saved: every
stock, auxiliary and constant. The differences are taken between saved times, so a
run should save every time step (``SAVEPER = TIME STEP``) for the scores to be the
paper's; a coarser SAVEPER gives scores over longer intervals.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from sdkit.errors import ParameterError, UnsupportedFeature

if TYPE_CHECKING:
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
        A model without subscripts or stateful functions other than INTEG.
    dataset : xarray.Dataset
        A run (``sdkit.run.run``) or an ensemble (``sdkit.ensemble.ensemble``, dim
        ``sample``) that saved :func:`saved_variables`.
    scenario : str, optional
        The scenario of a run to score (default: the only one in the dataset).

    Returns
    -------
    xarray.DataArray
        Dims ``(link, time)``, or ``(link, sample, time)`` for an ensemble; ``link``
        is ``"source -> target"`` (model names) with ``source`` and ``target``
        coordinates; 0 at the first time.
    """
    ir, node_names = scorable(model)
    run, chosen = _one_scenario(dataset, scenario)
    lead = [d for d in run[node_names[_first_dynamic(ir)]].dims if d != "time"]
    values = {i: _series(run, ir.nodes[i], py_name, model, lead) for i, py_name in node_names.items()}
    settings = model.time.replace(_scenario_time(dataset, chosen))
    steps = _Steps(values, run["time"].values,
                   (settings.initial_time, settings.final_time, settings.time_step, settings.saveper))
    names, sources, targets, scores = [], [], [], []
    for target, node in enumerate(ir.nodes):
        if node.kind in ("aux", "stock"):
            for source, score in steps.scores(ir, node):
                sources.append(model.variables[node_names[source]].name)
                targets.append(model.variables[node_names[target]].name)
                names.append(f"{sources[-1]}{ARROW}{targets[-1]}")
                scores.append(score)
    shape = (len(names), *(run.sizes[d] for d in lead), run.sizes["time"])
    return xr.DataArray(
        np.array(scores).reshape(shape), dims=("link", *lead, "time"),
        coords={"link": names, "source": ("link", sources), "target": ("link", targets),
                **{d: run[d].values for d in (*lead, "time")}},
        name="link_score", attrs={"long_name": "link score (Loops That Matter)", "units": "1"})


class _Steps:
    """The values of every node before and after each time step, and the scores of one equation's inputs."""

    def __init__(self, values: dict[int, np.ndarray], time: np.ndarray, control: tuple) -> None:
        self.previous = {i: v[..., :-1] for i, v in values.items()}
        self.current = {i: v[..., 1:] for i, v in values.items()}
        self.shape = next(iter(values.values()))[..., 1:].shape
        self.time, self.control = time, control

    def scores(self, ir, node) -> list[tuple[int, np.ndarray]]:
        """(input node, its link score over time) for every stock or auxiliary the node's equation reads."""
        from sdkit.engine.codegen import expression_function
        from sdkit.engine.ir import refs

        expr = node.flow if node.kind == "stock" else node.expr
        evaluate = expression_function(ir, expr)
        before = self._at(evaluate, self.previous, self.time[:-1])
        after = self._at(evaluate, self.current, self.time[1:])
        found = []
        for source in sorted(i for i in refs(expr) if ir.nodes[i].kind in ("aux", "stock")):
            partial = self._at(evaluate, {**self.previous, source: self.current[source]}, self.time[:-1]) - before
            score = _score(partial, after - before, self.current[source] - self.previous[source])
            found.append((source, np.concatenate([np.zeros((*self.shape[:-1], 1)), score], axis=-1)))
        return found

    def _at(self, evaluate, values: dict[int, np.ndarray], time: np.ndarray) -> np.ndarray:
        return np.broadcast_to(np.asarray(evaluate(values, time, *self.control), dtype=float), self.shape)


def loop_scores(scores: xr.DataArray, loops: Sequence[Loop], keep: Sequence[Loop] | None = None) -> xr.Dataset:
    """Loop scores (product of link scores) and relative loop scores, over time.

    The relative score divides by the sum of the absolute scores of all ``loops``
    (pass all the loops of a model, or of one strongly connected component);
    ``dominant_loop`` is the id of the loop with the largest absolute score at each
    time. Only the scores of ``keep`` (default: all ``loops``) are returned, so an
    ensemble need not hold every loop's scores.
    """
    dims = ("link", *(d for d in scores.dims if d not in ("link", "time")), "time")
    table = scores.transpose(*dims).values
    kept = list(loops if keep is None else keep)
    position = {loop.id: number for number, loop in enumerate(kept)}
    score = np.zeros((len(kept), *table.shape[1:]))
    total = np.zeros(table.shape[1:])
    largest = np.zeros(table.shape[1:])
    dominant = np.full(table.shape[1:], "", dtype=object)
    row_of = {str(label): row for row, label in enumerate(scores["link"].values)}
    for loop in loops:
        product = _loop_product(table, row_of, loop)
        total += np.abs(product)
        ahead = np.abs(product) > largest
        largest, dominant = np.where(ahead, np.abs(product), largest), np.where(ahead, loop.id, dominant)
        if loop.id in position:
            score[position[loop.id]] = product
    with np.errstate(invalid="ignore", divide="ignore"):
        relative = np.where(total > 0, score / np.where(total > 0, total, 1.0), 0.0)
    loop_dims = ("loop", *dims[1:])
    return xr.Dataset(
        {"loop_score": (loop_dims, score, {"long_name": "loop score", "units": "1"}),
         "relative_loop_score": (loop_dims, relative, {"long_name": "relative loop score", "units": "1"}),
         "dominant_loop": (dims[1:], dominant.astype(str), {"long_name": "loop with the largest |loop score|"})},
        coords={"loop": [loop.id for loop in kept], "name": ("loop", [loop.name for loop in kept]),
                **{d: scores[d].values for d in dims[1:]}})


def _loop_product(table: np.ndarray, row_of: dict[str, int], loop: Loop) -> np.ndarray:
    """The product of a loop's link scores (rows of ``table``)."""
    product = np.ones(table.shape[1:])
    targets = (*loop.variables[1:], loop.variables[0])
    for label in (f"{a}{ARROW}{b}" for a, b in zip(loop.variables, targets, strict=True)):
        if label not in row_of:
            raise ParameterError(f"loop {loop.name or loop.id} uses the link {label}, which has no score; "
                                 "score the links of the model the loop comes from")
        product *= table[row_of[label]]
    return product


def _score(partial: np.ndarray, change: np.ndarray, source_change: np.ndarray) -> np.ndarray:
    """|Δx z / Δz| * sign(Δx z / Δx), 0 where Δz or Δx is 0."""
    defined = (change != 0) & (source_change != 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        magnitude = np.abs(partial / np.where(defined, change, 1.0))
        direction = np.sign(partial) * np.sign(source_change)
    return np.where(defined, magnitude * direction, 0.0)


def _first_dynamic(ir) -> int:
    return next(i for i, node in enumerate(ir.nodes) if node.kind in ("aux", "stock"))


def scorable(model: Model) -> tuple[Any, dict[int, str]]:
    """The model's engine IR and its node index -> Python name, if link scores can be computed.

    Raises
    ------
    UnsupportedFeature
        The model has subscripts, or stateful functions other than INTEG.
    """
    from sdkit.engine.translate import translate

    ir = translate(model.path, model.text, model.abstract_model)
    return ir, _scalar_nodes(model, ir)


def _scalar_nodes(model: Model, ir) -> dict[int, str]:
    """IR node index -> Python name, for a model whose nodes are all its own scalar variables."""
    subscripted = [name for name, dims in ir.var_dims.items() if dims]
    if subscripted:
        raise UnsupportedFeature(f"link scores of subscripted models are not built yet ({model.path.name} "
                                 f"subscripts {ir.names.get(subscripted[0], subscripted[0])!r})")
    nodes = {int(np.ravel(index)[0]): py_name for py_name, index in ir.var_nodes.items()}
    hidden = [node.label for i, node in enumerate(ir.nodes) if i not in nodes and node.kind != "param"]
    if hidden:
        raise UnsupportedFeature(f"link scores through SMOOTH, DELAY, TREND or INITIAL are not built yet "
                                 f"({model.path.name}: {hidden[0]})")
    return nodes


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


def _series(run: xr.Dataset, node, py_name: str, model: Model, lead: list[str]) -> np.ndarray:
    """A node's values over (lead dims..., time)."""
    shape = (*(run.sizes[d] for d in lead), run.sizes["time"])
    if py_name in run:
        values = run[py_name]
        missing = {d: run.sizes[d] for d in (*lead, "time") if d not in values.dims}
        return np.asarray(values.expand_dims(missing).transpose(*lead, "time").values, dtype=float)
    if node.kind == "param":
        return np.full(shape, float(node.default))
    raise ParameterError(f"the run did not save {model.variables[py_name].name!r}; run with "
                         "variables=saved_variables(model) to score the links")


def score_scenario(model: Model, scenario: str | None = None, loops: Sequence[Loop] | None = None,
                   samples: Any = None, keep: Sequence[Loop] | None = None,
                   variables: Sequence[str] = ()) -> xr.Dataset:
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

    Returns
    -------
    xarray.Dataset
        ``loop_score`` and ``relative_loop_score`` (loop, time) or (loop, sample,
        time), ``dominant_loop`` ([sample,] time), for one run ``link_score``
        (link, time), the loops' ``name``, ``polarity`` and ``cycle``; the run's
        provenance in the attributes.
    """
    from sdkit.ensemble import ensemble
    from sdkit.loops.find import find_loops
    from sdkit.run import run

    scorable(model)  # refuse before running what cannot be scored
    loops = list(loops) if loops is not None else find_loops(model).loops
    _check_size(model, len(loops if keep is None else keep), 1 if samples is None else len(samples))
    name, every_step = _every_step(model, scenario)
    stepwise = model.with_scenarios({**model.scenarios, name: every_step})
    if samples is None:
        dataset = run(stepwise, scenarios=[name], variables=saved_variables(model), engine="engine")
    else:
        dataset = ensemble(stepwise, samples, variables=saved_variables(model), scenario=name)
    links = link_scores(model, dataset, name)
    scored = loop_scores(links, loops, keep)
    held = list(loops if keep is None else keep)
    scored = scored.assign_coords(
        polarity=("loop", [loop.polarity for loop in held]),
        cycle=("loop", [ARROW.join(loop.variables) for loop in held]))
    scored = scored.assign(leading_loops(scored["dominant_loop"], loops))
    if samples is None:  # an ensemble's link scores would outweigh its loop scores
        scored["link_score"] = links.drop_vars(["source", "target"])
    else:  # the samples' values, beside the scores they explain
        for column in samples.columns:
            constant = model.resolve(column)
            scored[constant] = dataset[constant].isel(time=0, drop=True)
    for variable in variables:
        values = dataset[variable]
        scored[variable] = values.sel(scenario=name).drop_vars("scenario") if "scenario" in values.dims else values
    scored.attrs = {**dataset.attrs, "scenario": name,
                    "method": "Loops That Matter (Schoenberg, Davidsen & Eberlein 2020): link scores between "
                              "successive time steps; loop score = product of its link scores; relative "
                              "loop score = loop score / sum of |loop scores| of the loops in the file"}
    return scored


def leading_loops(dominant: xr.DataArray, loops: Sequence[Loop]) -> xr.Dataset:
    """What each loop that ever has the largest |loop score| is: its ``leading_name`` ("" when
    unnamed), ``leading_polarity`` and ``leading_cycle``, over the dim ``leading_loop`` (ids),
    so a figure can say which loop dominates also when ``keep`` left out its scores."""
    ids = sorted({str(i) for i in np.ravel(dominant.values)} - {""})
    by_id = {loop.id: loop for loop in loops}
    chosen = [by_id[i] for i in ids]
    return xr.Dataset(
        {"leading_name": ("leading_loop", np.array([loop.name or "" for loop in chosen], dtype=str)),
         "leading_polarity": ("leading_loop", np.array([loop.polarity for loop in chosen], dtype=str)),
         "leading_cycle": ("leading_loop", np.array([ARROW.join(loop.variables) for loop in chosen], dtype=str))},
        coords={"leading_loop": np.array(ids, dtype=str)})


def _check_size(model: Model, loops: int, runs: int) -> None:
    """Refuse, before any run, scores that would not fit in half the machine's memory."""
    from sdkit.ensemble import default_memory_limit

    steps = round((model.time.final_time - model.time.initial_time) / model.time.time_step) + 1
    size = 8.0 * steps * runs * (2 * loops + 3 * len(saved_variables(model)))
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
