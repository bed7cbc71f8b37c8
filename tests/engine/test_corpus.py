"""The engine on public Vensim models by other authors (../shared/corpus, skipped when absent).

Every model the engine compiles must agree with pysimlin (where pysimlin runs it)
and with PySD (slow: PySD takes seconds to read each model) within 1e-9 relative;
every model it refuses must be refused with a one-line message naming the
construct and the line. `benchmarks/corpus.py` prints the full coverage table.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sdkit.engine import compile_model
from sdkit.engine import oracles as O
from sdkit.errors import ModelFileError, UnsupportedFeature
from tests.shared_data import CORPUS, absent

MODELS = sorted(CORPUS.glob("*/*.mdl")) if CORPUS.is_dir() else []
IDS = [p.parent.name for p in MODELS]
BEYOND_PYSD = re.compile(r"\(line \d+\)|at line \d+")


def _kernel_or_refusal(path: Path):
    try:
        return compile_model(path, backend="numpy"), None
    except (UnsupportedFeature, ModelFileError) as exc:
        return None, exc


@pytest.fixture(scope="module", params=MODELS or [None], ids=IDS or ["absent"])
def corpus_model(request):
    if request.param is None:
        pytest.skip(absent(CORPUS))
    return request.param


def test_refusals_are_one_line_and_name_the_place(corpus_model):
    kernel, refusal = _kernel_or_refusal(corpus_model)
    if kernel is not None:
        return
    message = str(refusal)
    assert "\n" not in message
    assert "Traceback" not in message
    assert BEYOND_PYSD.search(message), message


def test_engine_agrees_with_pysimlin(corpus_model):
    kernel, refusal = _kernel_or_refusal(corpus_model)
    if kernel is None:
        pytest.skip(f"the engine refuses it: {refusal}")
    if kernel.random:
        pytest.skip("RANDOM draws differ between tools (tests/engine/test_random.py tests their distributions)")
    pytest.importorskip("simlin")
    try:
        simlin = O.simlin_series(corpus_model)
    except O.OracleUnavailable as exc:
        pytest.skip(str(exc))
    engine = O.engine_series(kernel, kernel.simulate({}, n=1, backend="numpy"))
    diff, where, shared = O.max_rel_diff(engine, simlin)
    assert shared > 0
    assert diff <= 1e-9, f"{where}: {diff:.3g}"


@pytest.mark.slow
def test_engine_agrees_with_pysd(corpus_model):
    kernel, refusal = _kernel_or_refusal(corpus_model)
    if kernel is None:
        pytest.skip(f"the engine refuses it: {refusal}")
    if kernel.random:
        pytest.skip("RANDOM draws differ between tools (tests/engine/test_random.py tests their distributions)")
    try:
        pysd = O.pysd_series(O.pysd_model(corpus_model))
    except O.OracleUnavailable as exc:
        pytest.skip(str(exc))
    engine = O.engine_series(kernel, kernel.simulate({}, n=1, backend="numpy"))
    diff, where, shared = O.max_rel_diff(engine, pysd)
    assert shared > 0
    assert diff <= 1e-9, f"{where}: {diff:.3g}"
