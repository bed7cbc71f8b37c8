"""Engine vs the Vensim conformance models in ../shared/conformance (skipped when absent)."""

from __future__ import annotations

import pytest

from sdkit.engine import compile_model
from sdkit.engine.conformance import find_cases, main, run_case
from sdkit.errors import UnsupportedFeature
from tests.shared_data import CONFORMANCE, absent

CASES = find_cases(CONFORMANCE) if CONFORMANCE.is_dir() else []

pytestmark = pytest.mark.conformance


def _require_folder() -> None:
    if not CONFORMANCE.is_dir():
        pytest.skip(absent(CONFORMANCE))


@pytest.mark.parametrize(
    ("name", "mdl"), CASES or [("absent", None)], ids=[c[0] for c in CASES] or ["absent"]
)
def test_conformance_case(name, mdl):
    """Supported cases match Vensim within rtol=atol=1e-5; others raise UnsupportedFeature."""
    _require_folder()
    result = run_case(name, mdl)
    assert result.status in ("passed", "unsupported"), result.cell()
    if result.status == "unsupported":
        with pytest.raises(UnsupportedFeature):
            compile_model(mdl)
    else:
        assert result.compared > 0


def test_conformance_command_prints_table(capsys):
    _require_folder()
    status = main([str(CONFORMANCE)])
    out = capsys.readouterr().out
    assert out.startswith("| case | status |")
    assert "| teacup | passed" in out
    assert status == 0
