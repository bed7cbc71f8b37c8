"""Loops That Matter for one run: known answers and agreement with pysimlin's link and loop scores."""

from pathlib import Path

import numpy as np
import pytest

from sdkit.errors import ParameterError, UnsupportedFeature
from sdkit.loops import find_loops
from sdkit.loops.dominance import link_scores, loop_scores, saved_variables
from sdkit.loops.loop import canonical
from sdkit.model import load_model
from sdkit.run import run
from sdkit.scenarios import Scenario
from sdkit.structure import clean_name

ROOT = Path(__file__).parents[2]
DATA = ROOT / "tests" / "data"
MODELS = ROOT / "models"
CORPUS = ROOT.parent / "shared" / "corpus"
#: Linear births and deaths: the births loop scores rate / (rate - 1/lifetime) = 2 and
#: the deaths loop -(1/lifetime) / (rate - 1/lifetime) = -1 at every step.
POPULATION = """{UTF-8}
Population = INTEG(births - deaths, 100) ~ persons [0,?] ~ |
births = Population * birth rate ~ persons/Year ~ |
deaths = Population / lifetime ~ persons/Year ~ |
birth rate = 0.05 ~ 1/Year [0,0.2] ~ |
lifetime = 40 ~ Year [10,80] ~ |
FINAL TIME = 10 ~ Year ~ |
INITIAL TIME = 0 ~ Year ~ |
SAVEPER = 0.25 ~ Year ~ |
TIME STEP = 0.25 ~ Year ~ |
"""


def scored_run(path: Path, every_step: bool = True):
    """A model, one run of it saving what link scores need (every time step), and its link scores."""
    model = load_model(path)
    model.scenarios["every_step"] = Scenario("every_step", "", {}, {"saveper": model.time.time_step} if every_step else {})
    dataset = run(model, scenarios=["every_step"], variables=saved_variables(model), engine="engine")
    return model, link_scores(model, dataset)


def test_decay_loop_scores_minus_one(decay_path):
    model, scores = scored_run(decay_path)
    assert sorted(scores["link"].values) == ["Stock -> outflow", "outflow -> Stock"]
    np.testing.assert_allclose(scores.sel(link="Stock -> outflow").values[1:], 1.0)
    np.testing.assert_allclose(scores.sel(link="outflow -> Stock").values[1:], -1.0)
    assert float(scores.isel(time=0).sum()) == 0.0


def test_births_and_deaths_scores_known_answer(tmp_path):
    path = tmp_path / "population.mdl"
    path.write_text(POPULATION, encoding="utf-8")
    model, scores = scored_run(path)
    report = find_loops(model)
    loops = loop_scores(scores, report.found)
    by_name = {frozenset(loop.variables): loop.id for loop in report.found}
    births = loops["loop_score"].sel(loop=by_name[frozenset({"Population", "births"})]).values[1:]
    deaths = loops["loop_score"].sel(loop=by_name[frozenset({"Population", "deaths"})]).values[1:]
    np.testing.assert_allclose(births, 2.0, rtol=1e-9)
    np.testing.assert_allclose(deaths, -1.0, rtol=1e-9)
    np.testing.assert_allclose(np.abs(loops["relative_loop_score"].values[:, 1:]).sum(axis=0), 1.0)
    np.testing.assert_allclose(loops["relative_loop_score"].sel(loop=by_name[frozenset({"Population", "births"})]).values[1:], 2 / 3)


def _pysimlin_run(path: Path):
    simlin = pytest.importorskip("simlin")
    sim = simlin.load(str(path)).simulate(enable_ltm=True)
    sim.run_to_end()
    return simlin, sim


def _stride(model) -> int:
    """pysimlin scores every time step and reports the scores at the saved times; sdkit
    scores the intervals of the run it is given, so it is given a run saved every step
    and read at pysimlin's times."""
    stride = model.time.saveper / model.time.time_step
    assert stride == int(stride)
    return int(stride)


@pytest.mark.parametrize(("path", "least"), [
    (CORPUS / "teacup" / "teacup.mdl", 2),
    (CORPUS / "sir" / "SIR.mdl", 6),
    (MODELS / "kissinger_core.mdl", 80),  # the rest pass through pysimlin's <stock>_net_flow
])
def test_link_scores_agree_with_pysimlin(path, least):
    if not path.exists():
        pytest.skip(f"{path} is not here (../shared is absent)")
    _, sim = _pysimlin_run(path)
    theirs = {(link.from_var, link.to_var): link.score for link in sim.get_links() if link.score is not None}
    model, scores = scored_run(path)
    compared = 0
    for label, source, target in zip(scores["link"].values, scores["source"].values, scores["target"].values, strict=True):
        key = (clean_name(source), clean_name(target))
        if key in theirs:
            mine = scores.sel(link=label).values[:: _stride(model)]
            np.testing.assert_allclose(mine, theirs[key], rtol=1e-6, atol=1e-9, err_msg=label)
            compared += 1
    assert compared >= least


@pytest.mark.parametrize("path", [
    CORPUS / "teacup" / "teacup.mdl",
    CORPUS / "sir" / "SIR.mdl",
    CORPUS / "ema_sales_agent_market_building" / "Sales_Agent_Market_Building_Dynamics.mdl",
    DATA / "kissinger_core_1318_loops.mdl",  # pysimlin lists no loops for the current core model (5,915)
])
def test_loop_scores_agree_with_pysimlin(path):
    if not path.exists():
        pytest.skip(f"{path} is not here (../shared is absent)")
    simlin, sim = _pysimlin_run(path)
    model, scores = scored_run(path)
    report = find_loops(model)
    ours = loop_scores(scores, report.found)["loop_score"]
    by_cycle = {canonical([clean_name(v) for v in loop.variables]): loop.id for loop in report.found}
    compared = 0
    for loop in simlin.load(str(path)).loops:
        cycle = canonical([v for v in loop.variables if not v.endswith("_net_flow")])
        theirs = sim.get_loop_score(loop.id)
        mine = ours.sel(loop=by_cycle[cycle]).values[:: _stride(model)]
        np.testing.assert_allclose(mine, theirs, rtol=1e-6, atol=1e-9, err_msg=str(cycle))
        compared += 1
    assert compared == len(report.found)


def test_subscripted_model_is_refused(regions_path):
    model = load_model(regions_path)
    dataset = run(model, variables=saved_variables(model), engine="engine")
    with pytest.raises(UnsupportedFeature, match="subscripted models are not built yet"):
        link_scores(model, dataset)


def test_run_without_auxiliaries_is_refused(decay_path):
    model = load_model(decay_path)
    dataset = run(model, variables=["Stock"], engine="engine")
    with pytest.raises(ParameterError, match="did not save 'outflow'"):
        link_scores(model, dataset)


def run_cli(capsys, *argv):
    from sdkit.cli import main

    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_dominance_command_writes_loop_scores(capsys, tmp_path):
    import xarray as xr

    path = tmp_path / "population.mdl"
    path.write_text(POPULATION, encoding="utf-8")
    (tmp_path / "population.loops.toml").write_text('[births]\nvariables = ["births", "Population"]\n', encoding="utf-8")
    out = tmp_path / "scores.nc"
    code, stdout, _ = run_cli(capsys, "loops", path, "--dominance", "--out", out)
    assert code == 0
    assert f"wrote {out}" in stdout
    births = next(line for line in stdout.splitlines() if " births " in line)
    assert "+0.667" in births  # mean relative score 2/3 (the first time has no score)
    with xr.open_dataset(out) as scores:
        assert scores["loop_score"].dims == ("loop", "time")
        assert scores["link_score"].dims == ("link", "time")
        assert list(scores["name"].values) == ["births", ""]
        assert scores.attrs["scenario"] == "default"
        assert scores.attrs["command"].startswith("sdkit loops")
        np.testing.assert_allclose(scores["loop_score"].values[:, 1:], [[2.0] * 40, [-1.0] * 40])
        # what the dominance figure draws: the run's stocks and what the dominant loops are
        np.testing.assert_allclose(scores["population"].values[0], 100.0)
        assert [str(c) for c in scores["leading_cycle"].values] == ["births -> Population"]
        assert str(scores["leading_name"].values[0]) == "births"


@pytest.mark.parametrize(("argv", "message"), [
    (["--scenario", "liberal"], "--scenario, --samples, --before and --out go with --dominance"),
    (["--dominance"], "--dominance writes loop scores; add --out FILE.nc"),
    (["--dominance", "--scenario", "nowhere", "--out", "x.nc"], "unknown scenario 'nowhere'"),
])
def test_dominance_bad_arguments_are_one_line_errors(capsys, tmp_path, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(capsys, "loops", MODELS / "kissinger_core.mdl", *argv)
    assert code == 2
    assert err.count("\n") == 1
    assert message in err


def test_dominance_over_samples_known_answer(capsys, tmp_path):
    import xarray as xr

    path = tmp_path / "population.mdl"
    path.write_text(POPULATION, encoding="utf-8")
    samples = tmp_path / "samples.csv"
    samples.write_text("birth rate,lifetime\n0.05,40\n0.1,40\n0.1,20\n", encoding="utf-8")
    out = tmp_path / "scores.nc"
    code, stdout, _ = run_cli(capsys, "loops", path, "--dominance", "--samples", samples, "--out", out)
    assert code == 0
    assert "3 runs of scenario default" in stdout
    with xr.open_dataset(out) as scores:
        assert scores["loop_score"].dims == ("loop", "sample", "time")
        assert scores["dominant_loop"].dims == ("sample", "time")
        # births loop rate / (rate - 1/lifetime), deaths loop -(1/lifetime) / (rate - 1/lifetime)
        expected = np.array([[2.0, 0.1 / 0.075, 0.1 / 0.05], [-1.0, -0.025 / 0.075, -0.05 / 0.05]])
        assert [str(v) for v in scores["cycle"].values] == ["births -> Population", "deaths -> Population"]
        got = scores["loop_score"].isel(time=slice(1, None)).values
        np.testing.assert_allclose(got, np.broadcast_to(expected[..., None], got.shape))


def test_named_keeps_only_named_loop_scores(capsys, tmp_path):
    import xarray as xr

    path = tmp_path / "population.mdl"
    path.write_text(POPULATION, encoding="utf-8")
    (tmp_path / "population.loops.toml").write_text('[deaths]\nvariables = ["deaths", "Population"]\n', encoding="utf-8")
    out = tmp_path / "scores.nc"
    code, stdout, _ = run_cli(capsys, "loops", path, "--dominance", "--named", "--out", out)
    assert code == 0
    births = next(line for line in stdout.splitlines() if "births -> Population" in line)
    assert births.split()[1:5] == ["reinforcing", "-", "-", "100%"]  # dominant, but its scores are not kept
    with xr.open_dataset(out) as scores:
        assert list(scores["name"].values) == ["deaths"]
        np.testing.assert_allclose(scores["relative_loop_score"].values[0, 1:], -1 / 3)
        assert set(scores["dominant_loop"].values[1:]) == {births.split()[0]}


def test_scores_too_large_for_memory_are_refused(monkeypatch, decay_path):
    import importlib

    from sdkit.loops.dominance import score_scenario

    monkeypatch.setattr(importlib.import_module("sdkit.ensemble"), "default_memory_limit", lambda: 1000.0)
    with pytest.raises(ParameterError, match="more than half this machine's memory; keep fewer loops"):
        score_scenario(load_model(decay_path))


def test_parse_event():
    from sdkit.loops.windows import Event, parse_event

    assert parse_event("Restraint<0.5") == Event("Restraint", 0.5, below=True)
    assert parse_event(" Civil Society Pressure > 2e-1 ") == Event("Civil Society Pressure", 0.2, below=False)
    with pytest.raises(ParameterError, match="must look like NAME<LEVEL"):
        parse_event("Restraint=0.5")


def test_dominance_before_known_answer():
    import xarray as xr

    from sdkit.loops.windows import Event, dominance_before

    time = np.arange(11.0)
    leader = np.where(time < 3, "A", "B")
    trajectory = xr.DataArray(
        np.array([1 - time / 10, np.ones(11), np.full(11, 0.2)]), dims=("sample", "time"),
        coords={"sample": [0, 1, 2], "time": time})
    scored = xr.Dataset({"dominant_loop": (("sample", "time"), np.array([leader, leader, leader]))})
    window = dominance_before(scored, trajectory, Event("x", 0.5, below=True), years=3)
    np.testing.assert_allclose(window["event_time"].values, [5.0, np.nan, 0.0])
    # the window [2, 5) of the first run: A at 2, B at 3 and 4; the second never goes
    # below 0.5; the third is below from the start, with no time before the event
    assert list(window["window_dominant_loop"].values) == ["B", "", ""]


def test_dominance_before_command(capsys, tmp_path):
    import xarray as xr

    path = tmp_path / "population.mdl"
    path.write_text(POPULATION, encoding="utf-8")
    samples = tmp_path / "samples.csv"
    samples.write_text("birth rate\n0.05\n0.0\n", encoding="utf-8")
    out = tmp_path / "scores.nc"
    code, stdout, _ = run_cli(capsys, "loops", path, "--dominance", "--samples", samples,
                              "--before", "Population>110", "--years", "1", "--out", out)
    assert code == 0
    assert "the loop dominant most often in the 1 years before Population > 110 (1 of 2 runs reach it)" in stdout
    table = stdout.split("runs reach it)\n", 1)[1].splitlines()
    assert table[0].split()[:6] == ["id", "runs", "share", "of", "runs", "mean"]
    assert table[2].split()[1:4] == ["1", "50%", "0.05"]  # the growing run, birth rate 0.05
    assert table[3].split()[:4] == ["(never)", "1", "50%", "0"]  # birth rate 0: the population falls
    with xr.open_dataset(out) as scores:
        births = str(scores["loop"].values[list(scores["cycle"].values).index("births -> Population")])
        assert list(scores["window_dominant_loop"].values) == [births, ""]
        # Euler steps of 0.25 grow the population by 1 + 0.025 * 0.25 each: 110 is reached at
        # ln(1.1) / (ln(1.00625) / 0.25) = 3.82 years (linear between saved steps: within 0.01)
        np.testing.assert_allclose(float(scores["event_time"].values[0]), np.log(1.1) / (np.log(1.00625) / 0.25), atol=0.01)
        assert np.isnan(scores["event_time"].values[1])


def test_ensemble_scores_keep_the_samples_values(tmp_path):
    import pandas as pd

    from sdkit.loops.dominance import score_scenario

    path = tmp_path / "population.mdl"
    path.write_text(POPULATION, encoding="utf-8")
    scored = score_scenario(load_model(path), samples=pd.DataFrame({"birth rate": [0.05, 0.1]}))
    np.testing.assert_allclose(scored["birth_rate"].values, [0.05, 0.1])
    assert scored["birth_rate"].dims == ("sample",)


def test_scoring_leaves_the_model_to_other_threads(monkeypatch, tmp_path):
    """`sdkit explore` runs the page's trajectories while it scores loops on the same model:
    scoring saves every time step, and that must never show through the shared model."""
    import importlib

    run_module = importlib.import_module("sdkit.run")
    path = tmp_path / "population.mdl"
    path.write_text(POPULATION.replace("SAVEPER = 0.25", "SAVEPER = 1"), encoding="utf-8")
    model = load_model(path)
    model.scenarios["slow"] = Scenario("slow", "", {"birth rate": 0.02})
    seen_meanwhile = []
    real_run = run_module.run

    def run_and_look(*args, **kwargs):
        seen_meanwhile.append(model.scenarios["slow"].time)
        return real_run(*args, **kwargs)

    monkeypatch.setattr(run_module, "run", run_and_look)
    from sdkit.loops.dominance import score_scenario

    scored = score_scenario(model, "slow")
    assert scored.sizes["time"] == 41  # every time step of 0.25 over 10 years
    assert seen_meanwhile == [{}]
    assert run(model, scenarios=["slow"])["time"].size == 11
