"""The translator's part for GET XLS/DIRECT DATA, LOOKUPS and CONSTANTS (:mod:`sdkit.external_data`)."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from sdkit import external_data as external
from sdkit.engine.ir import LookupCall, Node, Time


class ExternalValues(NamedTuple):
    """What one GET call of a component read: the elements it covers, the time or lookup
    axis (None for constants), the values, and the lookup mode a data variable's keyword sets."""

    coords: dict[str, list[str]]
    x: np.ndarray | None
    values: np.ndarray
    mode: str

    def of(self, elements: tuple[str, ...]) -> np.ndarray:
        """The values of one element of the component."""
        return external.element_values(self.values, self.coords, elements)


class DataFilesMixin:
    """Nodes and tables of the values a model reads from files beside it."""

    def _read_external(self, comp: Any, name: str) -> ExternalValues:
        """A component's GET XLS/DIRECT call, read beside the model."""
        coords = external.coords_of(list(comp.subscripts[0]), self.ranges)
        mode = external.data_mode(comp.keyword, name) if external.is_external(comp.ast, external.DATA) else "interpolate"
        x, values = external.read(comp.ast, coords, self.path.parent, name, mode)
        return ExternalValues(coords, x, values, mode)

    def _external_node(self, label: str, read: ExternalValues, elems: tuple[str, ...], name: str) -> Node:
        """The node of one element of an external constant (a param) or data variable (a lookup on Time)."""
        value = read.of(elems)
        if read.x is None:
            return Node("param", label, default=float(value))
        return Node("aux", label, expr=LookupCall(self._add_table(read.x, value, read.mode, name), Time()))
