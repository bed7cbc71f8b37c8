"""Refuse model text that PySD would execute as Python.

Two ways were found (docs/security.md):

* PySD's Vensim translator calls ``eval`` on the text between the brackets of a
  lookup's range, ``([(x0,y0)-(x1,y1)], ...)``, and its grammar lets that text be
  anything but ``]``: a range such as ``[__import__('os').system(...)]`` runs while
  the file is being *parsed*.
* PySD writes each variable's comment into a triple-quoted docstring of the Python
  module it generates and imports; a comment holding three quotes closes that
  docstring, and what follows runs when the model is loaded.

sdkit checks the raw text for both before anything is parsed or translated.
"""

from __future__ import annotations

import re
from pathlib import Path

from sdkit.errors import ModelFileError

_SKETCH = "\\\\\\---///"
_LOOKUP_RANGE = re.compile(r"\([\s\\]*\[(?P<inside>[^\]]*)\]")
_NUMERIC_RANGE = re.compile(r"^[\s0-9.eE+\-(),]*$")
_FORBIDDEN = [
    (re.compile(r'"""|\'\'\''), "three quotes in a row"),
    (re.compile(r"\x00"), "a NUL byte"),
]


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
    equations = text.split(_SKETCH, 1)[0]
    for match in _LOOKUP_RANGE.finditer(equations):
        if not _NUMERIC_RANGE.match(match["inside"]):
            raise ModelFileError(
                f"{path.name} line {_line_of(text, match.start())}: lookup range "
                f"[{match['inside'][:40]}] is not numbers; PySD would evaluate it as Python code. "
                "Write it as [(xmin,ymin)-(xmax,ymax)]"
            )
