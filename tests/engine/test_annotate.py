"""The annotated source view: generated names explained, no model text in the code that runs."""

from pathlib import Path

from sdkit.engine import compile_model

DATA = Path(__file__).parents[1] / "data"


def test_every_generated_name_is_explained_and_the_running_code_holds_no_model_text():
    kernel = compile_model(DATA / "decay.mdl", backend="numpy")
    source = kernel.source("numpy")
    annotated = kernel.annotated_source("numpy")
    assert "decay time" not in source
    assert "Stock" not in source
    assert len(annotated.splitlines()) == len(source.splitlines())
    stock_line = next(line for line in annotated.splitlines() if "d/dt Stock" in line)
    assert stock_line.split("  # ")[0] in source.splitlines()
    assert "= decay time" in annotated
    assert "= outflow" in annotated


def test_elements_of_subscripted_variables_are_named():
    kernel = compile_model(DATA / "regions.mdl", backend="numpy")
    annotated = kernel.annotated_source("numba")
    assert any("[" in note for line in annotated.splitlines() if "  # " in line for note in [line.split("  # ", 1)[1]])
