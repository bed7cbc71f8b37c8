"""Save figures for papers: vector PDF, 300-dpi PNG, optional SVG, byte-reproducible.

The same figure saved twice gives the same bytes: the PDF creation date, the PNG
"Software" text and the SVG date and id salt are fixed. Each file is written to
a temporary file in the target folder and then renamed, so a reader never sees
a partial file.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sdkit.errors import OutputError
from sdkit.io import output_mode, refuse_special

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["FIGURE_FORMATS", "PUBLICATION_FORMATS", "save_figure", "write_figure"]

logger = logging.getLogger(__name__)

FIGURE_FORMATS = ("pdf", "png", "svg")
#: What every figure of ``sdkit reproduce`` and the docs is saved as.
PUBLICATION_FORMATS = ("png", "pdf", "svg")

_SOFTWARE = "sdkit"


def _metadata_text(metadata: Mapping[str, str]) -> str:
    return json.dumps(dict(metadata), sort_keys=True, separators=(",", ":"))


def _format_metadata(fmt: str, metadata: Mapping[str, str]) -> dict[str, Any]:
    text = _metadata_text(metadata) if metadata else None
    if fmt == "pdf":
        md: dict[str, Any] = {"Creator": _SOFTWARE, "CreationDate": None, "ModDate": None}
        if text:
            md["Keywords"] = text
            md["Subject"] = text
        return md
    if fmt == "png":
        md = {"Software": _SOFTWARE}
        md.update({str(k): str(v) for k, v in metadata.items()})
        return md
    # svg
    md = {"Date": None, "Creator": _SOFTWARE}
    if text:
        md["Description"] = text
        md["Keywords"] = [f"{k}={v}" for k, v in sorted(metadata.items())]
    return md


_SVG_ID = re.compile(rb'id="([a-z][0-9a-f]{10})"')


def _stable_svg_ids(data: bytes) -> bytes:
    """Renumber matplotlib's hashed SVG ids (``p3f2a...``) in order of appearance.

    Clip-path ids hash the clip rectangle's full float repr, which can change in
    the last bit when a figure is drawn again; sequential ids make the file
    depend only on what is drawn.
    """
    mapping: dict[bytes, bytes] = {}
    for match in _SVG_ID.finditer(data):
        old = match.group(1)
        if old not in mapping:
            mapping[old] = old[:1] + b"id%d" % len(mapping)
    if not mapping:
        return data
    pattern = re.compile(rb"\b(" + b"|".join(re.escape(k) for k in mapping) + rb")\b")
    return pattern.sub(lambda m: mapping[m.group(1)], data)


def _check_metadata(metadata: Mapping[str, str] | None) -> dict[str, str]:
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise OutputError(
            f"`metadata` must be a dict of str to str, got {type(metadata).__name__}"
        )
    out: dict[str, str] = {}
    for key, value in metadata.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise OutputError(
                f"`metadata` entry {key!r}: {value!r} is not str to str; convert it with str()"
            )
        if not key.isprintable() or len(key) > 79 or not key:
            raise OutputError(f"`metadata` key {key!r} must be 1-79 printable characters")
        out[key] = value
    return out


def save_figure(
    fig: Figure,
    path_stem: str | os.PathLike[str],
    formats: Sequence[str] = ("pdf", "png"),
    dpi: int = 300,
    metadata: Mapping[str, str] | None = None,
) -> list[Path]:
    """Save a figure as vector PDF and PNG (and SVG on request), reproducibly.

    Parameters
    ----------
    fig : matplotlib.figure.Figure or matplotlib.axes.Axes
        The figure to save (for an Axes, the figure it belongs to).
    path_stem : str or path-like
        Path without extension; ``"figures/trajectories"`` writes
        ``figures/trajectories.pdf`` and ``figures/trajectories.png``. Missing
        parent folders are created.
    formats : sequence of {"pdf", "png", "svg"}
        File formats to write.
    dpi : int
        Resolution [dots per inch] of the PNG and of rasterised parts of the PDF.
    metadata : dict of str to str, optional
        Stored in each file: PDF ``Keywords`` and ``Subject`` (as JSON), PNG text
        chunks (one per key), SVG ``Description`` (JSON) and ``Keywords``.

    Returns
    -------
    list of pathlib.Path
        The files written, in the order of `formats`.

    Raises
    ------
    OutputError
        If `fig` is not a figure, a format is unknown, `metadata` is not str to str, or the folder
        cannot be created or written.
    """
    if not hasattr(fig, "savefig") and hasattr(fig, "get_figure"):
        fig = fig.get_figure()  # an Axes: save the figure it sits in
    if not hasattr(fig, "savefig"):
        raise OutputError(f"`fig` must be a matplotlib Figure or Axes, got {type(fig).__name__}")
    fmts = _formats(formats)
    if not isinstance(dpi, int | float) or dpi <= 0:
        raise OutputError(f"`dpi` must be a positive number, got {dpi!r}")
    md = _check_metadata(metadata)

    stem = Path(path_stem)
    folder = stem.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"cannot create figure folder {str(folder)!r} ({exc.strerror}); choose a writable path"
        ) from None
    if not os.access(folder, os.W_OK):
        raise OutputError(f"figure folder {str(folder)!r} is not writable; choose a writable path")

    written: list[Path] = []
    for fmt in fmts:
        target = Path(f"{stem}.{fmt}")
        _write_one(fig, target, fmt, dpi, md)
        logger.info("wrote figure %s", target)
        written.append(target)
    return written


def _formats(formats: str | Sequence[str]) -> list[str]:
    """Figure formats, lower case without dots; refuses unknown ones and none."""
    if isinstance(formats, str):
        formats = (formats,)
    fmts = [str(f).lower().lstrip(".") for f in formats]
    for fmt in fmts:
        if fmt not in FIGURE_FORMATS:
            raise OutputError(
                f"unsupported figure format {fmt!r}; use one of {', '.join(FIGURE_FORMATS)}"
            )
    if not fmts:
        raise OutputError("`formats` is empty; pass e.g. ('pdf', 'png')")
    return fmts


def _write_one(fig: Any, target: Path, fmt: str, dpi: float, md: dict[str, str]) -> None:
    """Write one format atomically: a private temporary file beside ``target``, then a rename."""
    import matplotlib as mpl

    rc = {"svg.hashsalt": "sdkit", "svg.fonttype": "none", "pdf.fonttype": 42, "ps.fonttype": 42}
    tmp_name: str | None = None
    try:
        with tempfile.NamedTemporaryFile(
            dir=target.parent, prefix=f".{target.name}.", suffix=".tmp", delete=False
        ) as handle:
            tmp_name = handle.name
            with mpl.rc_context(rc):
                if fmt == "svg":
                    buffer = io.BytesIO()
                    fig.savefig(buffer, format=fmt, dpi=dpi,
                                metadata=_format_metadata(fmt, md))
                    handle.write(_stable_svg_ids(buffer.getvalue()))
                else:
                    fig.savefig(handle, format=fmt, dpi=dpi,
                                metadata=_format_metadata(fmt, md))
        os.chmod(tmp_name, output_mode())
        refuse_special(target)
        os.replace(tmp_name, target)
        tmp_name = None
    except OSError as exc:
        raise OutputError(
            f"cannot write figure {str(target)!r} ({exc.strerror}); choose a writable path"
        ) from None
    finally:
        if tmp_name is not None and os.path.exists(tmp_name):
            os.unlink(tmp_name)


def write_figure(fig: Any, out: str | os.PathLike[str], stem: str, metadata: Mapping[str, str] | None = None) -> list[Path]:
    """Save ``fig`` as ``out/stem.{png,pdf,svg}`` (300-dpi PNG, SVG text as text) and close it.

    The one save path of every figure that ``sdkit reproduce`` and the studies write.
    """
    import matplotlib.pyplot as plt

    figure = fig.get_figure() if not hasattr(fig, "savefig") and hasattr(fig, "get_figure") else fig
    try:
        return save_figure(figure, Path(out) / stem, formats=PUBLICATION_FORMATS, metadata=metadata)
    finally:
        plt.close(figure)
