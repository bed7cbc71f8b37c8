"""Catalogue of failure cases (docs/reliability.md): sweep definition files and the sweep command.

Each case must end in exit code 2 with one line on stderr naming the bad entry and
the fix, and no traceback; output folders are never half-written or overwritten.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sdkit.cli import main

DATA = Path(__file__).parent / "data"

BASE = """model = "decay.mdl"
method = "morris"
samples = 2
seed = 1
[parameters]
"decay time" = [2, 30]
"initial stock" = [50, 150]
[outputs.final_stock]
variable = "Stock"
metric = "final"
"""


def edit(old: str, new: str) -> str:
    assert old in BASE, old
    return BASE.replace(old, new, 1)


SWEEP_CASES = [
    ("W01-unknown-parameter", edit('"initial stock"', '"initial stok"'), ("'initial stok'", "sdkit params")),
    ("W02-wrong-type", edit("samples = 2", 'samples = "many"'), ("samples must be an integer",)),
    ("W03-range-low-above-high", edit("[2, 30]", "[30, 2]"), ("'decay time'", "must be below high")),
    ("W04-range-low-equals-high", edit("[2, 30]", "[2, 2]"), ("must be below high",)),
    ("W05-duplicate-parameter", edit('"initial stock" = [50, 150]', '"initial stock" = [50, 150]\n"initial stock" = [5, 9]'), ("not valid TOML",)),
    ("W06-same-parameter-two-spellings", edit('"initial stock" = [50, 150]', '"initial stock" = [50, 150]\n"initial_stock" = [5, 9]'), ("same constant",)),
    ("W07-missing-model-key", edit('model = "decay.mdl"\n', ""), ("needs `model",)),
    ("W08-missing-method-key", edit('method = "morris"\n', ""), ("method",)),
    ("W09-missing-parameters", BASE.split("[parameters]")[0] + '[outputs.final_stock]\nvariable = "Stock"\nmetric = "final"\n', ("[parameters]",)),
    ("W10-unknown-output-variable", edit('variable = "Stock"', 'variable = "Stok"'), ("'Stok'",)),
    ("W11-unknown-metric", edit('metric = "final"', 'metric = "median"'), ("unknown metric 'median'",)),
    ("W12-unknown-method", edit('"morris"', '"magic"'), ("unknown method 'magic'",)),
    ("W13-sample-size-unusable", edit('"morris"', '"sobol"').replace("samples = 2", "samples = 3"), ("power of 2",)),
    ("W14-model-file-missing", edit("decay.mdl", "nope.mdl"), ("does not exist",)),
    ("W15-unknown-scenario", 'scenario = "nope"\n' + BASE, ("no scenario 'nope'",)),
    ("W16-stock-as-parameter", edit('"initial stock"', '"Stock"'), ("is a stock",)),
    ("W17-bound-not-finite", edit("[2, 30]", "[2, nan]"), ("finite number",)),
    ("W18-bound-not-number", edit("[2, 30]", '["a", "b"]'), ("finite number",)),
    ("W19-range-three-numbers", edit("[2, 30]", "[2, 30, 40]"), ("[low, high]",)),
    ("W20-invalid-toml", "model = \n", ("not valid TOML",)),
]


def _sweep(capsys, *argv: object) -> tuple[int, str]:
    try:
        code = main(["sweep", *[str(a) for a in argv]])
    except SystemExit as exit_:
        code = exit_.code
    return code, capsys.readouterr().err


@pytest.mark.parametrize(("case_id", "text", "needles"), SWEEP_CASES, ids=[c[0] for c in SWEEP_CASES])
def test_bad_sweep_file(case_id, text, needles, tmp_path, capsys):
    (tmp_path / "decay.mdl").write_bytes((DATA / "decay.mdl").read_bytes())
    spec = tmp_path / "study.toml"
    spec.write_text(text)
    code, err = _sweep(capsys, spec, "--out", tmp_path / "out", "--engine", "engine")
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle.lower() in err.lower(), f"{needle!r} not in {err!r}"
    assert not (tmp_path / "out" / "outputs.nc").exists()


def test_W21_output_folder_rules(tmp_path, capsys):
    """A finished sweep is not overwritten without --force; --resume refuses a changed definition."""
    (tmp_path / "decay.mdl").write_bytes((DATA / "decay.mdl").read_bytes())
    spec = tmp_path / "study.toml"
    spec.write_text(BASE)
    out = tmp_path / "out"
    assert _sweep(capsys, spec, "--out", out, "--engine", "engine")[0] == 0
    first = (out / "outputs.nc").read_bytes()
    code, err = _sweep(capsys, spec, "--out", out, "--engine", "engine")
    assert code == 2
    assert "--force" in err
    spec.write_text(BASE.replace("seed = 1", "seed = 2"))
    code, err = _sweep(capsys, spec, "--out", out, "--resume", "--engine", "engine")
    assert code == 2
    assert "changed" in err
    assert "seed" in err
    assert (out / "outputs.nc").read_bytes() == first
    code, err = _sweep(capsys, spec, "--out", out, "--engine", "engine", "--workers", "0")
    assert code == 2
    assert "--workers" in err


def test_W22_sweep_without_arguments(capsys):
    code, err = _sweep(capsys)
    assert code == 2
    assert err.strip().splitlines() == [
        "sdkit sweep: error: the following arguments are required: SPEC.toml; see `sdkit sweep --help`"
    ]
