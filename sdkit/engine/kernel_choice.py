"""Which numba kernel a model runs on, and the compiles that go on in a background process.

A model compiles to the one-function kernel (:func:`sdkit.engine.codegen.generate_numba`,
fastest to run, compiled whole) or to the blocked kernel (:mod:`sdkit.engine.nbblocks`,
each block of equations cached on its own, so a structural edit compiles only the
blocks it touches). The two give the same bits. ``SDKIT_NUMBA_BLOCKS`` chooses:
``1`` the blocked kernel, ``0`` the one-function kernel, unset (or empty) both, as
:func:`plan` says:

- the one-function kernel of this structure is compiled (in numba's cache or in this
  process): it runs;
- else most of the blocked kernel is (at least :data:`CACHED_SHARE` of its blocks' text,
  so the structure is an edit of one compiled before): the blocked kernel is compiled
  now (its new blocks only) and runs, and the one-function kernel compiles in a
  background process; once it is ready, later runs of this kernel switch to it;
- else (a first compile): the one-function kernel is compiled now; a model of
  :data:`PREWARM_MIN_WORK` or more also has its blocks compiled into the cache in a
  background process started after it, so that its next structural edit is fast
  (unless ``SDKIT_NUMBA_PREWARM=0``, which also keeps a plain ``load_model`` that does not find the
  kernel in numba's cache from compiling it in the background, :meth:`sdkit.model.Model.ready_numba`, and
  a large ensemble's loop scoring its link scores, :mod:`sdkit.loops.samples`).

A background compile runs in a child process (:mod:`sdkit.engine.precompile`) at nice
:data:`NICE` (the foreground's runs come first, and it never holds this process's GIL),
one at a time per process (those queued behind it are dropped if this process exits
first). It is started and handed its kernel at once; it writes to the same cache and
outlives this process (which never waits for it at exit), so the next process finds its
kernel compiled.
"""

from __future__ import annotations

import atexit
import collections
import logging
import os
import pickle
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from sdkit.cache import cache_folder
from sdkit.engine.nbblocks import BLOCKS_ENV
from sdkit.engine.nbmodule import NumbaModules
from sdkit.errors import ParameterError

log = logging.getLogger("sdkit.engine")

#: the blocked kernel runs right away when at least this share of its blocks' text is compiled
CACHED_SHARE = 0.5
#: a first compile of a model with this much work (:func:`sdkit.engine.nbblocks.work`) or more also compiles its
#: blocks in the background: the one-function kernel of such a model takes about 3 s or more to compile
PREWARM_MIN_WORK = 400
#: ``SDKIT_NUMBA_PREWARM=0``: no background compile after a first compile or a load (see :func:`prewarm`)
PREWARM_ENV = "SDKIT_NUMBA_PREWARM"
#: niceness of a background compile's process
NICE = 10
_KINDS = {"": "auto", "0": "one", "1": "blocks"}


def requested() -> str:
    """``"blocks"``, ``"one"`` (``SDKIT_NUMBA_BLOCKS`` 1 or 0) or ``"auto"`` (unset or empty)."""
    value = os.environ.get(BLOCKS_ENV, "").strip()
    if value not in _KINDS:
        raise ParameterError(f"{BLOCKS_ENV}={value!r} is unknown; use 1 (blocked kernel), 0 (one-function "
                             "kernel) or leave it unset (both, the blocked one right after a structural edit)")
    return _KINDS[value]


def prewarm() -> bool:
    """False when ``SDKIT_NUMBA_PREWARM=0``: a first compile then starts no background compile of the blocks, nor
    a load one of a kernel numba's cache does not hold, nor a large ensemble's loop scoring one of its link scores
    (:mod:`sdkit.loops.samples`, which then compiles them first): a machine where background work is unwelcome;
    the tests, where it would queue ahead of another test's."""
    value = os.environ.get(PREWARM_ENV, "").strip()
    if value not in {"", "0", "1"}:
        raise ParameterError(f"{PREWARM_ENV}={value!r} is unknown; use 0 (no background compile of the blocks "
                             "after a first compile) or 1 (the default)")
    return value != "0"


def compiled_test() -> Callable[[str], bool]:
    """A test of whether a module's function is compiled in this process or in numba's cache (its index file),
    the cache's index files listed once."""
    folder = cache_folder("engine") / "__pycache__"
    indexed = {entry.name.partition(".")[0] for entry in os.scandir(folder)
               if entry.name.endswith(".nbi")} if folder.is_dir() else set()

    def compiled(name: str) -> bool:
        module = sys.modules.get(name)
        function = getattr(module, "block", None) or getattr(module, "run", None)
        return (function is not None and bool(function.signatures)) or name in indexed

    return compiled


def compiled(name: str) -> bool:
    """Module ``name``'s function is compiled in this process or in numba's cache (its index file)."""
    return compiled_test()(name)


def cached(code: NumbaModules) -> bool:
    """Every function of the numba kernel ``code`` is compiled in this process or in numba's cache, so that
    loading it compiles nothing."""
    compiled = compiled_test()
    return all(compiled(name) for name, _ in code.modules)


def _blocks(code: NumbaModules) -> list[tuple[str, str]]:
    return [(name, text) for name, text in code.modules if name.startswith("sdkit_block_")]


def plan(one: NumbaModules, blocked: Callable[[], NumbaModules], work: Callable[[], int]) -> tuple[str, str | None]:
    """What to compile now (``"one"`` or ``"blocks"``) and in the background (``"one"``, ``"blocks"`` or None),
    given the one-function kernel's modules, the blocked kernel's and the model's work (both computed if need be)."""
    compiled = compiled_test()
    if compiled(one.modules[-1][0]):
        return "one", None
    blocks = _blocks(blocked())
    if not blocks:  # a kernel with loops over subscripts has no blocked form
        return "one", None
    cached = sum(len(text) for name, text in blocks if compiled(name))
    if cached >= CACHED_SHARE * sum(len(text) for _, text in blocks):
        return "blocks", "one"
    return "one", ("blocks" if prewarm() and work() >= PREWARM_MIN_WORK else None)


class _Job(NamedTuple):
    payload: bytes
    kind: str
    then: Callable[[], None] | None
    done: threading.Event


class _Background:
    """Compiles in child processes, one at a time: a child is started (and handed its kernel) as soon as none
    runs, and a daemon thread waits for it, then starts the next. At exit, a child being started is handed its
    kernel first; compiles not started are dropped."""

    def __init__(self) -> None:
        self.pending: collections.deque[_Job] = collections.deque()
        self.running = False
        self.closed = False
        self.lock = threading.Lock()  # held while a child is started

    def submit(self, kernel: object, kind: str, then: Callable[[], None] | None) -> threading.Event:
        done = threading.Event()
        try:
            payload = pickle.dumps(kernel)
        except Exception:  # noqa: BLE001 - the foreground runs on without it; say why
            log.warning("the %s numba kernel cannot compile in the background", kind, exc_info=True)
            done.set()
            return done
        with self.lock:
            self.pending.append(_Job(payload, kind, then, done))
            if not self.running:
                self._start_next()
        return done

    def close(self) -> None:
        with self.lock:
            self.closed = True

    def _start_next(self) -> None:
        """Start the next pending compile, if any (under the lock)."""
        while self.pending and not self.closed:
            job = self.pending.popleft()
            try:
                child, errors = _start_child(job.payload, job.kind)
            except Exception:  # noqa: BLE001 - the foreground runs on; say why
                log.warning("the background compile of the %s numba kernel did not start", job.kind, exc_info=True)
                job.done.set()
                continue
            self.running = True
            threading.Thread(target=self._wait, args=(job, child, errors), daemon=True,
                             name="sdkit-background-compile").start()
            return

    def _wait(self, job: _Job, child: subprocess.Popen, errors) -> None:
        try:
            if _ended_well(child, errors, job.kind) and job.then is not None:
                job.then()
        except Exception:  # noqa: BLE001 - the foreground runs on; say why the switch did not happen
            log.warning("the background compile of the %s numba kernel failed", job.kind, exc_info=True)
        finally:
            job.done.set()
            with self.lock:
                self.running = False
                self._start_next()


_BACKGROUND = _Background()
atexit.register(_BACKGROUND.close)  # waits for a child being started; starts no other
if hasattr(os, "register_at_fork"):  # a forked process has no waiting thread: it starts afresh
    os.register_at_fork(after_in_child=_BACKGROUND.__init__)


def compile_in_background(kernel: object, kind: str, then: Callable[[], None] | None = None) -> threading.Event:
    """Compile ``kernel``'s numba kernel of ``kind`` into the cache in a child process (after those queued
    before), then call ``then()`` in this process if it succeeded; the event is set when all is done."""
    return _BACKGROUND.submit(kernel, kind, then)


def _start_child(payload: bytes, kind: str) -> tuple[subprocess.Popen, object]:
    """:mod:`sdkit.engine.precompile` started on the pickled kernel, which it has been handed, and the file
    of its messages."""
    import sdkit

    root = str(Path(sdkit.__file__).resolve().parent.parent)
    env = dict(os.environ, SDKIT_CACHE_DIR=str(cache_folder("engine").parent),
               PYTHONPATH=os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p))
    # at low priority from its first line on (its imports too); in a process group of its own, so that Ctrl-C in
    # the terminal does not stop it, but in this session: on Linux a new session is a new scheduling group
    # (autogroup) that would share the CPU equally with this one, whatever its niceness
    start = f"import os, sys; os.nice({NICE}) if hasattr(os, 'nice') else None; sys.argv[1:] = [{kind!r}]; " \
            "import runpy; runpy.run_module('sdkit.engine.precompile', run_name='__main__', alter_sys=True)"
    # its messages go to a file, not a pipe: a pipe would break (and stop it) when this process exits first
    errors = tempfile.TemporaryFile()
    child = subprocess.Popen([sys.executable, "-c", start], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                             stderr=errors, env=env, **({"process_group": 0} if os.name == "posix" else {}))
    child.stdin.write(payload)
    child.stdin.close()
    return child, errors


def _ended_well(child: subprocess.Popen, errors, kind: str) -> bool:
    """Wait for ``child``; True when it compiled, else its last line of messages is logged."""
    with errors:
        child.wait()
        errors.seek(0)
        message = errors.read().decode("utf-8", "replace")
    if child.returncode != 0:
        last = (message.strip().splitlines() or ["no message"])[-1]
        log.warning("the background compile of the %s numba kernel failed (exit code %d): %s",
                    kind, child.returncode, last)
    return child.returncode == 0
