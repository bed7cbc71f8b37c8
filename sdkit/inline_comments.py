"""Comments in braces inside an equation, ``x = a * b {a note} + c``, removed before parsing.

Vensim ignores text in braces anywhere in an equation; PySD's parser stops at it. The
comments are blanked out of the equation's definition (the text before its first ``~``;
units and documentation keep their braces) and the newlines they spanned stay, so every
equation keeps its line. The file's encoding marker (``{UTF-8}``) and the sketch after
the model are left alone.
"""

from __future__ import annotations

import re

from sdkit.macros import split_sketch

_MARKER = re.compile(r"\A\s*\{[^{}\n]*\}")
_DEFINITION = re.compile(r"(?P<definition>[^~|]*)(?P<rest>~[^|]*\||\Z)")
_COMMENT = re.compile(r"\{[^{}]*\}")


def strip_inline_comments(text: str) -> str:
    """``text`` with every comment in braces inside an equation's definition blanked out."""
    model, tail = split_sketch(text)
    marker = _MARKER.match(model)
    head, model = (model[: marker.end()], model[marker.end():]) if marker else ("", model)
    return head + _DEFINITION.sub(_blank_comments, model) + tail


def _blank_comments(match: re.Match) -> str:
    definition = _COMMENT.sub(lambda c: "\n" * c[0].count("\n") + " ", match["definition"])
    return definition + match["rest"]
