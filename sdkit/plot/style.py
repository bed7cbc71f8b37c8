"""Publication style for sdkit figures: presets, one look per order, axis labels.

Every figure in sdkit draws an order (scenario) with the same colour and the same
line style, so that a reader can follow "liberal" from the trajectories to the
fan chart to the sensitivity bars, also in greyscale print. The palette is
Okabe & Ito's colour-blind-safe set.

A style is applied only inside a context manager built on
:func:`matplotlib.rc_context`; the global ``rcParams`` are never changed::

    with style("single"):
        fig = trajectories(ds)
        save_figure(fig, "figures/trajectories")
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib as mpl
from cycler import cycler

from sdkit.errors import PlotError

__all__ = [
    "FALLBACK_STYLES",
    "OKABE_ITO",
    "ORDER_STYLES",
    "PRESETS",
    "PlotError",
    "Preset",
    "axis_label",
    "order_style",
    "order_styles",
    "pretty_name",
    "style",
]

MM_PER_INCH = 25.4


#: Okabe & Ito (2008) colour-blind-safe palette, by name.
OKABE_ITO: dict[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}

#: One fixed colour, line style and marker per order, used by every figure.
ORDER_STYLES: dict[str, dict[str, Any]] = {
    "liberal": {"color": OKABE_ITO["blue"], "linestyle": "-", "marker": "o"},
    "transformative": {"color": OKABE_ITO["bluish_green"], "linestyle": "--", "marker": "s"},
    "mercantilist": {"color": OKABE_ITO["vermillion"], "linestyle": "-.", "marker": "^"},
    "sovereign": {"color": OKABE_ITO["reddish_purple"], "linestyle": ":", "marker": "D"},
    "balanced": {"color": OKABE_ITO["black"], "linestyle": (0, (6, 1.5, 1, 1.5, 1, 1.5)),
                 "marker": "v"},
}

#: Styles handed out, in order, to scenario names not in :data:`ORDER_STYLES`.
FALLBACK_STYLES: tuple[dict[str, Any], ...] = (
    {"color": OKABE_ITO["orange"], "linestyle": (0, (8, 2)), "marker": "P"},
    {"color": OKABE_ITO["sky_blue"], "linestyle": (0, (3, 1, 1, 1)), "marker": "X"},
    {"color": "#777777", "linestyle": (0, (1, 2)), "marker": "*"},
    {"color": "#B8A300", "linestyle": (0, (4, 1, 4, 1, 1, 1)), "marker": "h"},
    {"color": OKABE_ITO["orange"], "linestyle": (0, (1, 1)), "marker": "p"},
    {"color": OKABE_ITO["sky_blue"], "linestyle": (0, (10, 3, 2, 3)), "marker": "<"},
)


@dataclass(frozen=True)
class Preset:
    """A figure size preset.

    Attributes
    ----------
    name : str
        Preset name ("single" or "double").
    width_mm : float
        Figure width [mm], the column width of a typical journal.
    aspect : float
        Default height / width ratio.
    """

    name: str
    width_mm: float
    aspect: float

    @property
    def width_in(self) -> float:
        """Figure width [inch]."""
        return self.width_mm / MM_PER_INCH

    def figsize(self, aspect: float | None = None) -> tuple[float, float]:
        """Return ``(width, height)`` [inch] for a height / width ratio."""
        ratio = self.aspect if aspect is None else aspect
        return (self.width_in, self.width_in * ratio)


PRESETS: dict[str, Preset] = {
    "single": Preset("single", 85.0, 0.75),
    "double": Preset("double", 178.0, 0.45),
}

_BASE_RC: dict[str, Any] = {
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica"],
    "font.size": 8.0,
    "axes.titlesize": 8.0,
    "axes.labelsize": 8.0,
    "xtick.labelsize": 7.0,
    "ytick.labelsize": 7.0,
    "legend.fontsize": 7.0,
    "legend.title_fontsize": 7.0,
    "figure.titlesize": 9.0,
    "figure.labelsize": 8.0,
    "axes.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlepad": 4.0,
    "axes.labelpad": 2.0,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "xtick.major.size": 3.0,
    "ytick.major.size": 3.0,
    "lines.linewidth": 1.2,
    "lines.markersize": 4.0,
    "patch.linewidth": 0.6,
    "legend.frameon": False,
    "legend.handlelength": 2.8,
    "figure.dpi": 100,
    "savefig.dpi": 300,
    "figure.constrained_layout.use": True,
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "svg.fonttype": "none",
    "svg.hashsalt": "sdkit",
    "image.cmap": "cividis",
    "axes.prop_cycle": cycler(
        color=[ORDER_STYLES[k]["color"] for k in ORDER_STYLES]
        + [s["color"] for s in FALLBACK_STYLES[:2]]
    ),
}


def _preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except (KeyError, TypeError):
        valid = ", ".join(repr(k) for k in PRESETS)
        raise PlotError(f"unknown figure preset {name!r}; use one of {valid}") from None


@contextlib.contextmanager
def style(preset: str = "single", *, aspect: float | None = None,
          rc: Mapping[str, Any] | None = None) -> Iterator[Preset]:
    """Apply the sdkit publication style inside a ``with`` block.

    Parameters
    ----------
    preset : {"single", "double"}
        Figure width: "single" column (85 mm) or "double" column (178 mm).
    aspect : float, optional
        Default figure height / width ratio (default: the preset's).
    rc : mapping, optional
        Extra ``rcParams`` to apply on top of the style.

    Yields
    ------
    Preset
        The chosen preset (its ``width_in`` and ``figsize()`` help to size figures).

    Raises
    ------
    PlotError
        If `preset` is not a known preset name.

    Notes
    -----
    Built on :func:`matplotlib.rc_context`: every ``rcParams`` value is restored
    on exit, also when the block raises.
    """
    chosen = _preset(preset)
    params = dict(_BASE_RC)
    params["figure.figsize"] = chosen.figsize(aspect)
    if rc:
        params.update(rc)
    with mpl.rc_context(params):
        yield chosen


def order_style(name: str, index: int = 0) -> dict[str, Any]:
    """Return the colour, line style and marker of one order (scenario).

    Parameters
    ----------
    name : str
        Scenario name, e.g. "liberal".
    index : int
        Position among the *non-canonical* scenario names of the figure; picks
        a style from :data:`FALLBACK_STYLES` for names without a fixed style.

    Returns
    -------
    dict
        Keys ``color``, ``linestyle``, ``marker``.
    """
    key = str(name).strip().lower()
    if key in ORDER_STYLES:
        return dict(ORDER_STYLES[key])
    return dict(FALLBACK_STYLES[index % len(FALLBACK_STYLES)])


def order_styles(names: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Return a style per scenario name; unknown names get distinct fallback styles.

    The four orders and "balanced" always get their fixed style; other names
    get the fallback cycle in the order they appear in `names`.
    """
    out: dict[str, dict[str, Any]] = {}
    extra = 0
    for name in names:
        if name in out:
            continue
        if str(name).strip().lower() in ORDER_STYLES:
            out[name] = order_style(name)
        else:
            out[name] = order_style(name, extra)
            extra += 1
    return out


def pretty_name(name: str) -> str:
    """Turn a python-safe name into a label: ``"legitimacy_emphasis"`` -> ``"Legitimacy emphasis"``."""
    text = str(name).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


_DIMENSIONLESS = {"", "1", "dmnl", "dimensionless", "none"}
_SPELLINGS = {"year": "year", "years": "year", "yr": "year", "month": "month", "months": "month",
              "day": "day", "days": "day"}


def units_text(units: Any) -> str:
    """One spelling of a unit on every axis: time units in lower case and singular
    ("Year", "Years" -> "year"); "" for a dimensionless quantity (Dmnl, 1)."""
    text = str(units).strip()
    if text.lower() in _DIMENSIONLESS:
        return ""
    return _SPELLINGS.get(text.lower(), text)


def axis_label(obj: Any, default: str | None = None) -> str:
    """Return an axis label "Long name [units]" from ``long_name`` / ``units`` attributes.

    Parameters
    ----------
    obj : xarray.DataArray or xarray coordinate
        Object with ``attrs`` and ``name``.
    default : str, optional
        Label used when there is no ``long_name`` (default: the name, prettified).

    Returns
    -------
    str
        For example "Institutional Authority [dimensionless]" or "Time [year]".
    """
    attrs = getattr(obj, "attrs", {}) or {}
    name = attrs.get("long_name")
    if not name:
        name = default if default is not None else pretty_name(getattr(obj, "name", ""))
    units = units_text(attrs.get("units", ""))
    if not units and "units" in attrs:
        units = "dimensionless"
    return f"{name} [{units}]" if units else str(name)


def time_label(obj: Any) -> str:
    """Axis label for a ``time`` coordinate; years unless its ``units`` say otherwise."""
    attrs = getattr(obj, "attrs", {}) or {}
    units = units_text(attrs.get("units", "")) or "year"
    name = attrs.get("long_name") or "Time"
    return f"{name} [{units}]"


def select_names(available: Sequence[Any], wanted: Sequence[str] | None, what: str) -> list[str]:
    """Return `wanted` (default all of `available`), checking every name exists."""
    names = [str(v) for v in available]
    if wanted is None:
        return names
    if isinstance(wanted, str):
        wanted = [wanted]
    missing = [w for w in wanted if w not in names]
    if missing:
        raise PlotError(
            f"unknown {what} {missing[0]!r}; available: {', '.join(names) or 'none'}"
        )
    return list(wanted)
