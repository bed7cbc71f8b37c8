"""One reader of a model file: the model holds everything read from it, the engine compiles that.

Listing a model's parameters, validating its scenarios and running it with PySD never
import the engine; the engine compiles a loaded model without reading or parsing the
file again; what the model layer reads (defaults, lookups read at Time) is what the
engine compiles.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from sdkit.engine import compile_model
from sdkit.errors import ScenarioError, UnsupportedFeature
from sdkit.model import load_model

ROOT = Path(__file__).parent.parent
DATA = ROOT / "tests" / "data"
CONTROL = "FINAL TIME = 2 ~ Year ~ |\nINITIAL TIME = 0 ~ Year ~ |\nSAVEPER = 1 ~ Year ~ |\nTIME STEP = 1 ~ Year ~ |\n"
#: A model PySD runs but the engine cannot compile (GET TIME VALUE of the machine's clock).
RANDOM = "{UTF-8}\nnoise = GET TIME VALUE(2, 0, 1) ~ Dmnl ~ |\n" \
         "scale = 2 ~ Dmnl ~ |\ny = scale * noise ~ Dmnl ~ |\n" + CONTROL
#: Shares written element by element, with a rule that they add up to one.
SHARES = "{UTF-8}\nSide: left, right ~ ~ |\nshare[left] = 0.25 ~ Dmnl ~ |\nshare[right] = 0.75 ~ Dmnl ~ |\n" \
         "y = share[left] ~ Dmnl ~ |\n" + CONTROL
SHARES_SCENARIOS = '[_rules]\nsum_to_one = ["share"]\n[tilted]\n[tilted.parameters]\n"share[left]" = 0.5\n'


def _engine_modules_after(code: str, cwd: Path) -> tuple[list[str], str]:
    """The ``sdkit.engine`` modules (and numba) imported by running ``code`` in a fresh Python."""
    script = textwrap.dedent(code) + textwrap.dedent("""
        import json, sys
        print(json.dumps(sorted(m for m in sys.modules if m.startswith("sdkit.engine") or m == "numba")))
        """)
    env_path = str(ROOT)
    done = subprocess.run([sys.executable, "-c", script], cwd=cwd, capture_output=True, text=True,
                          env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin", "HOME": str(cwd)},
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    return json.loads(lines[-1]), "\n".join(lines[:-1])


def test_params_and_pysd_runs_never_import_the_engine(tmp_path):
    (tmp_path / "random.mdl").write_text(RANDOM, encoding="utf-8")
    modules, output = _engine_modules_after(f"""
        import contextlib, io
        from sdkit.cli import main
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            codes = [main(["params", {str(ROOT / "models" / "four_orders.mdl")!r}]),
                     main(["params", "random.mdl"]),
                     main(["run", "random.mdl", "--engine", "pysd", "--out", "random.nc"])]
        print(codes)
        print(out.getvalue())
        """, tmp_path)
    assert modules == [], f"the engine was imported: {modules}"
    assert output.splitlines()[0] == "[0, 0, 0]"
    assert "supremacy claim" in output.lower()  # four_orders' constants were listed
    assert "scale" in output  # and those of the model the engine cannot compile
    assert (tmp_path / "random.nc").is_file()


def test_the_engine_cannot_compile_the_model_pysd_ran(tmp_path):
    path = tmp_path / "random.mdl"
    path.write_text(RANDOM, encoding="utf-8")
    with pytest.raises(UnsupportedFeature, match="GET TIME VALUE"):
        compile_model(load_model(path))


def test_scenario_rules_read_defaults_written_element_by_element_without_the_engine(tmp_path):
    (tmp_path / "shares.mdl").write_text(SHARES, encoding="utf-8")
    (tmp_path / "shares.scenarios.toml").write_text(SHARES_SCENARIOS, encoding="utf-8")
    modules, output = _engine_modules_after("""
        from sdkit.errors import ScenarioError
        from sdkit.model import load_model
        try:
            load_model("shares.mdl")
        except ScenarioError as exc:
            print(exc)
        """, tmp_path)
    assert modules == []
    assert "add up to 1.25, not 1" in output
    (tmp_path / "shares.scenarios.toml").write_text(SHARES_SCENARIOS.replace("0.5", "0.25"), encoding="utf-8")
    model = load_model(tmp_path / "shares.mdl")
    assert model.variables["share"].default == (0.25, 0.75)
    with pytest.raises(ScenarioError, match="add up to 1.25"):
        load_model(tmp_path / "shares.mdl", scenarios=_write(tmp_path / "other.toml", SHARES_SCENARIOS))


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_compiling_a_loaded_model_neither_reads_nor_parses_the_file(monkeypatch, tmp_path):
    import pysd.translators.vensim.vensim_file as vensim_file

    import sdkit.engine
    import sdkit.model_file

    path = _write(tmp_path / "decay.mdl", (DATA / "decay.mdl").read_text(encoding="utf-8"))
    model = load_model(path)
    path.unlink()  # a second reader would fail here

    def refuse(*args, **kwargs):
        raise AssertionError("the model file was read or parsed a second time")

    monkeypatch.setattr(vensim_file.VensimFile, "parse", refuse)
    monkeypatch.setattr(sdkit.model_file, "read_input", refuse)
    monkeypatch.setattr(sdkit.engine, "read_model", refuse)
    kernel = compile_model(model)
    assert kernel.simulate({}, n=1).data  # it runs


MODELS = [*sorted(DATA.glob("*.mdl")), ROOT / "models" / "kissinger_core.mdl"]


@pytest.mark.parametrize("path", MODELS, ids=[p.stem for p in MODELS])
def test_what_the_model_reads_is_what_the_engine_compiles(path):
    model = load_model(path)
    kernel = model.kernel
    constants = [v for v in model.variables.values() if v.kind == "constant"]
    assert constants
    for variable in constants:
        compiled = np.asarray(kernel.constants[variable.py_name], dtype=float)
        assert variable.default is not None, variable.name
        read = np.broadcast_to(np.asarray(variable.default, dtype=float), compiled.shape)
        np.testing.assert_array_equal(read, compiled, err_msg=variable.name)
    assert (model.time.initial_time, model.time.final_time, model.time.time_step, model.time.saveper) == (
        kernel.initial_time, kernel.final_time, kernel.time_step, kernel.saveper)


def test_the_lookups_read_at_time_and_their_shared_range(tmp_path):
    """An inline lookup at Time gives its x range; a variable reading two named ones gets their overlap."""
    text = (DATA / "decay.mdl").read_text()
    extra = (
        "history = WITH LOOKUP(Time, ([(2,0)-(8,1)],(2,0),(8,1)))\n\t~\t\n\t~\t\n\t|\n\n"
        "early([(0,0)-(9,1)],(1,0),(9,1))\n\t~\t\n\t~\t\n\t|\n\n"
        "late([(0,0)-(30,1)],(4,0),(30,1))\n\t~\t\n\t~\t\n\t|\n\n"
        "both = early(Time) + late(Time)\n\t~\t\n\t~\t\n\t|\n\n"
        "shifted = early(Time + 1)\n\t~\t\n\t~\t\n\t|\n\n"
    )
    model = load_model(_write(tmp_path / "decay.mdl", text.replace("{UTF-8}\n", "{UTF-8}\n" + extra)))
    assert model.time_lookups == {"history": (2.0, 8.0), "both": (4.0, 9.0)}
