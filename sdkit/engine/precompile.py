"""``python -m sdkit.engine.precompile KIND``: compile the numba kernel of KIND (``one`` or ``blocks``) of the
:class:`~sdkit.engine.kernel.Kernel` pickled on standard input into the kernel cache, or (KIND ``links``) the numba
link scores of a :class:`~sdkit.loops.linkcode.LinkProgram`: whatever is pickled, its ``compile_numba(KIND)``.

Started by :mod:`sdkit.engine.kernel_choice` for a compile in the background, at low priority; exit code 0
when the kernel is compiled (or was already), 3 when compiling it failed.
"""

from __future__ import annotations

import pickle
import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    kernel = pickle.loads(sys.stdin.buffer.read())  # noqa: S301 - written by the parent process
    try:
        kernel.compile_numba(argv[0])
    except Exception as exc:  # noqa: BLE001 - reported through the exit code and one line
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
