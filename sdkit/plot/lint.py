"""Read a drawn figure back and list what a reader would stumble on.

Three faults are found from the artists themselves, after drawing: a time axis
whose data fill only part of it (runs of another calendar widened it), text labels
that overlap (titles, axis and tick labels, annotations, legend entries), and a
legend that reaches beyond the figure's edge.
"""

from __future__ import annotations

from itertools import combinations
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.text import Text

__all__ = ["figure_problems", "time_axis_fill"]

#: Share of a time axis the data must cover.
MIN_FILL = 0.8


def time_axis_fill(ax: Axes) -> float | None:
    """Share of the x range covered by finite data of the panel's curves and bands.

    None when the panel draws no data along x (threshold lines alone do not count:
    they span the axes by construction).
    """
    low, high = sorted(ax.get_xlim())
    spans = [_data_span(line.get_xdata(), line.get_ydata()) for line in ax.get_lines()
             if line.get_transform() == ax.transData]
    for collection in ax.collections:
        for path in collection.get_paths():
            vertices = path.vertices
            spans.append(_data_span(vertices[:, 0], vertices[:, 1]))
    spans = [s for s in spans if s is not None]
    if not spans or high <= low:
        return None
    first = min(s[0] for s in spans)
    last = max(s[1] for s in spans)
    return (min(last, high) - max(first, low)) / (high - low)


def _data_span(x, y) -> tuple[float, float] | None:
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    finite = np.isfinite(x) & np.isfinite(y)
    if finite.sum() < 2:
        return None
    return float(x[finite].min()), float(x[finite].max())


def _texts(fig: Figure) -> list[Text]:
    texts = list(fig.texts)
    for legend in fig.legends:
        texts += list(legend.get_texts())
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        texts += [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label]
        texts += _shown_ticklabels(ax.get_xticklabels(), ax.get_xlim(), 0)
        texts += _shown_ticklabels(ax.get_yticklabels(), ax.get_ylim(), 1) + list(ax.texts)
        if ax.get_legend() is not None:
            texts += list(ax.get_legend().get_texts())
    unique = {id(t): t for t in texts}.values()
    return [t for t in unique if t.get_visible() and t.get_text().strip()]


def _shown_ticklabels(labels: list[Text], limits: tuple[float, float], coordinate: int) -> list[Text]:
    """Tick labels inside the view limits (matplotlib keeps, but does not draw, the others)."""
    low, high = sorted(limits)
    span = high - low
    return [t for t in labels if low - 1e-9 * span <= t.get_position()[coordinate] <= high + 1e-9 * span]


def figure_problems(fig: Figure, *, time_label: str = "Time") -> list[str]:
    """Problems of a figure, one line each; an empty list means none was found.

    The figure is read from a copy, drawn as it would be saved; `fig` itself is not
    changed.

    A panel is a time panel when its x label starts with `time_label` or it shares
    its x axis with one that does.
    """
    fig = _copy(fig)  # drawing lays a figure out: leave the caller's as it was
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    problems = []
    for number, ax in enumerate(fig.axes):
        if not ax.get_visible() or not _is_time_panel(ax, time_label):
            continue
        fill = time_axis_fill(ax)
        if fill is not None and fill < MIN_FILL:
            problems.append(f"panel {number} ({ax.get_title()!r}): data fill {fill:.0%} of the time axis")
    frame = fig.bbox
    for legend in [*fig.legends, *(ax.get_legend() for ax in fig.axes if ax.get_legend() is not None)]:
        box = legend.get_window_extent(renderer)
        if box.x0 < frame.x0 - 1 or box.x1 > frame.x1 + 1 or box.y0 < frame.y0 - 1 or box.y1 > frame.y1 + 1:
            problems.append(f"legend ({', '.join(t.get_text() for t in legend.get_texts()[:3])}, ...) "
                            "reaches beyond the figure")
    boxes = [(t, t.get_window_extent(renderer)) for t in _texts(fig)]
    for (a, box_a), (b, box_b) in combinations(boxes, 2):
        if box_a.overlaps(box_b) and box_a.width > 0 and box_b.width > 0:
            problems.append(f"text {a.get_text()!r} overlaps {b.get_text()!r}")
    return problems


def _copy(fig: Figure) -> Figure:
    import pickle

    return pickle.loads(pickle.dumps(fig))


def _is_time_panel(ax: Axes, time_label: str) -> bool:
    siblings = [ax, *ax.get_shared_x_axes().get_siblings(ax)]
    return any(s.get_xlabel().startswith(time_label) for s in siblings)
