"""Catalogue of failure cases (docs/reliability.md): bad model, scenario and check files.

Every case must end in one sdkit error (a subclass of ``SdkitError``) whose message is
one line naming the bad thing and the fix, and at the command line in exit code 2 with
that line on stderr and no traceback. The ``case_id`` of each test is the id used in
docs/reliability.md.
"""

from __future__ import annotations

import os
import re
import sys
import warnings
from pathlib import Path

import pytest

import sdkit
from sdkit.cli import main
from sdkit.errors import ModelFileError, ParameterError, ScenarioError, SdkitError
from tests.reliability.expect import one_line, refused
from tests.shared_data import CONFORMANCE, absent

DATA = Path(__file__).parents[1] / "data"
DECAY = (DATA / "decay.mdl").read_text()


def cli(capsys, *argv: object) -> tuple[int, str, str]:
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exit_:  # argparse errors
        code = exit_.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_cli_error(capsys, *argv: object, needles: tuple[str, ...] = ()) -> str:
    code, _, err = cli(capsys, *argv)
    return refused(code, err, *needles)


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def edit(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


CONSTANT = "\n{name} = {value}\n\t~\tYear\n\t~\t\n\t|\n"
SUBSCRIPTED = "E: (e1-e3)\n\t~\t\n\t~\t\n\t|\n\nx[E] = 1\n\t~\twidgets\n\t~\t\n\t|\n\n"
DATA_CALL = "series := GET DIRECT DATA('{file}', ',', 'A', 'B2')\n\t~\t\n\t~\t\n\t|\n\n"

# (case id, model text or bytes, words the one-line message must contain)
MODEL_CASES: list[tuple[str, str | bytes, tuple[str, ...]]] = [
    ("M01-empty", "", ("empty",)),
    ("M02-whitespace-only", "\n\n   \t\n", ("empty",)),
    ("M03-truncated-before-control", DECAY[: DECAY.index("FINAL TIME")], ("no FINAL TIME", "add it")),
    ("M04-truncated-mid-equation", DECAY[: DECAY.index("initial stock)")], ("ends inside an equation", "Stock = INTEG", "cut short")),
    ("M05-not-utf8", DECAY.encode().replace(b"A stock", b"A \xff\xfe stock"), ("not UTF-8", "save it as UTF-8")),
    ("M06-utf16", DECAY.encode("utf-16"), ("not UTF-8",)),
    ("M07-unbalanced-open-paren", edit(DECAY, "Stock / decay time", "(Stock / decay time"), ("'outflow'", "line 7")),
    ("M08-unbalanced-close-paren", edit(DECAY, "Stock / decay time", "Stock / decay time)"), ("'outflow'", "line 7")),
    ("M09-unknown-function", edit(DECAY, "Stock / decay time", "FOOBAR(Stock) / decay time"), ("FOOBAR", "'outflow'")),
    ("M09b-constant-called-like-a-function", edit(DECAY, "Stock / decay time", "Stock / decay time (Stock)"), ("'decay time'", "not a lookup")),
    (
        "M10-circular-definition",
        edit(DECAY, "Stock / decay time", "helper") + "\nhelper = outflow * 1\n\t~\t\n\t~\t\n\t|\n",
        ("outflow", "helper", "circle", "INTEG"),
    ),
    ("M11-self-reference", edit(DECAY, "Stock / decay time", "outflow + 1"), ("outflow -> outflow", "circle")),
    ("M12-stock-without-initial", edit(DECAY, "INTEG (-outflow, initial stock)", "INTEG (-outflow)"), ("'Stock'", "no initial value", "INTEG(flow, initial value)")),
    (
        "M13-lookup-x-decreasing",
        edit(DECAY, "decay time = 10", "decay time = tbl(Time)\n\t~\t\n\t~\t\n\t|\n\ntbl( [(0,0)-(10,10)],(5,1),(3,2),(8,3))"),
        ("lookup x values must increase", "3 follows 5", "sort"),
    ),
    (
        "M14-lookup-x-repeated",
        edit(DECAY, "decay time = 10", "decay time = tbl(Time)\n\t~\t\n\t~\t\n\t|\n\ntbl((0,1),(2,2),(2,3))"),
        ("must increase", "2 follows 2"),
    ),
    (
        "M15-with-lookup-x-decreasing",
        edit(DECAY, "decay time = 10", "decay time = WITH LOOKUP(Time, ([(0,0)-(10,10)],(0,1),(5,2),(4,3)))"),
        ("must increase", "4 follows 5"),
    ),
    ("M16-duplicated-name", DECAY + CONSTANT.format(name="decay time", value=5), ("'decay time'", "defined twice")),
    ("M17-duplicated-name-other-spelling", DECAY + CONSTANT.format(name="Decay_Time", value=5), ("defined twice",)),
    ("M18-undefined-variable", edit(DECAY, "Stock / decay time", "Stock / lifetime"), ("'lifetime'", "not defined")),
    ("M19-no-time-step", DECAY.replace("TIME STEP  = 0.125", "TIME STEPX  = 0.125"), ("no TIME STEP",)),
    ("M20-zero-time-step", edit(DECAY, "TIME STEP  = 0.125", "TIME STEP  = 0"), ("time_step must be positive",)),
    ("M21-final-before-initial", edit(DECAY, "FINAL TIME  = 20", "FINAL TIME  = -5"), ("must be after initial_time",)),
    ("M22-time-step-becomes-zero", edit(DECAY, "TIME STEP  = 0.125", "TIME STEP  = IF THEN ELSE(Time < 4, 0.25, 0)"), ("TIME STEP is 0 at time 4", "change its equation")),
    ("M23-nul-byte", edit(DECAY, "First-order outflow.", "First-order\x00 outflow."), ("NUL",)),
    ("M24-nested-too-deep", edit(DECAY, "Stock / decay time", "(" * 3000 + "Stock" + ")" * 3000 + " / decay time"), ("nested too deeply", "split")),
    ("M25-equation-too-long", edit(DECAY, "Stock / decay time", "+".join(["Stock"] * 5000) + " / decay time"), ("'outflow'", "characters long", "split")),
    ("M26-binary-garbage", bytes(range(256)) * 8, ("not UTF-8",)),
    ("M27-text-garbage", "".join(chr(33 + (i * 7919) % 90) for i in range(3000)), ("cannot parse",)),
    ("M28-steps-too-many", edit(DECAY, "FINAL TIME  = 20", "FINAL TIME  = 1e9"), ("steps", "larger time_step")),
    ("M29-time-step-longer-than-run", edit(DECAY, "TIME STEP  = 0.125", "TIME STEP  = 50"), ("longer than the run",)),
    ("M36-time-redefined", edit(DECAY, "decay time = 10", "decay time = 10\n\t~\tYear\n\t~\t\n\t|\n\nTime = 5"), ("built-in Time",)),
    ("M37-undefined-subscript", edit(DECAY, "{UTF-8}\n", "{UTF-8}\nx[Nope] = 1\n\t~\t\n\t~\t\n\t|\n\n"), ("'Nope', which is not defined",)),
    ("M38-scalar-reads-subscripted", edit(DECAY, "{UTF-8}\n", "{UTF-8}\n" + SUBSCRIPTED + "y = x\n\t~\t\n\t~\t\n\t|\n\n"), ("reads 'x' whole",)),
    (
        "M39-macro-subscripted",
        edit(edit(DECAY, "{UTF-8}\n", "{UTF-8}\n:MACRO: DOUBLE(x)\nDOUBLE[E] = 2*x\n\t~\t\n\t~\t\n\t|\n\n:END OF MACRO:\n"),
             "decay time = 10", "decay time = DOUBLE(5)"),
        ("unsubscripted equations only",),
    ),
    ("M40-data-outside-folder", edit(DECAY, "{UTF-8}\n", "{UTF-8}\n" + DATA_CALL.format(file="../secret.csv")), ("outside the model's folder",)),
    ("M41-data-absolute-path", edit(DECAY, "{UTF-8}\n", "{UTF-8}\n" + DATA_CALL.format(file="/etc/passwd")), ("outside the model's folder",)),
]


@pytest.mark.parametrize(("case_id", "content", "needles"), MODEL_CASES, ids=[c[0] for c in MODEL_CASES])
def test_bad_model_file(case_id, content, needles, tmp_path, capsys):
    path = tmp_path / "bad.mdl"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ModelFileError) as caught:
        sdkit.load_model(path)
    one_line(caught.value, *needles)
    for command in ("params", "run"):
        assert_cli_error(capsys, command, path, needles=needles[:1])


def test_M30_very_large_file_refused_before_parsing(tmp_path, capsys):
    path = tmp_path / "huge.mdl"
    with open(path, "wb") as handle:  # sparse: 50 MB of nothing, instantly
        handle.truncate(50_000_000)
    with pytest.raises(ModelFileError) as caught:
        sdkit.load_model(path)
    one_line(caught.value, "50.0 MB", "SDKIT_MAX_MODEL_MB")
    assert_cli_error(capsys, "params", path, needles=("MB",))


def test_M31_size_limit_is_configurable(tmp_path, monkeypatch):
    path = tmp_path / "decay.mdl"
    path.write_text(DECAY)
    monkeypatch.setenv("SDKIT_MAX_MODEL_MB", "0.0001")
    with pytest.raises(ModelFileError) as caught:
        sdkit.load_model(path)
    one_line(caught.value, "more than sdkit reads")
    monkeypatch.setenv("SDKIT_MAX_MODEL_MB", "1")
    assert sdkit.load_model(path).stocks == ["stock"]
    monkeypatch.setenv("SDKIT_MAX_MODEL_MB", "lots")
    with pytest.raises(ModelFileError) as caught:
        sdkit.load_model(path)
    one_line(caught.value, "SDKIT_MAX_MODEL_MB", "not a number")


@pytest.mark.parametrize(
    ("case_id", "make", "needles"),
    [
        ("M32-missing-file", lambda d: d / "nope.mdl", ("does not exist",)),
        ("M33-folder", lambda d: d, ("is a folder",)),
        ("M34-wrong-suffix", lambda d: _write(d / "model.txt", DECAY), ("not a Vensim", "XMILE")),
        ("M34b-vensim-text-as-xmile", lambda d: _write(d / "model.xmile", DECAY), ("pysimlin cannot read model.xmile",)),
    ],
    ids=["M32-missing-file", "M33-folder", "M34-wrong-suffix", "M34b-vensim-text-as-xmile"],
)
def test_model_path_errors(case_id, make, needles, tmp_path, capsys):
    path = make(tmp_path)
    with pytest.raises(ModelFileError) as caught:
        sdkit.load_model(path)
    one_line(caught.value, *needles)
    assert_cli_error(capsys, "scenarios", path, needles=needles)


def test_valid_variants_still_load(tmp_path):
    """The structural checks refuse nothing legal: increasing lookups, SAVEPER = TIME STEP, delays in loops."""
    text = edit(DECAY, "decay time = 10", "decay time = tbl(Time)\n\t~\tYear\n\t~\t\n\t|\n\ntbl([(0,0)-(30,30)],(0,5),(10,10),(20,12))")
    text = edit(text, "SAVEPER  = 1", "SAVEPER  = TIME STEP")
    text = edit(text, "Stock / decay time", "SMOOTH(Stock / decay time, echo)") + "\necho = 2 + outflow * 0.01\n\t~\t\n\t~\t\n\t|\n"
    path = tmp_path / "ok.mdl"
    path.write_text(text)
    model = sdkit.load_model(path)
    assert model.time.saveper == model.time.time_step == 0.125
    result = sdkit.run(model, engine="pysd", variables=["Stock"])
    assert result["stock"].isel(time=-1).item() < 100


@pytest.mark.conformance
@pytest.mark.skipif(not CONFORMANCE.is_dir(), reason=absent(CONFORMANCE))
def test_structural_checks_accept_the_conformance_models():
    from sdkit.model_file import parse_model_text
    from sdkit.structure import check_structure

    paths = sorted(CONFORMANCE.rglob("*.mdl"))
    assert paths
    for path in paths:
        text = path.read_text(encoding="utf-8", errors="replace")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            check_structure(parse_model_text(path, text), text, path)  # raises ModelFileError if refused


# ---------------------------------------------------------------- scenario files

HUGE = "1" + "0" * 400
BASE_CHAIN = "".join(f'[s{i}]\nbase = "s{i + 1}"\n' for i in range(3000))

SCENARIO_CASES = [
    ("S01-unknown-parameter", '[a]\n[a.parameters]\n"life time" = 1\n', ("'life time'", "sdkit params")),
    ("S02-wrong-type-string", '[a]\n[a.parameters]\n"decay time" = "ten"\n', ("'decay time'", "must be a number")),
    ("S03-wrong-type-bool", '[a]\n[a.parameters]\n"decay time" = true\n', ("must be a number",)),
    ("S04-wrong-shape", '[a]\n[a.parameters]\n"decay time" = [1, 2]\n', ("shape",)),
    ("S05-not-finite", '[a]\n[a.parameters]\n"decay time" = nan\n', ("must be finite",)),
    ("S06-overflow", '[a]\n[a.parameters]\n"decay time" = 1e400\n', ("must be finite",)),
    ("S07-duplicate-scenario", "[a]\n[a]\n", ("not valid TOML", "twice")),
    ("S08-duplicate-parameter", '[a]\n[a.parameters]\n"decay time" = 1\n"decay time" = 2\n', ("not valid TOML",)),
    ("S09-same-parameter-two-spellings", '[a]\n[a.parameters]\n"decay time" = 1\n"decay_time" = 2\n', ("same parameter", "give it once")),
    ("S10-missing-base", '[a]\nbase = "b"\n', ("'b'", "not defined")),
    ("S11-base-cycle", '[a]\nbase = "b"\n[b]\nbase = "a"\n', ("a -> b -> a", "circle")),
    ("S12-unknown-key", "[a]\nparams = {}\n", ("unknown key 'params'",)),
    ("S13-unknown-time-key", "[a]\n[a.time]\nfinal = 5\n", ("unknown time setting 'final'",)),
    ("S14-time-wrong-type", '[a]\n[a.time]\nfinal_time = "x"\n', ("'final_time'", "must be a number")),
    ("S15-time-step-zero", "[a]\n[a.time]\ntime_step = 0\n", ("time_step must be positive",)),
    ("S16-run-too-long", "[a]\n[a.time]\nfinal_time = 1e12\n", ("steps",)),
    ("S17-saveper-too-small", "[a]\n[a.time]\nsaveper = 1e-6\ntime_step = 1e-5\n", ("saveper",)),
    ("S18-stock-as-parameter", '[a]\n[a.parameters]\n"Stock" = 3\n', ("is a stock", "constants it depends on")),
    ("S19-value-not-table", "a = 1\n", ("must be a table",)),
    ("S20-parameters-not-table", "[a]\nparameters = 3\n", ("'parameters'",)),
    ("S21-subscript-on-scalar", '[a]\n[a.parameters]\n"decay time[x]" = 3\n', ("subscript",)),
    ("S22-invalid-toml", "[a\n", ("not valid TOML", "line 1")),
    ("S25-400-digit-parameter", '[a]\n[a.parameters]\n"decay time" = ' + HUGE + "\n", ("401 digits",)),
    ("S26-400-digit-time", "[a]\n[a.time]\nfinal_time = " + HUGE + "\n", ("401 digits",)),
    ("S27-nested-2000-deep", "[a]\nx = " + "[" * 2000 + "]" * 2000 + "\n", ("too deeply",)),
    ("S28-base-circle-3000", BASE_CHAIN + '[s3000]\nbase = "s0"\n', ("circle",)),
    ("S29-nul-in-name", '["a\\u0000b"]\ndescription = "x"\n', ("control character",)),
]


@pytest.mark.parametrize(("case_id", "text", "needles"), SCENARIO_CASES, ids=[c[0] for c in SCENARIO_CASES])
def test_bad_scenario_file(case_id, text, needles, tmp_path, capsys):
    model = tmp_path / "decay.mdl"
    model.write_text(DECAY)
    (tmp_path / "decay.scenarios.toml").write_text(text)
    with pytest.raises(ScenarioError) as caught:
        sdkit.load_model(model)
    one_line(caught.value, "decay.scenarios.toml", *needles)
    assert_cli_error(capsys, "run", model, "--all", needles=needles[:1])


def test_a_long_base_chain_resolves(tmp_path):
    """The legal counterpart of S28: a 3,000-long chain of ``base`` keys resolves (in linear time)."""
    model = tmp_path / "decay.mdl"
    model.write_text(DECAY)
    (tmp_path / "decay.scenarios.toml").write_text(BASE_CHAIN + '[s3000]\n[s3000.parameters]\n"decay time" = 4\n')
    assert sdkit.load_model(model).scenarios["s0"].parameters == {"decay time": 4}


def test_S23_scenarios_file_not_utf8(tmp_path):
    model = tmp_path / "decay.mdl"
    model.write_text(DECAY)
    (tmp_path / "decay.scenarios.toml").write_bytes(b"[a]\ndescription = '\xff'\n")
    with pytest.raises(ScenarioError) as caught:
        sdkit.load_model(model)
    one_line(caught.value, "not UTF-8")


def test_S24_unknown_and_repeated_scenario_names(model_copy, capsys):
    model = sdkit.load_model(model_copy("decay"))
    with pytest.raises(ScenarioError) as caught:
        sdkit.run(model, scenarios=["slow", "nope"], engine="pysd")
    one_line(caught.value, "'nope'", "known: slow")
    with pytest.raises(ScenarioError) as caught:
        sdkit.run(model, scenarios=["slow", "slow"], engine="pysd")
    one_line(caught.value, "named twice")
    assert_cli_error(capsys, "run", model.path, "--scenario", "nope", needles=("nope",))


@pytest.mark.parametrize(
    ("case_id", "values", "needles"),
    [
        ("P01-set-unknown", {"nope": 1}, ("'nope'",)),
        ("P02-set-auxiliary", {"outflow": 1}, ("auxiliary", "not a constant")),
        ("P03-set-string", {"decay time": "x"}, ("must be a number",)),
        ("P04-set-infinite", {"decay time": float("inf")}, ("finite",)),
    ],
    ids=["P01-set-unknown", "P02-set-auxiliary", "P03-set-string", "P04-set-infinite"],
)
def test_bad_set_values(case_id, values, needles, decay_path):
    with pytest.raises(ParameterError) as caught:
        sdkit.run(decay_path, set=values, engine="pysd")
    one_line(caught.value, *needles)


def test_P05_bad_api_arguments(decay_path):
    with pytest.raises(ParameterError) as caught:
        sdkit.run(decay_path, engine="fast")
    one_line(caught.value, "unknown engine 'fast'")
    with pytest.raises(ParameterError) as caught:
        sdkit.run(decay_path, variables=["nothing"], engine="pysd")
    one_line(caught.value, "'nothing'", "sdkit params")


# ---------------------------------------------------------------- check files

CHECK = """[[check]]
id = "c1"
mode = "RM1"
scenario = "default"
description = "stock decays"
measure = { fn = "final", var = "Stock" }
op = "<"
than = 50
"""

CHECK_CASES = [
    ("C01-missing-key", edit(CHECK, 'op = "<"\n', ""), ("missing key 'op'",)),
    ("C02-unknown-function", edit(CHECK, 'fn = "final"', 'fn = "median"'), ("unknown fn 'median'",)),
    ("C03-duplicate-id", CHECK + CHECK, ("duplicate check id 'c1'",)),
    ("C04-wrong-type", edit(CHECK, "than = 50", 'than = "fifty"'), ("than", "str")),
    ("C05-unknown-operator", edit(CHECK, 'op = "<"', 'op = "=="'), ("unknown op '=='",)),
    ("C06-bad-window", edit(CHECK, 'var = "Stock" }', 'var = "Stock", window = [5] }'), ("window",)),
    ("C07-invalid-toml", "[[check]\n", ("not valid TOML",)),
    ("C08-no-checks", "", ("no [[check]]",)),
    ("C09-unknown-key", CHECK + 'weight = 2\n', ("unknown key", "weight")),
    ("C10-unknown-variable", edit(CHECK, 'var = "Stock"', 'var = "Stok"'), ("Stok",)),
    ("C11-unknown-scenario", edit(CHECK, 'scenario = "default"', 'scenario = "nope"'), ("nope",)),
    ("C13-window-reversed", edit(CHECK, 'var = "Stock" }', 'var = "Stock", window = [15, 5] }'), ("t0 < t1",)),
    ("C14-empty-name-in-vars", edit(CHECK, 'measure = { fn = "final", var = "Stock" }', 'measure = { fn = "settling_time", after = 1, tolerance = 0.1, vars = ["Stock", ""] }'), ("'vars' must be a non-empty list",)),
    ("C12-not-utf8", CHECK.replace("stock decays", "stock \udcff decays"), ("not UTF-8",)),
    (
        "C15-400-digit-integers",
        edit(edit(CHECK, 'var = "Stock" }', f'var = "Stock", window = [0, {HUGE}] }}'), "than = 50", f"than = {HUGE}"),
        ("401 digits",),
    ),
]


@pytest.mark.parametrize(("case_id", "text", "needles"), CHECK_CASES, ids=[c[0] for c in CHECK_CASES])
def test_bad_check_file(case_id, text, needles, tmp_path, capsys):
    model = tmp_path / "decay.mdl"
    model.write_text(DECAY)
    checks = tmp_path / "decay.checks.toml"
    checks.write_bytes(text.encode("utf-8", "surrogateescape"))
    assert_cli_error(capsys, "check", model, "--engine", "pysd", needles=needles)


# ---------------------------------------------------------------- the command line


def test_L23_every_command_without_arguments(capsys):
    from sdkit.cli import COMMANDS, build_parser

    build_parser()  # registers commands that live in other modules (sweep)
    assert {"run", "check", "ensemble", "scenarios", "params", "sweep"} <= set(COMMANDS)
    for name in list(COMMANDS):
        if name == "reproduce":  # every argument has a default; tested below with a bad one
            continue
        assert_cli_error(capsys, name, needles=(f"sdkit {name}", "required"))


@pytest.mark.parametrize(
    ("case_id", "argv", "needles"),
    [
        ("L01-no-command", [], ("required: COMMAND",)),
        ("L02-unknown-command", ["fly"], ("invalid choice",)),
        ("L03-unknown-option", ["run", "{model}", "--speed", "3"], ("unrecognized arguments",)),
        ("L04-bad-engine", ["run", "{model}", "--engine", "warp"], ("--engine", "invalid choice")),
        ("L05-set-without-equals", ["run", "{model}", "--set", "decay time"], ("NAME=VALUE",)),
        ("L06-set-not-number", ["run", "{model}", "--set", "decay time=ten"], ("not a number",)),
        ("L07-all-and-scenario", ["run", "{model}", "--all", "--scenario", "slow"], ("either --all or --scenario",)),
        ("L08-unknown-var", ["run", "{model}", "--vars", "Stok"], ("'Stok'",)),
        ("L09-out-folder-missing", ["run", "{model}", "--out", "{tmp}/no/such/out.nc"], ("does not exist", "mkdir")),
        ("L10-out-is-folder", ["run", "{model}", "--out", "{tmp}"], ("is a folder",)),
        ("L11-check-file-missing", ["check", "{model}", "--checks", "{tmp}/none.toml"], ("no checks file",)),
        ("L12-ensemble-samples-missing", ["ensemble", "{model}", "--samples", "{tmp}/none.csv", "--out", "{tmp}/e.nc"], ("samples file", "does not exist")),
        ("L13-ensemble-chunk-not-int", ["ensemble", "{model}", "--samples", "s.csv", "--out", "e.nc", "--chunk-size", "x"], ("--chunk-size", "invalid int")),
        ("L14-ensemble-chunk-zero", ["ensemble", "{model}", "--samples", "{samples}", "--out", "{tmp}/e.nc", "--chunk-size", "0"], ("--chunk-size", "at least 1")),
        ("L15-ensemble-workers-zero", ["ensemble", "{model}", "--samples", "{samples}", "--out", "{tmp}/e.nc", "--workers", "0"], ("--workers",)),
        ("L16-ensemble-bad-scheduler", ["ensemble", "{model}", "--samples", "{samples}", "--out", "{tmp}/e.nc", "--scheduler", "localhost"], ("tcp://",)),
        ("L17-ensemble-unknown-column", ["ensemble", "{model}", "--samples", "{badsamples}", "--out", "{tmp}/e.nc"], ("'lifetime'",)),
        ("L18-ensemble-empty-samples", ["ensemble", "{model}", "--samples", "{emptysamples}", "--out", "{tmp}/e.nc"], ("is empty",)),
        ("L19-ensemble-non-numeric-cell", ["ensemble", "{model}", "--samples", "{textsamples}", "--out", "{tmp}/e.nc"], ("row 2", "fix that cell")),
        ("L20-reproduce-models-missing", ["reproduce", "--models", "{tmp}/none", "--out", "{tmp}/r"], ("models folder",)),
        ("L21-reproduce-out-is-file", ["reproduce", "--models", "{tmp}", "--out", "{model}"], ("is a file",)),
        ("L22-params-bad-model", ["params", "{tmp}/x.mdl"], ("does not exist",)),
        ("L27-ensemble-same-parameter-twice", ["ensemble", "{model}", "--samples", "{twicesamples}", "--out", "{tmp}/e.nc"], ("same parameter",)),
        ("L28-ensemble-results-too-large", ["ensemble", "{model}", "--samples", "{manysamples}", "--out", "{tmp}/e.nc", "--max-memory", "0.001"], ("raise the limit with --max-memory",)),
    ],
    ids=lambda v: v if isinstance(v, str) and re.match(r"L\d\d", v) else "",
)
def test_command_line_errors(case_id, argv, needles, model_copy, tmp_path, capsys):
    model = model_copy("decay")
    files = {
        "samples": "decay time\n5\n8\n",
        "badsamples": "lifetime\n5\n",
        "emptysamples": "",
        "textsamples": "decay time\n5\nfive\n",
        "twicesamples": "decay time,decay_time\n5,6\n",
        "manysamples": "decay time\n" + "5\n" * 20_000,
    }
    names = {"model": model, "tmp": tmp_path}
    for key, text in files.items():
        (tmp_path / f"{key}.csv").write_text(text)
        names[key] = tmp_path / f"{key}.csv"
    argv = [a.format(**names) for a in argv]
    assert_cli_error(capsys, *argv, needles=needles)
    assert not (tmp_path / "e.nc").exists()


def test_L24_debug_shows_the_traceback(model_copy):
    model = model_copy("decay")
    with pytest.raises(ParameterError):
        main(["--debug", "run", str(model), "--set", "nope=1"])


def test_L25_unexpected_exception_is_one_line_without_debug(model_copy, capsys, monkeypatch):
    run_module = sys.modules["sdkit.run"]

    def broken(*args, **kwargs):
        raise RuntimeError("simulated bug\nsecond line")

    monkeypatch.setattr(run_module, "run", broken)
    code, _, err = cli(capsys, "run", model_copy("decay"))
    assert code == 3
    assert err.strip().splitlines() == [
        "sdkit: internal error: RuntimeError: simulated bug; this is a bug, rerun with --debug and report the traceback"
    ]


def test_one_base_class():
    """Every error class sdkit raises derives from SdkitError."""
    import sdkit.errors as errors

    classes = [
        v for v in vars(errors).values()
        if isinstance(v, type) and issubclass(v, Exception) and not issubclass(v, Warning)
    ]
    assert len(classes) >= 8
    assert all(issubclass(c, SdkitError) for c in classes)
    assert not issubclass(SdkitError, (ValueError, OSError))


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_M35_unreadable_model_file(tmp_path):
    path = tmp_path / "locked.mdl"
    path.write_text(DECAY)
    path.chmod(0)
    with pytest.raises(ModelFileError) as caught:
        sdkit.load_model(path)
    one_line(caught.value, "cannot read")


def test_L26_real_process_prints_one_line(tmp_path):
    """The installed entry point, in a process of its own: exit code 2, one line, no traceback."""
    import subprocess

    path = tmp_path / "bad.mdl"
    path.write_text(edit(DECAY, "Stock / decay time", "FOOBAR(Stock) / decay time"))
    done = subprocess.run([sys.executable, "-m", "sdkit", "run", str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "sdkit: error: bad.mdl: 'outflow' (line 7) calls unknown function FOOBAR; "
        "use a Vensim function PySD supports or define a lookup of that name"
    ]
