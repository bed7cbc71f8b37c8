"""A numba compile that outlasts its budget reports progress, and backend="auto" runs numpy meanwhile."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import numpy as np

from sdkit.engine import background, compile_model
from sdkit.engine.kernel import Kernel

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
