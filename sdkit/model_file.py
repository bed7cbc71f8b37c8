"""Read a model file once: its bytes, its checked text and PySD's abstract model of it.

Every reader of a model (the :class:`~sdkit.model.Model`, the engine's translator,
PySD's code generator) is given the text :func:`read_model_text` returns, never the
path to decode again. :func:`parse_model_text` is the one parse of that text: PySD's
Vensim parser with Vensim's operator precedence (:mod:`sdkit.precedence`), with
errors that name the failing equation and its line.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sdkit.errors import ModelFileError, SdkitWarning
from sdkit.flat_lookups import pair_flat_lookups
from sdkit.inline_comments import strip_inline_comments
from sdkit.io import read_input
from sdkit.locate import SKETCH_MARK, canonical, equation_lines
from sdkit.macros import expand_macros
from sdkit.parsed import cached_parse
from sdkit.precedence import vensim_parsing
from sdkit.safety import check_model_text, decode_model, vensim_file
from sdkit.simlin_reader import XMILE_SUFFIXES, simlin_text
from sdkit.subscript_case import canonical_subscript_case

#: Model files above this size are refused before parsing: PySD's parser takes about
#: 3 ms per equation (a 4 MB model file, some 35,000 equations, takes about two minutes).
#: Raise it with the environment variable ``SDKIT_MAX_MODEL_MB``.
MAX_MODEL_BYTES = 4_000_000

#: Longer equations are refused: PySD's parser and code generator recurse once per
#: operator and take tens of seconds (then overflow the stack) on equations this long.
MAX_EQUATION_CHARS = 20_000

_INTEG_ONE_ARGUMENT = "missing 1 required positional argument: 'initial'"
#: PySD's own position, counted within the equation joined into one line: misleading.
_PARSER_POSITION = re.compile(r" [(]line \d+, column \d+[)]")


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_model_text(path: Path) -> tuple[bytes, str]:
    """The bytes of a model file and its checked text, the only text any translator is given.

    Raises
    ------
    ModelFileError
        Not a regular file, too large, in an encoding sdkit does not read, empty, or
        holding text PySD would run as code.
    """
    limit = _max_model_bytes()
    raw = read_input(path, "model file", ModelFileError, limit,
                     advice="split the model, or raise the limit with SDKIT_MAX_MODEL_MB")
    text = decode_model(raw, path)
    if not text.strip():
        raise ModelFileError(f"{path} is empty; save the model from Vensim as a .mdl file")
    return raw, _prepared(text, path)


def _prepared(text: str, path: Path) -> str:
    """Vensim ``text`` with the forms PySD's parser lacks rewritten, checked for code."""
    text = pair_flat_lookups(expand_macros(strip_inline_comments(text), path))
    check_model_text(text, path)
    return text


@dataclass(frozen=True)
class ReadModel:
    """A model file as read: its bytes, the checked Vensim text every translator is
    given, PySD's abstract model of that text, and the reader that produced the text."""

    raw: bytes
    text: str
    abstract_model: Any
    reader: str  # "pysd" or "pysimlin" (sdkit.simlin_reader)


def read_model(path: Path) -> ReadModel:
    """Read and parse a model file with PySD's parser, or with Simlin's reader
    (:mod:`sdkit.simlin_reader`) for an XMILE file or a Vensim file PySD cannot parse.

    Raises
    ------
    ModelFileError
        Neither reader can read the file; the message gives both reasons.
    """
    if path.suffix.lower() in XMILE_SUFFIXES:
        raw = read_input(path, "model file", ModelFileError, _max_model_bytes())
        text = _prepared(simlin_text(path, raw.decode("utf-8", errors="replace")), path)
        check_equation_lengths(text, path)
        return ReadModel(raw, text, parse_model_text(path, text), "pysimlin")
    raw, text = read_model_text(path)
    check_equation_lengths(text, path)
    try:
        return ReadModel(raw, text, parse_model_text(path, text), "pysd")
    except ModelFileError as pysd_error:
        try:
            second = _prepared(simlin_text(path, text), path)
            check_equation_lengths(second, path)
            abstract_model = parse_model_text(path, second)
        except ModelFileError as simlin_error:
            raise ModelFileError(f"{pysd_error} (pysimlin cannot read it either: {simlin_error})") from None
        warnings.warn(f"{pysd_error}; read by the second reader, pysimlin, instead", SdkitWarning, stacklevel=2)
        return ReadModel(raw, second, abstract_model, "pysimlin")


def _max_model_bytes() -> int:
    text = os.environ.get("SDKIT_MAX_MODEL_MB", "")
    try:
        return int(float(text) * 1_000_000) if text else MAX_MODEL_BYTES
    except ValueError:
        raise ModelFileError(
            f"SDKIT_MAX_MODEL_MB={text!r} is not a number; set it to a size in MB, e.g. 20"
        ) from None


def check_equation_lengths(text: str, path: Path) -> None:
    """Refuse an equation longer than :data:`MAX_EQUATION_CHARS`, naming its line."""
    position = 0
    for equation in text.split(SKETCH_MARK, 1)[0].split("|"):
        if len(equation) > MAX_EQUATION_CHARS:
            name = equation.strip().split("=", 1)[0].strip()[:60]
            line = text.count("\n", 0, position) + 1 + equation[: len(equation) - len(equation.lstrip())].count("\n")
            raise ModelFileError(
                f"{path.name} line {line}: the equation of {name!r} is {len(equation):,} characters "
                f"long, more than {MAX_EQUATION_CHARS:,}; split it into intermediate variables"
            )
        position += len(equation) + 1


def parse_model_text(path: Path, text: str, vensim_precedence: bool = True) -> Any:
    """PySD's abstract model of checked ``text``, parsed with Vensim's precedence.

    ``vensim_precedence=False`` parses with PySD's own precedence: the form PySD's code
    generator is given, so that PySD runs a model exactly as ``pysd.read_vensim`` would.

    Raises
    ------
    ModelFileError
        The text does not parse; the message names the equation and its line.
    """
    def parse() -> Any:
        vensim = vensim_file(path, text)
        with vensim_parsing() if vensim_precedence else contextlib.nullcontext():
            vensim.parse()
        return canonical_subscript_case(vensim.get_abstract_model())

    try:
        check_model_text(text, path)  # also when the parse comes from the cache
        return cached_parse(path, text, vensim_precedence, parse)
    except ModelFileError:
        raise
    except RecursionError:
        raise ModelFileError(
            f"cannot parse model file {path.name}: an equation is nested too deeply; "
            "split it into intermediate variables"
        ) from None
    except Exception as exc:  # PySD raises many exception types for malformed files
        raise _parse_error(path, text, exc) from exc


def _parse_error(path: Path, text: str, exc: Exception) -> ModelFileError:
    where = _failing_equation(path, text)
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    reason = _PARSER_POSITION.sub("", reason)
    if where.startswith("stock"):
        return ModelFileError(f"cannot parse model file {path.name}: {where}")
    if where:
        return ModelFileError(
            f"cannot parse model file {path.name}: {where}: {reason[:160]}; fix that equation"
        )
    equations = text.split(SKETCH_MARK, 1)[0].rstrip()
    if equations and not equations.endswith("|") and SKETCH_MARK not in text:
        lines = [x.strip() for x in equations.rsplit("|", 1)[-1].splitlines()]
        last = next((x for x in lines if x and not x.startswith("{")), lines[-1])[:40]
        return ModelFileError(
            f"cannot parse model file {path.name}: it ends inside an equation ({last!r}), so it "
            "was probably cut short; restore the end of the file from a saved copy"
        )
    return ModelFileError(
        f"cannot parse model file {path.name}: {reason[:200]}; fix the equation it names "
        "or open the file in Vensim to locate the error"
    )


def _failing_equation(path: Path, text: str) -> str:
    """Parse the file equation by equation to name the first one PySD rejects ('' if none)."""
    try:
        vensim = vensim_file(path, text)
        with vensim_parsing():
            vensim.parse(parse_all=False)
            for section in vensim.sections:
                section.parse(parse_all=False)
                for element in section.elements:
                    failure = _element_failure(element, text)
                    if failure:
                        return failure
    except Exception:  # noqa: BLE001 - the file-level error message is still given
        return ""
    return ""


def _element_failure(element: Any, text: str) -> str:
    """Why one equation does not parse, with its line ('' when it parses)."""
    try:
        component = element.parse()
        if hasattr(component, "expression"):
            component.parse()
    except Exception as exc:  # noqa: BLE001 - locating the failure, any type
        lhs = re.split(r"=|\(", element.equation, maxsplit=1)[0].strip().splitlines()[0][:60]
        line = equation_lines(text).get(canonical(lhs.split("[")[0]), "?")
        if _INTEG_ONE_ARGUMENT in str(exc):
            return f"stock {lhs!r} (line {line}) has no initial value, write INTEG(flow, initial value)"
        return f"equation {lhs!r} (line {line}) cannot be parsed"
    return ""
