"""Engine vs the Vensim conformance models in ../shared/conformance (skipped when absent)."""

from __future__ import annotations

import pytest

from sdkit.engine import compile_model
from sdkit.engine.conformance import CaseResult, find_cases, main, markdown_table, run_case
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
    """Supported cases match Vensim within rtol=atol=1e-5; others raise UnsupportedFeature
    (or read a data file that the case folder lacks, which no tool can run)."""
    _require_folder()
    result = run_case(name, mdl)
    assert result.status in ("passed", "unsupported", "incomplete"), result.cell()
    if result.status == "incomplete":
        assert not (mdl.parent / result.detail.split(" is not")[0]).exists()
    elif result.status == "unsupported":
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


def test_conformance_table_lists_each_case_and_counts_the_statuses():
    results = [CaseResult("teacup", "passed", compared=2), CaseResult("macro", "unsupported", "macros"),
               CaseResult("drift", "failed", "stock", max_error=0.5, compared=3)]
    assert markdown_table(results).splitlines() == [
        "| case | status |",
        "|---|---|",
        "| teacup | passed (2 series) |",
        "| macro | unsupported (macros) |",
        "| drift | failed (max error 0.5; stock) |",
        "",
        "1 passed, 1 unsupported, 0 incomplete, 1 failed, 0 error of 3 cases",
    ]
