"""The RANDOM functions: reproducible streams, their distributions, and PySD's distributions.

Random draws cannot match PySD number for number (PySD draws from numpy's global
generator). The engine's draws are a function of (seed, sample number, call,
time step) (:mod:`sdkit.engine.vrandom`); these tests check that they are
reproducible, independent of backend and chunking, independent between samples,
steps and elements, and distributed as PySD's builder defines each function
(``scipy.stats`` uniform, truncnorm, truncexpon): one-sample Kolmogorov-Smirnov
tests against those distributions and two-sample tests against PySD's own draws,
all with fixed seeds, so every run of these tests sees the same numbers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from sdkit.engine import compile_model
from sdkit.engine import oracles as O
from sdkit.errors import ModelFileError, ParameterError, UnsupportedFeature

EQUATIONS = {
    "u": "RANDOM UNIFORM(2, 5, 0)",
    "z": "RANDOM 0 1()",
    "nrm": "RANDOM NORMAL(-1, 3, 1, 2, 0)",
    "ex": "RANDOM EXPONENTIAL(0.5, 4, 0, 2, 0)",
    "tri": "RANDOM TRIANGULAR(2, 10, 1, 3, 8, 0)",
}
CONTROL = "FINAL TIME = {final} ~~|\nINITIAL TIME = 0 ~~|\nSAVEPER = 1 ~~|\nTIME STEP = {step} ~~|\n"
#: one-sample tests reject at this p-value (fixed seeds: the outcome never changes between runs)
ALPHA = 1e-3


def _triangular(lo, hi, start, peak, end):
    """Vensim's RANDOM TRIANGULAR(lo, hi, start, peak, end): scipy's triang truncated to [lo, hi]."""
    base = stats.triang(c=(peak - start) / (end - start), loc=start, scale=end - start)
    a, b = base.cdf(lo), base.cdf(hi)
    return lambda x: (base.cdf(np.clip(x, lo, hi)) - a) / (b - a)


#: each variable's distribution as PySD's builder writes it (python_functions.py)
EXPECTED = {
    "u": stats.uniform(loc=2, scale=3).cdf,
    "z": stats.uniform(loc=0, scale=1).cdf,
    "nrm": stats.truncnorm((-1 - 1) / 2, (3 - 1) / 2, loc=1, scale=2).cdf,
    "ex": stats.truncexpon((4 - 0.5) / 2, loc=0.5, scale=2).cdf,
    "tri": _triangular(2, 10, 1, 3, 8),
}


def _model(folder: Path, final: float = 20, step: float = 0.5, extra: str = "", names=tuple(EQUATIONS)) -> Path:
    body = "".join(f"{name} = {EQUATIONS[name]} ~~|\n" for name in names)
    body += "s = INTEG(u + nrm, 0) ~~|\n" + extra
    path = folder / "random.mdl"
    path.write_text("{UTF-8}\n" + body + CONTROL.format(final=final, step=step), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    return compile_model(_model(tmp_path_factory.mktemp("random")))


def test_same_seed_same_bits_other_seed_other_draws(kernel):
    a = kernel.simulate({}, 8, backend="numpy", seed=11)
    b = kernel.simulate({}, 8, backend="numpy", seed=11)
    c = kernel.simulate({}, 8, backend="numpy", seed=12)
    assert kernel.random
    for name in EQUATIONS:
        assert np.array_equal(a.data[name], b.data[name])
        assert not np.any(a.data[name] == c.data[name]), name


def test_backends_and_chunks_give_the_same_bits(kernel):
    whole = kernel.simulate({}, 40, backend="numpy", seed=5)
    numba = kernel.simulate({}, 40, backend="numba", seed=5)  # 16-lane blocks, two threads
    first = kernel.simulate({}, 13, backend="numba", seed=5)
    rest = kernel.simulate({}, 27, backend="numpy", seed=5, first_sample=13)
    for name in kernel.variables:
        assert np.array_equal(whole.data[name], numba.data[name]), name
        assert np.array_equal(whole.data[name], np.concatenate([first.data[name], rest.data[name]])), name


def test_samples_steps_and_calls_draw_independent_streams(kernel):
    u = kernel.simulate({}, 400, variables=["u", "z"], backend="numpy", seed=1).data
    x = (u["u"] - 3.5) / np.sqrt(0.75)  # standardised, shape (samples, times)
    bound = 5 / np.sqrt(x.size)  # five standard errors of a correlation of independent draws
    assert abs(np.mean(x[:, 1:] * x[:, :-1])) < bound  # consecutive steps
    assert abs(np.mean(x[1:] * x[:-1])) < bound  # neighbouring samples
    z = (u["z"] - 0.5) * np.sqrt(12)
    assert abs(np.mean(x * z)) < bound  # two calls in one sample


def test_elements_of_a_subscripted_draw_are_independent(tmp_path):
    path = _model(tmp_path, extra="Dim: a, b ~~|\nw[Dim] = RANDOM UNIFORM(0, 1, 0) ~~|\n")
    w = compile_model(path).simulate({}, 200, variables=["w"], backend="numpy").data["w"]
    a, b = ((w[..., i].ravel() - 0.5) * np.sqrt(12) for i in (0, 1))
    assert not np.any(a == b)
    assert abs(np.mean(a * b)) < 5 / np.sqrt(a.size)


@pytest.mark.parametrize("name", sorted(EQUATIONS))
def test_draws_follow_pysds_distribution(kernel, name):
    values = kernel.simulate({}, 1000, variables=[name], backend="numpy", seed=2).data[name].ravel()
    assert stats.kstest(values, EXPECTED[name]).pvalue > ALPHA
    low, high = {"u": (2, 5), "z": (0, 1), "nrm": (-1, 3), "ex": (0.5, 4), "tri": (2, 10)}[name]
    assert low <= values.min()
    assert values.max() <= high


@pytest.mark.parametrize("name", ["u", "z", "nrm", "ex"])
def test_draws_match_pysds_own_draws(tmp_path, name):
    """PySD has no TRIANGULAR; for the other four its draws and the engine's are one distribution."""
    path = _model(tmp_path, final=400, step=1, names=("u", "z", "nrm", "ex"))
    np.random.seed(0)  # noqa: NPY002 - PySD draws from numpy's global generator
    pysd = O.pysd_series(O.pysd_model(path))
    theirs = pysd.columns[O.canonical(name)]
    kernel = compile_model(path)
    ours = kernel.simulate({}, 50, variables=[name], backend="numpy", seed=3).data[name].ravel()
    assert theirs.size > 300
    assert stats.ks_2samp(ours, theirs).pvalue > ALPHA


def test_poisson_draws_follow_the_poisson_distribution(tmp_path):
    """Vensim's RANDOM POISSON (PySD's builder has none): shift + stretch * k, truncated by redrawing."""
    path = tmp_path / "poisson.mdl"
    path.write_text("{UTF-8}\nk = RANDOM POISSON(0, 1000, 3.5, 0, 1, 0) ~~|\n"
                    "b = RANDOM POISSON(2, 8, 30, -20, 0.5, 0) ~~|\n" + CONTROL.format(final=20, step=0.5),
                    encoding="utf-8")
    kernel = compile_model(path)
    res = kernel.simulate({}, 1000, backend="numpy", seed=2)
    numba = kernel.simulate({}, 40, backend="numba", seed=2)
    for name in ("k", "b"):
        assert np.array_equal(res.data[name][:40], numba.data[name]), name
    k = res.data["k"].ravel().astype(int)
    observed = np.bincount(k, minlength=15)[:15]
    expected = stats.poisson(3.5).pmf(np.arange(15)) * k.size
    tail = (k.size - observed.sum(), k.size - expected.sum())
    assert stats.chisquare(np.append(observed, tail[0]), np.append(expected, tail[1])).pvalue > ALPHA
    b = res.data["b"].ravel()
    assert np.all((b >= 2) & (b <= 8))
    assert np.all(b * 2 == np.round(b * 2))  # -20 + 0.5 k
    inside = stats.poisson(30).pmf(np.arange(44, 57))  # k with -20 + 0.5 k in [2, 8]
    values, counts = np.unique(b, return_counts=True)
    expected = inside / inside.sum() * b.size
    assert np.array_equal(values, -20 + 0.5 * np.arange(44, 57))
    assert stats.chisquare(counts, expected).pvalue > ALPHA


def test_a_stock_integrates_the_draws_of_each_step(kernel):
    res = kernel.simulate({}, 3, variables=["s", "u", "nrm"], backend="numpy", seed=4, time={"saveper": 0.5})
    flows = res.data["u"] + res.data["nrm"]
    assert np.array_equal(res.data["s"][:, 1:], res.data["s"][:, :-1] + flows[:, :-1] * 0.5)


def test_seed_and_first_sample_must_be_whole_numbers(kernel):
    for bad in ({"seed": -1}, {"seed": 1.5}, {"first_sample": -2}, {"seed": 2**53}):
        with pytest.raises(ParameterError):
            kernel.simulate({}, 2, backend="numpy", **bad)


def test_wrong_number_of_arguments_and_other_random_functions_are_refused(tmp_path):
    path = tmp_path / "bad.mdl"
    path.write_text("{UTF-8}\nx = RANDOM UNIFORM(1) ~~|\n" + CONTROL.format(final=5, step=1), encoding="utf-8")
    with pytest.raises(ModelFileError, match="RANDOM UNIFORM takes 3 arguments"):
        compile_model(path)
    path.write_text("{UTF-8}\nx = RANDOM WEIBULL(0, 10, 3, 0, 1, 0) ~~|\n" + CONTROL.format(final=5, step=1),
                    encoding="utf-8")
    with pytest.raises(UnsupportedFeature, match=r"'RANDOM WEIBULL' in variable 'x' \(line 2\)") as err:
        compile_model(path)
    assert "\n" not in str(err.value)


def test_ensembles_draw_the_same_whatever_their_chunks(tmp_path):
    """sdkit's ensembles pass each chunk's first sample number, and record the seed."""
    import pandas as pd

    import sdkit
    from sdkit.ensemble import ensemble

    model = sdkit.load_model(_model(tmp_path, extra="gain = 1 ~~|\ng = gain * u ~~|\n"))
    samples = pd.DataFrame({"gain": np.linspace(1, 2, 10)})
    names = ["g", "s", "u", "nrm"]
    runs = [ensemble(model, samples, variables=names, chunk_size=size, save="final") for size in (1, 3, 10)]
    for other in runs[1:]:
        for name in ("g", "s", "nrm"):
            assert np.array_equal(runs[0][name].values, other[name].values), name
    assert len(np.unique(runs[0]["u"].values)) == 10
    assert runs[0].attrs["random_seed"] == "0"


def test_a_draw_inside_initial_is_held_and_differs_between_samples(tmp_path):
    path = _model(tmp_path, extra="held = INITIAL(RANDOM UNIFORM(0, 1, 0)) ~~|\n")
    kernel = compile_model(path)
    held = kernel.simulate({}, 50, variables=["held"], backend="numba", seed=9).data["held"]
    assert np.all(held == held[:, :1])  # one value for the whole run
    assert len(np.unique(held[:, 0])) == 50
    numpy = kernel.simulate({}, 50, variables=["held"], backend="numpy", seed=9).data["held"]
    assert np.array_equal(held, numpy)


def test_runs_on_numpy_while_numba_compiles_draw_what_one_call_draws(tmp_path, monkeypatch):
    """backend="auto" runs numpy in chunks while a slow compile goes on: each chunk keeps
    the seed and its samples' numbers, so the draws are the ones one call makes."""
    import threading

    from sdkit.engine import background
    from sdkit.engine.kernel import Kernel

    gate = threading.Event()
    build = Kernel._build_numba
    monkeypatch.setattr(Kernel, "_build_numba", lambda self: (gate.wait(), build(self)))
    monkeypatch.setattr(background, "COMPILE_BUDGET_S", 0.01)
    monkeypatch.setattr(background, "MEANWHILE_SAMPLES", 16)
    slow = compile_model(_model(tmp_path))
    try:
        meanwhile = slow.simulate({}, 64, backend="auto", seed=5, first_sample=100)
        assert "numba" not in slow._fns
    finally:
        gate.set()
        slow._compile_job.wait()
    whole = compile_model(_model(tmp_path)).simulate({}, 64, backend="numpy", seed=5, first_sample=100)
    for name, values in whole.data.items():
        np.testing.assert_array_equal(meanwhile.data[name], values, err_msg=name)
