"""The numba kernel is compiled once per model structure.

Numbers in equations, initial values, lookup points and time settings are
arguments of the compiled kernel, not part of its source: a model edited only
in those has the same source (the cache key), runs without a new compile and
gives the new results.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from sdkit.engine import compile_model

MODELS = Path(__file__).resolve().parents[2] / "models"

MODEL = """{{UTF-8}}
stock = INTEG(inflow - outflow, {initial})
	~	Widget
	~	|
inflow = rate * effect(Time) + {literal}
	~	Widget/Year
	~	|
outflow = stock / 4
	~	Widget/Year
	~	|
effect(
	[(0,0)-(20,2)],(0,{y0}),(10,1.5),(20,{y2}))
	~	Dmnl
	~	|
rate = {rate}
	~	Widget/Year
	~	|
FINAL TIME = {final}
	~	Year
	~	|
INITIAL TIME = 0
	~	Year
	~	|
SAVEPER = 1
	~	Year
	~	|
TIME STEP = {dt}
	~	Year
	~	|
"""
BASE = dict(initial=100, literal=2, y0=1, y2=0.5, rate=3, final=20, dt=0.5)
EDITED = dict(initial=40, literal=7.5, y0=0.2, y2=1.9, rate=5, final=12, dt=0.25)


def _kernel(tmp_path, name, **values):
    path = tmp_path / f"{name}.mdl"
    path.write_text(MODEL.format(**values), encoding="utf-8")
    return compile_model(path)


def test_numbers_lookups_and_time_settings_are_not_source(tmp_path):
    base = _kernel(tmp_path, "base", **BASE)
    edited = _kernel(tmp_path, "edited", **EDITED)
    assert base.source("numba") == edited.source("numba")
    structural = MODEL.replace("stock / 4", "stock / 4 + rate")
    path = tmp_path / "structural.mdl"
    path.write_text(structural.format(**BASE), encoding="utf-8")
    assert compile_model(path).source("numba") != base.source("numba")


def test_edited_model_reuses_the_compiled_kernel_with_its_own_numbers(tmp_path):
    base = _kernel(tmp_path, "base", **BASE)
    base.simulate({}, n=2, backend="numba")
    modules = {name for name in sys.modules if name.startswith("sdkit_kernel_")}
    edited = _kernel(tmp_path, "edited", **EDITED)
    got = edited.simulate({}, n=2, backend="numba")
    assert {name for name in sys.modules if name.startswith("sdkit_kernel_")} == modules
    want = edited.simulate({}, n=2, backend="numpy")
    for name in want.data:
        np.testing.assert_array_equal(got.data[name], want.data[name], err_msg=name)
    assert got.data["stock"][0, 0] == 40.0
    assert got.times[-1] == 12.0


def test_auto_runs_small_ensembles_on_an_already_compiled_numba_kernel(tmp_path):
    kernel = _kernel(tmp_path, "base", **BASE)
    first = kernel.simulate({}, n=1)  # numpy: nothing compiled yet
    assert "numba" not in kernel._fns
    kernel.simulate({}, n=2, backend="numba")
    again = kernel.simulate({}, n=1)
    assert kernel._pick_backend(1, None) == "numba"
    for name in first.data:
        np.testing.assert_array_equal(again.data[name], first.data[name], err_msg=name)


def test_kernels_unused_for_a_month_are_removed_from_the_cache(tmp_path):
    import os
    import time

    from sdkit.engine.kernel_files import STALE_DAYS, remove_stale_kernels

    (tmp_path / "__pycache__").mkdir()
    month_ago = time.time() - (STALE_DAYS + 1) * 86400
    for name, when in (("sdkit_kernel_old", month_ago), ("sdkit_kernel_new", time.time())):
        (tmp_path / f"{name}.py").write_text("", encoding="utf-8")
        (tmp_path / "__pycache__" / f"{name}.run-1.py311.nbi").write_text("", encoding="utf-8")
        os.utime(tmp_path / f"{name}.py", (when, when))
    (tmp_path / "notes.py").write_text("", encoding="utf-8")
    os.utime(tmp_path / "notes.py", (month_ago, month_ago))
    (tmp_path / "sdkit_block_old.py").write_text("", encoding="utf-8")
    (tmp_path / "__pycache__" / "sdkit_block_old.block-9.py311.nbi").write_text("", encoding="utf-8")
    os.utime(tmp_path / "sdkit_block_old.py", (month_ago, month_ago))
    assert sorted(remove_stale_kernels(tmp_path)) == ["sdkit_block_old", "sdkit_kernel_old"]
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == [
        "notes.py",
        "sdkit_kernel_new.py",
        "sdkit_kernel_new.run-1.py311.nbi",
    ]


def _modules(path) -> list[str]:
    from sdkit.engine.codegen import generate_numba

    kernel = compile_model(path)
    return [name for name, _ in generate_numba(kernel.ir, kernel._sched, blocks=True).modules]


def test_a_structural_edit_changes_only_the_blocks_holding_the_edited_equation(tmp_path):
    core = MODELS / "kissinger_core.mdl"
    text = core.read_text(encoding="utf-8")
    formula = "Balance * Order Resources"  # Effective Order
    assert text.count(formula) == 1
    edited = tmp_path / "edited.mdl"
    edited.write_text(text.replace(formula, f"ABS({formula})"), encoding="utf-8")
    added = tmp_path / "added.mdl"
    probe = "Edit Probe=\n\tEffective Order * 2\n\t~\tDmnl\n\t~\t|\n\n"
    added.write_text(text.replace("Effective Order=", probe + "Effective Order=", 1), encoding="utf-8")
    base = _modules(core)
    assert len(base) > 6
    assert all(name.startswith("sdkit_block_") for name in base[:-1])
    for path in (edited, added):
        modules = _modules(path)
        assert modules[-1] == base[-1]  # one driver for every model
        new = set(modules) - set(base)
        # Effective Order is computed at initialisation and in each step: at most its two blocks change,
        # or three where the added variable's label cuts a block in two
        assert 1 <= len(new) <= 3, (path.name, len(new), len(base))


def test_the_blocked_kernel_gives_the_numpy_bits_on_the_core_model(monkeypatch):
    monkeypatch.setenv("SDKIT_NUMBA_BLOCKS", "1")
    kernel = compile_model(MODELS / "kissinger_core.mdl")
    assert "sdkit_block_" not in kernel.source("numba")  # blocks name no module; the driver calls them by address
    assert kernel.source("numba").count("def block(") > 6
    params = {"restraint_steepness": np.linspace(8.0, 12.0, 20)}
    got = kernel.simulate(params, n=20, backend="numba")
    want = kernel.simulate(params, n=20, backend="numpy")
    for name in want.data:
        np.testing.assert_array_equal(got.data[name], want.data[name], err_msg=name)


def test_the_annotated_view_names_what_a_block_reads_and_computes(monkeypatch):
    monkeypatch.setenv("SDKIT_NUMBA_BLOCKS", "1")
    annotated = compile_model(MODELS / "kissinger_core.mdl").annotated_source("numba")
    line = next(line for line in annotated.splitlines() if "= Effective Order;" in line)
    code, notes = line.split("  # ")
    product = code.split(" = ")[1].strip("()").split(" * ")  # Effective Order = Balance * Order Resources
    assert sorted(notes.split("; ")[1:]) == sorted([f"{product[0]} = Balance", f"{product[1]} = Order Resources"])
