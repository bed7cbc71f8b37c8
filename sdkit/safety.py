"""Refuse model text that could turn into live code when PySD translates it.

PySD writes a model's names, units and comments into a Python module and imports it.
A comment holding three quotes closes the generated docstring, so what follows would
run as code (see docs/security.md). sdkit refuses such text before any translation.
"""

from __future__ import annotations

import re
from pathlib import Path

from sdkit.errors import ModelFileError

_UNSAFE = [
    (re.compile(r'"""|\'\'\''), "three quotes in a row"),
    (re.compile(r"\x00"), "a NUL byte"),
]


def check_model_text(text: str, path: Path) -> None:
    """Raise ModelFileError if the model text holds anything that can escape PySD's quoting."""
    for pattern, what in _UNSAFE:
        match = pattern.search(text)
        if match:
            line = text.count("\n", 0, match.start()) + 1
            raise ModelFileError(
                f"{path.name} line {line} contains {what}, which PySD would turn into live "
                "Python code; remove it from the name, units or comment"
            )
