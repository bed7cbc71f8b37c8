"""docs/theory.md's parameter table is the model file's: every value, range and source."""

from sdkit.kissinger.docs.theory import parameter_table
from tests.conftest import MODELS, ROOT


def test_the_theory_page_shows_the_model_files_parameters():
    page = (ROOT / "docs" / "theory.md").read_text(encoding="utf-8")
    rows = parameter_table(MODELS).splitlines()
    stale = [row for row in rows if row not in page]
    assert len(rows) > 50
    assert not stale, (f"{len(stale)} rows of docs/theory.md's parameter table differ from the model file, e.g. "
                       f"{stale[0]!r}; regenerate it with python docs/make_theory_parameters.py")
