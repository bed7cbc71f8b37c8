"""Load a Vensim model file: its variables, time settings, scenarios and backends.

A :class:`Model` is read from the model file's own structure (PySD's translator to
its abstract model) without executing anything the file contains. The two ways of
running it, the vectorised engine and PySD, are created on demand.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sdkit.errors import ModelFileError, ParameterError, SdkitWarning, UnsupportedFeature
from sdkit.safety import check_model_text

if TYPE_CHECKING:
    from sdkit.scenarios import Scenario

CONTROL_NAMES = {"initial_time", "final_time", "time_step", "saveper"}


@dataclass(frozen=True)
class Variable:
    """One model variable.

    Attributes
    ----------
    name : str
        The model's own name, e.g. ``"Institutional Authority"``.
    py_name : str
        PySD's Python-safe name, e.g. ``"institutional_authority"``.
    kind : str
        ``"stock"``, ``"constant"``, ``"lookup"``, ``"auxiliary"`` or ``"control"``.
    units : str
    limits : tuple of (float or None, float or None)
    comment : str
    dims : tuple of str
        Subscript range names, empty for a scalar.
    """

    name: str
    py_name: str
    kind: str
    units: str
    limits: tuple[float | None, float | None]
    comment: str
    dims: tuple[str, ...] = ()


@dataclass(frozen=True)
class TimeSettings:
    """Simulation time settings in the model's time units (years)."""

    initial_time: float
    final_time: float
    time_step: float
    saveper: float

    def replace(self, overrides: dict[str, float]) -> TimeSettings:
        """Return a copy with some settings replaced; unknown keys are errors."""
        unknown = set(overrides) - set(self.__dataclass_fields__)
        if unknown:
            raise ParameterError(
                f"unknown time setting {sorted(unknown)[0]!r}; "
                f"use one of {', '.join(self.__dataclass_fields__)}"
            )
        values = {**self.__dict__, **{k: float(v) for k, v in overrides.items()}}
        settings = TimeSettings(**values)
        settings.validate()
        return settings

    def validate(self) -> None:
        """Raise ParameterError when the settings cannot define a simulation."""
        if not self.time_step > 0:
            raise ParameterError(f"time_step must be positive, got {self.time_step}")
        if not self.saveper > 0:
            raise ParameterError(f"saveper must be positive, got {self.saveper}")
        if not self.final_time > self.initial_time:
            raise ParameterError(
                f"final_time ({self.final_time}) must be after initial_time ({self.initial_time})"
            )


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _translate(path: Path) -> Any:
    """Parse a Vensim file into PySD's abstract model, with errors that name the file."""
    from pysd.translators.vensim.vensim_file import VensimFile

    try:
        vensim_file = VensimFile(path)
        vensim_file.parse()
        return vensim_file.get_abstract_model()
    except Exception as exc:  # PySD raises many exception types for malformed files
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelFileError(
            f"cannot parse model file {path}: {reason[:200]}; fix the equation it names "
            "or open the file in Vensim to locate the error"
        ) from exc


def _kind_of(element: Any) -> str:
    from pysd.translators.structures import abstract_expressions as ae

    component = element.components[0]
    ast = component.ast
    if type(component).__name__ == "AbstractLookup" or isinstance(
        ast, ae.LookupsStructure | ae.GetLookupsStructure
    ):
        return "lookup"
    if isinstance(ast, ae.IntegStructure):
        return "stock"
    if all(_is_constant_ast(c.ast) for c in element.components):
        return "constant"
    return "auxiliary"


def _is_constant_ast(ast: Any) -> bool:
    from pysd.translators.structures import abstract_expressions as ae

    if isinstance(ast, int | float | np.ndarray) and not isinstance(ast, bool):
        return True
    if isinstance(ast, ae.ArithmeticStructure) and ast.operators == ["negative"]:
        return all(_is_constant_ast(argument) for argument in ast.arguments)
    return False


def _variables_of(abstract_model: Any) -> dict[str, Variable]:
    """Variables of the main section, named exactly as PySD names them."""
    from pysd.builders.python.python_model_builder import ModelBuilder

    builder = ModelBuilder(abstract_model)
    section = builder.sections[0]
    abstract_section = abstract_model.sections[0]
    variables: dict[str, Variable] = {}
    for element, element_builder in zip(abstract_section.elements, section.elements, strict=True):
        section.namespace.add_to_namespace(element.name)
        py_name = section.namespace.namespace[element.name]
        kind = "control" if py_name in CONTROL_NAMES else _kind_of(element)
        limits = tuple(None if v is None else float(v) for v in (element.limits or (None, None)))
        variables[py_name] = Variable(
            name=element.name,
            py_name=py_name,
            kind=kind,
            units=str(element.units or ""),
            limits=(limits + (None, None))[:2],
            comment=str(element.documentation or "").strip(),
            dims=tuple(element_builder.subscripts),
        )
    return variables


@dataclass
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
        key = _clean(name)
        for variable in self.variables.values():
            if key in (_clean(variable.name), variable.py_name):
                return variable.py_name
        close = [v.name for v in self.variables.values() if key[:4] in _clean(v.name)][:3]
        hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
        raise ParameterError(
            f"model {self.path.name} has no variable {name!r}{hint}; "
            f"`sdkit params {self.path}` lists them"
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

    @cached_property
    def kernel(self) -> Any:
        """The vectorised engine's compiled kernel (raises UnsupportedFeature)."""
        from sdkit.engine import compile_model

        return compile_model(self.path)

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

    def pysd_model(self) -> Any:
        """A fresh PySD model, translated once into a private folder (the model folder stays clean)."""
        import pysd

        cache = Path(tempfile.gettempdir()) / "sdkit-pysd" / self.sha256[:16]
        translated = cache / (self.path.stem + ".py")
        if not translated.exists():
            cache.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=cache) as scratch:
                copy = Path(scratch) / self.path.name
                shutil.copyfile(self.path, copy)
                pysd.read_vensim(str(copy), initialize=False)
                Path(scratch, translated.name).replace(translated)
        return pysd.load(str(translated))


def _clean(name: str) -> str:
    return " ".join(name.replace("_", " ").lower().split()).replace(" ", "_")


def _time_settings(variables: dict[str, Variable], abstract_model: Any, path: Path) -> TimeSettings:
    values: dict[str, float] = {}
    for element in abstract_model.sections[0].elements:
        key = _clean(element.name)
        if key in CONTROL_NAMES:
            ast = element.components[0].ast
            if not _is_constant_ast(ast) or not isinstance(ast, int | float):
                raise ModelFileError(
                    f"{path.name}: {element.name} must be a number; "
                    "write it as a constant in the .Control section"
                )
            values[key] = float(ast)
    missing = CONTROL_NAMES - set(values)
    if missing:
        raise ModelFileError(
            f"{path.name} has no {sorted(missing)[0].upper().replace('_', ' ')}; "
            "add it to the model's .Control section"
        )
    settings = TimeSettings(**values)
    try:
        settings.validate()
    except ParameterError as exc:
        raise ModelFileError(f"{path.name}: {exc}") from None
    return settings


def _dims_of(abstract_model: Any) -> dict[str, list[str]]:
    dims: dict[str, list[str]] = {}
    for subscript_range in abstract_model.sections[0].subscripts:
        if isinstance(subscript_range.subscripts, list):
            dims[subscript_range.name] = list(subscript_range.subscripts)
    return dims


def load_model(path: str | Path) -> Model:
    """Read a Vensim ``.mdl`` file and the scenarios beside it.

    Parameters
    ----------
    path : str or Path
        The model file. Scenarios are read from ``<stem>.scenarios.toml`` beside it
        when that file exists.

    Returns
    -------
    Model

    Raises
    ------
    ModelFileError
        The file is missing, not a Vensim model, malformed or unsafe.
    ScenarioError
        The scenarios file beside it is malformed or names unknown parameters.
    """
    from sdkit.scenarios import load_scenarios, scenarios_path_for

    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"model file {path} does not exist; give the path to a .mdl file")
    if path.suffix.lower() != ".mdl":
        raise ModelFileError(
            f"{path} is not a Vensim .mdl file; sdkit reads Vensim models (File > Save As .mdl)"
        )
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ModelFileError(
            f"{path} is not UTF-8 text (byte {exc.start}); save it as UTF-8"
        ) from None
    check_model_text(text, path)
    abstract_model = _translate(path)
    variables = _variables_of(abstract_model)
    model = Model(
        path=path,
        sha256=hashlib.sha256(raw).hexdigest(),
        variables=variables,
        time=_time_settings(variables, abstract_model, path),
        dims=_dims_of(abstract_model),
    )
    scenarios_file = scenarios_path_for(path)
    if scenarios_file.exists():
        model.scenarios = load_scenarios(scenarios_file, model)
    return model
