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


def method(name: str, samples: int, **options: object) -> str:
    """BASE with another method, sample size and [options] table."""
    table = "".join(f"{k} = {str(v).lower() if isinstance(v, bool) else v}\n" for k, v in options.items())
    text = edit('method = "morris"\nsamples = 2', f'method = "{name}"\nsamples = {samples}')
    return text.replace("[parameters]", f"[options]\n{table}[parameters]", 1)


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
    # method options and sample sizes, checked before anything runs
    ("W23-efast-M-negative", method("efast", 100, M=-3), ("option M = -3", "from 1 to 100")),
    ("W24-efast-M-zero", method("efast", 100, M=0), ("option M = 0", "from 1")),
    ("W25-efast-N-not-above-4M2", method("efast", 256, M=8), ("sample size 256", "257 or more with M = 8")),
    ("W26-num-resamples-zero", method("sobol", 8, num_resamples=0), ("num_resamples = 0", "from 2")),
    ("W27-num-resamples-negative", method("morris", 2, num_resamples=-1), ("num_resamples = -1",)),
    ("W28-conf-level-two", method("sobol", 8, conf_level=2), ("conf_level = 2", "between 0 and 1")),
    ("W29-conf-level-zero", method("delta", 50, conf_level=0.0), ("conf_level = 0.0", "between 0 and 1")),
    ("W30-morris-levels-odd", method("morris", 2, num_levels=5), ("num_levels = 5", "even")),
    ("W31-pawn-one-slide", method("pawn", 50, S=1), ("S = 1", "from 2")),
    ("W32-pawn-fewer-than-two-runs-per-slide", method("pawn", 50, S=40), ("sample size 50", "at least 80")),
    ("W33-option-wrong-type", method("sobol", 8, calc_second_order=1), ("calc_second_order", "true or false")),
    ("W34-sobol-2-to-the-24", method("sobol", 2**24), ("67,108,864 runs", "--max-runs 67108864")),
    ("W35-morris-10-to-the-9", method("morris", 10**9), ("3,000,000,000 runs", "--max-runs 3000000000")),
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


LIMIT_CASES = [
    ("W36-workers-beyond-cpus", ["--workers", "100000"], ("--workers 100000", "CPUs", "--scheduler")),
    ("W37-memory-limit", ["--max-memory", "0.000001"], ("of memory", "--max-memory 1 (GB)")),
    ("W38-max-runs-zero", ["--max-runs", "0"], ("--max-runs must be at least 1",)),
    ("W39-max-memory-negative", ["--max-memory", "-2"], ("--max-memory must be a positive",)),
]


@pytest.mark.parametrize(("case_id", "argv", "needles"), LIMIT_CASES, ids=[c[0] for c in LIMIT_CASES])
def test_limits_refuse_before_running(case_id, argv, needles, tmp_path, capsys):
    (tmp_path / "decay.mdl").write_bytes((DATA / "decay.mdl").read_bytes())
    spec = tmp_path / "study.toml"
    spec.write_text(BASE)
    code, err = _sweep(capsys, spec, "--out", tmp_path / "out", "--engine", "engine", *argv)
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1, err
    for needle in needles:
        assert needle in err, f"{needle!r} not in {err!r}"
    assert not (tmp_path / "out" / "outputs.nc").exists()


def test_W22_sweep_without_arguments(capsys):
    code, err = _sweep(capsys)
    assert code == 2
    assert err.strip().splitlines() == [
        "sdkit sweep: error: the following arguments are required: SPEC.toml; see `sdkit sweep --help`"
    ]
