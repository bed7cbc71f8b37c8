"""Subscript names in any letter case, as Vensim reads them.

Vensim reads every name without regard to letter case: a range defined as ``region``
may be used as ``Region`` or ``REGION``, and so may its elements. PySD's translator
compares subscript names exactly (and fails on such a model with a ``KeyError``), so
after the parse every subscript name in PySD's abstract model is written as the range
or element definition first writes it. Names that differ from each other only in case
stay as they are written.
"""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from typing import Any


def canonical_subscript_case(abstract_model: Any) -> Any:
    """``abstract_model`` with each subscript name spelt as its definition (changed in place)."""
    for section in abstract_model.sections:
        spelling = _spellings(section.subscripts)
        if not spelling:
            continue
        for subscript_range in section.subscripts:
            _respell_range(subscript_range, spelling)
        for element in section.elements:
            for component in element.components:
                names, excepts = component.subscripts
                component.subscripts = (_names(names, spelling),
                                        type(excepts)(_names(e, spelling) for e in excepts) if excepts else excepts)
                _respell_references(component.ast, spelling)
    return abstract_model


def _spellings(ranges: list[Any]) -> dict[str, str]:
    """Lower-case name -> the spelling of its first definition, for ranges and elements."""
    written: dict[str, set[str]] = {}
    first: dict[str, str] = {}
    for subscript_range in ranges:
        elements = subscript_range.subscripts if isinstance(subscript_range.subscripts, list) else []
        for name in [subscript_range.name, *elements]:
            if isinstance(name, str):
                first.setdefault(name.lower(), name)
                written.setdefault(name.lower(), set()).add(name)
    return {key: name for key, name in first.items() if len(written[key]) == 1}


def _respell(name: Any, spelling: dict[str, str]) -> Any:
    if not isinstance(name, str):
        return name
    base, bang = (name[:-1], "!") if name.endswith("!") else (name, "")
    return spelling.get(base.lower(), base) + bang


def _names(names: Any, spelling: dict[str, str]) -> Any:
    """``names`` respelt, in a container of the same type."""
    return type(names)(_respell(name, spelling) for name in names) if names else names


def _respell_range(subscript_range: Any, spelling: dict[str, str]) -> None:
    if isinstance(subscript_range.subscripts, list):
        subscript_range.subscripts = _names(subscript_range.subscripts, spelling)
    elif isinstance(subscript_range.subscripts, str):  # a copy: B <-> A
        subscript_range.subscripts = _respell(subscript_range.subscripts, spelling)
    if subscript_range.mapping:
        subscript_range.mapping = [_respell(target, spelling) if isinstance(target, str)
                                   else target for target in subscript_range.mapping]


def _respell_references(node: Any, spelling: dict[str, str]) -> None:
    """Every ``SubscriptsReferenceStructure`` below ``node``, respelt in place."""
    if type(node).__name__ == "SubscriptsReferenceStructure":
        node.subscripts = _names(node.subscripts, spelling)
    elif is_dataclass(node):
        for field in fields(node):
            _respell_references(getattr(node, field.name), spelling)
    elif isinstance(node, list | tuple):
        for item in node:
            _respell_references(item, spelling)
