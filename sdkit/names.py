"""The Python names PySD gives a model's variables, and the subscript ranges of each.

PySD's builder decides them (its ``ModelBuilder`` and the namespace of its first
section); importing the builder takes about 0.3 s, as it imports scipy, black and
openpyxl, more than everything else in loading a model whose parse is cached. The
names follow from the parse alone, so they are kept beside the cached parse
(:func:`sdkit.parsed.cached_plain`) and a warm load does not import the builder.
Models whose subscript ranges are read from files (``GET DIRECT SUBSCRIPT``) are
named by the builder every time, as it reads those files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sdkit.parsed import cached_plain


def vensim_name(name: str) -> str:
    """The name as Vensim spells it, from its Python-safe form: ``time_step`` -> ``TIME STEP``."""
    return name.upper().replace("_", " ")


@dataclass(frozen=True)
class ModelNames:
    """What PySD's builder says about the names of a model's main section."""

    #: each variable's name (and ``Time``) -> its Python name
    namespace: dict[str, str]
    #: the same names without case, spaces or underscores -> Python name
    cleanspace: dict[str, str]
    #: the subscript ranges of each element, in the section's order
    subscripts: tuple[tuple[str, ...], ...]


def model_names(abstract_model: Any, path: Path, text: str) -> ModelNames:
    """The names of the model parsed from ``text`` (read from ``path``), from the cache when kept."""
    section = abstract_model.sections[0]
    if not all(isinstance(r.subscripts, (list, str)) for r in section.subscripts):
        return _builder_names(abstract_model)
    found = cached_plain("names", path, text, lambda: _plain(_builder_names(abstract_model)))
    try:
        namespace, cleanspace, subscripts = found
        names = ModelNames(dict(namespace), dict(cleanspace), tuple(tuple(s) for s in subscripts))
    except (TypeError, ValueError):  # not what this module writes: name them again
        return _builder_names(abstract_model)
    if len(names.subscripts) != len(section.elements):
        return _builder_names(abstract_model)
    return names


def _builder_names(abstract_model: Any) -> ModelNames:
    from pysd.builders.python.python_model_builder import ModelBuilder

    section = ModelBuilder(abstract_model).sections[0]
    for element in abstract_model.sections[0].elements:
        section.namespace.add_to_namespace(element.name)
    return ModelNames(
        namespace=dict(section.namespace.namespace),
        cleanspace=dict(section.namespace.cleanspace),
        subscripts=tuple(tuple(element.subscripts) for element in section.elements),
    )


def _plain(names: ModelNames) -> tuple:
    return names.namespace, names.cleanspace, [list(s) for s in names.subscripts]
