"""The compiled loop dominance (generated link-score code, loop automaton, chunked ensembles)
against the definition computed the plain way, equation by equation and loop by loop.

Tolerances: link scores, loop scores and the dominant loop must be equal bit for bit (the
same expressions, rounded the same way, multiplied in the same order). The total of the
absolute loop scores, and so the relative scores, are summed along the loop automaton
(``(a + b) * w`` where the plain sum has ``a * w + b * w``), which changes the rounding
only: with at most 35 links per loop and sums of non-negative terms, each product and
partial sum is exact to a few units in the last place (2.2e-16 each), so 1e-12 relative
is a bound with a wide margin. It still catches a missing or double-counted loop unless
that loop's share of the total is below 1e-12, far below the three decimals the scores
are reported with.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from sdkit.errors import ParameterError
from sdkit.loops import find_loops
from sdkit.loops.automaton import loop_automaton
from sdkit.loops.dominance import saved_variables, scorable, score_scenario
from sdkit.model import load_model

ROOT = Path(__file__).parents[2]
MODELS = ROOT / "models"
RELATIVE = 1e-12


def plain_dominance(scores: np.ndarray, sequences: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Loop by loop: the first loop with the strictly largest |product| (-1: all 0) and the sum of |products|."""
    largest = np.zeros(scores.shape[1:])
    dominant = np.full(scores.shape[1:], -1)
    total = np.zeros(scores.shape[1:])
    for number, sequence in enumerate(sequences):
        product = np.ones(scores.shape[1:])
        for row in sequence:
            product *= scores[row]
        total += np.abs(product)
        ahead = np.abs(product) > largest
        largest, dominant = np.where(ahead, np.abs(product), largest), np.where(ahead, number, dominant)
    return dominant, total


def core_sequences() -> list[list[int]]:
    """The core model's 2,353 loops as sequences of rows of its link scores."""
    model = load_model(MODELS / "kissinger_core.mdl")
    from sdkit.loops.linkcode import link_program

    ir, names = scorable(model)
    program = link_program(ir)
    label = {i: names[i].label for i in program.dynamic}
    row = {(label[a], label[b]): r for r, (a, b) in enumerate(program.links)}
    loops = find_loops(model).loops
    return [[row[pair] for pair in zip(loop.variables, (*loop.variables[1:], loop.variables[0]), strict=True)]
            for loop in loops], len(program.links)


def test_automaton_finds_the_dominant_loop_and_the_total_of_every_loop():
    sequences, links = core_sequences()
    automaton = loop_automaton(sequences)
    assert automaton.states < 0.1 * sum(len(s) for s in sequences)  # the point of merging
    rng = np.random.default_rng(7)
    # continuous scores, and scores from a few values (many exact ties, zeros, whole loops at 0)
    for scores in (rng.standard_normal((links, 3, 300)),
                   rng.choice([0.0, 0.5, -0.5, 1.0, -1.0, 2.0], size=(links, 3, 300))):
        dominant, total = automaton.dominance(scores)
        expected_dominant, expected_total = plain_dominance(scores, sequences)
        np.testing.assert_array_equal(dominant, expected_dominant)
        np.testing.assert_allclose(total, expected_total, rtol=RELATIVE, atol=0)


def test_ties_go_to_the_first_loop_in_order():
    automaton = loop_automaton([[0, 1], [2, 3], [0, 2]])
    scores = np.ones((4, 1, 2))
    scores[:, 0, 0] = [2.0, 1.0, 1.0, 2.0]  # each loop scores 2 at the first time, 1 at the second
    dominant, total = automaton.dominance(scores)
    np.testing.assert_array_equal(dominant, [[0, 0]])
    np.testing.assert_array_equal(total, [[6.0, 3.0]])
    scores[1, 0, 1] = 0.0  # loop 0 scores 0: the first of the others
    np.testing.assert_array_equal(automaton.dominance(scores)[0], [[0, 1]])
    scores[:] = 0.0  # no loop scores: no dominant loop
    np.testing.assert_array_equal(automaton.dominance(scores)[0], [[-1, -1]])


def plain_link_scores(model, dataset) -> np.ndarray:
    """The link scores of one run, each equation evaluated with the engine's numpy code (link, time)."""
    from sdkit.engine.codegen import expression_function
    from sdkit.engine.ir import refs

    ir, names = scorable(model)
    values = {i: np.broadcast_to(dataset[names[i].py_name].values if names[i].py_name in dataset else ir.nodes[i].default,
                                 dataset["time"].shape).astype(float) for i in names}
    before, after = ({i: v[:-1] for i, v in values.items()}, {i: v[1:] for i, v in values.items()})
    time, control = dataset["time"].values, (model.time.initial_time, model.time.final_time,
                                             model.time.time_step, model.time.time_step)
    rows = []
    for node in (n for n in ir.nodes if n.kind in ("aux", "stock")):
        expr = node.flow if node.kind == "stock" else node.expr
        f = expression_function(ir, expr)
        z0, z1 = f(before, time[:-1], *control), f(after, time[1:], *control)
        for source in sorted(i for i in refs(expr) if ir.nodes[i].kind in ("aux", "stock")):
            partial = f({**before, source: after[source]}, time[:-1], *control) - z0
            change, moved = z1 - z0, after[source] - before[source]
            defined = (change != 0) & (moved != 0)
            with np.errstate(all="ignore"):
                score = np.where(defined, np.abs(partial / np.where(defined, change, 1.0))
                                 * np.sign(partial) * np.sign(moved), 0.0)
            rows.append(np.concatenate([[0.0], np.broadcast_to(score, time[1:].shape)]))
    return np.array(rows)


def test_samples_score_as_the_plain_definition_on_the_core_model():
    """Three runs of the core model as an ensemble against each run scored the plain way."""
    from sdkit.run import run
    from sdkit.scenarios import Scenario

    model = load_model(MODELS / "kissinger_core.mdl")
    report = find_loops(model)
    samples = pd.DataFrame({"legitimacy emphasis": [0.2, 0.5, 0.8], "supremacy claim": [0.1, 0.6, 0.3]})
    scored = score_scenario(model, "versailles", report.loops, samples, report.named(), ["restraint"])
    sequences, _ = core_sequences()
    for sample, row in samples.iterrows():
        parameters = {**model.scenarios["versailles"].parameters, **row.to_dict()}
        one = model.with_scenarios({"one": Scenario("one", "", parameters, {"saveper": model.time.time_step})})
        dataset = run(one, scenarios=["one"], variables=saved_variables(model), engine="engine").sel(scenario="one")
        links = plain_link_scores(model, dataset)
        dominant, total = plain_dominance(links[:, None, :], sequences)
        ids = np.array([*(loop.id for loop in report.loops), ""])
        np.testing.assert_array_equal(scored["dominant_loop"].values[sample], ids[dominant[0]])
        for number, loop in enumerate(report.named()):
            product = np.prod(links[sequences[report.loops.index(loop)]], axis=0)
            np.testing.assert_array_equal(scored["loop_score"].values[number, sample], product)
            expected = np.where(total[0] > 0, product / np.where(total[0] > 0, total[0], 1.0), 0.0)
            np.testing.assert_allclose(scored["relative_loop_score"].values[number, sample], expected,
                                       rtol=RELATIVE, atol=1e-300)
        np.testing.assert_array_equal(scored["restraint"].values[sample], dataset["restraint"].values)


POPULATION = (ROOT / "tests" / "loops" / "test_dominance.py").read_text(encoding="utf-8").split('POPULATION = """')[1].split('"""')[0]


@pytest.fixture
def population(tmp_path):
    path = tmp_path / "population.mdl"
    path.write_text(POPULATION, encoding="utf-8")
    return path


def test_result_does_not_depend_on_the_chunks(monkeypatch, population):
    import sdkit.loops.samples as chunks

    model = load_model(population)
    rng = np.random.default_rng(3)
    samples = pd.DataFrame({"birth rate": rng.uniform(0, 0.2, 70), "lifetime": rng.uniform(10, 80, 70)})
    whole = score_scenario(model, samples=samples)
    monkeypatch.setattr(chunks, "chunk_size", lambda *args: 32)
    split = score_scenario(model, samples=samples)
    xr.testing.assert_identical(whole, split)


def test_same_samples_give_identical_files(capsys, tmp_path, population):
    from sdkit.cli import main

    samples = tmp_path / "samples.csv"
    samples.write_text("birth rate,lifetime\n0.05,40\n0.1,40\n0.1,20\n0.02,60\n", encoding="utf-8")
    files = []
    for _ in range(2):  # the same command, --out included (the file records it)
        assert main(["loops", str(population), "--dominance", "--samples", str(samples), "--before",
                     "Population>110", "--out", str(tmp_path / "a.nc"), "--force"]) == 0
        files.append((tmp_path / "a.nc").read_bytes())
    capsys.readouterr()
    assert files[0] == files[1]
    with xr.open_dataset(tmp_path / "a.nc") as scores:  # ids written as characters, read back as text
        assert {str(v) for v in np.ravel(scores["dominant_loop"].values[:, 1:])} <= set(scores["leading_loop"].values)


def test_kernel_step_buffer_holds_what_simulate_returns():
    model = load_model(MODELS / "kissinger_core.mdl")
    ir, names = scorable(model)
    nodes = [i for i, node in enumerate(ir.nodes) if node.kind in ("aux", "stock")]
    params = {"legitimacy_emphasis": np.array([0.2, 0.7, 0.4])}
    time = {"saveper": model.time.time_step}
    times, buffer = model.kernel.simulate_steps(params, 3, nodes, time, np.empty((3, 1601, len(nodes))))
    result = model.kernel.simulate(params, 3, [names[i].py_name for i in nodes], save="all", time=time, backend="numba")
    np.testing.assert_array_equal(times, result.times)
    for column, i in enumerate(nodes):
        np.testing.assert_array_equal(buffer[:, :, column], result.data[names[i].py_name])
    with pytest.raises(ParameterError, match="ascending order"):
        model.kernel.simulate_steps(params, 3, nodes[::-1], time)


def _structure_of_its_own(population, operator: str):
    """The population model with deaths ``operator`` a new constant: a structure (names aside) that no other test
    compiles in this process, one per operator."""
    text = population.read_text(encoding="utf-8").replace("deaths = Population / lifetime ~",
                                                          f"deaths = Population / lifetime {operator} extra ~")
    variant = population.with_name(f"variant{ord(operator)}.mdl")
    variant.write_text(text + "extra = 1 ~ dmnl ~ |\n", encoding="utf-8")
    return variant


def _program(path):
    from sdkit.loops.linkcode import link_program

    return link_program(scorable(load_model(path, numba=False))[0])


@pytest.mark.parametrize("path", [MODELS / "kissinger_core.mdl", ROOT / "tests" / "data" / "migration.mdl", "population"])
def test_numba_and_numpy_link_scores_are_the_same_bits(path, population):
    program = _program(population if path == "population" else path)
    rng = np.random.default_rng(11)
    values = rng.uniform(-2.0, 2.0, (3, 40, len(program.dynamic)))
    values[:, 10:14] = values[:, 9:10]  # nothing changes: scores 0 (Δz = 0 and Δx = 0)
    values[1, 20:, ::2] = 0.0  # some inputs at 0, some changing
    constants = rng.uniform(0.0, 1.0, (len(program.params), 3))
    times = np.linspace(0.0, 9.75, 40)
    scores = {backend: program.score(values, constants, times, (0.0, 9.75, 0.25, 0.25), backend=backend)
              for backend in ("numba", "numpy")}
    np.testing.assert_array_equal(scores["numba"], scores["numpy"])
    assert np.count_nonzero(scores["numpy"][:, :, 1:]) > 0
    assert np.all(scores["numpy"][:, :, 10:14] == 0.0)


def test_a_call_scores_with_numpy_until_numba_has_compiled_the_scores_or_the_call_is_large(monkeypatch, tmp_path,
                                                                                             population):
    from sdkit.loops.linkcode import NUMPY_POINTS

    monkeypatch.setenv("SDKIT_CACHE_DIR", str(tmp_path / "cache"))  # numba's cache holds nothing
    program = _program(_structure_of_its_own(population, "*"))
    assert program.backend(NUMPY_POINTS) == "numpy"
    assert program.backend(NUMPY_POINTS + 1) == "numba"
    values = np.ones((1, 3, len(program.dynamic)))
    program.score(values, np.ones((len(program.params), 1)), np.arange(3.0), (0.0, 2.0, 1.0, 1.0), backend="numba")
    assert program.backend(1) == "numba"
    with pytest.raises(ValueError, match="'numba' or 'numpy'"):
        program.score(values, np.ones((len(program.params), 1)), np.arange(3.0), (0.0, 2.0, 1.0, 1.0), backend="llvm")


def test_a_large_ensemble_is_scored_with_numpy_while_numba_compiles_in_the_background(monkeypatch, tmp_path,
                                                                                   population):
    import sdkit.loops.linkcode as linkcode
    import sdkit.loops.samples as chunks

    monkeypatch.setenv("SDKIT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("SDKIT_NUMBA_PREWARM", "1")  # the tests' default is no background compiles
    model = load_model(_structure_of_its_own(population, "-"), numba=False)
    rng = np.random.default_rng(5)
    samples = pd.DataFrame({"birth rate": rng.uniform(0, 0.2, 300), "lifetime": rng.uniform(10, 80, 300)})
    monkeypatch.setattr(chunks, "chunk_size", lambda *args: 32)
    monkeypatch.setattr(linkcode, "NUMPY_POINTS", 10**12)
    with_numpy = score_scenario(model, samples=samples)
    started = []
    start = linkcode.LinkProgram.compile_in_background
    monkeypatch.setattr(linkcode.LinkProgram, "compile_in_background", lambda self: started.append(start(self)) or started[-1])
    monkeypatch.setattr(linkcode, "NUMPY_POINTS", 0)  # every ensemble is large
    meanwhile = score_scenario(model, samples=samples)
    xr.testing.assert_identical(meanwhile, with_numpy)
    assert len(started) == 1
    assert started[0].wait(300)
    assert _program(model.path).numba_compiled()  # by the background process, into numba's cache


def test_each_chunk_is_scored_with_numba_only_once_numbas_cache_holds_it():
    import threading
    from types import SimpleNamespace

    from sdkit.loops.samples import chunk_backend

    compiling, program = threading.Event(), SimpleNamespace(numba_compiled=lambda: False)
    assert chunk_backend("numpy", None, program) == "numpy"
    assert chunk_backend("numba", None, program) == "numba"
    assert chunk_backend("numba", compiling, program) == "numpy"
    compiling.set()  # ended, but the function is not in the cache: the compile failed
    assert chunk_backend("numba", compiling, program) == "numpy"
    program.numba_compiled = lambda: True
    assert chunk_backend("numba", compiling, program) == "numba"
