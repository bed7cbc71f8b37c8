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


def test_rows_of_a_looped_kernel_are_named_by_their_first_element(tmp_path):
    towns = ", ".join(f"t{k}" for k in range(12))
    model = tmp_path / "towns.mdl"
    model.write_text(
        "{UTF-8}\n"
        f"Towns: {towns}\n~~|\n"
        "Growth[Towns] = 0.1\n~~|\n"
        "Population[Towns] = INTEG(Births[Towns], 100)\n~~|\n"
        "Births[Towns] = Growth[Towns] * Population[Towns]\n~~|\n"
        "INITIAL TIME = 0\n~~|\nFINAL TIME = 4\n~~|\nTIME STEP = 1\n~~|\nSAVEPER = TIME STEP\n~~|\n"
    )
    kernel = compile_model(model, backend="numpy")
    annotated = kernel.annotated_source("numba").splitlines()
    births = next(line for line in annotated if line.lstrip().startswith("X[(") and "= Births[t0] at e = 0" in line)
    assert "= Population[t0] at e = 0" in births
    assert "= Growth[t0] at e = 0" in births
    assert any("= next Population[t0] at e = 0" in line for line in annotated)
    assert "Births" not in kernel.source("numba")
