"""The second reader: model files that PySD's parser cannot read, read by Simlin's.

Simlin's reader (the ``pysimlin`` package) opens Vensim ``.mdl`` files and XMILE
files (``.xmile``, ``.stmx``, ``.itmx``: Stella, iThink and other XMILE tools) and
writes the model it read as Vensim text (``Project.to_mdl``). That text then goes
through the same checks, parser, engine and PySD backend as a file PySD reads, so
nothing downstream knows two readers. A model's provenance says which reader read it
(:attr:`sdkit.model.Model.reader`).

Simlin's Vensim writer is not lossless for every model: where it renames a subscript
range or drops a mapping, the model it writes does not compile, and the error names
the equation of that text (see docs/engine.md, "A second reader").
"""

from __future__ import annotations

import warnings
from pathlib import Path

from sdkit.errors import ModelFileError

#: File suffixes only the second reader opens.
XMILE_SUFFIXES = (".xmile", ".stmx", ".itmx")


#: Deeper nesting of parentheses is refused before pysimlin sees the file: its parser
#: recurses natively, and a stack overflow there would end the process, not raise.
MAX_NESTING = 200


def nesting_depth(text: str) -> int:
    """The deepest nesting of parentheses in ``text``."""
    depth = deepest = 0
    for char in text:
        if char == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif char == ")":
            depth = max(depth - 1, 0)
    return deepest


def simlin_text(path: Path, source: str) -> str:
    """The Vensim text of the model Simlin's reader reads from ``path``, whose text is
    ``source`` (line ends are newlines).

    Raises
    ------
    ModelFileError
        pysimlin is not installed, or cannot read the file (the message says why).
    """
    if nesting_depth(source) > MAX_NESTING:
        raise ModelFileError(
            f"{path.name} nests parentheses more than {MAX_NESTING} deep, more than the second reader "
            "accepts; split its equations into intermediate variables"
        )
    try:
        import simlin
    except ImportError:
        raise ModelFileError(
            f"{path.name} needs the second reader, pysimlin, which is not installed; "
            "pip install pysimlin"
        ) from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # notes on how its writer formats Vensim's text
            text = simlin.load(str(path)).project.to_mdl().decode("utf-8")
    except Exception as exc:  # pysimlin raises its own hierarchy and cffi errors
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise ModelFileError(f"pysimlin cannot read {path.name}: {reason}") from None
    return text.replace("\r\n", "\n")
