"""Loop dominance figures: over time under a stock, and the dominance map over two constants."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex

from sdkit.cli import main
from sdkit.loops.dominance import score_scenario
from sdkit.loops.find import find_loops
from sdkit.loops.windows import Event, dominance_before
from sdkit.model import load_model
from sdkit.plot import dominance_map, loop_dominance, style
from sdkit.plot.dominance import LOOP_COLORS, loop_label
from sdkit.plot.lint import figure_problems
from sdkit.plot.style import PlotError
from sdkit.scenarios import Scenario
from tests.loops.test_dominance import POPULATION

LOOPS = '[births]\nvariables = ["births", "Population"]\n\n[deaths]\nvariables = ["deaths", "Population"]\n'


@pytest.fixture
def population(tmp_path):
    """The births-and-deaths model, its two loops named, with a second scenario of faster births."""
    path = tmp_path / "population.mdl"
    path.write_text(POPULATION, encoding="utf-8")
    (tmp_path / "population.loops.toml").write_text(LOOPS, encoding="utf-8")
    model = load_model(path)
    model.scenarios["fast"] = Scenario("fast", "faster births", {"birth rate": 0.1})
    return model


def scores(model, scenario=None, samples=None):
    report = find_loops(model)
    return score_scenario(model, scenario, report.loops, samples, variables=model.stocks if samples is None else ())


@pytest.mark.parametrize("width", ["single", "double"])
def test_dominance_over_time_draws_the_scores(population, width):
    run = scores(population)
    with style(width):
        fig = loop_dominance(run, stock="Population")
    assert figure_problems(fig) == []
    trajectory, strip, relative, shares = fig.axes
    np.testing.assert_allclose(trajectory.get_lines()[0].get_ydata(), run["population"].values)
    births, deaths = relative.get_lines()[:2]
    # births loop 2, deaths loop -1 at every step: relative scores 2/3 and -1/3
    np.testing.assert_allclose(births.get_ydata()[1:], 2 / 3)
    np.testing.assert_allclose(deaths.get_ydata()[1:], -1 / 3)
    # the births loop dominates from the first scored step: the strip is all its colour
    (bars,) = strip.collections
    assert {to_hex(c) for c in bars.get_facecolors()} == {to_hex(LOOP_COLORS[0])}
    assert [t.get_text() for t in fig.legends[0].get_texts()][:2] == ["births", "deaths"]
    assert (trajectory.get_title(), trajectory.get_ylabel()) == ("default", "Population\n[persons]")


@pytest.mark.parametrize("width", ["single", "double"])
def test_one_column_per_scenario(population, width):
    runs = {"default": scores(population), "fast": scores(population, "fast")}
    with style(width):
        fig = loop_dominance(runs, stock="Population", loops=["deaths"])
    assert figure_problems(fig) == []
    assert len(fig.axes) == 8
    assert [fig.axes[i].get_title() for i in (0, 1)] == ["default", "fast"]
    assert [fig.axes[i].get_ylabel() for i in (0, 1)] == ["Population\n[persons]", ""]
    fast = fig.axes[5].get_lines()[0].get_ydata()[1:]  # deaths: -(1/40) / (0.1 - 1/40) of all, -1/3 of the scores
    np.testing.assert_allclose(fast, -(0.025 / 0.075) / (0.1 / 0.075 + 0.025 / 0.075))


def test_dominance_over_time_refuses_what_it_cannot_draw(population):
    run = scores(population)
    with pytest.raises(PlotError, match="no trajectory of 'Nowhere' for default; it holds population"):
        loop_dominance(run, stock="Nowhere")
    with pytest.raises(PlotError, match="no scores for loop 'spiral'"):
        loop_dominance(run, stock="Population", loops=["spiral"])
    with pytest.raises(PlotError, match="no loop scores for scenario 'fast'"):
        loop_dominance(run, stock="Population", scenario="fast")
    ensemble = scores(population, samples=pd.DataFrame({"birth rate": [0.05, 0.1]}))
    with pytest.raises(PlotError, match="are an ensemble"):
        loop_dominance(ensemble, stock="Population")


def grid_scores(model, rates, lifetimes):
    samples = pd.DataFrame([(r, life) for r in rates for life in lifetimes], columns=["birth rate", "lifetime"])
    scored = scores(model, samples=samples)
    trajectory = score_scenario(model, None, find_loops(model).loops, samples, variables=["population"])["population"]
    return scored.assign(dominance_before(scored, trajectory, Event("Population", 110, below=False), years=1))


@pytest.mark.parametrize("width", ["single", "double"])
def test_dominance_map_colours_each_grid_point(population, width):
    scored = grid_scores(population, [0.0, 0.05, 0.1], [20.0, 40.0])
    with style(width):
        fig = dominance_map(scored, x="birth rate", y="lifetime")
    assert figure_problems(fig) == []
    (mesh,) = fig.axes[0].collections
    cells = np.asarray(mesh.get_array()).reshape(2, 3)
    # the population grows past 110 only when births outrun deaths: birth rate 0.1 at both
    # lifetimes and 0.05 at lifetime 40 (0.05 = 1/20 stays at 100); there the births loop leads
    np.testing.assert_array_equal(cells, [[3, 3, 0], [3, 0, 0]])  # classes: births, other loops, at the start, never
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["births (3)", "never (no Population > 110) (3)"]
    assert (fig.axes[0].get_xlabel(), fig.axes[0].get_ylabel()) == ("birth rate [1/Year]", "lifetime [year]")


def test_dominance_map_refuses_samples_that_are_not_a_grid(population):
    scored = grid_scores(population, [0.05, 0.05], [40.0])
    with pytest.raises(PlotError, match="not a grid of birth_rate and lifetime"):
        dominance_map(scored, x="birth rate", y="lifetime")
    with pytest.raises(PlotError, match="'Population' is not a sampled constant"):
        dominance_map(scored, x="Population", y="lifetime")


def test_loop_label_shortens_long_loops():
    assert loop_label("settlement", "a -> b") == "settlement"
    assert loop_label("", "Power -> Power Change") == "Power \u2192 Power Change"
    assert loop_label("", "a -> b -> c -> d -> e") == "a \u2192 b \u2192 \u2026 \u2192 e (5 variables)"


def test_plot_command_draws_dominance_files(population, tmp_path, capsys):
    run_file, map_file = tmp_path / "run.nc", tmp_path / "map.nc"
    scores(population).to_netcdf(run_file)
    grid_scores(population, [0.0, 0.1], [40.0]).to_netcdf(map_file)
    assert main(["plot", str(run_file), "--out", str(tmp_path / "run.png")]) == 0
    assert main(["plot", str(map_file), "--out", str(tmp_path / "map.png")]) == 0
    printed = capsys.readouterr().out
    assert "(dominance)" in printed
    assert "(dominance-map)" in printed
    assert (tmp_path / "run.png").read_bytes().startswith(b"\x89PNG")
    assert main(["plot", str(map_file), "--var", "birth rate", "--out", str(tmp_path / "x.png")]) == 2
    assert "a dominance map has two axes" in capsys.readouterr().err


def test_trajectory_from_a_run_of_the_scenarios(population):
    from sdkit.run import run

    trajectories = run(population, scenarios=["fast"], engine="engine")
    with style("double"):
        fig = loop_dominance({"fast": scores(population, "fast")}, trajectories, stock="Population")
    assert figure_problems(fig) == []
    np.testing.assert_allclose(fig.axes[0].get_lines()[0].get_ydata(),
                               trajectories["population"].sel(scenario="fast").values)
    with pytest.raises(PlotError, match="the trajectory run has no scenario 'default'; it holds fast"):
        loop_dominance(scores(population), trajectories, stock="Population")
