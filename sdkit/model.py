"""Load a Vensim model file: its variables, time settings, scenarios and backends.

A :class:`Model` holds everything read from the model file (:mod:`sdkit.model_file`
reads and parses it once, :mod:`sdkit.variables` and :mod:`sdkit.timing` turn the
parse into records, :mod:`sdkit.structure` validates it) without executing anything
the file contains. The two ways of running it, the vectorised engine and PySD, are
created on demand from the same checked text.
"""

from __future__ import annotations

import hashlib
import tempfile
import warnings
from dataclasses import dataclass, field
from functools import cached_property, partial
from pathlib import Path
from typing import Any

from sdkit.errors import (
    ModelFileError,
    ParameterError,
    ScenarioError,
    SdkitWarning,
    UnsupportedFeature,
)
from sdkit.model_file import (
    parse_model_text,
    read_model,
    read_model_text,
    sha256_of,
)
from sdkit.names import model_names
from sdkit.scenarios import Scenario, load_scenarios, scenarios_path_for
from sdkit.simlin_reader import XMILE_SUFFIXES
from sdkit.structure import (
    check_data_files,
    check_structure,
    check_subscripts,
    clean_name,
    refuse_reserved,
)
from sdkit.timing import (
    MAX_SAVED,
    MAX_STEPS,
    TimeConstant,
    TimeSettings,
    find_time_constants,
    find_time_lookups,
    time_settings_of,
    time_step_warning,
)
from sdkit.variables import CONTROL_NAMES, Variable, dims_of, variables_of

__all__ = [
    "CONTROL_NAMES", "MAX_SAVED", "MAX_STEPS", "Model", "TimeConstant", "TimeSettings",
    "Variable", "load_model", "read_model_text", "sha256_of",
]


@dataclass(repr=False)
class Model:
    """A model file, read and ready to run.

    Create it with :func:`load_model`. Running never changes it: each run starts
    from the file's own values.
    """

    path: Path
    sha256: str
    variables: dict[str, Variable]
    time: TimeSettings
    dims: dict[str, list[str]]
    scenarios: dict[str, Scenario] = field(default_factory=dict)
    time_constants: dict[str, TimeConstant] = field(default_factory=dict)
    #: Variables that read a lookup directly at Time: Python-safe name -> (x_min, x_max).
    time_lookups: dict[str, tuple[float, float]] = field(default_factory=dict)
    #: The checked, decoded text of the file: what every translator is given.
    text: str = field(default="", repr=False, compare=False)
    #: PySD's abstract model of ``text`` (Vensim's precedence): what the engine compiles.
    abstract_model: Any = field(default=None, repr=False, compare=False)
    #: The scenarios file read (or looked for, when there is none).
    scenarios_file: Path | None = None
    #: The reader that read the file: "pysd" (PySD's parser) or "pysimlin" (:mod:`sdkit.simlin_reader`).
    reader: str = "pysd"
    #: The engine's translation (:class:`sdkit.engine.ir.ModelIR`) when loading needed it, to compute the time
    #: settings from constants (``FINAL TIME = horizon``); :func:`sdkit.engine.compile_model` reuses it.
    translation: Any = field(default=None, repr=False, compare=False)

    @property
    def control_constants(self) -> frozenset[str]:
        """Constants the time settings are computed from (``FINAL TIME = horizon``): python names."""
        return frozenset(self.translation.control_params) if self.translation is not None else frozenset()

    def unknown_scenario(self, name: str) -> str:
        """The message for a scenario this model does not define: where sdkit looked, and the fix."""
        where = f" (looked for {self.scenarios_file})" if self.scenarios_file else ""
        if not self.scenarios:
            return (f"{self.path.name} has no scenario {name!r}: it has no scenarios file{where}; "
                    "write one there or pass --scenarios FILE")
        return (f"unknown scenario {name!r} for {self.path.name}; known: {', '.join(self.scenarios)} "
                f"(from {self.scenarios_file}); pass --scenarios FILE to read another file")

    def __repr__(self) -> str:
        counts = self._counts()
        scenarios = ", ".join(list(self.scenarios)[:5]) + (", ..." if len(self.scenarios) > 5 else "")
        return (f"<Model {self.name}: {counts['stock']} stocks, {counts['constant']} constants, "
                f"{counts['auxiliary']} auxiliaries; {len(self.scenarios)} scenarios ({scenarios}); "
                f"{self.time.initial_time:g} to {self.time.final_time:g} by {self.time.time_step:g}>")

    def _repr_html_(self) -> str:
        """A short summary in notebooks: counts, time settings and the scenarios."""
        from html import escape

        counts = self._counts()
        rows = "".join(f"<tr><td>{escape(s.name)}</td><td>{escape(s.description)}</td></tr>"
                       for s in self.scenarios.values())
        return (f"<b>{escape(self.name)}</b> ({escape(str(self.path))}): {counts['stock']} stocks, "
                f"{counts['constant']} constants, {counts['auxiliary']} auxiliaries; time "
                f"{self.time.initial_time:g} to {self.time.final_time:g} by {self.time.time_step:g}"
                f"<table><tr><th>scenario</th><th>description</th></tr>{rows}</table>")

    def _counts(self) -> dict[str, int]:
        from collections import Counter

        return Counter(v.kind for v in self.variables.values())

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def stocks(self) -> list[str]:
        return [v.py_name for v in self.variables.values() if v.kind == "stock"]

    @property
    def constants(self) -> list[str]:
        return [v.py_name for v in self.variables.values() if v.kind == "constant"]

    def default_outputs(self) -> list[str]:
        """The stocks and the auxiliaries: what a run returns unless told otherwise."""
        return [v.py_name for v in self.variables.values() if v.kind in ("stock", "auxiliary")]

    def resolve(self, name: str) -> str:
        """Python-safe name of a variable given its model name or Python-safe name.

        Matching is case-insensitive and treats spaces and underscores alike, as Vensim does.
        """
        if name in self.variables:
            return name
        key = clean_name(name)
        for variable in self.variables.values():
            if key in (clean_name(variable.name), variable.py_name):
                return variable.py_name
        close = [v.name for v in self.variables.values() if key[:4] in clean_name(v.name)][:3]
        hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
        raise ParameterError(
            f"model {self.path.name} has no variable {name!r}{hint}; use a name as it is written in {self.path} "
            f"(`sdkit params {self.path}` lists the constants)"
        )

    def resolve_parameter(self, name: str) -> str:
        """Like :meth:`resolve`, but only constants may be set."""
        py_name = self.resolve(name)
        kind = self.variables[py_name].kind
        if kind != "constant":
            raise ParameterError(
                f"{self.variables[py_name].name!r} is a {kind}, not a constant, so it cannot be "
                "set; set one of the constants it depends on instead"
            )
        return py_name

    def with_scenarios(self, scenarios: dict[str, Scenario], time: TimeSettings | None = None) -> Model:
        """A copy of the model with other scenarios (and time settings), sharing its compiled
        kernel; the model itself is left alone, so other threads may keep using it."""
        import copy

        changed = copy.copy(self)
        changed.scenarios = dict(scenarios)
        if time is not None:
            changed.time = time
        return changed

    def check_time_step(self, time_step: float, values: dict[str, Any] | None = None) -> str:
        """A warning text if ``time_step`` is too large for the fastest time constant, else "".

        ``values`` (Python-safe name -> a number or an array, e.g. one value per sample)
        override the model's defaults; see :func:`sdkit.timing.time_step_warning`.
        """
        return time_step_warning(self.time_constants, time_step, values)

    @cached_property
    def kernel(self) -> Any:
        """The vectorised engine's compiled kernel (raises UnsupportedFeature)."""
        from sdkit.engine import compile_model
        from sdkit.errors import SdkitError

        try:
            return compile_model(self)
        except SdkitError:
            raise
        except RecursionError:
            raise UnsupportedFeature(
                f"{self.path.name}: an equation is nested too deeply for the ensemble engine; "
                "split it into intermediate variables or use engine='pysd'"
            ) from None
        except Exception as exc:  # the engine's translator met something it does not handle
            reason = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
            raise UnsupportedFeature(
                f"the ensemble engine cannot compile {self.path.name} ({type(exc).__name__}: "
                f"{reason}); use engine='pysd'"
            ) from exc

    def engine_supported(self, warn: bool = True) -> bool:
        """Whether the engine can run this model; warns about the fallback to PySD."""
        try:
            self.kernel  # noqa: B018 - compiling is the test
        except UnsupportedFeature as exc:
            if warn:
                warnings.warn(
                    f"{exc}; falling back to PySD for {self.path.name} (correct, but slow)",
                    SdkitWarning,
                    stacklevel=3,
                )
            return False
        return True

    @cached_property
    def data_file_names(self) -> tuple[str, ...]:
        """The names of the data files the model reads (GET XLS/DIRECT ...), as written, sorted."""
        from sdkit.structure import data_files

        return tuple(sorted({name for _owner, name in data_files(self.abstract_model)}))

    def ready_numba(self) -> None:
        """Load the engine's numba kernel when numba's cache holds it; else compile it in a background process
        (unless ``SDKIT_NUMBA_PREWARM=0``), to which this model's runs switch once it is ready."""
        from sdkit.engine.kernel_choice import compile_in_background, prewarm, requested

        if self.numba_cached():
            self.load_numba()
        elif self.engine_supported(warn=False) and prewarm():
            kernel, kind = self.kernel, "blocks" if requested() == "blocks" else "one"
            kernel.background = compile_in_background(kernel, kind, partial(kernel.compile_numba, kind))

    def numba_cached(self) -> bool:
        """Whether the engine runs this model and its numba kernel loads without compiling (numba's cache holds
        it), so that :meth:`load_numba` takes milliseconds (plus numba's start, once per process)."""
        return self.engine_supported(warn=False) and self.kernel.numba_cached()

    def load_numba(self) -> bool:
        """Load the engine's numba kernel of this model now (from numba's cache in about 0.4 s,
        else compiled: seconds), so that every run after it, a single one included, runs on
        it; whether the engine runs the model (when not, runs go to PySD and nothing is loaded)."""
        if not self.engine_supported(warn=False):
            return False
        self.kernel.simulate({}, n=1, backend="numba", variables=[], save="final")
        return True

    @cached_property
    def pysd_source(self) -> str:
        """The Python module PySD generates for this model, built from the checked text."""
        from pysd.builders.python.python_model_builder import ModelBuilder

        abstract_model = parse_model_text(self.path, self.text, vensim_precedence=False)
        with tempfile.TemporaryDirectory(prefix="sdkit-build-") as scratch:  # private, 0700
            builder = ModelBuilder(abstract_model)  # reads subscript files beside the model
            target = builder.sections[0].path = Path(scratch) / f"{self.path.stem}.py"
            builder.build_model()
            return target.read_text(encoding="utf-8")

    def pysd_model(self) -> Any:
        """A fresh PySD model, imported from the private per-user cache (the model folder stays clean).

        The generated module is stored under the hash of its own text and compared with
        that text before every import (:func:`sdkit.cache.cached_file`); data files named
        by ``GET DATA``/``GET LOOKUPS`` are read beside the model file.
        """
        import pysd

        from sdkit.cache import cache_folder, cached_file, sha256_text

        try:
            source = self.pysd_source
            folder = cache_folder("pysd", sha256_text(f"{pysd.__version__}\n{source}")[:32])
            translated = cached_file(folder, f"{self.path.stem}.py", source)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pysd_model = pysd.load(str(translated), initialize=False)
        except OSError as exc:
            raise ModelFileError(
                f"cannot prepare PySD's translation of {self.path.name}: {exc.strerror or exc}; "
                "free space in the cache folder or set SDKIT_CACHE_DIR"
            ) from None
        except ModelFileError:
            raise
        except Exception as exc:  # PySD's builder raises many types for models it cannot build
            reason = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
            raise ModelFileError(
                f"PySD cannot build {self.path.name} ({type(exc).__name__}: {reason}); "
                "fix the equation it names, or rerun with --debug for the traceback"
            ) from exc
        for external in pysd_model._external_elements:
            external.root = self.path.parent.resolve()
        return pysd_model


def load_model(path: str | Path, scenarios: str | Path | None = None, allow_outside_range: bool = False,
               numba: bool | None = None) -> Model:
    """Read a Vensim ``.mdl`` file and its scenarios.

    Parameters
    ----------
    path : str or Path
        The model file. Scenarios are read from ``<stem>.scenarios.toml`` beside it
        when that file exists.
    scenarios : str or Path, optional
        A scenarios file to read instead (for a variant that reuses its base model's
        scenarios); it must exist, and every constant it sets must be in the model.
    allow_outside_range : bool
        Accept scenario values outside a constant's documented range (the ``[min, max]``
        of its units field); by default they are refused.
    numba : bool or None
        Load the engine's numba kernel, so that runs, the first included, run compiled (the core
        model: 3-8 ms, not 0.13 s on numpy): ``None`` (default) when numba's cache holds it (a
        process's first load takes 0.45 s longer), else runs switch to it once compiled in the
        background (:meth:`Model.ready_numba`); ``True`` always, compiling it if need be; ``False`` never.

    Returns
    -------
    Model

    Raises
    ------
    ModelFileError
        The file is missing, not a Vensim model, malformed or unsafe.
    ScenarioError
        The scenarios file beside it is malformed, names unknown parameters or sets a
        value outside a documented range.
    """
    from sdkit.io import looked_for

    path = Path(path)
    if path.is_dir():
        raise ModelFileError(f"{path} is a folder; give the path to a .mdl file")
    if not path.exists():
        raise ModelFileError(f"model file {path} does not exist ({looked_for(path)}); give the path of a .mdl file")
    if path.suffix.lower() not in (".mdl", *XMILE_SUFFIXES):
        raise ModelFileError(
            f"{path} is not a Vensim .mdl or XMILE ({', '.join(XMILE_SUFFIXES)}) file; "
            "save the model as one of them"
        )
    read = read_model(path)
    raw, text, abstract_model = read.raw, read.text, read.abstract_model
    refuse_reserved(abstract_model, text, path)
    check_data_files(abstract_model, path)
    check_subscripts(abstract_model, text, path)
    names = model_names(abstract_model, path, text)
    check_structure(abstract_model, text, path, names)
    dims = dims_of(abstract_model)
    variables = variables_of(abstract_model, dims, names, path.parent)
    time, translation = time_settings_of(abstract_model, path, text)
    model = Model(
        path=path,
        sha256=hashlib.sha256(raw).hexdigest(),
        text=text,
        abstract_model=abstract_model,
        variables=variables,
        time=time,
        translation=translation,
        dims=dims,
        time_constants=find_time_constants(abstract_model),
        time_lookups=find_time_lookups(abstract_model, {v.name: v.py_name for v in variables.values()}),
        reader=read.reader,
    )
    scenarios_file = Path(scenarios) if scenarios is not None else scenarios_path_for(path)
    model.scenarios_file = scenarios_file.resolve()
    if scenarios is not None and not scenarios_file.is_file():
        raise ScenarioError(f"scenarios file {scenarios_file} does not exist ({looked_for(scenarios_file)}); "
                            "check the path given to --scenarios")
    if scenarios_file.exists():
        model.scenarios = load_scenarios(scenarios_file, model, allow_outside_range)
    if numba:
        model.load_numba()
    elif numba is None:
        model.ready_numba()
    return model
