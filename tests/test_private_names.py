"""Subpackages use each other's public names only.

A name that starts with an underscore is private to its subpackage (``sdkit.engine``,
``sdkit.loops``, ...; the modules directly in ``sdkit/`` are one package): no module of
another subpackage imports it (``from sdkit.engine.codegen import _Gen``), imports a
private module (``sdkit.plot._common``), or reads a private attribute of what it
imported (``Kernel._run_threads``).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "sdkit"


def _subpackage(module: str) -> str:
    """``sdkit.engine.codegen`` -> ``sdkit.engine``; ``sdkit.ensemble`` -> ``sdkit``."""
    parts = module.split(".")
    if len(parts) > 1 and (PACKAGE / parts[1]).is_dir():
        return ".".join(parts[:2])
    return "sdkit"


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def crossings(source: str, module: str) -> list[str]:
    """Where the module ``module`` (of text ``source``) uses a private name of another subpackage."""
    home = _subpackage(module)
    found: list[str] = []
    foreign: set[str] = set()  # names bound to what another subpackage exports
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and node.module.startswith("sdkit."):
            if _subpackage(node.module) == home:
                continue
            for alias in node.names:
                if _private(alias.name) or any(_private(part) for part in node.module.split(".")):
                    found.append(f"line {node.lineno}: from {node.module} import {alias.name}")
                foreign.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("sdkit.") and _subpackage(alias.name) != home:
                    if any(_private(part) for part in alias.name.split(".")):
                        found.append(f"line {node.lineno}: import {alias.name}")
                    if alias.asname:
                        foreign.add(alias.asname)
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in foreign and _private(node.attr)):
            found.append(f"line {node.lineno}: {node.value.id}.{node.attr}")
    return found


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_no_subpackage_uses_another_ones_private_names():
    problems = [
        f"sdkit/{path.relative_to(PACKAGE).as_posix()} {where}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for where in crossings(path.read_text(encoding="utf-8"), _module_name(path))
    ]
    assert not problems, "private names used across subpackages:\n" + "\n".join(problems)


def test_the_check_finds_each_kind_of_crossing():
    source = """
from sdkit.engine.codegen import LANES, _Gen
from sdkit.plot._common import new_figure
import sdkit.engine._hidden
from sdkit.engine.kernel import Kernel
Kernel._run_threads(f, args, n)
Kernel.simulate
from sdkit.loops.graph import _inside
"""
    found = crossings(source, "sdkit.loops.linkcode")
    assert found == [
        "line 2: from sdkit.engine.codegen import _Gen",
        "line 3: from sdkit.plot._common import new_figure",
        "line 4: import sdkit.engine._hidden",
        "line 6: Kernel._run_threads",
    ]


def test_private_names_stay_free_within_their_subpackage():
    source = "from sdkit.engine.codegen import _Gen\nfrom sdkit.ensemble import _starting_point\n"
    assert crossings(source, "sdkit.engine.nbloops") == ["line 2: from sdkit.ensemble import _starting_point"]
    assert crossings(source, "sdkit.run") == ["line 1: from sdkit.engine.codegen import _Gen"]
