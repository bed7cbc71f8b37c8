"""Decode model files once and refuse text that PySD would execute as Python.

Three ways were found (docs/security.md):

* PySD decodes a model with whatever encoding its ``{...}`` header names; under
  ``{UTF-7}``, ``{unicode_escape}`` and the like, ``+AFs-`` or ``\\x5b`` become ``[``
  *after* any check of the bytes. sdkit therefore decodes the file itself (UTF-8, with
  or without a byte-order mark, or a single-byte code page Vensim writes), refuses any
  other declared encoding, and hands PySD the checked text, never the path.
* PySD's Vensim translator calls ``eval`` on the text between the brackets of a
  lookup's range, ``([(x0,y0)-(x1,y1)], ...)``; a range such as
  ``[__import__('os').system(...)]`` runs while the file is being *parsed*.
* PySD writes each variable's comment into a triple-quoted docstring of the Python
  module it generates and imports; a comment holding three quotes closes it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sdkit.errors import ModelFileError
from sdkit.locate import SKETCH_MARK

_NUMBER = r"[-+]?\s*(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_PAIR = rf"\(\s*{_NUMBER}\s*,\s*{_NUMBER}\s*\)"
_LOOKUP_RANGE = re.compile(r"\([\s\\]*\[(?P<inside>[^\]]*)\]")
#: ``[(xmin,ymin)-(xmax,ymax)]``, optionally followed by reference points ``,(x,y)...``.
_NUMERIC_RANGE = re.compile(rf"^\s*{_PAIR}\s*-\s*{_PAIR}\s*(?:,\s*{_PAIR}\s*)*$")
_FORBIDDEN = [
    (re.compile(r'"""|\'\'\''), "three quotes in a row"),
    (re.compile(r"\x00"), "a NUL byte"),
]
_BOM = b"\xef\xbb\xbf"
#: Encodings a ``{...}`` header may declare (normalised: lower case, no ``-``, ``_``,
#: spaces): UTF-8 and the single-byte code pages Vensim writes. Each maps bytes below
#: 0x80 to ASCII, so ``[``, ``"``, ``\\`` and ``(`` can only be written as themselves.
ENCODINGS = {
    "utf8": "utf-8",
    "ascii": "ascii",
    "usascii": "ascii",
    "latin1": "latin-1",
    "iso88591": "latin-1",
    "l1": "latin-1",
    "cp1252": "cp1252",
    "windows1252": "cp1252",
    "macintosh": "mac_roman",
    "macroman": "mac_roman",
}
_DECLARATION = re.compile(rb"^[ \t]*\{([^}\r\n]{0,40})\}")


def _declared_encoding(raw: bytes) -> str | None:
    match = _DECLARATION.match(raw)
    return match[1].decode("latin-1").strip() if match else None


def decode_model(raw: bytes, path: Path) -> str:
    """The text of a model file, decoded the one way sdkit accepts.

    UTF-8 (a byte-order mark is dropped) unless the ``{...}`` header on the first line
    names one of :data:`ENCODINGS`; line ends become ``\\n``, as PySD's reader makes them.

    Raises
    ------
    ModelFileError
        Another encoding is declared, or the bytes are not valid in the declared one.
    """
    has_bom = raw.startswith(_BOM)
    body = raw[len(_BOM) :] if has_bom else raw
    declared = _declared_encoding(body)
    encoding = "utf-8"
    if declared is not None:
        key = re.sub(r"[-_\s]", "", declared.lower())
        if key not in ENCODINGS:
            raise ModelFileError(
                f"{path.name} declares the encoding {{{declared[:40]}}}, which sdkit does not read; "
                "save the model as UTF-8 (Vensim writes {UTF-8})"
            )
        encoding = ENCODINGS[key]
        if has_bom and encoding != "utf-8":
            raise ModelFileError(
                f"{path.name} starts with a UTF-8 byte-order mark but declares {{{declared}}}; "
                "save the model as UTF-8"
            )
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError as exc:
        offset = exc.start + (len(_BOM) if has_bom else 0)
        label = {"utf-8": "UTF-8", "ascii": "ASCII"}.get(encoding, encoding)
        raise ModelFileError(f"{path} is not {label} text (byte {offset}); save it as UTF-8") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _line_of(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


def check_model_text(text: str, path: Path) -> None:
    """Raise ModelFileError if the model text holds anything PySD would run as code."""
    for pattern, what in _FORBIDDEN:
        match = pattern.search(text)
        if match:
            raise ModelFileError(
                f"{path.name} line {_line_of(text, match.start())} contains {what}, which PySD would "
                "turn into live Python code; remove it from the name, units or comment"
            )
    equations = text.split(SKETCH_MARK, 1)[0]
    for match in _LOOKUP_RANGE.finditer(equations):
        inside = match["inside"].replace("\\\n", " ")
        if not _NUMERIC_RANGE.match(inside):
            raise ModelFileError(
                f"{path.name} line {_line_of(text, match.start())}: lookup range "
                f"[{match['inside'][:40]}] is not numbers; PySD would evaluate it as Python code. "
                "Write it as [(xmin,ymin)-(xmax,ymax)]"
            )


def vensim_file(path: Path, text: str) -> Any:
    """PySD's ``VensimFile`` for checked ``text`` (it never opens ``path``).

    ``path`` still names the model's folder, where PySD looks for data and subscript
    files. The guard runs again on the exact text PySD will parse.
    """
    from pysd.translators.vensim.vensim_file import VensimFile

    class CheckedVensimFile(VensimFile):
        def _read(self, encoding: Any) -> str:
            return text

    vensim = CheckedVensimFile(path)
    check_model_text(vensim.model_text, path)
    return vensim
