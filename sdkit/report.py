"""Plain-text tables for the command line."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A left-aligned text table with a rule under the header."""
    cells = [[_cell(c) for c in row] for row in [list(header), *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cell(value: object) -> str:
    if isinstance(value, float | np.floating):
        return f"{value:.4g}"
    return str(value)


def final_values(dataset: xr.Dataset, variables: Sequence[str]) -> str:
    """Final value of each scalar variable per scenario, one row per scenario (per model and
    scenario when the dataset has a ``model`` dimension, as :func:`sdkit.compare.compare` makes)."""
    runs = ("model", "scenario") if "model" in dataset.dims else ("scenario",)
    scalar = [v for v in variables if v in dataset and dataset[v].dims == (*runs, "time")]
    header = [*runs, *(dataset[v].attrs.get("long_name", v) for v in scalar)]
    keys = [(m, s) for m in dataset["model"].values for s in dataset["scenario"].values] if "model" in runs \
        else [(s,) for s in dataset["scenario"].values]
    rows = []
    for key in keys:
        where = dict(zip(runs, key, strict=True))
        rows.append([*map(str, key), *(last_value(dataset[v].sel(where).values) for v in scalar)])
    return table(header, rows)


def last_value(values: np.ndarray) -> float:
    """The last value of a run that is not NaN (NaN when every value is), as ``dropna`` leaves it."""
    kept = values[~np.isnan(values)]
    return float(kept[-1]) if kept.size else float("nan")


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """The same table as Markdown, for the docs."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def distinct(value: float, threshold: float, digits: int = 6) -> tuple[str, str]:
    """Both numbers with the fewest significant digits (at least ``digits``) that tell them apart.

    Unequal numbers never print alike: 2012.5 and 2012 print as ``2012.5`` and ``2012``.
    """
    value, threshold = value + 0.0, threshold + 0.0  # -0.0 prints as 0
    for precision in range(digits, 18):
        a, b = f"{value:.{precision}g}", f"{threshold:.{precision}g}"
        if a != b or value == threshold or value != value or threshold != threshold:
            return a, b
    return repr(float(value)), repr(float(threshold))


def signed(margin: float) -> str:
    """A margin with its sign, 4 significant digits: ``+0.0123``, ``-0.5``, ``nan``."""
    return f"{margin + 0.0:+.4g}" if margin == margin else "nan"


def _status(result: Any) -> str:
    if result.xfail:
        return "xfail" if not result.passed else "XPASS"
    return "pass" if result.passed else "FAIL"


def _where(result: Any) -> str:
    """The scenario, with the constants the check set on top of it."""
    settings = getattr(result, "overrides", None) or {}
    if not settings:
        return str(result.scenario)
    return f"{result.scenario} + " + ", ".join(f"{k}={v:g}" if isinstance(v, int | float) else f"{k}={v}" for k, v in settings.items())


def checks_table(results: Sequence, markdown: bool = False) -> str:
    """Check results: measured value, threshold and signed margin (positive passes by that much), and the verdict."""
    rows = []
    for r in results:
        measured, threshold = distinct(r.value, r.threshold)
        rows.append([r.id, _where(r), measured, r.op, threshold, signed(r.margin), _status(r)])
    header = ["check", "scenario", "measured", "op", "threshold", "margin", "result"]
    text = markdown_table(header, rows) if markdown else table(header, rows)
    notes = [f"  {r.id}: {r.note}" for r in results if getattr(r, "note", "")]
    return "\n".join([text, *notes]) if notes and not markdown else text


def knockouts_table(knockouts: Sequence, markdown: bool = False) -> str:
    """Mechanism tests: each knockout's named checks under it; a test passes when all of them fail."""
    rows = []
    for k in knockouts:
        for i, r in enumerate(k.results):
            measured, threshold = distinct(r.value, r.threshold)
            verdict = "fails" if not r.passed else "still passes"
            if r.id in k.failing_without:
                verdict += " (fails without the knockout too)"
            rows.append([k.knockout.id if i == 0 else "", "pass" if k.passed and i == 0 else ("FAIL" if i == 0 else ""),
                         r.id, measured, r.op, threshold, signed(r.margin), verdict])
    header = ["knockout", "test", "check", "measured", "op", "threshold", "margin", "under knockout"]
    return markdown_table(header, rows) if markdown else table(header, rows)


def robust_table(report: Any) -> str:
    """Pass rate and median margin per check, then the pass rate per mode, of ``sdkit check --robust``."""
    rows = [[check, mode, f"{rate:.0%}", signed(median)] for check, mode, rate, median in report.check_rows()]
    checks = table(["check", "mode", "pass rate", "median margin"], rows)
    modes = table(["mode", "pass rate (all its checks in the same draw)"],
                  [[mode, f"{rate:.0%}"] for mode, rate in report.mode_rates().items()])
    head = (f"{report.draws} draws, each constant that is not a scenario lever x U({1 - report.spread:g}, "
            f"{1 + report.spread:g}), seed {report.seed}: {len(report.perturbed)} constants perturbed")
    return f"{head}\n{checks}\n\n{modes}"


def parameter_rows(model: object, pattern: str | None = None) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a model's constants: name, default, units, range, description.

    `pattern` keeps the constants whose name or description contains it (any case).
    """
    header = ["parameter", "default", "units", "range", "description"]
    rows = []
    for name in model.constants:
        v = model.variables[name]
        if pattern and pattern.lower() not in f"{v.name} {v.comment}".lower():
            continue
        low, high = v.limits
        span = "" if v.limits == (None, None) else f"[{'' if low is None else f'{low:g}'}, {'' if high is None else f'{high:g}'}]"
        description = " ".join(v.comment.split())
        if name in model.control_constants:
            description = f"({_time_role(model, name)}) {description}".strip()
        rows.append([v.name, _default_text(v.default), v.units, span, description])
    return header, rows


def _time_role(model: object, name: str) -> str:
    """What a constant of the time settings does, and how to change it."""
    if model.time.read_by(name):
        return "shapes the time grid: edit it in the model file"
    return "sets the time: use a scenario's [time] table"


def _default_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, tuple):
        return "(" + ", ".join(_default_text(v) for v in value) + ")"
    return f"{value:g}"


def baseline_table(base: Sequence, variant: Sequence, base_name: str, variant_name: str) -> str:
    """Each check on a base model and a variant: both verdicts, both values and the change of margin.

    Checks whose verdict changed come first, under their own heading.
    """
    by_id = {r.id: r for r in base}
    header = ["check", base_name, variant_name, "value (base)", "value (variant)", "margin change"]
    changed, same = [], []
    for r in variant:
        b = by_id.get(r.id)
        if b is None:
            continue
        row = [r.id, _status(b), _status(r), *distinct(b.value, r.value), signed(r.margin - b.margin)]
        (changed if _status(b) != _status(r) else same).append(row)
    parts = [f"{len(changed)} of {len(changed) + len(same)} checks changed verdict from {base_name} to {variant_name}"]
    if changed:
        parts.append(table(header, changed))
    parts.append("unchanged verdicts:" if changed else "all verdicts unchanged:")
    parts.append(table(header, same))
    return "\n".join(parts)
