"""Structural checks of a parsed model: what parses but cannot be simulated, or must not be.

Each check reads PySD's abstract model (never generated code) and raises
:class:`~sdkit.errors.ModelFileError` naming the variable, its line and the fix.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sdkit.beyond_pysd import ENGINE_FUNCTIONS, STATEFUL_FUNCTIONS
from sdkit.errors import ModelFileError
from sdkit.locate import SKETCH_MARK, canonical, equation_lines
from sdkit.names import ModelNames, model_names
from sdkit.parsed import expressions_module, pysd_module

#: Abstract structures whose value comes from the previous step or the initial time:
#: a dependency through them does not make an algebraic loop.
_STATEFUL = (
    "IntegStructure",
    "DelayStructure",
    "DelayNStructure",
    "DelayFixedStructure",
    "SmoothStructure",
    "SmoothNStructure",
    "TrendStructure",
    "ForecastStructure",
    "SampleIfTrueStructure",
    "InitialStructure",
)

_NUMBER = r"[-+]?\s*(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_POINT = re.compile(rf"\(\s*({_NUMBER})\s*,\s*{_NUMBER}\s*\)")
_POINTS = re.compile(
    rf"\(\s*(?:\[[^\]]*\]\s*,\s*)?((?:\(\s*{_NUMBER}\s*,\s*{_NUMBER}\s*\)\s*,?\s*){{2,}})\)"
)


def _stateful(node: Any) -> bool:
    if type(node).__name__ in _STATEFUL:
        return True
    function = getattr(node, "function", None)  # a call of DELAY MATERIAL or SINTEG
    return type(node).__name__ == "CallStructure" and getattr(function, "reference", None) in STATEFUL_FUNCTIONS


def walk(node: Any, enter_stateful: bool = False) -> Iterator[Any]:
    """Every node of a PySD abstract syntax tree, depth first (stateful structures only if asked)."""
    yield node
    if not enter_stateful and _stateful(node):
        return
    if isinstance(node, tuple | list):
        children: Any = node
    elif hasattr(node, "__dataclass_fields__"):
        children = [getattr(node, name) for name in node.__dataclass_fields__]
    else:
        return
    for child in children:
        yield from walk(child, enter_stateful)


def _at(text: str, name: str) -> str:
    line = equation_lines(text).get(canonical(name))
    return f" (line {line})" if line else ""


def check_structure(abstract_model: Any, text: str, path: Path, names: ModelNames | None = None) -> None:
    """Refuse models that parse but cannot be simulated, naming the variable and the fix.

    Checks duplicated definitions, references to undefined variables, unknown
    functions, algebraic loops (simultaneous equations) and lookups whose x values do
    not increase.

    Raises
    ------
    ModelFileError
    """
    functionspace = pysd_module("pysd.builders.python.python_functions").functionspace
    ae = expressions_module()

    section = abstract_model.sections[0]
    cleanspace = (names or model_names(abstract_model, path, text)).cleanspace
    clean_of = {element.name: clean_name(element.name) for element in section.elements}
    known = set(cleanspace) | {"time"}
    name_of_clean = {clean: name for name, clean in clean_of.items()}
    by_clean = {cleanspace.get(clean_of[e.name], clean_of[e.name]): e for e in section.elements}
    by_clean.update({clean_of[e.name]: e for e in section.elements})
    _refuse_redefinitions(section, text, path)
    graph: dict[str, set[str]] = {}
    for element in section.elements:
        edges = graph.setdefault(element.name, set())
        for component in element.components:
            for node in walk(component.ast):
                if isinstance(node, ae.CallStructure) and isinstance(node.function, ae.ReferenceStructure):
                    function = node.function.reference
                    if function not in known and function not in functionspace and function not in ENGINE_FUNCTIONS:
                        raise ModelFileError(
                            f"{path.name}: {element.name!r}{_at(text, element.name)} calls unknown "
                            f"function {function.upper().replace('_', ' ')}; use a Vensim function "
                            "PySD supports or define a lookup of that name"
                        )
                    called = by_clean.get(function)
                    if called is not None and not _callable(called):
                        raise ModelFileError(
                            f"{path.name}: {element.name!r}{_at(text, element.name)} calls "
                            f"{called.name!r} like a function, but it is not a lookup; "
                            "put an operator between it and the parentheses"
                        )
                if isinstance(node, ae.ReferenceStructure):
                    reference = node.reference
                    if reference in known:
                        if reference in name_of_clean:
                            edges.add(name_of_clean[reference])
                    elif not any(
                        isinstance(parent, ae.CallStructure) and parent.function is node
                        for parent in walk(component.ast)
                    ):
                        raise ModelFileError(
                            f"{path.name}: {element.name!r}{_at(text, element.name)} uses "
                            f"{reference.replace('_', ' ')!r}, which is not defined; "
                            "define it or fix the name"
                        )
    cycle = _find_cycle(graph)
    if cycle:
        raise ModelFileError(
            f"{path.name}: {' -> '.join(cycle)} are defined in a circle (an algebraic loop); "
            "break it with a stock (INTEG) or an INITIAL"
        )
    _check_lookup_points(text, path)


def _refuse_redefinitions(section: Any, text: str, path: Path) -> None:
    """Refuse a variable (or an element of one) defined by two equations."""
    for element in section.elements:
        seen_subscripts = set()
        for component in element.components:
            key = repr(component.subscripts)
            if key in seen_subscripts:
                raise ModelFileError(
                    f"{path.name}: {element.name!r}{_at(text, element.name)} is defined twice; "
                    "delete or rename one of the definitions"
                )
            seen_subscripts.add(key)


def _callable(element: Any) -> bool:
    """Whether a model element may be called with parentheses: a lookup or data."""
    ae = expressions_module()

    for component in element.components:
        if type(component).__name__ in ("AbstractLookup", "AbstractData"):
            return True
        if isinstance(component.ast, ae.LookupsStructure | ae.GetLookupsStructure | ae.GetDataStructure | ae.DataStructure):
            return True
    return False


def _find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One cycle of the dependency graph as a list of names (first name repeated), or []."""
    state: dict[str, int] = {}
    for root in graph:
        if state.get(root):
            continue
        stack: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(graph[root])))]
        path = [root]
        state[root] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                path.pop()
                state[node] = 2
            elif state.get(child) == 1:
                return [*path[path.index(child):], child]
            elif not state.get(child) and child in graph:
                state[child] = 1
                path.append(child)
                stack.append((child, iter(sorted(graph[child]))))
    return []


def _check_lookup_points(text: str, path: Path) -> None:
    """x values of every lookup written as (x,y) pairs must increase strictly."""
    equations = text.split(SKETCH_MARK, 1)[0].replace("\\\n", " ")
    for match in _POINTS.finditer(equations):
        xs = [float(re.sub(r"\s", "", x)) for x in _POINT.findall(match[1])]
        for previous, current in zip(xs, xs[1:], strict=False):
            if not current > previous:
                line = text.count("\n", 0, match.start()) + 1
                raise ModelFileError(
                    f"{path.name} line {line}: lookup x values must increase, but {current:g} "
                    f"follows {previous:g}; sort the points by x and remove repeated x values"
                )


def clean_name(name: str) -> str:
    return " ".join(name.replace("_", " ").lower().split()).replace(" ", "_")


#: Names Vensim reserves: a model may not define them as variables.
RESERVED_NAMES = {"time"}


def refuse_reserved(abstract_model: Any, text: str, path: Path) -> None:
    for element in abstract_model.sections[0].elements:
        if clean_name(element.name) in RESERVED_NAMES:
            raise ModelFileError(
                f"{path.name}: {element.name!r}{_at(text, element.name)} redefines Vensim's "
                "built-in Time; rename the variable (Time is the simulation clock)"
            )


def check_subscripts(abstract_model: Any, text: str, path: Path) -> None:
    """Refuse undefined subscript ranges, and a scalar equation that reads a subscripted variable whole."""
    ae = expressions_module()

    section = abstract_model.sections[0]
    known = set()
    static = all(not isinstance(r.subscripts, dict) for r in section.subscripts)  # no GET DIRECT SUBSCRIPTS
    for subscript_range in section.subscripts:
        known.add(subscript_range.name.lower())
        if isinstance(subscript_range.subscripts, list):
            known.update(str(e).lower() for e in subscript_range.subscripts)
    subscripted = {clean_name(e.name) for e in section.elements if any(c.subscripts[0] for c in e.components)}
    for element in section.elements:
        for component in element.components:
            for name in (*component.subscripts[0], *(s for e in component.subscripts[1] for s in e)):
                if static and str(name).lower() not in known:
                    raise ModelFileError(
                        f"{path.name}: {element.name!r}{_at(text, element.name)} uses subscript "
                        f"{name!r}, which is not defined; define the range ({name}: (a1-a3)) or fix the name"
                    )
            if component.subscripts[0]:
                continue
            for node in walk(component.ast, enter_stateful=True):
                if isinstance(node, ae.ReferenceStructure) and node.subscripts is None and node.reference in subscripted:
                    raise ModelFileError(
                        f"{path.name}: {element.name!r}{_at(text, element.name)} has no subscripts but "
                        f"reads {node.reference.replace('_', ' ')!r} whole, which has subscripts; "
                        "name the element (x[e1]) or aggregate it (SUM(x[E!]))"
                    )


def data_files(abstract_model: Any) -> Iterator[tuple[str, Any]]:
    """(owner, file name) of every external file the model reads: GET XLS/DIRECT DATA,
    LOOKUPS, CONSTANTS and SUBSCRIPTS."""
    section = abstract_model.sections[0]
    for subscript_range in section.subscripts:
        if isinstance(subscript_range.subscripts, dict):
            yield subscript_range.name, subscript_range.subscripts.get("file")
    for element in section.elements:
        for component in element.components:
            for node in walk(component.ast, enter_stateful=True):
                if type(node).__name__.startswith("Get") and hasattr(node, "file"):
                    yield element.name, node.file


def check_data_files(abstract_model: Any, path: Path) -> None:
    """Data files a model names must lie in its own folder (or below it)."""
    folder = path.parent.resolve()
    for owner, name in data_files(abstract_model):
        if not isinstance(name, str) or not name or name.startswith("?"):
            raise ModelFileError(
                f"{path.name}: {owner!r} names its data file indirectly ({name!r}); "
                "give the file name, in the model's folder"
            )
        if not (folder / name).resolve().is_relative_to(folder):
            raise ModelFileError(
                f"{path.name}: {owner!r} reads {name!r}, outside the model's folder {folder}; "
                "copy the data file beside the model and name it there"
            )
