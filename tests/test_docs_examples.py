"""The commands and code shown in the docs run as shown.

Each ```sh block runs in bash (``sdkit`` is this interpreter's ``-m sdkit``), each
```python block in a fresh namespace, in the order of the page, in one folder that
sees the project's ``models/``, ``sensitivity/`` and ``tests/`` folders.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
#: Pages and the kinds of block run from each (the README's shell lines need files a reader makes first).
PAGES = {
    "docs/figures.md": ("sh", "python"),
    "docs/checks.md": ("sh", "python"),
    "docs/extending.md": ("sh", "python"),
    "docs/loops.md": ("sh", "python"),
    "README.md": ("python",),
}
BLOCK = re.compile(r"^```(sh|python)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def blocks(page: str) -> list[tuple[str, str]]:
    found = BLOCK.finditer((ROOT / page).read_text(encoding="utf-8"))
    return [(m.group(1), m.group(2)) for m in found if m.group(1) in PAGES[page]]


def run_block(kind: str, code: str, folder: Path) -> None:
    if kind == "python":
        exec(compile(code, f"docs block in {folder}", "exec"), {"__name__": "__docs__"})
        return
    preamble = f'set -euo pipefail\nsdkit() {{ "{sys.executable}" -m sdkit "$@"; }}\n'
    done = subprocess.run(["bash", "-c", preamble + code], cwd=folder, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{code}\n--- stdout (end):\n{done.stdout[-3000:]}\n--- stderr:\n{done.stderr}"


@pytest.mark.slow
@pytest.mark.parametrize("page", sorted(PAGES))
def test_page_examples_run(page, tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    for folder in ("models", "sensitivity", "tests"):
        (tmp_path / folder).symlink_to(ROOT / folder)
    monkeypatch.chdir(tmp_path)
    found = blocks(page)
    assert found, f"{page} shows no commands or code"
    for kind, code in found:
        if kind == "sh" and ("sdkit reproduce" in code or "venv" in code):
            continue  # the main job and the set-up: tests/test_reproduce.py and CI run them
        run_block(kind, code, tmp_path)
