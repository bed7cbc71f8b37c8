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
from typing import TYPE_CHECKING

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
    """The score of every link between stocks and auxiliaries in one run, over time.

    Parameters
    ----------
    model : Model
        A model without subscripts or stateful functions other than INTEG.
    dataset : xarray.Dataset
        A run of it that saved :func:`saved_variables` (``sdkit.run.run(model,
        variables=saved_variables(model))``).
    scenario : str, optional
        The scenario to score (default: the only one in the dataset).

    Returns
    -------
    xarray.DataArray
        Dims ``(link, time)``; ``link`` is ``"source -> target"`` (model names) with
        ``source`` and ``target`` coordinates; 0 at the first time.
    """
    from sdkit.engine.codegen import expression_function
    from sdkit.engine.ir import refs
    from sdkit.engine.translate import translate

    ir = translate(model.path, model.text, model.abstract_model)
    node_names = _scalar_nodes(model, ir)
    run, chosen = _one_scenario(dataset, scenario)
    values = {i: _series(run, ir.nodes[i], py_name, model) for i, py_name in node_names.items()}
    time = run["time"].values
    settings = model.time.replace(_scenario_time(dataset, chosen))
    control = (settings.initial_time, settings.final_time, settings.time_step, settings.saveper)
    previous = {i: v[:-1] for i, v in values.items()}
    current = {i: v[1:] for i, v in values.items()}
    names, sources, targets, scores = [], [], [], []
    for target, node in enumerate(ir.nodes):
        if node.kind not in ("aux", "stock"):
            continue
        expr = node.flow if node.kind == "stock" else node.expr
        evaluate = expression_function(ir, expr)
        inputs = sorted(i for i in refs(expr) if ir.nodes[i].kind in ("aux", "stock"))
        before = _broadcast(evaluate(previous, time[:-1], *control), time.size - 1)
        after = _broadcast(evaluate(current, time[1:], *control), time.size - 1)
        for source in inputs:
            partial = _broadcast(evaluate({**previous, source: current[source]}, time[:-1], *control),
                                 time.size - 1) - before
            score = _score(partial, after - before, current[source] - previous[source])
            label = f"{model.variables[node_names[source]].name}{ARROW}{model.variables[node_names[target]].name}"
            names.append(label)
            sources.append(model.variables[node_names[source]].name)
            targets.append(model.variables[node_names[target]].name)
            scores.append(np.concatenate([[0.0], score]))
    return xr.DataArray(
        np.array(scores).reshape(len(names), time.size), dims=("link", "time"),
        coords={"link": names, "source": ("link", sources), "target": ("link", targets), "time": time},
        name="link_score", attrs={"long_name": "link score (Loops That Matter)", "units": "1"})


def loop_scores(scores: xr.DataArray, loops: Sequence[Loop]) -> xr.Dataset:
    """Loop scores (product of link scores) and relative loop scores of ``loops``, over time.

    The relative score divides by the sum of the absolute scores of the loops given,
    so pass all the loops of a model (or of one strongly connected component).
    """
    row_of = {str(label): row for row, label in enumerate(scores["link"].values)}
    table = scores.transpose("link", "time").values
    score = np.ones((len(loops), scores.sizes["time"]))
    for number, loop in enumerate(loops):
        targets = (*loop.variables[1:], loop.variables[0])
        for label in (f"{a}{ARROW}{b}" for a, b in zip(loop.variables, targets, strict=True)):
            if label not in row_of:
                raise ParameterError(f"loop {loop.name or loop.id} uses the link {label}, which has no score; "
                                     "score the links of the model the loop comes from")
            score[number] *= table[row_of[label]]
    total = np.abs(score).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        relative = np.where(total > 0, score / np.where(total > 0, total, 1.0), 0.0)
    coords = {"loop": [loop.id for loop in loops], "name": ("loop", [loop.name for loop in loops]),
              "time": scores["time"].values}
    return xr.Dataset(
        {"loop_score": (("loop", "time"), score, {"long_name": "loop score", "units": "1"}),
         "relative_loop_score": (("loop", "time"), relative,
                                 {"long_name": "relative loop score", "units": "1"})},
        coords=coords)


def _score(partial: np.ndarray, change: np.ndarray, source_change: np.ndarray) -> np.ndarray:
    """|Δx z / Δz| * sign(Δx z / Δx), 0 where Δz or Δx is 0."""
    defined = (change != 0) & (source_change != 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        magnitude = np.abs(partial / np.where(defined, change, 1.0))
        direction = np.sign(partial) * np.sign(source_change)
    return np.where(defined, magnitude * direction, 0.0)


def _broadcast(value: np.ndarray | float, size: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(value, dtype=float), (size,)).astype(float)


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


def _series(run: xr.Dataset, node, py_name: str, model: Model) -> np.ndarray:
    if py_name in run:
        return np.asarray(run[py_name].values, dtype=float)
    if node.kind == "param":
        return np.full(run.sizes["time"], float(node.default))
    raise ParameterError(f"the run did not save {model.variables[py_name].name!r}; run with "
                         "variables=saved_variables(model) to score the links")


def score_scenario(model: Model, scenario: str | None = None, loops: Sequence[Loop] | None = None) -> xr.Dataset:
    """Run one scenario with the engine, saving every time step, and score its links and loops.

    Parameters
    ----------
    model : Model
    scenario : str, optional
        A scenario of the model (default: the model file's own values).
    loops : list of Loop, optional
        The loops to score (default: every loop :func:`~sdkit.loops.find_loops` lists).

    Returns
    -------
    xarray.Dataset
        ``loop_score`` and ``relative_loop_score`` (loop, time), ``link_score``
        (link, time), the loops' ``name``, ``polarity`` and ``cycle``; the run's
        provenance in the attributes.
    """
    from dataclasses import replace

    from sdkit.loops.find import find_loops
    from sdkit.run import run
    from sdkit.scenarios import DEFAULT_SCENARIO, Scenario

    name = scenario or DEFAULT_SCENARIO
    if name in model.scenarios:
        chosen = model.scenarios[name]
    elif name == DEFAULT_SCENARIO:
        chosen = Scenario(DEFAULT_SCENARIO, "the model file's own values")
    else:
        from sdkit.errors import ScenarioError

        raise ScenarioError(model.unknown_scenario(name))
    every_step = replace(chosen, time={**chosen.time, "saveper": model.time.replace(chosen.time).time_step})
    kept = model.scenarios
    model.scenarios = {**kept, name: every_step}
    try:
        dataset = run(model, scenarios=[name], variables=saved_variables(model), engine="engine")
    finally:
        model.scenarios = kept
    loops = list(loops) if loops is not None else find_loops(model).loops
    links = link_scores(model, dataset, name)
    scored = loop_scores(links, loops)
    scored = scored.assign_coords(
        polarity=("loop", [loop.polarity for loop in loops]),
        cycle=("loop", [ARROW.join(loop.variables) for loop in loops]))
    scored["link_score"] = links.drop_vars(["source", "target"])
    scored.attrs = {**dataset.attrs, "scenario": name,
                    "method": "Loops That Matter (Schoenberg, Davidsen & Eberlein 2020): link scores between "
                              "successive time steps; loop score = product of its link scores; relative "
                              "loop score = loop score / sum of |loop scores| of the loops in the file"}
    return scored
