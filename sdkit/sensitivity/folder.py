"""A sweep's output folder: one writer at a time, start afresh or resume, clean up when done.

While a sweep runs it holds the folder's lock (:func:`sdkit.locks.folder_lock`): a
second sweep into the same folder, even with ``--force``, stops with a one-line error.
``study.json`` records the normalised definition a ``--resume`` is checked against;
``chunks/`` keeps finished chunks until the sweep has written its results, and is then
deleted unless the chunks are asked to be kept.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sdkit.errors import OutputError
from sdkit.io import write_atomic
from sdkit.locks import folder_lock, removing_temporaries
from sdkit.sensitivity.spec import Study, StudyError

__all__ = ["CHUNKS", "RESULT_FILES", "prepare_out", "remove_chunks", "sweep_folder"]

RESULT_FILES = ("samples.nc", "outputs.nc", "indices.nc", "indices_time.nc", "convergence.nc")
CHUNKS = "chunks"
STATE = "study.json"


@contextlib.contextmanager
def sweep_folder(folder: Path) -> Iterator[Path]:
    """Hold ``folder``'s lock; temporary files a killed sweep left there are removed."""
    with folder_lock(folder, "--out"), removing_temporaries(folder):
        yield folder


def _differences(old: Any, new: Any, prefix: str = "") -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        found = []
        for key in sorted(set(old) | set(new), key=str):
            where = f"{prefix}.{key}" if prefix else str(key)
            if key not in old or key not in new:
                found.append(f"{where} {'added' if key not in old else 'removed'}")
            else:
                found.extend(_differences(old[key], new[key], where))
        return found
    if old != new:
        return [f"{prefix} {json.dumps(old)} -> {json.dumps(new)}"]
    return []


def _recorded_state(out: Path) -> dict[str, Any]:
    """The definition recorded in ``out/study.json``; a missing or damaged record is an OutputError."""
    recorded = out / STATE
    if not recorded.exists():
        raise OutputError(f"{out} holds no {STATE}, so there is nothing to resume; "
                          "drop --resume and pass --force to start afresh")
    try:
        state = json.loads(recorded.read_bytes())
    except (OSError, ValueError) as exc:
        reason = "it is empty" if recorded.is_file() and recorded.stat().st_size == 0 else type(exc).__name__
        raise OutputError(f"cannot resume from {recorded}: {reason}, not a sweep record; "
                          "pass --force instead of --resume to start afresh") from None
    if not isinstance(state, dict) or "study" not in state:
        raise OutputError(f"cannot resume from {recorded}: it is not a sweep record; "
                          "pass --force instead of --resume to start afresh")
    return state


def prepare_out(out: Path, state: dict[str, Any], study: Study, resume: bool, force: bool) -> None:
    """Check and prepare the (locked) output folder: refuse a non-empty one unless resuming or forced."""
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out} is a file; give a folder for --out")
    existing = out.is_dir() and any(out.iterdir())
    if existing and resume:
        changes = _differences(_recorded_state(out), state)
        if changes:
            shown = "; ".join(changes[:3]) + (f"; and {len(changes) - 3} more" if len(changes) > 3 else "")
            raise StudyError(f"cannot resume in {out}: the definition changed ({shown}); "
                             "undo the change, or pass --force to start afresh")
    elif existing and not force:
        raise OutputError(f"{out} is not empty; pass --resume to continue its sweep or --force to start afresh")
    elif existing and force:
        shutil.rmtree(out / CHUNKS, ignore_errors=True)
        for name in (*RESULT_FILES, STATE, "study.toml"):
            (out / name).unlink(missing_ok=True)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create {out}: {exc.strerror}; choose another --out") from None
    write_atomic(out / STATE, lambda tmp: tmp.write_text(json.dumps(state, indent=1, sort_keys=True)))
    if study.text:
        write_atomic(out / "study.toml", lambda tmp: tmp.write_text(study.text))


def remove_chunks(out: Path) -> None:
    """Delete ``out/chunks`` once the results are written (they are no longer needed to resume)."""
    shutil.rmtree(out / CHUNKS, ignore_errors=True)
