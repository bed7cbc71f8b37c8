"""Comments in braces inside an equation are ignored, as Vensim ignores them."""

from __future__ import annotations

import pytest

from sdkit.engine import compile_model
from sdkit.engine import oracles as O
from sdkit.errors import UnsupportedFeature
from sdkit.inline_comments import strip_inline_comments

CONTROL = "FINAL TIME = 5 ~~|\nINITIAL TIME = 0 ~~|\nSAVEPER = 1 ~~|\nTIME STEP = 1 ~~|\n"
COMMENTED = ("{UTF-8}\nx = 2 * Time {twice\nthe time} + 1 ~ units {kept} ~ a note {kept too} |\n"
             "y = x {the same x} ~~|\n")
PLAIN = "{UTF-8}\nx = 2 * Time + 1 ~ units {kept} ~ a note {kept too} |\ny = x ~~|\n"


def test_comments_go_from_definitions_only_and_lines_stay():
    stripped = strip_inline_comments(COMMENTED + CONTROL)
    assert "twice" not in stripped
    assert "the same x" not in stripped
    assert stripped.startswith("{UTF-8}\n")
    assert "{kept}" in stripped
    assert "{kept too}" in stripped
    assert stripped.count("\n") == (COMMENTED + CONTROL).count("\n")


def test_a_model_with_comments_runs_like_the_model_without(tmp_path):
    commented, plain = tmp_path / "commented.mdl", tmp_path / "plain.mdl"
    commented.write_text(COMMENTED + CONTROL, encoding="utf-8")
    plain.write_text(PLAIN + CONTROL, encoding="utf-8")
    kernel = compile_model(commented)
    engine = O.engine_series(kernel, kernel.simulate({}, 1, backend="numpy"))
    diff, _, shared = O.max_rel_diff(engine, O.pysd_series(O.pysd_model(plain)))
    assert shared == 2
    assert diff == 0.0


def test_lines_after_a_comment_are_still_named_right(tmp_path):
    path = tmp_path / "m.mdl"
    path.write_text(COMMENTED + "z = RANDOM BETA(0, 1, 2, 3, 0, 1, 0) ~~|\n" + CONTROL, encoding="utf-8")
    with pytest.raises(UnsupportedFeature, match=r"'z' \(line 5\)"):
        compile_model(path)
