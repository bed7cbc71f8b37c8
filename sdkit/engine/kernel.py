"""The :class:`Kernel`: a compiled model that simulates N parameter sets at once."""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from sdkit.engine.annotate import annotated_modules, annotated_source
from sdkit.engine.background import CompileJob, simulate_meanwhile
from sdkit.engine.clock import varying_times
from sdkit.engine.codegen import check_order, generate, generate_numba
from sdkit.engine.ir import ModelIR
from sdkit.engine.kernel_choice import cached, compile_in_background, plan, requested
from sdkit.engine.kernel_files import (
    LOAD_LOCK,
    exec_numpy_source,
    interleaved_vectors,
    load_modules,
)
from sdkit.engine.nbblocks import block_addresses, work
from sdkit.engine.nbmodule import LANES_ENV, NumbaModules
from sdkit.engine.plan import Plan, make_plan
from sdkit.engine.schedule import Schedule, order_nodes
from sdkit.engine.threads import run_threads
from sdkit.errors import NonFiniteError, ParameterError
from sdkit.timing import TIME_KEYS

log = logging.getLogger(__name__)

#: below this many samples the numpy backend is used when backend="auto"
NUMBA_MIN_SAMPLES = 64
#: seed of the RANDOM functions unless ``simulate`` is given another (sdkit's runs use it)
RANDOM_SEED = 0
#: samples per call of the blocked kernel while the one-function kernel compiles in the background
SWITCH_SAMPLES = 4096


@dataclass
class SimulationResult:
    """Output of :meth:`Kernel.simulate`.

    Attributes
    ----------
    times : numpy.ndarray
        Saved times, shape ``(T,)`` (rounded like PySD's output index).
    data : dict of str to numpy.ndarray
        Python name -> values, shape ``(n, T, *dims)`` (or ``(n, *dims)`` when
        ``save="final"``), float64.
    """

    times: np.ndarray
    data: dict[str, np.ndarray]


_JOB_LOCK = threading.Lock()


def _call_with_data(run, data, *args):
    return run(*args, *data)


class Kernel:
    """A Vensim model compiled for ensembles; build it with :func:`sdkit.engine.compile_model`.

    Attributes
    ----------
    names : dict of str to str
        Python-safe name (PySD's) -> model name.
    units, comments : dict of str to str
        Python name -> units / comment text from the model file.
    limits : dict of str to tuple
        Python name -> ``(min, max)`` given in the model file (None if absent).
    stocks : list of str
        Python names of stocks (INTEG).
    constants : dict of str to float or numpy.ndarray
        Default value of every overridable constant.
    dims : dict of str to list of str
        Subscript range -> element names.
    var_dims : dict of str to tuple of str
        Python name -> subscript ranges of the variable (empty for scalars).
    initial_time, final_time, time_step, saveper : float
        Model defaults of the control variables.
    variables : list of str
        Every python name :meth:`simulate` can return.
    backend : str
        ``"auto"``, ``"numpy"`` or ``"numba"``.
    random : bool
        The model draws random numbers (RANDOM functions): results depend on
        ``simulate``'s ``seed`` and ``first_sample``.
    background : threading.Event or None
        Set when the numba compile this kernel started in a background process
        has ended (see :mod:`sdkit.engine.kernel_choice`); None if it started none.
    """

    def __init__(self, ir: ModelIR, source: str, backend: str = "auto") -> None:
        if backend not in ("auto", "numpy", "numba"):
            raise ParameterError(f"backend '{backend}' is unknown; use 'auto', 'numpy' or 'numba'")
        self._ir = ir
        self._sched: Schedule = order_nodes(ir)
        self._check = check_order(ir, self._sched)
        self.backend = backend
        self.source_hash = hashlib.sha256(source.encode("utf-8")).hexdigest()
        self.names = dict(ir.names)
        self.units = dict(ir.units)
        self.comments = dict(ir.comments)
        self.limits = dict(ir.limits)
        self.stocks = list(ir.stocks)
        self.dims = {k: list(v) for k, v in ir.dims.items()}
        self.var_dims = {k: tuple(ir.var_dims[k]) for k in ir.var_nodes}
        self.constants: dict[str, float | np.ndarray] = {}
        for py in ir.constants:
            idx = ir.var_nodes[py]
            if idx.ndim == 0:
                self.constants[py] = float(ir.nodes[int(idx)].default)
            else:
                vals = np.full(idx.shape, np.nan)
                for pos, i in np.ndenumerate(idx):
                    if i >= 0:
                        vals[pos] = ir.nodes[i].default
                self.constants[py] = vals
        c = ir.control
        self.initial_time = float(c["initial_time"])
        self.final_time = float(c["final_time"])
        self.time_step = float(c["time_step"])
        self.saveper = float(c["saveper"])
        self.variables = list(ir.var_nodes)
        self.random = ir.random_key is not None
        self._params = [i for i, nd in enumerate(ir.nodes) if nd.kind == "param"]
        self._param_pos = {node: j for j, node in enumerate(self._params)}
        self._fns: dict[str, Any] = {}
        self._codes: dict[tuple[str, str], NumbaModules] = {}
        self._compile_job: CompileJob | None = None
        self.background: threading.Event | None = None

    @property
    def ir(self) -> ModelIR:
        """The scalar model the kernel was compiled from (read it; do not change it)."""
        return self._ir

    def default_values(self, py_name: str, n: int) -> np.ndarray:
        """A writable ``(n, *subscripts)`` array holding constant ``py_name``'s default."""
        default = np.asarray(self.constants[py_name], dtype=float)
        return np.broadcast_to(default, (n, *default.shape)).copy()

    # -------------------------------------------------------------- pickling
    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_fns": {}, "_codes": {}, "_compile_job": None, "background": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    # ------------------------------------------------------------- compiling
    def source(self, flavor: str) -> str:
        """Generated Python source of the ``numpy`` or ``numba`` kernel."""
        if flavor == "numba":
            return self._numba_code().source
        return generate(self._ir, self._sched, flavor)

    def _numba_code(self, kind: str | None = None) -> NumbaModules:
        """The modules of the numba kernel of ``kind`` (``"one"`` or ``"blocks"``; default: in blocks only when
        ``SDKIT_NUMBA_BLOCKS=1``, see :mod:`sdkit.engine.kernel_choice`)."""
        kind = kind or ("blocks" if requested() == "blocks" else "one")
        key = (kind, os.environ.get(LANES_ENV, ""))  # generated once per kind and forced lane count
        if key not in self._codes:
            self._codes[key] = generate_numba(self._ir, self._sched, blocks=kind == "blocks")
        return self._codes[key]

    def annotated_source(self, flavor: str = "numpy") -> str:
        """:meth:`source` with a comment on each line naming the model variables behind ``v12``, ``d3``, ..."""
        if flavor == "numba":
            code = self._numba_code()
            return annotated_modules(code.modules, code.names, self._ir)
        return annotated_source(self.source(flavor), self._ir)

    def numba_data(self) -> tuple:
        """The numba kernel's data, the last arguments of its ``run``: numbers, lookup tables and rows."""
        return self._numba_code().data

    @property
    def numba_kind(self) -> str | None:
        """The numba kernel that runs now: ``"one"`` (one function), ``"blocks"``, or None (not compiled yet)."""
        return self._fns["numba"].kind if "numba" in self._fns else None

    def numba_cached(self) -> bool:
        """Whether the numba kernel (:meth:`_numba_code`) is loaded or loads from numba's cache without compiling."""
        return "numba" in self._fns or cached(self._numba_code())

    def _function(self, flavor: str):
        fn = self._fns.get(flavor)
        if fn is not None:
            return fn
        if flavor == "numpy":
            fn = self._fns["numpy"] = exec_numpy_source(self.source(flavor))
            return fn
        self._numba_job().wait()  # progress lines once it outlasts the budget
        return self._fns["numba"]

    def _numba_job(self) -> CompileJob:
        """The compile of the numba kernel, started in the background on first use."""
        with _JOB_LOCK:
            if self._compile_job is None:
                what = f"a model of {len(self._ir.nodes)} values"
                self._compile_job = CompileJob(self._build_numba, what)
            return self._compile_job

    def _build_numba(self) -> None:
        """Compile (or load) the numba kernel that :func:`sdkit.engine.kernel_choice.plan` chooses now; start the
        compile it puts in the background (after an edit, the one-function kernel that runs once ready)."""
        if self.background is not None:  # the compile a load started in a background process (not twice)
            self.background.wait()
        if requested() != "auto":
            return self.compile_numba(requested())
        one = self._numba_code("one")
        now, later = plan(one, functools.cache(lambda: self._numba_code("blocks")),
                          lambda: sum(work(nd.expr) + work(nd.flow) + work(nd.initial_value) for nd in self._ir.nodes))
        self.compile_numba(now, one if now == "one" else None)
        if later is not None:  # after this compile, which it would slow down on a busy machine
            then = (lambda: self.compile_numba("one", one)) if later == "one" else None  # then runs switch to it
            self.background = compile_in_background(self, later, then)

    def compile_numba(self, kind: str, code: NumbaModules | None = None) -> None:
        """Compile (or load from numba's cache) the numba kernel of ``kind`` (its modules ``code``, if given)
        and run on it from now on."""
        # the modules hold the structure only (numbers, lookups and rows are data): their names are its cache keys
        code = code or self._numba_code(kind)
        run = load_modules(code.modules).run
        with LOAD_LOCK, interleaved_vectors():
            blocks = block_addresses(code.modules)  # the blocked kernel's functions, else None
        fn = functools.partial(_call_with_data, run, code.data if blocks is None else (blocks, *code.data))
        self._compile_numba(fn)
        fn.kind = "one" if blocks is None else "blocks"
        self._fns["numba"] = fn

    def _param_matrix(self, pvals: Mapping[int, Any], n: int) -> np.ndarray:
        """The numba kernel's ``P``: one row per param node, given values or defaults."""
        P = np.empty((len(self._params), n), dtype=np.float64)
        for j, node in enumerate(self._params):
            P[j] = pvals.get(node, self._ir.nodes[node].default)
        return P

    def _compile_numba(self, fn) -> None:
        """Compile (or load from numba's cache) the kernel with a one-sample, one-step call.

        LLVM is told to interleave :data:`INTERLEAVE` vectors of lanes in the lane
        loop (``-force-vector-interleave``): one 8-lane vector's arithmetic is a long
        chain of dependent operations, and two chains side by side keep the CPU
        busy (20-30 % faster on the core model). The option is global to LLVM,
        so it is set only around this compile and then reset to its default.
        """
        t0 = float(self.initial_time)
        args = (
            self._param_matrix({}, 1),
            np.array([t0]),
            np.full(1, -1, dtype=np.int64),
            np.ones(1, dtype=bool),
            np.empty(0, dtype=np.int64),
            np.empty((1, 0, 0)),
            t0,
            t0,
            float(self.time_step),
            float(self.saveper),
            np.full((1, 2), -1, dtype=np.int64),
            0,
            1,
        )
        with LOAD_LOCK, interleaved_vectors():
            fn(*args)

    def _pick_backend(self, n: int, backend: str | None) -> str:
        b = backend or self.backend
        if b not in ("auto", "numpy", "numba"):
            raise ParameterError(f"backend '{b}' is unknown; use 'auto', 'numpy' or 'numba'")
        if b == "auto":
            # a compiled numba kernel runs even one sample ~50x faster than numpy; the two
            # give identical bits, so the choice never changes a result
            if "numba" in self._fns:
                return "numba"
            if n < NUMBA_MIN_SAMPLES:
                return "numpy"
            return self._numba_within_budget()
        return b

    def _numba_within_budget(self) -> str:
        """``"numba"`` when its kernel is ready within the compile budget, else ``"meanwhile"`` (numpy until then)."""
        try:
            from sdkit.engine import ufuncs
        except ImportError:  # pragma: no cover - numba is a dependency
            return "numpy"
        ufuncs.warm()  # the numpy backend's compiled maths, before the compile holds numba's lock
        job = self._numba_job()
        if job.ready_within_budget():
            job.wait()  # raises what the compile raised
            return "numba"
        if not job.announced:  # once; the job itself reports progress every COMPILE_BUDGET_S
            job.announced = True
            log.warning("compiling the numba kernel of %s: %.0f s so far; running on the numpy backend meanwhile",
                        job.what, job.elapsed)
        return "meanwhile"

    # ------------------------------------------------------------ simulating
    def _times(self, time: Mapping[str, float] | None) -> tuple[float, float, float, float] | tuple:
        from sdkit.engine.static import control_values

        overrides: dict[str, float] = {}
        for key, value in (time or {}).items():
            if key not in TIME_KEYS:
                raise ParameterError(f"time key '{key}' is unknown; use one of {TIME_KEYS}")
            overrides[key] = float(value)
        # like PySD, e.g. SAVEPER = TIME STEP follows an overridden time step
        t = control_values(self._ir.control_ir, self._ir, overrides, set())
        if not (t["time_step"] > 0 and np.isfinite(t["time_step"])):
            raise ParameterError(f"time_step {t['time_step']} must be positive")
        fixed = self._ir.fixed_time_step
        if fixed is not None and t["time_step"] != fixed:
            raise ParameterError(
                f"time_step {t['time_step']}: the model's DELAY FIXED pipelines were built for "
                f"TIME STEP {fixed}; edit TIME STEP in the model file instead"
            )
        if not (t["saveper"] > 0 and np.isfinite(t["saveper"])):
            raise ParameterError(f"saveper {t['saveper']} must be positive")
        if not t["final_time"] >= t["initial_time"]:
            raise ParameterError(
                f"final_time {t['final_time']} is before initial_time {t['initial_time']}"
            )
        if self._ir.varying_controls:
            return varying_times(self._ir, overrides, t)
        return t["initial_time"], t["final_time"], t["time_step"], t["saveper"]

    def _param_values(self, params: Mapping[str, Any], n: int) -> dict[int, np.ndarray | float]:
        out: dict[int, Any] = {}
        for py, value in params.items():
            if py not in self.constants:
                hint = " (it is not a constant)" if py in self.names else ""
                raise ParameterError(
                    f"parameter '{py}' is not an overridable constant of the model{hint}; "
                    "see kernel.constants"
                )
            if py in self._ir.structural:
                raise ParameterError(
                    f"parameter '{py}' fixes the {self._ir.structural[py]} when the model is "
                    "compiled; edit the model file to change it"
                )
            if py in self._ir.control_params:
                raise ParameterError(
                    f"parameter '{py}' sets a control variable (time settings are shared by all "
                    "samples); pass time={'final_time': ...} etc. instead"
                )
            idx = self._ir.var_nodes[py]
            shape = idx.shape
            arr = np.asarray(value, dtype=np.float64)
            if arr.shape == ():
                full = np.broadcast_to(arr, (n, *shape))
            elif arr.shape == (n,):
                full = np.broadcast_to(arr.reshape((n,) + (1,) * len(shape)), (n, *shape))
            elif arr.shape == (n, *shape):
                full = arr
            elif shape and arr.shape == shape:
                full = np.broadcast_to(arr, (n, *shape))
            else:
                raise ParameterError(
                    f"parameter '{py}' has shape {arr.shape}; expected a scalar, ({n},) or "
                    f"({n}, {', '.join(str(s) for s in shape)})"
                )
            for pos, node in np.ndenumerate(idx):
                if node < 0:
                    continue
                col = full[(slice(None), *pos)]
                if arr.shape == ():
                    out[int(node)] = np.float64(arr)
                else:
                    out[int(node)] = np.ascontiguousarray(col, dtype=np.float64)
        return out

    def simulate(
        self,
        params: Mapping[str, Any] | None,
        n: int,
        variables: Sequence[str] | None = None,
        save: str | Sequence[float] | np.ndarray = "all",
        time: Mapping[str, float] | None = None,
        backend: str | None = None,
        seed: int = RANDOM_SEED,
        first_sample: int = 0,
    ) -> SimulationResult:
        """Simulate ``n`` parameter sets at once.

        Parameters
        ----------
        params : mapping of str to scalar or numpy.ndarray, optional
            Python name of a constant -> value: a scalar, shape ``(n,)`` or
            ``(n, *dims)`` (or ``dims`` for one value for every sample).
            Constants not given keep their defaults.
        n : int
            Number of samples.
        variables : sequence of str, optional
            Python names to return (default: all of :attr:`variables`).
        save : {"all", "final"} or array of float
            ``"all"``: every SAVEPER time like PySD; ``"final"``: only the
            values at the final time; an array: those times (each must lie on
            the time-step grid).
        time : mapping, optional
            Overrides of ``initial_time``, ``final_time``, ``time_step``,
            ``saveper`` (saveper defaults to the model's, or to the new time
            step if that is larger).
        backend : {"auto", "numpy", "numba"}, optional
            Overrides :attr:`backend` for this call.
        seed : int, optional
            Seed of the RANDOM functions (0 to 2**53 - 1); ignored by models without them.
        first_sample : int, optional
            Number of the first sample: sample ``i`` draws the random stream of sample
            ``first_sample + i`` (so a chunk of an ensemble draws what the whole ensemble
            would draw for those samples).

        Returns
        -------
        SimulationResult
            ``.times`` and ``.data`` (python name -> float64 array of shape
            ``(n, T, *dims)``, or ``(n, *dims)`` with ``save="final"``).

        Raises
        ------
        ParameterError
            Unknown parameter or variable, bad shapes or times.
        NonFiniteError
            A NaN or infinity appeared; the message names the variable, the
            sample and the time.
        """
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ParameterError(f"n={n!r} must be a positive integer")
        n = int(n)
        names = list(self.variables) if variables is None else list(variables)
        plan = make_plan(names, self._ir.var_nodes, self._times(time), save)
        plan.refuse_oversized(n)
        pvals = self._values(params, n, seed, first_sample)
        flavor = self._pick_backend(n, backend)
        if flavor == "meanwhile":
            return simulate_meanwhile(params or {}, n, lambda py: self._ir.var_nodes[py].shape,
                                      lambda: "numba" in self._fns,
                                      lambda part, first, m, b: self.simulate(part, m, names, save, time, backend=b, seed=seed,
                                                                              first_sample=first_sample + first))
        if flavor == "numpy":
            buf = self._execute_numpy(plan, pvals, n)
        else:
            buf = self._execute_numba(plan, pvals, n, params or {}, time, (seed, first_sample))
        return SimulationResult(times=plan.out_times, data=_collect(plan, buf, n, flavor))

    def _values(self, params: Mapping[str, Any] | None, n: int, seed: int, first_sample: int) -> dict[int, Any]:
        """The node values a call sets: its parameters, then the seed and sample numbers of RANDOM draws."""
        return {**self._param_values(params or {}, n), **self._random_key(seed, first_sample, n)}

    def _random_key(self, seed: int, first_sample: int, n: int) -> dict[int, Any]:
        """Values of the hidden seed and sample-number nodes that RANDOM draws read."""
        for name, value, last in (("seed", seed, seed), ("first_sample", first_sample, first_sample + n - 1)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= last < 2**53:
                raise ParameterError(f"{name}={value!r} must be a whole number >= 0 (with n, below 2**53)")
        if self._ir.random_key is None:
            return {}
        seed_node, sample_node = self._ir.random_key
        return {seed_node: np.float64(seed),
                sample_node: np.arange(first_sample, first_sample + n, dtype=np.float64)}

    def simulate_steps(self, params: Mapping[str, Any] | None, n: int, nodes: Sequence[int],
                       time: Mapping[str, float] | None = None, out: np.ndarray | None = None,
                       seed: int = RANDOM_SEED, first_sample: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """The saved times and the values of scalar ``nodes`` (IR node indices, ascending) at
        every saved time as one ``(n, saved steps, node)`` array: the numba kernel's own
        buffer (``out`` when given, C-contiguous), without :meth:`simulate`'s copy per
        variable (loop dominance reads it whole)."""
        if list(nodes) != sorted(set(nodes)):
            raise ParameterError("simulate_steps takes node indices in ascending order, each once")
        t = self._times(time)
        plan = make_plan([], self._ir.var_nodes, t, "all")
        plan = replace(plan, saved_nodes=np.asarray(nodes, dtype=np.int64))
        pvals = self._values(params, n, seed, first_sample)
        buf = self._execute_numba(plan, pvals, n, params or {}, time, (seed, first_sample), out)
        return plan.out_times, buf

    def _arguments(self, plan: Plan) -> tuple:
        """The kernel's arguments after the parameters and the output buffer."""
        times = np.asarray(plan.times, dtype=np.float64)
        return (times, plan.save_index, plan.check, plan.saved_nodes)

    def _execute_numpy(self, plan: Plan, pvals: Mapping[int, Any], n: int) -> np.ndarray:
        """Run the numpy kernel; the buffer is ``(saved nodes, saved steps, n)``."""
        P = [pvals.get(node, np.float64(self._ir.nodes[node].default)) for node in self._params]
        buf = np.empty((plan.saved_nodes.size, plan.steps.size, n), dtype=np.float64)
        bad = np.full((n, 2), -1, dtype=np.int64)
        with np.errstate(all="ignore"):
            failed = self._function("numpy")(P, *self._arguments(plan), buf, plan.t0, plan.tf, plan.dt, plan.sp, bad)
        if failed is not None:
            k, pos, sample = failed
            node = self._check[pos]
            raise NonFiniteError.at(self._ir.nodes[node].label, int(sample), plan.rounded(plan.times[k]))
        return buf

    def _execute_numba(self, plan: Plan, pvals: Mapping[int, Any], n: int, params: Mapping[str, Any],
                       time: Mapping[str, float] | None, key: tuple[int, int],
                       out: np.ndarray | None = None) -> np.ndarray:
        """Run the numba kernel over threads; the buffer (``out`` when given) is ``(n, saved steps, saved nodes)``."""
        shape = (n, plan.steps.size, plan.saved_nodes.size)
        buf = np.empty(shape, dtype=np.float64) if out is None else out
        if buf.shape != shape or buf.dtype != np.float64 or not buf.flags.c_contiguous:
            raise ParameterError(f"the kernel's buffer must be a C-contiguous float64 array of shape {shape}")
        bad = np.full((n, 2), -1, dtype=np.int64)
        args = (self._param_matrix(pvals, n), *self._arguments(plan), buf, plan.t0, plan.tf, plan.dt, plan.sp, bad)
        with np.errstate(all="ignore"):
            self._run_numba(args, n)
        failed = np.flatnonzero(bad[:, 0] >= 0)
        if failed.size:
            k_first = bad[failed, 0].min()
            sample = int(failed[np.flatnonzero(bad[failed, 0] == k_first)[0]])
            self._locate_nonfinite(params, n, sample, time, plan.times[k_first], plan, key)
        return buf

    def _run_numba(self, args: tuple, n: int) -> None:
        """Samples ``0..n`` on the numba kernel; on the blocked kernel while the one-function kernel compiles in
        the background, :data:`SWITCH_SAMPLES` at a time, so that the samples left when it is ready run on it."""
        start = 0
        while start < n:
            fn = self._function("numba")
            pending = fn.kind == "blocks" and self.background is not None and not self.background.is_set()
            stop = min(n, start + SWITCH_SAMPLES) if pending else n
            run_threads(fn, args, stop, start)
            start = stop

    def _locate_nonfinite(self, params: Mapping[str, Any], n: int, sample: int, time: Mapping[str, float] | None,
                          t: float, plan: Plan, key: tuple[int, int]) -> None:
        """Re-run one failed sample with numpy to name the first non-finite variable."""
        one = {}
        for py, value in params.items():
            arr = np.asarray(value, dtype=np.float64)
            shape = self._ir.var_nodes[py].shape
            if arr.shape in ((n,), (n, *shape)):
                arr = arr[sample : sample + 1]
            one[py] = arr
        until = {**(time or {}), "final_time": float(t)}
        try:
            self.simulate(one, 1, variables=[], save="final", time=until, backend="numpy",
                          seed=key[0], first_sample=key[1] + sample)
        except NonFiniteError as exc:
            raise NonFiniteError.at(exc.variable, sample, exc.time) from None
        raise NonFiniteError.at(None, sample, plan.rounded(t))


def _collect(plan: Plan, buf: np.ndarray, n: int, flavor: str) -> dict[str, np.ndarray]:
    """Python name -> ``(n, saved steps, *subscripts)`` values (``(n, *subscripts)`` for final values)."""
    col = plan.column()
    data: dict[str, np.ndarray] = {}
    for v, idx in zip(plan.names, plan.var_nodes, strict=True):
        shape = idx.shape
        if flavor == "numpy":
            arr = np.full((n, plan.steps.size, *shape), np.nan)
            for pos, node in np.ndenumerate(idx):
                if node >= 0:
                    arr[(slice(None), slice(None), *pos)] = buf[col[int(node)]].T
        else:
            cols = np.array([col.get(int(i), -1) for i in np.ravel(idx)], dtype=np.int64)
            if cols.size and (cols >= 0).all():
                arr = buf[:, :, cols].reshape((n, plan.steps.size, *shape))
            else:
                arr = np.full((n, plan.steps.size, cols.size), np.nan)
                ok = cols >= 0
                arr[:, :, ok] = buf[:, :, cols[ok]]
                arr = arr.reshape((n, plan.steps.size, *shape))
        if plan.final:
            arr = arr[:, 0]
        data[v] = np.ascontiguousarray(arr)
    return data
