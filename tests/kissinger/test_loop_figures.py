"""Loop dominance in the core model: the reproduce step and the docs page's figures."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

MODELS = Path(__file__).parents[2] / "models"


def test_reproduce_draws_the_versailles_dominance(tmp_path, monkeypatch):
    from sdkit import figures_io
    from sdkit.kissinger.reproduce import step_loop_dominance
    from sdkit.plot.lint import figure_problems
    from sdkit.reproduce import Context

    problems, save = {}, figures_io.save_figure

    def save_after_reading(fig, path_stem, **options):
        problems[Path(path_stem).name] = figure_problems(fig)
        return save(fig, path_stem, **options)

    monkeypatch.setattr(figures_io, "save_figure", save_after_reading)
    context = Context(models=MODELS, out=tmp_path, quick=True)
    said = []
    step_loop_dominance(context, said.append)
    assert problems == {"loops-rm2": []}
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == ["loops-rm2.pdf", "loops-rm2.png", "loops-rm2.svg"]
    table = (tmp_path / "loops-rm2.md").read_text(encoding="utf-8").splitlines()
    assert table[2].startswith("| RM2 | versailles | ")
    assert said == ["3 figure files"]
