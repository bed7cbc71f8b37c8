"""The figures and tables of ``docs/loops.md``: loop dominance in the reference modes.

:func:`write` scores the loops (Loops That Matter, :func:`sdkit.loops.dominance.score_scenario`,
the named loops kept) in the scenario each reference mode reads (the core model's RM1-RM5,
H1 and H2; the four-orders model's RM6 and RM7, subscripted), draws
``loops-<mode>`` (the dominance under the variable the mode is about) and
``loops-dominance-map`` (the loop dominant in the ten years before restraint breaks, over
legitimacy emphasis and the guarantors' share, Versailles), and returns the tables the
page quotes: how often each kind of loop dominates, and the named loops' scores.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sdkit.figures_io import write_figure
from sdkit.kissinger import CORE, FOUR_ORDERS

#: mode -> (scenario, the variable drawn above the loop scores), per model: the scenario is
#: the one the mode's checks read (``loop_figures.toml`` beside this module says why each)
_FIGURES = tomllib.loads(Path(__file__).with_name("loop_figures.toml").read_text(encoding="utf-8"))
MODES: dict[str, tuple[str, str]] = {mode: tuple(pair) for mode, pair in _FIGURES["core"].items()}
FOUR_ORDERS_MODES: dict[str, tuple[str, str]] = {mode: tuple(pair) for mode, pair in _FIGURES["four_orders"].items()}
#: the dominance map: scenario, event, window, and the grid (name, low, high, points)
MAP_SCENARIO, MAP_EVENT, MAP_YEARS = "versailles", "Restraint<0.5", 10.0
MAP_AXES = (("legitimacy emphasis", 0.0, 1.0, 8), ("guarantor share initial", 0.2, 1.0, 8))


def write(models: Path, img: Path, metadata: Mapping[str, str], sweeps: Path | None = None) -> tuple[list[Path], str]:
    """Score, draw and tabulate every mode of :data:`MODES` with the dominance map, then every
    mode of :data:`FOUR_ORDERS_MODES`."""
    from sdkit.model import load_model

    written, text = write_dominance(load_model(models / f"{CORE}.mdl"), img, metadata)
    four, four_text = write_dominance(load_model(models / f"{FOUR_ORDERS}.mdl"), img, metadata, FOUR_ORDERS_MODES,
                                      grid=False)
    return written + four, f"{text}\n\nThe four-orders model:\n\n{four_text}"


def mode_label(mode: str) -> str:
    """``rm6-high-claim`` -> ``RM6 high claim``: the mode's name, then what the run is."""
    first, *rest = mode.split("-")
    return " ".join([first.upper(), *rest])


def write_dominance(model: Any, img: Path, metadata: Mapping[str, str],
                    modes: Mapping[str, tuple[str, str]] = MODES, grid: bool = True) -> tuple[list[Path], str]:
    """The figures ``loops-<mode>`` of `modes` (and with `grid` the dominance map) and their tables."""
    from sdkit import plot
    from sdkit.loops.find import find_loops

    report = find_loops(model)
    written, rows, details = [], [], []
    for mode, (scenario, variable) in modes.items():
        scored = score(model, report, scenario, [variable])
        with plot.style("double"):
            fig = plot.loop_dominance(scored, stock=variable)
        written += write_figure(fig, img, f"loops-{mode}", metadata)
        rows.append(dominance_row(mode_label(mode), scored))
        details.append(named_loop_details(mode_label(mode), scored))
    text = dominance_markdown(rows) + "\n\nThe named loops, mode by mode (what the page's prose quotes):\n\n" + "\n".join(details)
    if grid:
        scored, table = dominance_grid(model, report)
        with plot.style("double"):
            fig = plot.dominance_map(scored, x=MAP_AXES[0][0], y=MAP_AXES[1][0])
        written += write_figure(fig, img, "loops-dominance-map", metadata)
        text += "\n\n```text\n" + table + "\n```"
    return written, text


def score(model: Any, report: Any, scenario: str, variables: list[str], samples: Any = None) -> Any:
    """The named loops' scores in one scenario (or its samples), every loop counted."""
    from sdkit.loops.dominance import score_scenario

    return score_scenario(model, scenario, report.loops, samples, report.named(), variables)


def dominance_row(mode: str, scored: Any) -> dict[str, Any]:
    """How often a named loop, a stock's own adjustment or another loop dominates, and the named
    loops with the largest mean |relative score| and the largest mean share among the named."""
    leader = np.asarray(scored["dominant_loop"].values[1:]).astype(str)
    length = {str(i): len(str(c).split(" -> ")) for i, c in
              zip(scored["leading_loop"].values, scored["leading_cycle"].values, strict=True)}
    named = {str(i): str(n) for i, n in zip(scored["loop"].values, scored["name"].values, strict=True)}
    by_named = leader[np.isin(leader, list(named))]
    relative = np.abs(scored["relative_loop_score"].values[:, 1:])
    absolute = np.abs(scored["loop_score"].values[:, 1:])
    total = absolute.sum(axis=0)
    share = np.divide(absolute, total, out=np.zeros_like(absolute), where=total > 0).mean(axis=1)
    names = list(named.values())
    top = np.argsort(-relative.mean(axis=1))[:2]
    return {
        "mode": mode, "scenario": scored.attrs["scenario"],
        "named": float(np.isin(leader, list(named)).mean()),
        "own": float(np.mean([length.get(i, 0) <= 2 and i not in named for i in leader])),
        "leading named": ", ".join(f"{named[i]} {n}" for i, n in pd.Series(by_named).value_counts().items()) or "none",
        "largest": ", ".join(f"{names[k]} {relative[k].mean():.3f} (max {relative[k].max():.2f})" for k in top),
        "share": ", ".join(f"{names[k]} {share[k]:.0%}" for k in np.argsort(-share)[:2]),
    }


def named_loop_details(mode: str, scored: Any) -> str:
    """Per named loop: its largest |relative score| and when, and the time steps it dominates."""
    time = scored["time"].values
    leader = np.asarray(scored["dominant_loop"].values).astype(str)
    lines = [f"{mode} ({scored.attrs['scenario']}):"]
    for loop, name in zip(scored["loop"].values, scored["name"].values, strict=True):
        relative = scored["relative_loop_score"].sel(loop=loop).values
        top = int(np.argmax(np.abs(relative)))
        when = time[leader == str(loop)]
        dominant = f"; dominant {when.size} steps, {when.min():g} to {when.max():g}" if when.size else ""
        lines.append(f"  {name}: largest relative score {relative[top]:+.3f} at {time[top]:g}{dominant}")
    return "\n".join(lines)


def dominance_markdown(rows: list[dict[str, Any]]) -> str:
    """The rows of :func:`dominance_row` as the page's markdown table."""
    header = ("| mode | scenario | time a named loop dominates | time a stock's own adjustment dominates | "
              "named loops dominating (steps) | largest mean \\|relative score\\| (max) | largest mean share among the named |")
    lines = [header, "|---|---|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row['mode']} | {row['scenario']} | {row['named']:.1%} | {row['own']:.0%} | "
                     f"{row['leading named']} | {row['largest']} | {row['share']} |")
    return "\n".join(lines)


def dominance_grid(model: Any, report: Any) -> tuple[Any, str]:
    """The dominance map's runs (one per grid point) scored, with the loop dominant before the
    event in each, and the table ``sdkit loops --before`` prints for them."""
    from sdkit.loops.windows import dominance_before, parse_event, window_table
    from sdkit.plot.dominance import loop_label

    (x, x_low, x_high, x_points), (y, y_low, y_high, y_points) = MAP_AXES
    samples = pd.DataFrame([(a, b) for a in np.linspace(x_low, x_high, x_points)
                            for b in np.linspace(y_low, y_high, y_points)], columns=[x, y])
    event = parse_event(MAP_EVENT)
    watched = model.resolve(event.variable)
    scored = score(model, report, MAP_SCENARIO, [watched], samples)
    window = dominance_before(scored, scored[watched], event, MAP_YEARS)
    names = {loop.id: loop_label(loop.name or "", " -> ".join(loop.variables), width=4) for loop in report.loops}
    sampled = scored[[model.resolve(c) for c in samples.columns]]
    return scored.assign(window).drop_vars(watched), window_table(window, names, event, MAP_YEARS, sampled)
