"""The translator's part for GET XLS/DIRECT DATA, LOOKUPS and CONSTANTS (:mod:`sdkit.external_data`)."""

from __future__ import annotations

from typing import Any

from sdkit import external_data as external
from sdkit.engine.ir import LookupCall, Node, Time


class DataFilesMixin:
    """Nodes and tables of the values a model reads from files beside it."""

    def _read_external(self, comp: Any, var_dims: tuple[str, ...], name: str):
        """(coords, (x, values)) of a component's GET XLS/DIRECT call, read beside the model."""
        coords = external.coords_of(list(comp.subscripts[0]), self.ranges)
        mode = external.data_mode(comp.keyword, name) if external.is_external(comp.ast, external.DATA) else "interpolate"
        return coords, external.read(comp.ast, coords, self.path.parent, name, mode)

    def _external_node(self, comp: Any, label: str, read: tuple, elems: tuple[str, ...], name: str) -> Node:
        """The node of one element of an external constant (a param) or data variable (a lookup on Time)."""
        coords, (x, values) = read
        value = external.element_values(values, coords, elems)
        if x is None:
            return Node("param", label, default=float(value))
        table = self._add_table(x, value, external.data_mode(comp.keyword, name), name)
        return Node("aux", label, expr=LookupCall(table, Time()))
