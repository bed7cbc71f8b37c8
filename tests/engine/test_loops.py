"""Subscripted equations compile to loops over their elements: same bits, source independent of the element count."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import sdkit.engine.runs as runs
from sdkit.engine import compile_model, nbloops
from sdkit.engine.ir import Binary, Ref
from sdkit.engine.runs import Run, find_runs, order_items, positional

ROOT = Path(__file__).resolve().parents[2]
POPULATION = ROOT.parent / "shared" / "corpus" / "population_subscripted" / "Subscripted Population Model.mdl"

TOWNS = """{{UTF-8}}
Towns: {towns}
~~|
Growth[Towns] = {growth}
~~|
Lifespan = 60
~~|
Capacity = 5000
~~|
Population[Towns] = INTEG(Births[Towns] - Deaths[Towns], Initial[Towns])
~~|
Initial[Towns] = 100
~~|
Births[Towns] = Growth[Towns] * Population[Towns] * (1 - Crowding[Towns])
~~|
Crowding[Towns] = MIN(1, Population[Towns] / Capacity)
~~|
Deaths[Towns] = DELAY N(Births[Towns], Lifespan, Population[Towns] / Lifespan, 3)
~~|
Smoothed[Towns] = SMOOTH(Births[Towns], 5)
~~|
Share[Towns] = ZIDZ(Population[Towns], SUM(Population[Towns!]))
~~|
Reserve[Towns] = INTEG(-Drain[Towns], 10) ~~|
Drain[Towns] = Share[Towns] * 30 ~~|
INITIAL TIME = 0
~~|
FINAL TIME = 20
~~|
TIME STEP = 0.5
~~|
SAVEPER = 1
~~|
"""


def towns_model(tmp_path: Path, count: int) -> Path:
    path = tmp_path / f"towns{count}.mdl"
    growth = ", ".join(f"{0.01 * (k % 7 + 1):g}" for k in range(count))
    path.write_text(TOWNS.format(towns=", ".join(f"t{k}" for k in range(count)), growth=growth), encoding="utf-8")
    return path


def _params(kernel, n: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    return {name: np.asarray(value) * rng.uniform(0.8, 1.2, size=(n, *np.shape(value)))
            for name, value in kernel.constants.items()}


def _assert_backends_agree(kernel, n: int = 20, seed: int = 3) -> None:
    params = _params(kernel, n, seed)
    a = kernel.simulate(params, n, backend="numpy")
    b = kernel.simulate(params, n, backend="numba")
    for name in kernel.variables:
        assert np.array_equal(a.data[name], b.data[name], equal_nan=True), name


def test_the_numba_source_does_not_grow_with_the_number_of_elements(tmp_path):
    small = compile_model(towns_model(tmp_path, 12), backend="numpy").source("numba")
    large = compile_model(towns_model(tmp_path, 300), backend="numpy").source("numba")
    assert "for e in range(12):" in small
    assert "for e in range(300):" in large
    assert len(large.splitlines()) == len(small.splitlines())


def test_looped_kernel_equals_numpy_bit_for_bit(tmp_path):
    kernel = compile_model(towns_model(tmp_path, 40))
    assert "for e in range(40):" in kernel.source("numba")
    _assert_backends_agree(kernel, n=37)


@pytest.mark.parametrize("name", ["engine_features.mdl", "engine_mapping.mdl", "regions.mdl"])
def test_short_ranges_as_loops_equal_numpy_bit_for_bit(monkeypatch, name):
    """Ranges of 2 or 3 elements are unrolled by default; as loops they give the same bits."""
    monkeypatch.setattr(runs, "MIN_RUN", 2)
    monkeypatch.setattr(nbloops, "MIN_LOOPED_SHARE", 0.0)
    kernel = compile_model(ROOT / "tests" / "data" / name)
    assert "for e in range(" in kernel.source("numba")
    _assert_backends_agree(kernel)


@pytest.mark.slow
@pytest.mark.skipif(not POPULATION.exists(), reason="../shared/corpus is absent")
def test_the_351_town_model_compiles_as_loops_and_equals_numpy():
    kernel = compile_model(POPULATION)
    assert len(kernel.source("numba").splitlines()) < 1000
    _assert_backends_agree(kernel, n=5)


def test_a_run_may_read_an_earlier_element_of_itself_but_not_a_later_one(monkeypatch):
    monkeypatch.setattr(runs, "MIN_RUN", 3)
    reads = {10: [], 11: [10], 12: [11], 13: [12]}  # x[e] = f(x[e-1])
    chain = find_runs([(node, "x", reads[node]) for node in (11, 12, 13)])
    assert [r.nodes for r in chain] == [(11, 12, 13)]
    assert order_items([10, 11, 12, 13], chain, reads.__getitem__) == [10, chain[0]]
    backwards = {20: [21], 21: [22], 22: [23], 23: []}  # x[e] = f(x[e+1])
    found = find_runs([(node, "x", backwards[node]) for node in (20, 21, 22)])
    assert [r.nodes for r in found] == [(20, 21, 22)]
    assert order_items([23, 22, 21, 20], found, backwards.__getitem__) == [23, 22, 21, 20]


def test_runs_that_read_each_other_crosswise_are_written_element_by_element():
    # a[1] reads b[0] and b[1] reads a[0]: each run needs the other one first
    reads = {1: [], 2: [11], 3: [], 11: [], 12: [1], 13: []}
    a = Run((1, 2, 3), (1,), (1,))
    b = Run((11, 12, 13), (11,), (1,))
    order = [1, 11, 3, 12, 2, 13]
    items = order_items(order, [a, b], reads.__getitem__)
    assert all(not isinstance(item, Run) for item in items)
    placed = {node: k for k, node in enumerate(items)}
    assert all(placed[d] < placed[node] for node in order for d in reads[node])


def test_a_node_read_at_two_strides_is_two_numbers_of_the_loop_body(monkeypatch):
    monkeypatch.setattr(runs, "MIN_RUN", 3)
    # x[e] = y[e] / y[0]: the first element reads node 100 with stride 1 and with stride 0
    (run,) = find_runs([(k, "x", [100 + k, 100]) for k in range(5)])
    assert run.row(1) == (100, 1)
    assert run.row(2) == (100, 0)
    body = positional(Binary("/", Ref(100), Ref(100)))
    assert body == Binary("/", Ref(-1), Ref(-2))


def test_interleaved_runs_are_found(monkeypatch):
    # x[Towns] = SMOOTH(a[Towns], 3) + SMOOTH(b[Towns], 3): the two stocks of each town alternate
    monkeypatch.setattr(runs, "MIN_RUN", 3)
    members = [(10 + 2 * k, "smooth", [100 + k]) for k in range(5)] + [(11 + 2 * k, "smooth", [200 + k])
                                                                        for k in range(5)]
    found = sorted(find_runs(members), key=lambda run: run.nodes)
    assert [run.nodes for run in found] == [(10, 12, 14, 16, 18), (11, 13, 15, 17, 19)]
    assert [run.row(1) for run in found] == [(100, 1), (200, 1)]
