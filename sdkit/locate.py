"""Where an equation starts in a Vensim file, for error messages that name the right line.

PySD's parser joins a multi-line equation into one line before parsing it, so
its own positions ("line 1, column 6") count within that joined text, and
searching the file for the joined text fails. Here equations are found by the
name on their left-hand side instead.
"""

from __future__ import annotations

import re

from sdkit.macros import source_line

SKETCH_MARK = "\\\\\\---///"
_NAME_END = re.compile(r"[=(\[:~]")


def canonical(name: str) -> str:
    """Name key shared by Vensim, PySD and Simlin: ``"Total  Capacity[North]"`` ->
    ``total_capacity[north]`` (lower case, runs of spaces and underscores as one ``_``)."""
    name = name.replace('"', "").strip().lower()
    base, _, subs = name.partition("[")
    base = re.sub(r"[\s_]+", "_", base.strip())
    if not subs:
        return base
    elems = [re.sub(r"[\s_]+", "_", e.strip()) for e in subs.rstrip("]").split(",")]
    return f"{base}[{','.join(elems)}]"


def equation_lines(text: str) -> dict[str, int]:
    """Line number (1-based) of the first equation defining each name, by canonical name."""
    lines: dict[str, int] = {}
    offset = 0
    for chunk in text.split(SKETCH_MARK, 1)[0].split("|"):
        equation = chunk.split("~", 1)[0]
        start = offset + len(equation) - len(equation.lstrip())
        stripped = equation.lstrip()
        while stripped.startswith("{") and "}" in stripped:  # {UTF-8}, {comments}
            rest = stripped[stripped.index("}") + 1 :]
            start += len(stripped) - len(rest.lstrip())
            stripped = rest.lstrip()
        name = _NAME_END.split(stripped, 1)[0].strip()
        if name:
            lines.setdefault(canonical(name), source_line(chunk) or text.count("\n", 0, start) + 1)
        offset += len(chunk) + 1
    return lines


def with_line(message: str, name: str, text: str) -> str:
    """``message`` with ``'name'`` followed by ``(line N)`` where the file defines ``name``.

    When ``name`` is not quoted in the message, the first quoted name the file defines is used.
    """
    lines = equation_lines(text)
    for candidate in (name, *re.findall(r"'([^']+)'", message)):
        quoted, line = f"'{candidate}'", lines.get(canonical(candidate))
        if f"{quoted} (line" in message:
            return message
        if line is not None and quoted in message:
            return message.replace(quoted, f"{quoted} (line {line})", 1)
    return message
