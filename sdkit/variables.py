"""The variables a model file declares, read from PySD's abstract model without running it.

Each element of the file's main section becomes a :class:`Variable`: its names,
kind, units, range, comment, subscripts and, for a constant, the value the file
writes (its default).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sdkit.external_data import CONSTANTS, coords_of, is_external, read
from sdkit.parsed import expressions_module

if TYPE_CHECKING:
    from sdkit.names import ModelNames

#: The Python-safe names of Vensim's control variables.
CONTROL_NAMES = {"initial_time", "final_time", "time_step", "saveper"}


@dataclass(frozen=True)
class Variable:
    """One model variable.

    Attributes
    ----------
    name : str
        The model's own name, e.g. ``"Institutional Authority"``.
    py_name : str
        PySD's Python-safe name, e.g. ``"institutional_authority"``.
    kind : str
        ``"stock"``, ``"constant"``, ``"lookup"``, ``"auxiliary"`` or ``"control"``.
    units : str
    limits : tuple of (float or None, float or None)
    comment : str
    dims : tuple of str
        Subscript range names, empty for a scalar.
    default : float, nested tuple of float, or None
        A constant's value as the file writes it: a number, or a tuple over its
        elements when it is subscripted and written as a list or element by element.
        None for other kinds, and for a constant whose elements the file does not all
        give as numbers.
    """

    name: str
    py_name: str
    kind: str
    units: str
    limits: tuple[float | None, float | None]
    comment: str
    dims: tuple[str, ...] = ()
    default: float | tuple | None = None


def variables_of(abstract_model: Any, ranges: dict[str, list[str]], names: ModelNames,
                 folder: Path | None = None) -> dict[str, Variable]:
    """Variables of the main section, named exactly as PySD names them.

    ``ranges`` maps each subscript range to its elements (:func:`dims_of`); ``names`` are
    the model's names (:func:`sdkit.names.model_names`); ``folder`` holds the files that
    GET XLS/DIRECT CONSTANTS read a constant's default from (when None, such a constant
    has no default).
    """
    abstract_section = abstract_model.sections[0]
    variables: dict[str, Variable] = {}
    for element, subscripts in zip(abstract_section.elements, names.subscripts, strict=True):
        py_name = names.namespace[element.name]
        kind = "control" if py_name in CONTROL_NAMES else _kind_of(element)
        limits = tuple(None if v is None else float(v) for v in (element.limits or (None, None)))
        dims = tuple(subscripts)
        variables[py_name] = Variable(
            name=element.name,
            py_name=py_name,
            kind=kind,
            units=str(element.units or ""),
            limits=(limits + (None, None))[:2],
            comment=str(element.documentation or "").strip(),
            dims=dims,
            default=default_of(element, dims, ranges, folder) if kind == "constant" else None,
        )
    return variables


def dims_of(abstract_model: Any) -> dict[str, list[str]]:
    """Subscript ranges and their elements; a copy (``B <-> A``) gets the elements of ``A``."""
    ranges = abstract_model.sections[0].subscripts
    dims = {r.name: list(r.subscripts) for r in ranges if isinstance(r.subscripts, list)}
    for subscript_range in ranges:
        if isinstance(subscript_range.subscripts, str) and subscript_range.subscripts in dims:
            dims[subscript_range.name] = list(dims[subscript_range.subscripts])
    return dims


def _kind_of(element: Any) -> str:
    ae = expressions_module()

    component = element.components[0]
    ast = component.ast
    if type(component).__name__ == "AbstractLookup" or isinstance(
        ast, ae.LookupsStructure | ae.GetLookupsStructure
    ):
        return "lookup"
    if isinstance(ast, ae.IntegStructure):
        return "stock"
    if all(number_of(c.ast) is not None or is_external(c.ast, CONSTANTS) for c in element.components):
        return "constant"
    return "auxiliary"


def default_of(element: Any, dims: tuple[str, ...], ranges: dict[str, list[str]],
               folder: Path | None = None) -> float | tuple | None:
    """The value a constant's file gives, read from its expressions (never by running them)
    or, for GET XLS/DIRECT CONSTANTS, from the data file in ``folder``."""
    values = [_external_constant(c, ranges, folder, element.name) if is_external(c.ast, CONSTANTS)
              else number_of(c.ast) for c in element.components]
    if any(v is None for v in values):
        return None
    if len(values) == 1:
        array = np.asarray(values[0], dtype=float)
        return float(array) if array.ndim == 0 else _as_tuple(array)
    try:
        array = _elementwise(element.components, values, dims, ranges)
    except (KeyError, ValueError):  # a subscript mapping, or a shape the file does not match
        return None
    return None if np.isnan(array).any() else _as_tuple(array)


def _elementwise(components: list[Any], values: list[Any], dims: tuple[str, ...],
                 ranges: dict[str, list[str]]) -> np.ndarray:
    """A constant written in several equations (``x[a] = 1``, ``x[b] = 2``) as one array; NaN where unset."""
    array = np.full([len(ranges[d]) for d in dims], np.nan)
    for component, value in zip(components, values, strict=True):
        subscripts, excepts = component.subscripts
        block = np.ix_(*_positions(subscripts, dims, ranges))
        given = np.full(array.shape, np.nan)
        value = np.asarray(value, dtype=float)
        shape = array[block].shape
        given[block] = np.broadcast_to(value, shape) if value.ndim == 0 else value.reshape(shape)
        mask = np.zeros(array.shape, dtype=bool)
        mask[block] = True
        for excluded in excepts or []:
            mask[np.ix_(*_positions(excluded, dims, ranges))] = False
        array = np.where(mask, given, array)
    return array


def _positions(subscripts: list[str], dims: tuple[str, ...], ranges: dict[str, list[str]]) -> list[list[int]]:
    """Positions along each dimension that a component's subscripts (ranges or elements) cover."""
    if len(subscripts) != len(dims):
        raise ValueError("subscripts do not match the constant's dimensions")
    return [[ranges[dim].index(e) for e in ranges.get(sub, [sub])]
            for sub, dim in zip(subscripts, dims, strict=True)]


def _as_tuple(values: np.ndarray) -> tuple:
    return tuple(_as_tuple(v) if np.ndim(v) else float(v) for v in values)


def _external_constant(component: Any, ranges: dict[str, list[str]], folder: Path | None,
                       name: str) -> np.ndarray | None:
    if folder is None:
        return None
    return read(component.ast, coords_of(list(component.subscripts[0]), ranges), folder, name)[1]


def number_of(ast: Any) -> float | np.ndarray | None:
    """The number (or array) an expression writes literally, possibly negated; None for anything else."""
    ae = expressions_module()

    if isinstance(ast, int | float | np.ndarray) and not isinstance(ast, bool):
        return ast
    if isinstance(ast, ae.ArithmeticStructure) and ast.operators == ["negative"]:
        inner = number_of(ast.arguments[0])
        return None if inner is None else -np.asarray(inner, dtype=float)
    return None
