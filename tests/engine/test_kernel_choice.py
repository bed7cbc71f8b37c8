"""Which numba kernel runs (:mod:`sdkit.engine.kernel_choice`): the one-function kernel, or right after a
structural edit the blocked kernel until the one-function kernel, compiled in a background process, is ready.

The two give the same bits, so a run's results never depend on which kernel ran it. Each test has its own
kernel cache and a model structure of its own (numba's cache and this process's modules know every
structure compiled before).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from sdkit.engine import compile_model, kernel_choice
from sdkit.engine import kernel as kernel_module
from sdkit.engine.codegen import generate_numba
from sdkit.errors import ParameterError
from tests.engine.test_structure import BASE, MODEL

MODELS = Path(__file__).resolve().parents[2] / "models"

PARAMS = {"rate": np.linspace(1.0, 5.0, 40)}


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SDKIT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("SDKIT_NUMBA_BLOCKS", raising=False)
    return tmp_path / "cache"


def _kernel(tmp_path: Path, formula: str):
    """A model whose structure is this test's own: ``formula`` (its structure, not only its numbers) is part of an
    equation."""
    path = tmp_path / f"model_{abs(hash(formula))}.mdl"
    path.write_text(MODEL.format(**{**BASE, "literal": formula}), encoding="utf-8")
    return compile_model(path)


def _modules(kernel, blocks: bool) -> list[str]:
    return [name for name, _ in generate_numba(kernel.ir, kernel._sched, blocks=blocks).modules]


def _assert_same_bits(got, want):
    for name in want.data:
        np.testing.assert_array_equal(got.data[name], want.data[name], err_msg=name)


def test_the_variable_chooses_a_kernel_and_refuses_other_values(monkeypatch):
    for value, kind in (("", "auto"), ("0", "one"), ("1", "blocks")):
        monkeypatch.setenv("SDKIT_NUMBA_BLOCKS", value)
        assert kernel_choice.requested() == kind
    monkeypatch.setenv("SDKIT_NUMBA_BLOCKS", "yes")
    with pytest.raises(ParameterError, match="SDKIT_NUMBA_BLOCKS='yes' is unknown; use 1"):
        kernel_choice.requested()
    for value, wanted in (("", True), ("1", True), ("0", False)):
        monkeypatch.setenv("SDKIT_NUMBA_PREWARM", value)
        assert kernel_choice.prewarm() is wanted
    monkeypatch.setenv("SDKIT_NUMBA_PREWARM", "off")
    with pytest.raises(ParameterError, match="SDKIT_NUMBA_PREWARM='off' is unknown; use 0"):
        kernel_choice.prewarm()


def test_a_first_compile_of_a_small_model_runs_the_one_function_kernel_and_starts_nothing(cache, tmp_path):
    kernel = _kernel(tmp_path, "Time + rate")
    got = kernel.simulate(PARAMS, n=40, backend="numba")
    assert kernel.numba_kind == "one"
    assert kernel.background is None  # below PREWARM_MIN_WORK: no blocks compiled for later
    assert not list(cache.glob("engine/sdkit_block_*.py"))
    _assert_same_bits(got, kernel.simulate(PARAMS, n=40, backend="numpy"))


def test_a_first_compile_caches_the_blocks_for_the_next_edit(cache, tmp_path, monkeypatch):
    monkeypatch.setattr(kernel_choice, "PREWARM_MIN_WORK", 0)  # the small model counts as large
    monkeypatch.setenv(kernel_choice.PREWARM_ENV, "1")  # the default, which tests/conftest.py turns off
    kernel = _kernel(tmp_path, "Time * Time + rate")
    blocks = [name for name in _modules(kernel, blocks=True) if name.startswith("sdkit_block_")]
    assert not any(kernel_choice.compiled(name) for name in blocks)
    kernel.simulate(PARAMS, n=40, backend="numba")
    assert kernel.numba_kind == "one"
    assert kernel.background is not None
    assert kernel.background.wait(300)
    assert all(kernel_choice.compiled(name) for name in blocks)
    assert not any(name in sys.modules for name in blocks)  # compiled into numba's cache by another process
    assert kernel.numba_kind == "one"  # runs stay on the one-function kernel


def test_after_an_edit_runs_start_on_the_blocks_and_switch_to_one_function_with_the_same_bits(cache, tmp_path,
                                                                                               monkeypatch):
    formula = "rate - Time"
    monkeypatch.setenv("SDKIT_NUMBA_BLOCKS", "1")
    _kernel(tmp_path, formula).simulate(PARAMS, n=40, backend="numba")  # the blocks of this structure, cached
    monkeypatch.delenv("SDKIT_NUMBA_BLOCKS")
    kernel = _kernel(tmp_path, formula)
    [one] = _modules(kernel, blocks=False)
    assert not kernel_choice.compiled(one)
    first = kernel.simulate(PARAMS, n=40, backend="numba")
    assert kernel.numba_kind == "blocks"
    assert kernel.background.wait(300)
    assert kernel.numba_kind == "one"
    assert list((cache / "engine" / "__pycache__").glob(f"{one}.*.nbi"))  # compiled by the background process
    then = kernel.simulate(PARAMS, n=40, backend="numba")
    _assert_same_bits(first, kernel.simulate(PARAMS, n=40, backend="numpy"))
    _assert_same_bits(then, first)
    # the next process (here: a new kernel) finds the one-function kernel compiled
    again = _kernel(tmp_path, formula)
    _assert_same_bits(again.simulate(PARAMS, n=40, backend="numba"), first)
    assert again.numba_kind == "one"
    assert again.background is None


def test_an_explicit_choice_runs_that_kernel_whatever_is_cached(cache, tmp_path, monkeypatch):
    formula = "ABS(Time - rate)"
    runs = {}
    for value, kind in (("1", "blocks"), ("0", "one"), ("1", "blocks")):
        monkeypatch.setenv("SDKIT_NUMBA_BLOCKS", value)
        kernel = _kernel(tmp_path, formula)
        runs[value] = kernel.simulate(PARAMS, n=40, backend="numba")
        assert (kernel.numba_kind, kernel.background) == (kind, None)
    _assert_same_bits(runs["0"], runs["1"])


def test_an_edit_of_the_core_model_is_recognised_from_the_blocks_cached_before(tmp_path, monkeypatch):
    text = (MODELS / "kissinger_core.mdl").read_text(encoding="utf-8")
    formula = "Balance * Order Resources"  # Effective Order
    edited = tmp_path / "edited.mdl"
    edited.write_text(text.replace(formula, f"ABS({formula})"), encoding="utf-8")
    base, kernel = compile_model(MODELS / "kissinger_core.mdl"), compile_model(edited)
    cached = set(_modules(base, blocks=True))  # as if the core model had been compiled in blocks
    monkeypatch.setattr(kernel_choice, "compiled_test", lambda: cached.__contains__)

    def plan(k):
        return kernel_choice.plan(k._numba_code("one"), lambda: k._numba_code("blocks"), lambda: 1526)

    assert plan(kernel) == ("blocks", "one")
    assert plan(base) == ("blocks", "one")
    cached.add(_modules(kernel, blocks=False)[0])  # its one-function kernel compiled: that runs
    assert plan(kernel) == ("one", None)
    cached.clear()  # nothing compiled: a first compile, which caches the blocks of a model this large
    monkeypatch.setenv(kernel_choice.PREWARM_ENV, "1")  # the default, which tests/conftest.py turns off
    assert plan(kernel) == ("one", "blocks")
    monkeypatch.setenv(kernel_choice.PREWARM_ENV, "0")
    assert plan(kernel) == ("one", None)


def test_an_ensemble_on_the_blocks_moves_to_the_one_function_kernel_when_it_is_ready(cache, tmp_path, monkeypatch):
    kernel = _kernel(tmp_path, "MAX(Time, rate)")
    compiled = {}
    for kind in ("one", "blocks"):
        kernel.compile_numba(kind)
        compiled[kind] = kernel._fns["numba"]
    kernel.background = threading.Event()  # as if the one-function kernel compiled in the background
    calls = []

    def on_one(*args):
        calls.append(("one", *args[-2:]))
        compiled["one"](*args)

    def on_blocks(*args):
        calls.append(("blocks", *args[-2:]))
        compiled["blocks"](*args)
        kernel._fns["numba"] = on_one  # ready after the first chunk
        kernel.background.set()

    on_one.kind, on_blocks.kind = "one", "blocks"
    kernel._fns["numba"] = on_blocks
    monkeypatch.setattr(kernel_module, "SWITCH_SAMPLES", 16)
    got = kernel.simulate(PARAMS, n=40, backend="numba")
    assert calls == [("blocks", 0, 16), ("one", 16, 40)]  # each chunk one call: under 32 samples, one thread
    _assert_same_bits(got, kernel.simulate(PARAMS, n=40, backend="numpy"))


def test_a_process_that_exits_right_after_an_edit_leaves_the_one_function_kernel_compiled(cache, tmp_path,
                                                                                          monkeypatch):
    formula = "rate * Time - Time"
    monkeypatch.setenv("SDKIT_NUMBA_BLOCKS", "1")
    kernel = _kernel(tmp_path, formula)
    kernel.simulate(PARAMS, n=40, backend="numba")  # the blocks of this structure, cached
    [one] = _modules(kernel, blocks=False)
    monkeypatch.delenv("SDKIT_NUMBA_BLOCKS")
    path = tmp_path / f"model_{abs(hash(formula))}.mdl"
    run = (f"from sdkit.engine import compile_model; k = compile_model({str(path)!r}); "
           "k.simulate({}, n=1, backend='numba'); assert k.numba_kind == 'blocks', k.numba_kind")
    root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p))
    subprocess.run([sys.executable, "-c", run], env=env, check=True, timeout=300)  # exits as soon as it has run
    index = cache / "engine" / "__pycache__"
    deadline = time.monotonic() + 300  # a bound on the wait, not a speed test
    while not list(index.glob(f"{one}.*.nbi")) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert list(index.glob(f"{one}.*.nbi"))  # compiled by the process it left behind
