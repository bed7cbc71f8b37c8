"""Translate a Vensim ``.mdl`` file into the scalar IR (:mod:`sdkit.engine.ir`).

The model layer parses the file once with PySD's own translator (``VensimFile``,
:func:`sdkit.model_file.parse_model_text`) into PySD's ``AbstractModel``; this
module walks that structured AST, expands every
subscripted variable into one scalar node per element and turns stateful
functions (SMOOTH, DELAY, TREND, INITIAL) into hidden stocks or held values.
No model-supplied text is ever turned into code.
"""

from __future__ import annotations

import itertools
import logging
from pathlib import Path
from typing import Any

import numpy as np

from sdkit.engine import clock
from sdkit.engine.allocation import AllocationMixin
from sdkit.engine.calls import ExpressionMixin
from sdkit.engine.data_files import DataFilesMixin
from sdkit.engine.ir import Const, Control, Expr, Lookup, ModelIR, Node, Ref, Time
from sdkit.engine.statefuls import StatefulMixin
from sdkit.engine.static import NotStatic, control_values, variables_read
from sdkit.engine.vectors import VectorMixin
from sdkit.errors import ModelFileError, UnsupportedFeature
from sdkit.external_data import CONSTANTS, DATA, LOOKUPS, is_external
from sdkit.locate import with_line
from sdkit.structure import clean_name
from sdkit.variables import CONTROL_NAMES

log = logging.getLogger(__name__)

CONTROL_TAGS = {"initial_time": "t0", "final_time": "tf", "time_step": "dt", "saveper": "sp"}


def _is_number(ast: Any) -> bool:
    return isinstance(ast, (int, float, np.integer, np.floating)) and not isinstance(ast, bool)


def _subscript_manager(section: Any, path: Path) -> Any:
    """PySD's manager of the section's subscript ranges (a model without ranges needs none,
    and does not import PySD's package, which imports openpyxl, for it)."""
    from pysd.builders.python.subscripts import SubscriptManager

    try:
        return SubscriptManager(section.subscripts, path.parent)
    except Exception as exc:
        raise UnsupportedFeature(
            f"subscript ranges of '{path.name}' cannot be resolved ({exc}); use engine='pysd'"
        ) from exc


class Translator(ExpressionMixin, StatefulMixin, VectorMixin, AllocationMixin, DataFilesMixin):
    """Build a :class:`ModelIR` from a PySD AbstractModel section."""

    def __init__(self, path: Path, text: str, abstract_model: Any) -> None:
        from sdkit.names import model_names

        self.path = path
        section = abstract_model.sections[0]
        self.section = section
        self.sm = _subscript_manager(section, path) if section.subscripts else None
        self.ranges: dict[str, list[str]] = {}
        for name, elems in (self.sm.subscripts.items() if self.sm else ()):
            if not isinstance(elems, list):
                raise UnsupportedFeature(
                    f"subscript range '{name}' is read from a file; use engine='pysd'"
                )
            self.ranges[name] = list(elems)
        # "DimB: b1, b2 -> DimA": element i of DimB stands for element i of DimA
        self.maps: dict[str, list[str]] = {}
        for sub in section.subscripts:
            if sub.mapping and not isinstance(sub.subscripts, str):
                targets = []
                for target in sub.mapping:
                    if not (
                        isinstance(target, str)
                        and target in self.ranges
                        and len(self.ranges[target]) == len(self.ranges[sub.name])
                    ):
                        raise UnsupportedFeature(
                            f"subscript range '{sub.name}' has an element-wise mapping; "
                            "use engine='pysd'"
                        )
                    targets.append(target)
                self.maps[sub.name] = targets
        self.all_elements = {e for elems in self.ranges.values() for e in elems}
        #: range -> element -> position: lookups in constant time (a range may have 10^5 elements)
        self.position = {d: {e: i for i, e in enumerate(elems)} for d, elems in self.ranges.items()}

        names = model_names(abstract_model, path, text)
        self.elements: dict[str, Any] = {names.namespace[el.name]: el for el in section.elements}
        self.ir = ModelIR()
        self.clean = dict(names.cleanspace)
        self.ir.dims = {k: list(v) for k, v in self.ranges.items()}

        self.node_of: dict[tuple[str, tuple[str, ...]], int] = {}
        self.lookup_of: dict[tuple[str, tuple[str, ...]], int] = {}
        self.control_exprs: dict[str, Any] = {}
        self.kind: dict[str, str] = {}
        #: node index -> (python name, AST, subscript context) of equations not yet translated
        self.pending: dict[int, tuple[str, Any, dict[str, str]]] = {}

    # ------------------------------------------------------------------ setup
    def run(self) -> ModelIR:
        """Translate the whole model and return the IR."""
        ir = self.ir
        for py, el in self.elements.items():
            self._declare(py, el)
        self._resolve_control()
        while self.pending:
            self._translate_pending(next(iter(self.pending)))
        self.current = self.clean.get("time_step")
        clock.finish(ir, self.varying)
        ir.stocks = [
            py
            for py, nodes in ir.var_nodes.items()
            if nodes.size and all(n >= 0 and ir.nodes[n].kind == "stock" for n in nodes.flat)
        ]
        return ir

    def _declare(self, py: str, el: Any) -> None:
        """Make the nodes (or lookup tables) of one model element; equations wait in ``pending``."""
        comps = el.components
        if clean_name(el.name) in CONTROL_NAMES:
            if comps[0].subscripts[0]:
                raise UnsupportedFeature(f"control variable '{el.name}' is subscripted")
            self.control_exprs[clean_name(el.name)] = comps[0].ast
            self.kind[py] = "control"
            return
        types = {c.type for c in comps}
        if "Data" in types and not all(is_external(c.ast, DATA) for c in comps):
            data_ast = next(c.ast for c in comps if c.type == "Data")
            what = _ast_function_name(data_ast) if data_ast is not None else "DATA"
            if what.endswith("Structure"):  # an expression: a data equation (:=) computed from data
                what = "data equation (:=)"
            raise UnsupportedFeature(
                f"function '{what}' in variable '{el.name}' (a DATA variable) is not "
                "supported by the ensemble engine; use engine='pysd'"
            )
        try:
            var_dims = tuple(
                self.sm.make_merge_list([list(c.subscripts[0]) for c in comps], el.name)
                if comps[0].subscripts[0]
                else ()
            )
        except Exception as exc:
            raise UnsupportedFeature(
                f"subscripts of variable '{el.name}' cannot be merged ({exc}); "
                "use engine='pysd'"
            ) from exc
        self.ir.var_dims[py] = var_dims
        if all(c.type == "Lookup" for c in comps):
            self._declare_lookup(py, el, var_dims)
        else:
            self._declare_equations(py, el, var_dims)

    def _declare_lookup(self, py: str, el: Any, var_dims: tuple[str, ...]) -> None:
        self.kind[py] = "lookup"
        for comp in el.components:
            ast = comp.ast
            if is_external(ast, LOOKUPS):
                read = self._read_external(comp, el.name)
                for elems, _ctx in self._expand_component(comp, var_dims):
                    self.lookup_of[(py, elems)] = self._add_table(read.x, read.of(elems), read.mode, el.name)
                continue
            if type(ast).__name__ != "LookupsStructure":
                raise UnsupportedFeature(
                    f"function '{_ast_function_name(ast)}' in variable '{el.name}'; "
                    "use engine='pysd'"
                )
            tid = self._add_lookup(ast, el.name)
            for elems, _ctx in self._expand_component(comp, var_dims):
                self.lookup_of[(py, elems)] = tid

    def _declare_equations(self, py: str, el: Any, var_dims: tuple[str, ...]) -> None:
        """One node per element of a constant, stock or auxiliary (constants keep their values)."""
        ir = self.ir
        is_const = all(
            _is_number(c.ast) or isinstance(c.ast, np.ndarray) or is_external(c.ast, CONSTANTS) for c in el.components
        )
        self.kind[py] = "const" if is_const else "var"
        ir.names[py] = el.name
        ir.units[py] = str(el.units or "")
        ir.comments[py] = str(el.documentation or "").strip()
        ir.limits[py] = tuple(el.limits) if el.limits else (None, None)
        shape = tuple(len(self.ranges[d]) for d in var_dims)
        ir.var_nodes[py] = np.full(shape, -1, dtype=np.int64)
        for comp in el.components:
            expansion = list(self._expand_component(comp, var_dims))
            read = self._read_external(comp, el.name) if is_external(comp.ast, CONSTANTS, DATA) else None
            for k, (elems, ctx) in enumerate(expansion):
                label = py if not elems else f"{py}[{', '.join(elems)}]"
                if read is not None:
                    idx = ir.add(self._external_node(label, read, elems, el.name))
                elif is_const:
                    idx = ir.add(Node("param", label, default=_constant_value(comp.ast, k, len(expansion), el.name)))
                elif type(comp.ast).__name__ == "IntegStructure":
                    idx = ir.add(Node("stock", label, nonneg=bool(comp.ast.non_negative)))
                    self.pending[idx] = (py, comp.ast, ctx)
                else:
                    idx = ir.add(Node("aux", label))
                    self.pending[idx] = (py, comp.ast, ctx)
                if (py, elems) in self.node_of:
                    raise ModelFileError(
                        f"variable '{el.name}' defines element [{', '.join(elems)}] twice; "
                        "use :EXCEPT: or remove one equation"
                    )
                self.node_of[(py, elems)] = idx
                pos = tuple(self.position[d][e] for d, e in zip(var_dims, elems, strict=True))
                ir.var_nodes[py][pos] = idx
        if is_const:
            ir.constants.append(py)

    def _translate_pending(self, idx: int) -> None:
        """Translate the equation of node ``idx`` (also called early, for static orders)."""
        py, ast, ctx = self.pending.pop(idx)
        outer, self.current = getattr(self, "current", None), py
        node = self.ir.nodes[idx]
        if node.kind == "stock":
            node.flow = self.expr(ast.flow, ctx)
            node.init_expr = self.expr(ast.initial, ctx)
        elif type(ast).__name__ == "CallStructure" and ast.function.reference == "active_initial":
            node.expr = self.expr(ast.arguments[0], ctx)
            node.init_expr = self.expr(ast.arguments[1], ctx)
        else:
            node.expr = self.expr(ast, ctx)
        self.current = outer

    def _resolve_control(self) -> None:
        if "final_time" not in self.control_exprs:
            raise ModelFileError(
                f"model '{self.path.name}' has no FINAL TIME; add a FINAL TIME equation"
            )
        exprs: dict[str, Expr] = {"initial_time": Const(0.0), "time_step": Const(1.0)}
        py_of = {clean_name(self.elements[py].name): py for py, kind in self.kind.items() if kind == "control"}
        for name, ast in self.control_exprs.items():
            self.current = py_of[name]
            exprs[name] = self.expr(ast, {})
            self._translate_dependencies(exprs[name], set())
        exprs.setdefault("saveper", Control("dt"))
        varying = clock.varying(exprs, self.ir)
        used: set[int] = set()
        try:
            values = control_values(exprs, self.ir, {}, used)
        except NotStatic as exc:
            self.current = py_of[varying[0]] if varying else None
            raise UnsupportedFeature(
                f"control variable '{self._model_name()}' depends on '{exc}', which changes during the run; "
                "the engine reads control variables that are functions of Time and constants (PySD runs it); "
                "use engine='pysd'"
            ) from None
        for name in varying:  # read at other times too, on other branches
            clock.params_read(exprs[name], self.ir, used)
        self.ir.control_params.update(variables_read(self.ir, used))
        self.ir.control = values
        self.ir.control_ir = exprs
        clock.add_nodes(self.ir, exprs, varying, py_of)
        for name in varying:
            if name in py_of:
                self._declare_control_names(py_of[name])
        self.varying = varying

    def _declare_control_names(self, py: str) -> None:
        el = self.elements[py]
        self.ir.names[py] = el.name
        self.ir.units[py] = str(el.units or "")
        self.ir.comments[py] = str(el.documentation or "").strip()
        self.ir.limits[py] = tuple(el.limits) if el.limits else (None, None)

    # -------------------------------------------------------------- subscripts
    def _expand_subscript(self, sub: str) -> list[tuple[str | None, str]]:
        """Return (bound range name or None, element) pairs of one subscript position."""
        if sub in self.ranges:
            return [(sub, e) for e in self.ranges[sub]]
        if sub in self.all_elements:
            return [(None, sub)]
        raise UnsupportedFeature(f"unknown subscript '{sub}'; use engine='pysd'")

    def _expand_component(self, comp: Any, var_dims: tuple[str, ...]):
        subs, excepts = comp.subscripts
        if not subs:
            yield (), {}
            return
        positions = [self._expand_subscript(s) for s in subs]
        excluded = []
        for exc in excepts or []:
            excluded.append([{e for _r, e in self._expand_subscript(s)} for s in exc])
        for combo in itertools.product(*positions):
            elems = tuple(e for _r, e in combo)
            if any(all(e in ex[i] for i, e in enumerate(elems)) for ex in excluded):
                continue
            ctx: dict[str, str] = {}
            for (rng, e), d in zip(combo, var_dims, strict=True):
                if rng is not None:
                    ctx[rng] = e
                ctx[d] = e
            yield elems, ctx

    def _bind(self, sub: str, ctx: dict[str, str], what: str) -> str:
        if sub.endswith("!"):
            if sub in ctx:
                return ctx[sub]
            raise UnsupportedFeature(
                f"subscript '{sub}' outside a SUM/PROD/VMIN/VMAX in variable "
                f"'{self._model_name()}'; use engine='pysd'"
            )
        if sub in self.ranges:
            if sub in ctx:
                return ctx[sub]
            members = self.position[sub]
            found = {e for k, e in ctx.items() if not k.endswith("!") and e in members}
            if len(found) == 1:
                return found.pop()
            mapped = {
                self.ranges[sub][self.position[k][e]]
                for k, e in ctx.items()
                if k in self.maps.get(sub, ()) and e in self.position[k]
            }
            if len(mapped) == 1:
                return mapped.pop()
            raise UnsupportedFeature(
                f"cannot resolve subscript '{sub}' of '{what}' in variable "
                f"'{self._model_name()}' (subscript mapping); use engine='pysd'"
            )
        if sub in self.all_elements:
            return sub
        raise UnsupportedFeature(f"unknown subscript '{sub}' in variable '{self._model_name()}'")

    def _elements_for(self, py: str, subscripts: Any, ctx: dict[str, str]) -> tuple[str, ...]:
        dims = self.ir.var_dims.get(py, ())
        if subscripts is None:
            subs = list(dims)
        else:
            subs = list(subscripts.subscripts)
            if len(subs) != len(dims):
                raise UnsupportedFeature(
                    f"reference to '{py}' with {len(subs)} subscripts but it has {len(dims)} "
                    f"in variable '{self._model_name()}'; use engine='pysd'"
                )
        return tuple(self._bind(s, ctx, py) for s in subs)

    def _model_name(self) -> str:
        el = self.elements.get(getattr(self, "current", ""), None)
        return el.name if el is not None else "?"

    # ----------------------------------------------------------------- lookups
    def _add_lookup(self, ast: Any, name: str) -> int:
        mode = str(ast.type)
        if mode not in ("interpolate", "hold_backward", "extrapolate"):
            raise UnsupportedFeature(
                f"lookup type '{mode}' in variable '{name}'; use engine='pysd'"
            )
        return self._add_table(np.asarray(ast.x, dtype=float), np.asarray(ast.y, dtype=float), mode, name)

    def _add_table(self, x: np.ndarray, y: np.ndarray, mode: str, name: str) -> int:
        if x.size == 0 or x.shape != y.shape or np.any(np.diff(x) < 0):
            raise ModelFileError(f"lookup table in variable '{name}' is empty or not sorted by x")
        self.ir.lookups.append(Lookup(x, y, mode))
        return len(self.ir.lookups) - 1

    # -------------------------------------------------------------- expressions
    def _unsupported(self, what: str) -> UnsupportedFeature:
        return UnsupportedFeature(
            f"function '{what}' in variable '{self._model_name()}' is not supported by the "
            "ensemble engine; use engine='pysd'"
        )

    def expr(self, ast: Any, ctx: dict[str, str]) -> Expr:
        """Translate one AST node into an IR expression for the element ``ctx``."""
        if _is_number(ast):
            return Const(float(ast))
        if isinstance(ast, np.ndarray):
            raise UnsupportedFeature(
                f"array constant inside an expression in variable '{self._model_name()}'; "
                "use engine='pysd'"
            )
        kind = type(ast).__name__
        method = getattr(self, "_x_" + kind, None)
        if method is None:
            raise self._unsupported(_ast_function_name(ast))
        return method(ast, ctx)

    def _x_ReferenceStructure(self, ast: Any, ctx: dict[str, str]) -> Expr:
        ref = ast.reference
        if ref == "time":
            return Time()
        py = self.clean.get(ref)
        if py is None:
            raise ModelFileError(
                f"variable '{self._model_name()}' refers to undefined '{ref}'; define it"
            )
        kind = self.kind.get(py)
        if kind == "control":
            return Control(CONTROL_TAGS[clean_name(self.elements[py].name)])
        if kind == "lookup":
            raise UnsupportedFeature(
                f"lookup '{self.elements[py].name}' used as a variable in "
                f"'{self._model_name()}'; use engine='pysd'"
            )
        elems = self._elements_for(py, ast.subscripts, ctx)
        idx = self.node_of.get((py, elems))
        if idx is None:
            raise ModelFileError(
                f"variable '{self.elements[py].name}' has no equation for element "
                f"[{', '.join(elems)}] used in '{self._model_name()}'"
            )
        return Ref(idx)


def _constant_value(ast: Any, k: int, count: int, name: str) -> float:
    """Element ``k`` of ``count`` of a constant written as a number or an array of numbers."""
    if not isinstance(ast, np.ndarray):
        return float(ast)
    flat = np.asarray(ast, dtype=float).reshape(-1)
    if flat.size != count:
        raise UnsupportedFeature(
            f"constant array shape of variable '{name}' does not "
            "match its subscripts; use engine='pysd'"
        )
    return float(flat[k])


def _ast_function_name(ast: Any) -> str:
    kind = type(ast).__name__
    names = {
        "DelayNStructure": "DELAY N",
        "DelayFixedStructure": "DELAY FIXED",
        "ForecastStructure": "FORECAST",
        "SampleIfTrueStructure": "SAMPLE IF TRUE",
        "GetLookupsStructure": "GET XLS LOOKUPS",
        "GetDataStructure": "GET XLS DATA",
        "GetConstantsStructure": "GET XLS CONSTANTS",
        "DataStructure": "DATA",
        "GameStructure": "GAME",
        "AllocateAvailableStructure": "ALLOCATE AVAILABLE",
        "AllocateByPriorityStructure": "ALLOCATE BY PRIORITY",
        "LookupsStructure": "lookup definition",
    }
    return names.get(kind, kind)


def translate(path: str | Path, text: str, abstract_model: Any) -> ModelIR:
    """Translate PySD's abstract model of checked ``text`` (of the file at ``path``) into the scalar IR.

    ``abstract_model`` is :func:`sdkit.model_file.parse_model_text` of ``text``
    (a loaded model's :attr:`~sdkit.model.Model.abstract_model`).

    Raises
    ------
    ModelFileError
        If the model has an algebraic loop or refers to undefined variables.
    UnsupportedFeature
        If the model uses a function or construct the engine cannot compile.
    """
    translator = Translator(Path(path), text, abstract_model)
    try:
        ir = translator.run()
    except (ModelFileError, UnsupportedFeature) as exc:
        raise type(exc)(with_line(str(exc), translator._model_name(), text)) from exc
    _check_cycles(ir, text)
    return ir


def _check_cycles(ir: ModelIR, text: str) -> None:
    """Raise ModelFileError on an algebraic loop among aux nodes, naming the line of its first variable."""
    from sdkit.engine.schedule import order_nodes

    try:
        order_nodes(ir)
    except ModelFileError as exc:
        message = str(exc)
        first = message.partition(" loop through ")[2].split(" -> ")[0]
        py = first.split("[")[0].rpartition(" in ")[2]
        name = ir.names.get(py)
        if name is None:
            raise
        raise ModelFileError(with_line(f"{message} (it starts at '{name}')", name, text)) from None
