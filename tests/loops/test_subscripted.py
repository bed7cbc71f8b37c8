"""Loop dominance of a subscripted model equals that of its twin written out element by element.

``tests/data/migration.mdl`` (two regions; a 2-d flow ``Moves[Region, Origin]``; sums
over regions) and ``tests/data/migration_twin.mdl`` (the same equations, one variable per
element) run to the same numbers; the twin's loops are the element loops of the
subscripted model's (:mod:`sdkit.loops.elements`), so each of its listed loops must score
the sum of its element loops' scores in the twin.
"""

from pathlib import Path

import numpy as np
import pytest

from sdkit.loops import find_loops
from sdkit.loops.dominance import ScoredLink, link_scores, loop_scorer, loop_scores, saved_variables
from sdkit.loops.elements import ElementLoops
from sdkit.loops.loop import canonical
from sdkit.model import load_model
from sdkit.run import run

DATA = Path(__file__).parents[2] / "tests" / "data"
#: element loops of each listed loop, counted by hand from the equations
ELEMENT_LOOPS = {
    ("births", "Population"): 2, ("deaths", "Population"): 2, ("outflow", "Population"): 2,
    ("inflow", "Population", "Moves"): 2,  # Moves[r, r] only: Moves[r, o] reads Population[o], feeds inflow[r]
    ("Attraction", "Moves", "inflow", "Population"): 4,  # Attraction[r] -> Moves[r, o] for either o
    ("Attraction", "Total Attraction", "outflow", "Population"): 2,
    ("births", "Population", "Total Population", "Crowding"): 2,
}


def scored(name: str):
    model = load_model(DATA / name)
    dataset = run(model, variables=saved_variables(model), engine="engine")
    return model, link_scores(model, dataset)


@pytest.fixture(scope="module")
def pair():
    return scored("migration.mdl"), scored("migration_twin.mdl")


def twin_name(label: str) -> str:
    """``Moves[north,south]`` -> ``Moves north south``, the twin's name of an element."""
    variable, _, element = label.partition("[")
    return " ".join([variable, *element.rstrip("]").split(",")]) if element else variable


def element_loops(model, scores, twin):
    """Each listed loop of the subscripted model -> the twin's loops that are its element loops,
    and the twin's loops that are none (they pass a subscripted variable twice)."""
    variable_of = {twin_name(str(label)): str(variable) for coord in ("source", "target")
                   for label, variable in zip(scores[coord].values, scores[f"{coord}_variable"].values, strict=True)}
    listed = {canonical(loop.variables): loop for loop in find_loops(model).found}
    mapped = {loop.id: [] for loop in listed.values()}
    others = []
    for loop in find_loops(twin).found:
        projected = [variable_of[v] for v in loop.variables]
        match = listed.get(canonical(projected)) if len(set(projected)) == len(projected) else None
        (mapped[match.id] if match else others).append((loop, projected))
    return listed, mapped, others


def test_element_links_score_as_the_twins_links(pair):
    (_, scores), (_, twin_scores) = pair
    ours = {f"{twin_name(str(a))} -> {twin_name(str(b))}": row
            for row, (a, b) in enumerate(zip(scores["source"].values, scores["target"].values, strict=True))}
    assert set(ours) == {str(label) for label in twin_scores["link"].values}
    for label, row in ours.items():
        np.testing.assert_allclose(scores.values[row], twin_scores.sel(link=label).values, rtol=1e-12, atol=0,
                                   err_msg=label)
    assert np.abs(scores.values[:, 1:]).max() > 0.5  # the scores are not all 0


def test_loop_scores_are_the_sums_over_the_twins_element_loops(pair):
    (model, scores), (twin, twin_scores) = pair
    listed, mapped, others = element_loops(model, scores, twin)
    assert {cycle: len(mapped[loop.id]) for cycle, loop in listed.items()} == \
        {canonical(cycle): count for cycle, count in ELEMENT_LOOPS.items()}
    assert others
    assert all(len(set(projected)) < len(projected) for _, projected in others)
    ours = loop_scores(scores, list(listed.values()))
    twins = [loop for group in mapped.values() for loop, _ in group]
    theirs = loop_scores(twin_scores, twins)
    sums = {}
    for loop_id, group in mapped.items():
        ids = [loop.id for loop, _ in group]
        for field in ("loop_score", "relative_loop_score"):
            expected = theirs[field].sel(loop=ids).sum("loop").values
            np.testing.assert_allclose(ours[field].sel(loop=loop_id).values, expected, rtol=1e-9, atol=1e-15,
                                       err_msg=f"{field} {loop_id}")
        sums[loop_id] = theirs["loop_score"].sel(loop=ids).sum("loop").values
    table = np.array(list(sums.values()))
    clear = np.sort(np.abs(table), axis=0)[-1] > 1.001 * np.sort(np.abs(table), axis=0)[-2]
    expected = np.array(list(sums))[np.abs(table).argmax(axis=0)]
    assert clear[1:].sum() > 40
    assert (ours["dominant_loop"].values[clear] == expected[clear]).all()
    assert len(set(expected[clear])) >= 2  # dominance shifts between loops in the run


def test_element_loops_of_scalar_loops_are_the_automatons_scores(pair):
    _, (twin, twin_scores) = pair
    loops = find_loops(twin).found
    rows = [ScoredLink(*(str(twin_scores[c].values[row]) for c in ("source_variable", "source", "target_variable", "target")))
            for row in range(twin_scores.sizes["link"])]
    automaton = loop_scorer(loops, rows)
    assert not isinstance(automaton, ElementLoops)
    table = twin_scores.values[:, None, :]
    expected, sums = automaton.scores(table, loops), ElementLoops(loops, rows).scores(table, loops)
    np.testing.assert_array_equal(sums[0], expected[0])
    np.testing.assert_allclose(sums[1], expected[1], rtol=1e-12)
    np.testing.assert_array_equal(sums[2], expected[2])


def run_cli(capsys, *argv):
    from sdkit.cli import main

    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_dominance_command_on_a_subscripted_model(capsys, tmp_path, pair):
    import matplotlib
    import xarray as xr

    matplotlib.use("Agg")
    from sdkit import plot

    (model, scores), _ = pair
    out = tmp_path / "scores.nc"
    code, stdout, _ = run_cli(capsys, "loops", DATA / "migration.mdl", "--dominance", "--out", out)
    assert code == 0
    assert "loop scores of 7 loops" in stdout
    expected = loop_scores(scores, find_loops(model).loops)
    with xr.open_dataset(out) as written:
        assert "Moves[north,south] -> inflow[north]" in [str(v) for v in written["link"].values]
        assert written["population"].dims == ("time", "Region")
        np.testing.assert_array_equal(written["loop_score"].values, expected["loop_score"].values)
        figure = plot.loop_dominance(written.load(), stock="Population", loops=[str(i) for i in written["loop"].values[:2]])
    top = figure.axes[0]
    assert [line.get_label() for line in top.get_lines()] == ["north", "south"]  # one line per element, named
    assert [t.get_text() for t in top.get_legend().get_texts()] == ["north", "south"]


def test_dominance_over_samples_of_a_subscripted_model(capsys, tmp_path, pair):
    import xarray as xr

    (model, _), _ = pair
    samples = tmp_path / "samples.csv"
    samples.write_text("birth rate[south],move rate\n0.08,0.02\n0.12,0.05\n", encoding="utf-8")
    out = tmp_path / "scores.nc"
    code, stdout, _ = run_cli(capsys, "loops", DATA / "migration.mdl", "--dominance", "--samples", samples, "--out", out,
                              "--before", "Total Population>200")
    assert code == 0
    assert "birth rate[south]" in stdout
    one = load_model(DATA / "migration.mdl")
    second = run(one, set={"birth rate[south]": 0.12, "move rate": 0.05}, variables=saved_variables(one),
                 engine="engine")
    expected = loop_scores(link_scores(one, second), find_loops(one).loops)
    with xr.open_dataset(out) as written:
        np.testing.assert_array_equal(written["birth_rate[south]"].values, [0.08, 0.12])
        np.testing.assert_allclose(written["loop_score"].isel(sample=1).values, expected["loop_score"].values,
                                   rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(("argv", "message"), [
    (["--before", "Population<50"], "--before takes a variable without subscripts; 'Population' is subscripted by Region"),
    (["--samples", "SAMPLES", "--before", "Population<50"], "subscripted by Region"),
    (["--samples", "BAD"], "'east' is not an element of Region"),
])
def test_subscripted_bad_input_is_one_line(capsys, tmp_path, argv, message):
    (tmp_path / "samples.csv").write_text("move rate\n0.02\n", encoding="utf-8")
    (tmp_path / "bad.csv").write_text("birth rate[east]\n0.05\n", encoding="utf-8")
    argv = [{"SAMPLES": tmp_path / "samples.csv", "BAD": tmp_path / "bad.csv"}.get(a, a) for a in argv]
    code, _, err = run_cli(capsys, "loops", DATA / "migration.mdl", "--dominance", "--out", tmp_path / "x.nc", *argv)
    assert code == 2
    assert err.count("\n") == 1
    assert message in err


def test_loop_scores_agree_with_pysimlins_element_loops(pair):
    """pysimlin scores a subscripted model's loops element by element: a loop that crosses
    elements is listed once per element loop (their scores, summed per listed loop, are
    sdkit's), a loop that stays within each element once for all (its score that of the
    element loop with the largest |score|, a different convention: checked on the twin)."""
    simlin = pytest.importorskip("simlin")
    from sdkit.structure import clean_name

    (model, scores), (twin, twin_scores) = pair
    sim = simlin.load(str(DATA / "migration.mdl")).simulate(enable_ltm=True)
    sim.run_to_end()
    listed = {canonical([clean_name(v) for v in loop.variables]): loop for loop in find_loops(model).found}
    ours = loop_scores(scores, list(listed.values()))["loop_score"]
    summed: dict[str, list] = {}
    arrayed = {}
    for loop in simlin.load(str(DATA / "migration.mdl")).loops:
        projected = [clean_name(v.partition("[")[0]) for v in loop.variables]
        match = listed.get(canonical(projected)) if len(set(projected)) == len(projected) else None
        if match is None:
            continue  # an element loop that passes a variable twice: not listed (docs/loops.md)
        score = np.asarray(sim.get_loop_score(loop.id))
        (summed.setdefault(match.id, []) if "[" in "".join(loop.variables) else arrayed.setdefault(match.id, [])).append(score)
    assert len(summed) == 4
    for loop_id, element_scores in summed.items():
        np.testing.assert_allclose(ours.sel(loop=loop_id).values, np.sum(element_scores, axis=0), rtol=1e-6, atol=1e-9)
    _, mapped, _ = element_loops(model, scores, twin)
    twin_loops = loop_scores(twin_scores, [loop for group in mapped.values() for loop, _ in group])["loop_score"]
    assert len(arrayed) == 3
    for loop_id, (theirs,) in arrayed.items():
        elements = twin_loops.sel(loop=[loop.id for loop, _ in mapped[loop_id]]).values
        largest = elements[np.abs(elements).argmax(axis=0), np.arange(elements.shape[1])]
        np.testing.assert_allclose(theirs[1:], largest[1:], rtol=1e-6, atol=1e-9)


#: A stock per region, an inflow defined by a subrange and by an element: each region's
#: outflow loop scores -(1/5) / (net rate) and each coastal inflow loop 0.05 / |net rate|.
REGIONS = """{UTF-8}
Region: north, south, east ~ ~ |
Coast: north, south ~ ~ |
Stock[Region] = INTEG(inflow[Region] - outflow[Region], 10) ~ units [0,?] ~ |
inflow[Coast] = Stock[Coast] * 0.05 ~ units/Year ~ |
inflow[east] = 1 ~ units/Year ~ |
outflow[Region] = Stock[Region] / 5 ~ units/Year ~ |
FINAL TIME = 10 ~ Year ~ |
INITIAL TIME = 0 ~ Year ~ |
SAVEPER = 0.5 ~ Year ~ |
TIME STEP = 0.5 ~ Year ~ |
"""


def test_subrange_equations_known_answer(tmp_path):
    path = tmp_path / "coast.mdl"
    path.write_text(REGIONS, encoding="utf-8")
    model = load_model(path)
    scores = link_scores(model, run(model, variables=saved_variables(model), engine="engine"))
    assert "inflow[north] -> Stock[north]" in [str(v) for v in scores["link"].values]
    loops = {tuple(loop.variables): loop.id for loop in find_loops(model).found}
    scored = loop_scores(scores, find_loops(model).found)["loop_score"].isel(time=slice(1, None))
    # coast: net rate 0.05 - 0.2 = -0.15, inflow loop 0.05 / 0.15 per region, outflow loop -0.2 / 0.15;
    # east: net 1 - Stock / 5 changes by -ΔStock / 5, so its outflow loop scores -1
    np.testing.assert_allclose(scored.sel(loop=loops[("inflow", "Stock")]).values, 2 * 0.05 / 0.15, rtol=1e-9)
    np.testing.assert_allclose(scored.sel(loop=loops[("outflow", "Stock")]).values, -2 * 0.2 / 0.15 - 1, rtol=1e-9)
