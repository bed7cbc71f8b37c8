"""A numba compile that outlasts its budget reports progress, and backend="auto" runs numpy meanwhile."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import numpy as np
import pytest

from sdkit.engine import background, compile_model
from sdkit.engine.kernel import Kernel
from sdkit.errors import NonFiniteError

DECAY = Path(__file__).parents[1] / "data" / "decay.mdl"


def test_auto_runs_numpy_while_a_slow_compile_goes_on_then_numba(monkeypatch, caplog):
    gate = threading.Event()
    build = Kernel._build_numba
    monkeypatch.setattr(Kernel, "_build_numba", lambda self: (gate.wait(), build(self)))
    monkeypatch.setattr(background, "COMPILE_BUDGET_S", 0.05)
    kernel = compile_model(DECAY)
    params = {"decay_time": np.linspace(5.0, 20.0, 64)}
    with caplog.at_level(logging.WARNING, logger="sdkit.engine"):
        meanwhile = kernel.simulate(params, 64, save="final")
        assert "numba" not in kernel._fns
        assert "running on the numpy backend meanwhile" in caplog.text
        gate.set()
        kernel._compile_job.wait()
    assert "s so far" in caplog.text
    compiled = kernel.simulate(params, 64, save="final")
    assert "numba" in kernel._fns
    for name, values in meanwhile.data.items():
        assert np.array_equal(values, compiled.data[name]), name


def test_an_explicit_numba_run_waits_for_the_compile(monkeypatch, caplog):
    monkeypatch.setattr(background, "COMPILE_BUDGET_S", 0.01)
    kernel = compile_model(DECAY)
    with caplog.at_level(logging.WARNING, logger="sdkit.engine"):
        result = kernel.simulate({}, 3, save="final", backend="numba")
    assert "numba" in kernel._fns
    assert np.array_equal(result.data["stock"], kernel.simulate({}, 3, save="final", backend="numpy").data["stock"])


def test_samples_left_when_the_compile_ends_go_to_numba_with_the_same_bits(monkeypatch):
    monkeypatch.setattr(background, "MEANWHILE_SAMPLES", 16)
    kernel = compile_model(DECAY)
    n = 50
    params = {"decay_time": np.linspace(5.0, 20.0, n), "initial_stock": 100.0}
    used = []

    def run(part, first, m, backend):
        used.append((backend, m))
        return kernel.simulate(part, m, ["stock"], "all", backend=backend)

    result = background.simulate_meanwhile(params, n, lambda py: (), lambda: len(used) >= 2, run)
    assert used == [("numpy", 16), ("numpy", 16), ("numba", 18)]
    whole = kernel.simulate(params, n, ["stock"], "all", backend="numpy")
    assert np.array_equal(result.data["stock"], whole.data["stock"])
    np.testing.assert_array_equal(result.times, whole.times)


def test_a_non_finite_value_names_its_sample_in_the_whole_call(monkeypatch):
    monkeypatch.setattr(background, "MEANWHILE_SAMPLES", 4)
    kernel = compile_model(DECAY)
    decay_time = np.full(10, 10.0)
    decay_time[6] = 0.0
    run = lambda part, first, m, backend: kernel.simulate(part, m, ["stock"], "all", backend=backend)  # noqa: E731
    with pytest.raises(NonFiniteError) as caught:
        background.simulate_meanwhile({"decay_time": decay_time}, 10, lambda py: (), lambda: False, run)
    assert caught.value.sample == 6


def test_a_compile_running_at_exit_is_finished_first(caplog):
    gate = threading.Event()
    job = background.CompileJob(gate.wait, "a test model")
    threading.Timer(0.2, gate.set).start()
    with caplog.at_level(logging.WARNING, logger="sdkit.engine"):
        background._finish_running_compiles()
    assert job.done.is_set()
    assert "finishing the numba compile of a test model" in caplog.text
    assert job not in background._RUNNING
