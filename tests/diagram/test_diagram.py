"""``sdkit diagram``: the drawn diagram (SVG) and the Vensim sketch written into a model file."""

from __future__ import annotations

import re
import shutil
from html import unescape

import numpy as np
import pytest

from sdkit.cli import main
from sdkit.diagram.draw import wrap
from sdkit.diagram.sketch import START, write_sketch
from sdkit.diagram.structure import read_structure
from sdkit.loops.named import read_loops_file
from sdkit.model import load_model
from tests.conftest import CONFORMANCE, DATA, MODELS

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="graphviz's dot is not installed (apt-get install graphviz)")
DRAWN = [DATA / "decay.mdl", DATA / "checks_demo.mdl", DATA / "sens_linear.mdl",
         MODELS / "kissinger_core.mdl", MODELS / "four_orders.mdl"]


def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def svg_texts(path) -> list[str]:
    return [unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", path.read_text(encoding="utf-8"))]


@needs_dot
@pytest.mark.parametrize("model_path", DRAWN, ids=lambda p: p.stem)
def test_svg_names_every_stock_and_signs_the_links(capsys, tmp_path, model_path):
    out = tmp_path / "diagram.svg"
    code, printed, _ = run_cli(capsys, "diagram", model_path, "--out", out)
    assert code == 0, printed
    texts = svg_texts(out)
    structure = read_structure(load_model(model_path))
    stocks = [name for name, kind in structure.kinds.items() if kind == "stock"]
    assert stocks
    for stock in stocks:
        assert all(line in texts for line in wrap(stock).splitlines()), stock
    signs = [sign for _, _, sign in structure.links]
    assert texts.count("+") == signs.count(1)
    assert texts.count("\u2212") == signs.count(-1)
    assert "<text" in out.read_text(encoding="utf-8")  # text stays text


@needs_dot
@pytest.mark.parametrize("name", ["kissinger_core", "four_orders"])
def test_loops_legend_names_each_named_loop_and_its_polarity(capsys, tmp_path, name):
    out = tmp_path / "loops.svg"
    code, printed, _ = run_cli(capsys, "diagram", MODELS / f"{name}.mdl", "--loops", "--out", out)
    assert code == 0
    texts = svg_texts(out)
    named = read_loops_file(MODELS / f"{name}.loops.toml")
    for loop in named:
        assert any(loop.name in text and "(" in text for text in texts), loop.name
    assert f"{len(named)} named loops marked" in printed


@needs_dot
def test_constants_are_optional_and_focus_keeps_the_neighbourhood(capsys, tmp_path):
    model = load_model(MODELS / "kissinger_core.mdl")
    plain, full = read_structure(model), read_structure(model, constants=True)
    assert "constant" not in plain.kinds.values()
    assert "constant" in full.kinds.values()
    near = read_structure(model, focus="restraint", depth=1)
    assert "Restraint" in near.kinds
    assert len(near.kinds) < len(plain.kinds)
    code, _, err = run_cli(capsys, "diagram", MODELS / "kissinger_core.mdl", "--focus", "No Such Thing",
                           "--out", tmp_path / "x.svg")
    assert code == 2
    assert "--focus 'No Such Thing'" in err
    assert len(err.strip().splitlines()) == 1


@needs_dot
@pytest.mark.parametrize("suffix", ["svg", "pdf"])
def test_same_model_same_bytes(capsys, tmp_path, suffix):
    for name in ("a", "b"):
        out = tmp_path / f"{name}.{suffix}"
        assert run_cli(capsys, "diagram", MODELS / "four_orders.mdl", "--loops", "--out", out)[0] == 0
    assert (tmp_path / f"a.{suffix}").read_bytes() == (tmp_path / f"b.{suffix}").read_bytes()


def test_flows_are_the_terms_a_stock_adds_or_subtracts():
    structure = read_structure(load_model(DATA / "decay.mdl"))
    assert structure.kinds == {"Stock": "stock", "outflow": "flow"}
    assert structure.links == [("Stock", "outflow", 1), ("outflow", "Stock", -1)]
    four_orders = read_structure(load_model(MODELS / "four_orders.mdl"))
    assert four_orders.kinds["Restraint"] == "auxiliary"  # inside Disorder's products, not a term
    assert four_orders.kinds["Authority Erosion"] == "flow"


def test_missing_dot_is_a_one_line_error(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    for argv in (["--out", tmp_path / "x.svg"], ["--write-sketch"]):
        code, _, err = run_cli(capsys, "diagram", DATA / "decay.mdl", *argv)
        assert code == 2
        assert err.count("\n") == 1
        assert "dot" in err
        assert "apt-get install graphviz" in err
    assert not (tmp_path / "x.svg").exists()


def test_bad_output_suffix_is_refused(capsys, tmp_path):
    code, _, err = run_cli(capsys, "diagram", DATA / "decay.mdl", "--out", tmp_path / "x.jpg")
    assert code == 2
    assert ".svg, .pdf or .png" in err


def pysd_sketch_variables(path) -> dict[str, set[str]]:
    """The variables of each view, as PySD's own sketch grammar and visitor read them."""
    from pysd.translators.vensim import vensim_utils as vu
    from pysd.translators.vensim.vensim_file import SketchVisitor

    text = path.read_text(encoding="utf-8")
    sketch = text.split("\\\\\\---///", 1)[1].split("///---\\\\\\")[0]
    grammar = vu.Grammar.get("sketch")
    views: dict[str, set[str]] = {}
    for line in sketch.strip().split("\n"):
        parsed = SketchVisitor(grammar.parse(line))
        if parsed.view_name:
            view = views.setdefault(parsed.view_name, set())
        elif parsed.variable_name:
            view.add(parsed.variable_name)
    return views


@needs_dot
@pytest.mark.parametrize("model_path", [DATA / "decay.mdl", MODELS / "kissinger_core.mdl", MODELS / "four_orders.mdl"],
                         ids=lambda p: p.stem)
def test_sketch_keeps_equations_and_pysd_reads_every_variable(tmp_path, model_path):
    copy = tmp_path / model_path.name
    copy.write_bytes(model_path.read_bytes())
    write_sketch(copy)
    before, after = model_path.read_bytes(), copy.read_bytes()
    cut = before.find(START)
    assert after[:cut if cut >= 0 else len(before)] == before[:cut if cut >= 0 else len(before)]
    views = pysd_sketch_variables(copy)
    model = load_model(copy)
    expected = {v.name.replace(" ", "_").lower() for v in model.variables.values() if v.kind != "control"}
    assert list(views) == ["view 1"]
    assert views["view 1"] == expected


@needs_dot
def test_sketch_is_deterministic_and_idempotent(tmp_path):
    first, second = tmp_path / "a" / "four_orders.mdl", tmp_path / "b" / "four_orders.mdl"
    for copy in (first, second):
        copy.parent.mkdir()
        copy.write_bytes((MODELS / "four_orders.mdl").read_bytes())
        write_sketch(copy)
    assert first.read_bytes() == second.read_bytes()
    once = first.read_bytes()
    write_sketch(first)
    assert first.read_bytes() == once


@needs_dot
def test_pysd_runs_the_sketched_model_with_split_views_and_the_same_results(tmp_path):
    import pysd

    source = DATA / "decay.mdl"
    copy = tmp_path / "decay.mdl"
    copy.write_bytes(source.read_bytes())
    write_sketch(copy)
    with pytest.warns(UserWarning, match="single view"):
        sketched = pysd.read_vensim(str(copy), split_views=True).run()
    original_copy = tmp_path / "original" / "decay.mdl"
    original_copy.parent.mkdir()
    original_copy.write_bytes(source.read_bytes())
    original = pysd.read_vensim(str(original_copy)).run()
    assert list(sketched.columns) == list(original.columns)
    np.testing.assert_array_equal(sketched.to_numpy(), original.to_numpy())


@needs_dot
def test_sketch_records_are_consistent(tmp_path):
    copy = tmp_path / "kissinger_core.mdl"
    copy.write_bytes((MODELS / "kissinger_core.mdl").read_bytes())
    write_sketch(copy)
    text = copy.read_text(encoding="utf-8")
    records = [line.split(",") for line in text.split("*View 1\n", 1)[1].split("///---")[0].splitlines()[1:]]
    ids = [int(r[1]) for r in records]
    assert ids == list(range(1, len(records) + 1))
    objects = {int(r[1]): r[0] for r in records if r[0] in ("10", "11", "12")}
    arrows = [r for r in records if r[0] == "1"]
    assert all(int(r[2]) in objects and int(r[3]) in objects for r in arrows)
    pipes = [r for r in arrows if r[4] in ("4", "100")]
    assert all(objects[int(r[2])] == "11" for r in pipes)  # a pipe leaves a valve
    valves = [i for i, code in objects.items() if code == "11"]
    assert sorted({int(r[2]) for r in pipes}) == sorted(valves)
    assert all(sum(int(r[2]) == v for r in pipes) == 2 for v in valves)  # one pipe to each end
    structure = read_structure(load_model(copy))
    flows = [name for name, kind in structure.kinds.items() if kind == "flow"]
    assert len(valves) == len(flows)


@needs_dot
def test_sketch_keeps_what_follows_the_sketch(tmp_path):
    teacup = CONFORMANCE / "teacup" / "teacup.mdl"
    if not teacup.exists():
        pytest.skip(f"{teacup} is absent (the shared conformance models sit beside the repository)")
    copy = tmp_path / "teacup.mdl"
    copy.write_bytes(teacup.read_bytes())
    write_sketch(copy)
    before, after = teacup.read_bytes(), copy.read_bytes()
    settings = before[before.index(b"///---\\\\\\"):]
    assert after.endswith(settings)
    assert after[:before.index(START)] == before[:before.index(START)]
    assert after != before
