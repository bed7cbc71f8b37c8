"""The generated kernel source with each generated name explained, for reading only.

The kernel's code names node ``i`` of the model ``v{i}`` (its value) and, for a
stock, ``d{i}`` (its rate of change); no model text is written into the code that
runs. The numba kernel of a subscripted model reads and writes rows of ``X``
instead: ``X[52 * 16 + i]`` is node 52, and inside a loop over the elements of an
equation ``X[(351 + 18 * e) * 16 + i]`` is node ``351 + 18 * e``; the rows after the
last node hold the stocks' next values. :func:`annotated_source`
returns that code with a comment at the end of each line naming the model variable
(and element) behind every generated name or row on it; a looped row is named by its
first element (``e = 0``). A block of the numba kernel names what it reads ``a0, a1, ...``
and what it computes ``b0, b1, ...`` (:mod:`sdkit.engine.nbblocks`); :func:`annotated_modules`
names those too.
"""

from __future__ import annotations

import re

from sdkit.engine.ir import ModelIR

_GENERATED = re.compile(r"\b([vd])(\d+)\b")
_LOCAL = re.compile(r"\b[ab]\d+\b")
_ROW = re.compile(r"X\[\(?(\d+)( \+ (?:\d+ \* )?e)?\)? \* \d+ \+ i\]")


def node_names(ir: ModelIR) -> dict[int, str]:
    """Node index -> the model's name of its variable, with the element for a subscripted one."""
    named = {}
    for index, node in enumerate(ir.nodes):
        base, bracket, element = node.label.partition("[")
        named[index] = ir.names.get(base, base) + (bracket + element if bracket else "")
    return named


def annotated_source(source: str, ir: ModelIR) -> str:
    """``source`` with ``# v12 = Legitimacy Change; d3 = d/dt Power`` comments on its lines."""
    names = node_names(ir)
    stocks = [index for index, node in enumerate(ir.nodes) if node.kind == "stock"]
    # the looped numba kernel keeps the j-th stock's next value in row n_nodes + j
    rows = names | {len(ir.nodes) + j: f"next {names[index]}" for j, index in enumerate(stocks)}
    lines = []
    for line in source.splitlines():
        code = line.split("#", 1)[0]
        seen = dict.fromkeys(match.group(0) for match in _GENERATED.finditer(code))
        found = dict.fromkeys(match.group(1, 2) for match in _ROW.finditer(code))
        notes = [_explain(token, names) for token in seen] + [_explain_row(*row, rows) for row in found]
        notes = [note for note in notes if note]
        lines.append(f"{line}  # {'; '.join(notes)}" if notes else line)
    return "\n".join(lines) + "\n"


def _explain(token: str, names: dict[int, str]) -> str:
    kind, index = token[0], int(token[1:])
    if index not in names:
        return ""
    return f"{token} = {names[index]}" if kind == "v" else f"{token} = d/dt {names[index]}"


def _explain_row(row: str, step: str | None, names: dict[int, str]) -> str:
    name = names.get(int(row))
    if name is None:
        return ""
    return f"X row {row}{step} = {name} at e = 0" if step else f"X row {row} = {name}"


def annotated_modules(modules: list[tuple[str, str]], local_names: list[dict[str, tuple[int, bool]]],
                      ir: ModelIR) -> str:
    """The numba kernel's modules, annotated: a block's local names by ``local_names``, other code as above."""
    names = node_names(ir)
    texts = []
    for (_, text), local in zip(modules, local_names, strict=True):
        if not local:
            texts.append(annotated_source(text, ir))
            continue
        lines = []
        for line in text.splitlines():
            seen = dict.fromkeys(m.group(0) for m in _LOCAL.finditer(line.split("#", 1)[0]) if m.group(0) in local)
            notes = [f"{token} = {'next ' if local[token][1] else ''}{names[local[token][0]]}" for token in seen]
            lines.append(f"{line}  # {'; '.join(notes)}" if notes else line)
        texts.append("\n".join(lines) + "\n")
    return "\n".join(texts)
