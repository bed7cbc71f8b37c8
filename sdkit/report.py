"""Plain-text tables for the command line."""

from __future__ import annotations

from collections.abc import Sequence

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
    """Final value of each scalar variable per scenario, one row per scenario."""
    scalar = [v for v in variables if dataset[v].dims == ("scenario", "time")]
    header = ["scenario", *(dataset[v].attrs.get("long_name", v) for v in scalar)]
    rows = [
        [str(s), *(float(dataset[v].sel(scenario=s).dropna("time")[-1]) for v in scalar)]
        for s in dataset.scenario.values
    ]
    return table(header, rows)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """The same table as Markdown, for the docs."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def checks_table(results: Sequence, markdown: bool = False) -> str:
    """Reference-mode check results: the measured value beside each threshold, and the verdict."""
    rows = []
    for r in results:
        status = ("xfail" if not r.passed else "XPASS") if r.xfail else ("pass" if r.passed else "FAIL")
        rows.append([r.id, r.scenario, f"{r.value:.4g}", r.op, f"{r.threshold:.4g}", status])
    header = ["check", "scenario", "measured", "op", "threshold", "result"]
    return markdown_table(header, rows) if markdown else table(header, rows)
