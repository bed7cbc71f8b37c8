"""Vensim macros, expanded in the model text before any translator reads it.

A macro ``:MACRO: NAME(in1, in2 : out1) ... :END OF MACRO:`` defines equations in its
own namespace: the inputs are the call's arguments, the variable named like the macro
is the call's value, every other variable is local to one call (a stock in a macro
is one stock per call), and an output after ``:`` becomes a model variable named by
the call (``NAME(a, b : c)`` defines ``c``).

:func:`expand_macros` removes the definitions and gives each call its own copies of
the macro's equations, named ``<macro> <n> <variable>`` (the call's value is
``<macro> <n>``), so that PySD's parser and the engine see an ordinary model. The
definitions become blank lines and the copies go after the last equation, so every
original equation keeps its line number; each copy's comment ends with a note naming
the line it was copied from (:func:`source_line` reads it, so that error messages
name a line of the file, not of the expanded text). A call inside a subscripted equation
``x[region] = NAME(y[region])`` gets copies subscripted the same way.

Vensim's names ignore case and treat spaces and underscores alike; so does the
matching here. Macros may call macros (expanded until none is left, at most
``MAX_DEPTH`` deep).
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from sdkit.errors import ModelFileError

MAX_DEPTH = 20

_BLOCK = re.compile(r"^[ \t]*:MACRO:(?P<header>(?:[^\n]*\\[ \t]*\r?\n)*[^\n]*)$"
                    r"(?P<body>.*?)^[ \t]*:END OF MACRO:[ \t]*$", re.MULTILINE | re.DOTALL | re.IGNORECASE)
_OPENING = re.compile(r"^[ \t]*:MACRO:([^(\n]*)", re.MULTILINE | re.IGNORECASE)
_HEADER = re.compile(r"\s*(?P<name>[^(]+?)\s*\((?P<args>.*)\)\s*$", re.DOTALL)
_SKETCH = re.compile(r"^\\\\\\---///", re.MULTILINE)
_CONTINUATION = re.compile(r"\\[ \t]*\r?\n[ \t]*")
_TOKEN = re.compile(
    r"""(?P<quoted>"(?:[^"\\]|\\.)*")"""
    r"""|(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"""
    r"""|(?P<keyword>:[A-Za-z ]+:)"""
    r"""|(?P<name>[A-Za-z_\u0080-\uffff][\w \t$'&%\u0080-\uffff]*)"""
    r"""|(?P<other>.)""",
    re.DOTALL,
)


_SOURCE_NOTE = re.compile(r"\[expanded by sdkit from line (\d+)\]")


def split_sketch(text: str) -> tuple[str, str]:
    """The equations of a model text and its sketch section (from the ``\\\\\\---///`` line on, or "")."""
    sketch = _SKETCH.search(text)
    return (text[: sketch.start()], text[sketch.start():]) if sketch else (text, "")


def source_line(equation: str) -> int | None:
    """The file's line an expanded copy comes from (``None`` for an equation of the file itself)."""
    note = _SOURCE_NOTE.search(equation)
    return int(note.group(1)) if note else None


def _noted(equation: str, line: int) -> str:
    note = f"[expanded by sdkit from line {line}]"
    return f"{equation} {note}" if equation.count("~") >= 2 else f"{equation}\n\t~\t\n\t~\t{note}"


def vensim_key(name: str) -> str:
    """A name as Vensim compares names: no quotes, case, or difference between spaces and underscores."""
    return " ".join(name.strip().strip('"').replace("_", " ").lower().split())


@dataclasses.dataclass(frozen=True)
class Macro:
    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    equations: tuple[str, ...]  # each ``lhs = rhs ~ units ~ comment`` without the closing ``|``
    line: int
    equation_lines: tuple[int, ...]

    @property
    def locals(self) -> set[str]:
        """Keys of the variables the macro's equations define (its value, outputs and the rest)."""
        return {vensim_key(_left_name(equation)) for equation in self.equations}


def expand_macros(text: str, path: Path) -> str:
    """Model text with every macro definition removed and every call expanded.

    Raises
    ------
    ModelFileError
        A malformed definition or call: the message names the macro and its line.
    """
    macros = _definitions(text, path)
    if not macros:
        return text
    without = _BLOCK.sub(lambda block: "\n" * block.group(0).count("\n"), text)
    equations, rest = split_sketch(without)
    taken = {vensim_key(_left_name(chunk)) for chunk in equations.split("|") if "=" in chunk or ":=" in chunk}
    expander = _Expander(macros, taken, path)
    expanded, offset = [], 0
    for chunk in equations.split("|"):
        line = equations.count("\n", 0, offset) + 1
        expanded.append(expander.expand_equation(chunk, line))
        offset += len(chunk) + 1
    body = "|".join(expanded)
    added = expander.added
    if added:
        tail = body.rstrip()
        body = tail + "\n\n" + "".join(equation + "\n\t|\n\n" for equation in added) + body[len(tail):].lstrip("\n")
    return body + rest


def _definitions(text: str, path: Path) -> dict[str, Macro]:
    macros: dict[str, Macro] = {}
    for block in _BLOCK.finditer(text):
        line = text.count("\n", 0, block.start()) + 1
        header = _HEADER.match(_CONTINUATION.sub(" ", block.group("header")))
        if not header:
            raise ModelFileError(f"{path.name}: cannot read the macro header at line {line} "
                                 f"':MACRO:{block.group('header')[:60]}'; write ':MACRO: NAME(input, ... : output, ...)'")
        inputs_text, _, outputs_text = header.group("args").partition(":")
        name = header.group("name").strip()
        equations, lines = _equations_with_lines(block.group("body"), text.count("\n", 0, block.start("body")) + 1)
        macro = Macro(name, _names(inputs_text), _names(outputs_text), equations, line, lines)
        if vensim_key(name) not in macro.locals:
            raise ModelFileError(f"{path.name}: macro '{name}' (line {line}) has no equation for '{name}', "
                                 "its value; add one")
        for equation in equations:
            if "[" in _left_side(equation):
                raise ModelFileError(f"{path.name}: macro '{name}' (line {line}) defines the subscripted variable "
                                     f"'{_left_side(equation).strip()}'; sdkit expands macros of unsubscripted "
                                     "equations only; write the equations in the model instead")
        macros[vensim_key(name)] = macro
    opened = list(_OPENING.finditer(text))
    if len(opened) != len(macros):
        unclosed = next(m for m in opened if not any(b.start() == m.start() for b in _BLOCK.finditer(text)))
        raise ModelFileError(f"{path.name}: the macro '{unclosed.group(1).strip()}' at line "
                             f"{text.count(chr(10), 0, unclosed.start()) + 1} has no ':END OF MACRO:'; end its definition")
    return macros


def _equations_with_lines(body: str, first_line: int) -> tuple[tuple[str, ...], tuple[int, ...]]:
    equations, lines, offset = [], [], 0
    for chunk in body.split("|"):
        if chunk.strip():
            start = offset + len(chunk) - len(chunk.lstrip())
            equations.append(_CONTINUATION.sub(" ", chunk.strip()))
            lines.append(first_line + body.count("\n", 0, start))
        offset += len(chunk) + 1
    return tuple(equations), tuple(lines)


def _names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _left_side(equation: str) -> str:
    equation = equation.lstrip()
    match = re.search(r":=|=|\(", equation)  # a lookup definition ``name(`` has no ``=``
    return equation[: match.start()] if match else equation


def _left_name(equation: str) -> str:
    return _left_side(equation).split("[")[0].strip()


@dataclasses.dataclass
class _Call:
    macro: Macro
    arguments: list[str]
    outputs: list[str]
    start: int
    end: int
    line: int


class _Expander:
    """Expands the calls of one model's equations; collects the added equations."""

    def __init__(self, macros: dict[str, Macro], taken: set[str], path: Path) -> None:
        self.macros = macros
        self.taken = taken
        self.path = path
        self.added: list[str] = []
        self.counts: dict[str, int] = {}

    def expand_equation(self, chunk: str, line: int, depth: int = 0) -> str:
        """One equation (text up to its ``|``, starting at ``line``) with each call replaced by its value's name."""
        equation, tilde, documentation = chunk.partition("~")
        left = _left_side(equation)
        subscripts = left[left.index("["):].strip() if "[" in left else ""
        right_start = len(left)
        right_line = line + equation.count("\n", 0, right_start)
        expanded = equation[:right_start] + self._expand_expression(equation[right_start:], subscripts, right_line,
                                                                     depth)
        return expanded + tilde + documentation

    def _expand_expression(self, expression: str, subscripts: str, line: int, depth: int) -> str:
        out: list[str] = []
        position = 0
        while (call := self._next_call(expression, position, line)) is not None:
            out.append(expression[position:call.start])
            out.append(self._instantiate(call, subscripts, depth))
            out.append("\n" * expression.count("\n", call.start, call.end))  # keeps the lines' numbers
            position = call.end
        out.append(expression[position:])
        return "".join(out)

    def _next_call(self, expression: str, start: int, line: int) -> _Call | None:
        for kind, text, begin, end in _tokens(expression, start):
            if kind == "name" and vensim_key(text) in self.macros and self._followed_by_paren(expression, end):
                macro = self.macros[vensim_key(text)]
                call_line = line + expression.count("\n", 0, begin)
                arguments, outputs, close = self._arguments(expression, expression.index("(", end), macro, call_line)
                return _Call(macro, arguments, outputs, begin, close, call_line)
        return None

    @staticmethod
    def _followed_by_paren(text: str, end: int) -> bool:
        rest = text[end:].lstrip()
        return rest.startswith("(")

    def _arguments(self, expression: str, open_paren: int, macro: Macro,
                   line: int) -> tuple[list[str], list[str], int]:
        depth, parts, current, outputs = 0, [], [], None
        for kind, text, _, end in _tokens(expression, open_paren):
            if text in "([" and kind == "other":
                depth += 1
                if depth == 1 and text == "(":
                    continue
            elif text in ")]" and kind == "other":
                depth -= 1
                if depth == 0:
                    parts.append("".join(current).strip())
                    inputs, outs = (parts, []) if outputs is None else (outputs, parts)
                    self._check_arity(macro, inputs, outs, line)
                    return inputs, outs, end
            elif depth == 1 and kind == "other" and text in ",:":
                parts.append("".join(current).strip())
                current = []
                if text == ":":
                    outputs, parts = parts, []
                continue
            current.append(text)
        raise ModelFileError(f"{self.path.name}: the call of macro '{macro.name}' at line {line} has no "
                             "closing ')'; close it")

    def _check_arity(self, macro: Macro, inputs: list[str], outputs: list[str], line: int) -> None:
        if len(inputs) != len(macro.inputs) or len(outputs) != len(macro.outputs):
            raise ModelFileError(
                f"{self.path.name}: macro '{macro.name}' (line {macro.line}) takes {len(macro.inputs)} input(s)"
                f"{f' and {len(macro.outputs)} output(s)' if macro.outputs else ''}, the call at line {line} "
                f"gives {len(inputs)}"
                f"{f' and {len(outputs)}' if outputs else ''}; call it as {macro.name}"
                f"({', '.join(macro.inputs)}{' : ' + ', '.join(macro.outputs) if macro.outputs else ''})")

    def _instantiate(self, call: _Call, subscripts: str, depth: int) -> str:
        if depth >= MAX_DEPTH:
            raise ModelFileError(f"{self.path.name}: macro '{call.macro.name}' calls itself, through more than "
                                 f"{MAX_DEPTH} levels of macros; a macro cannot be recursive")
        prefix = self._fresh_prefix(call.macro.name)
        value_key = vensim_key(call.macro.name)
        renamed = {key: prefix if key == value_key else f"{prefix} {key}" for key in call.macro.locals}
        self.taken.update(vensim_key(name) for name in renamed.values())
        inputs = {vensim_key(name): f"({_CONTINUATION.sub(' ', argument)})" for name, argument in zip(call.macro.inputs, call.arguments, strict=True)}
        for equation, origin in zip(call.macro.equations, call.macro.equation_lines, strict=True):
            copy = _noted(_rename(equation, renamed, inputs, subscripts, self.macros), origin)
            self.added.append(self.expand_equation(copy, origin, depth + 1))
        for output, target in zip(call.macro.outputs, call.outputs, strict=True):
            source = renamed[vensim_key(output)]
            self.added.append(_noted(f"{target}{subscripts} = {source}{subscripts}\n\t~\t\n\t~\tOutput "
                                     f"'{output}' of macro {call.macro.name}.", call.line))
        return f"{prefix}{subscripts}"

    def _fresh_prefix(self, macro_name: str) -> str:
        while True:
            count = self.counts.get(macro_name, 0) + 1
            self.counts[macro_name] = count
            prefix = f"{macro_name} {count}"
            if vensim_key(prefix) not in self.taken:
                return prefix


def _rename(equation: str, renamed: dict[str, str], inputs: dict[str, str], subscripts: str,
            macros: dict[str, Macro]) -> str:
    """A macro equation with its variables renamed for one call and its inputs replaced by the arguments.

    A macro's name followed by ``(`` is a call (expanded afterwards), not its value.
    """
    out: list[str] = []
    definition, tilde, documentation = equation.partition("~")
    for kind, text, _, end in _tokens(definition):
        key = vensim_key(text) if kind in ("name", "quoted") else None
        if key in macros and _Expander._followed_by_paren(definition, end):
            out.append(text)
        elif key in renamed:
            out.append(_respace(text, renamed[key] + subscripts))
        elif key in inputs:
            out.append(_respace(text, inputs[key]))
        else:
            out.append(text)
    return "".join(out) + tilde + documentation


def _respace(token: str, replacement: str) -> str:
    """``replacement`` keeping the whitespace that the name token swallowed after it."""
    return replacement + token[len(token.rstrip()):]


def _tokens(text: str, start: int = 0):
    for match in _TOKEN.finditer(text, start):
        yield match.lastgroup, match.group(), match.start(), match.end()
