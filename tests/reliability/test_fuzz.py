"""Fuzzing: mutated copies of the shipped model, scenario, check and sweep files.

Each case applies one to three random mutations (byte flips, deleted, duplicated,
swapped or inserted tokens, deleted, duplicated or swapped lines) to a shipped file
and feeds it to sdkit: a model to ``load_model`` and ``run``; a scenarios file to
``load_scenarios`` and ``run``; a checks file to ``load_checks`` and ``evaluate``; a
sweep file to ``read_study`` and ``run_study`` (at the method's smallest sample size,
writing into the case's output folder). Every case must either work or raise an
``SdkitError``; no other exception, no case over 10 s, and no file opened for writing,
created, renamed or removed outside the test's own folder (watched with an audit hook).

The default run is modest. The thousands-case run whose counts are in
docs/reliability.md::

    SDKIT_FUZZ_CASES=1000 SDKIT_FUZZ_REPORT=fuzz.json .venv/bin/pytest tests/reliability/test_fuzz.py

(``SDKIT_FUZZ_CASES`` cases per kind; ``SDKIT_FUZZ_SEED`` changes the mutations.)

Every run grows a corpus, ``.ci/fuzz-corpus`` (or ``SDKIT_FUZZ_CORPUS=DIR``; set it
empty for none): the files in ``DIR/<kind>/`` are mutated alongside the shipped ones,
and each case whose outcome (ran, or an error class with its message's wording) the
corpus has no input for yet is kept there, named by its hash (``labels.txt`` lists the
outcomes covered). The mutations are drawn from the seed and the corpus's size, so a
fresh clone runs the same cases every time and a kept corpus explores new ones. The
test command CI runs therefore grows the corpus (CI keeps the folder between runs);
``.ci/fuzz`` is the longer run into the same folder.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import random
import re
import shutil
import signal
import sys
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

import sdkit
from sdkit.check_runs import constant_lookup
from sdkit.checks import evaluate, load_checks
from sdkit.errors import SdkitError
from sdkit.scenarios import load_scenarios

ROOT = Path(__file__).parents[2]
MODELS = ROOT / "models"
SWEEPS = sorted((ROOT / "sensitivity").glob("*.toml"))
CORE = MODELS / "kissinger_core.mdl"

DEFAULT_CASES = {"model": 8, "scenarios": 40, "checks": 150, "sweep": 8}
CASES = int(os.environ.get("SDKIT_FUZZ_CASES", "0"))
SEED = int(os.environ.get("SDKIT_FUZZ_SEED", "20261125"))
TIME_LIMIT = 10.0


def _corpus_folder() -> Path | None:
    """Where the corpus grows: ``SDKIT_FUZZ_CORPUS`` (empty turns it off), else ``.ci/fuzz-corpus``.

    Every test run, CI's included, keeps what it finds there; a read-only checkout runs
    without a corpus.
    """
    chosen = os.environ.get("SDKIT_FUZZ_CORPUS", str(ROOT / ".ci" / "fuzz-corpus"))
    if not chosen:
        return None
    folder = Path(chosen).resolve()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return folder if os.access(folder, os.W_OK) else None


CORPUS = _corpus_folder()

_TOKEN = re.compile(rb"\s+|[()\[\]{},=|~:\"'+\-*/^<>]|[^\s()\[\]{},=|~:\"'+\-*/^<>]+")
_EXTRA_TOKENS = [
    b"(", b")", b"[", b"]", b"{", b"}", b"=", b"|", b"~", b'"', b"'", b",", b"\n", b"\\",
    b"-", b"0", b"-1", b"1e309", b"nan", b"inf", b"true", b"INTEG", b"SMOOTH", b"Time",
    b"IF THEN ELSE", b":", b"[[check]]", b"[x]", b"\xff", b"\x00", b"\"\"\"",
]


# ---------------------------------------------------------------- mutations

Mutation = Callable[[random.Random, bytes], tuple[bytes, str]]


def _tokens(data: bytes) -> list[bytes]:
    return _TOKEN.findall(data)


def flip_byte(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    if not data:
        return bytes([rng.randrange(256)]), "insert byte into empty"
    i = rng.randrange(len(data))
    new = rng.choice([rng.randrange(256), rng.randrange(32, 127), data[i] ^ (1 << rng.randrange(8))])
    return data[:i] + bytes([new]) + data[i + 1 :], f"byte {i}: {data[i]:#x} -> {new:#x}"


def insert_token(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    tokens = _tokens(data)
    i = rng.randrange(len(tokens) + 1)
    token = rng.choice(_EXTRA_TOKENS + tokens[:200]) if tokens else rng.choice(_EXTRA_TOKENS)
    return b"".join(tokens[:i] + [token] + tokens[i:]), f"insert {token[:20]!r} at token {i}"


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


@dataclasses.dataclass(frozen=True)
class Units:
    """What the delete, duplicate and swap mutations cut the input into: tokens or lines."""

    singular: str
    plural: str
    split: Callable[[bytes], list[bytes]]
    first: int  # the number of the first unit in descriptions
    quoted: bool  # descriptions show the unit's text
    none: str  # what a mutation says when there is nothing to delete or duplicate
    too_few: str  # ... and when there are fewer than two to swap

    def label(self, i: int, units: list[bytes]) -> str:
        return f"{self.singular} {i + self.first}" + (f" {units[i][:20]!r}" if self.quoted else "")


TOKENS = Units("token", "tokens", _tokens, 0, True, "no token", "no tokens")
LINES = Units("line", "lines", _lines, 1, False, "no line", "one line")


def _at_one(units: Units, verb: str, edit: Callable[[list[bytes], int], list[bytes]]) -> Mutation:
    """A mutation that edits the input at one unit, drawn at random."""

    def mutation(rng: random.Random, data: bytes) -> tuple[bytes, str]:
        parts = units.split(data)
        if not parts:
            return data, units.none
        i = rng.randrange(len(parts))
        return b"".join(edit(parts, i)), f"{verb} {units.label(i, parts)}"

    mutation.__name__ = f"{verb}_{units.singular}"
    return mutation


def _without(parts: list[bytes], i: int) -> list[bytes]:
    return parts[:i] + parts[i + 1 :]


def _twice(parts: list[bytes], i: int) -> list[bytes]:
    return parts[: i + 1] + parts[i:]


def _swap(units: Units) -> Mutation:
    def mutation(rng: random.Random, data: bytes) -> tuple[bytes, str]:
        parts = units.split(data)
        if len(parts) < 2:
            return data, units.too_few
        i, j = rng.randrange(len(parts)), rng.randrange(len(parts))
        parts[i], parts[j] = parts[j], parts[i]
        return b"".join(parts), f"swap {units.plural} {i + units.first} and {j + units.first}"

    mutation.__name__ = f"swap_{units.plural}"
    return mutation


delete_token, duplicate_token = _at_one(TOKENS, "delete", _without), _at_one(TOKENS, "duplicate", _twice)
delete_line, duplicate_line = _at_one(LINES, "delete", _without), _at_one(LINES, "duplicate", _twice)
swap_tokens, swap_lines = _swap(TOKENS), _swap(LINES)


def truncate(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    i = rng.randrange(len(data) + 1)
    return data[:i], f"truncate at byte {i}"


MUTATIONS = [flip_byte, delete_token, duplicate_token, swap_tokens, insert_token,
             swap_lines, delete_line, duplicate_line, truncate]
WEIGHTS = [3, 3, 2, 1, 3, 2, 2, 2, 1]


def mutate(rng: random.Random, data: bytes) -> tuple[bytes, list[str]]:
    steps = []
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        mutation = rng.choices(MUTATIONS, WEIGHTS)[0]
        data, what = mutation(rng, data)
        steps.append(f"{mutation.__name__}: {what}")
    return data, steps


def test_mutations_change_the_input():
    rng = random.Random(1)
    data = CORE.read_bytes()
    changed = sum(mutate(rng, data)[0] != data for _ in range(200))
    assert changed >= 190
    assert flip_byte(random.Random(3), b"abc")[0] != b"abc"
    assert swap_lines(random.Random(0), b"a\nb\n")[0] in (b"a\nb\n", b"b\na\n")
    assert delete_token(random.Random(0), b"x = 1")[0] in (b" = 1", b"x= 1", b"x  1", b"x =1", b"x = ")


# ---------------------------------------------------------------- the harness


class CaseTimeout(BaseException):
    """Raised by the alarm when a case runs longer than TIME_LIMIT (not an Exception on purpose)."""


def _on_alarm(signum, frame):
    raise CaseTimeout()


class WriteWatch:
    """Audit hook recording paths written, created, renamed or removed while ``active``."""

    WRITE_EVENTS = {"os.rename", "os.replace", "os.remove", "os.rmdir", "os.mkdir", "os.symlink",
                    "os.link", "os.truncate", "shutil.copyfile", "shutil.rmtree", "os.chmod"}

    def __init__(self) -> None:
        self.active = False
        self.paths: list[str] = []
        sys.addaudithook(self)

    def __call__(self, event: str, args: tuple) -> None:
        if not self.active:
            return
        if event == "open":
            path, mode, flags = (args + (None, None, None))[:3]
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC)
            )
            if writing and isinstance(path, str | bytes | os.PathLike):
                self.paths.append(f"{os.fsdecode(path)} (open)")
        elif event in self.WRITE_EVENTS:
            targets = args[1:2] if event in ("shutil.copyfile", "os.link", "os.symlink") else args[:2]
            if event in ("os.rename", "os.replace"):
                targets = args[:2]
            for arg in targets:
                if isinstance(arg, str | bytes | os.PathLike):
                    self.paths.append(f"{os.fsdecode(arg)} ({event})")


_WATCH: WriteWatch | None = None


def _watch() -> WriteWatch:
    global _WATCH
    if _WATCH is None:
        _WATCH = WriteWatch()
    return _WATCH


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """Send every cache into the test's folder: PySD translations, engine kernels, temporary files."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.setenv("SDKIT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _corpus_seeds(kind: str) -> list[Path]:
    return sorted(p for p in (CORPUS / kind).glob("*") if p.suffix != ".txt") if CORPUS else []


def _corpus_labels(kind: str) -> set[str]:
    """Outcomes the corpus already has an input for (``labels.txt``, one a line)."""
    index = CORPUS / kind / "labels.txt" if CORPUS else None
    return set(index.read_text(encoding="utf-8").splitlines()) if index and index.exists() else set()


def _outcome_label(outcome: str, exc: BaseException | None) -> str:
    """An outcome and its message's wording (names, numbers and quoted text removed)."""
    wording = re.sub(r"'[^']*'|\"[^\"]*\"|[\d.]+|\S+\.(?:mdl|toml)", "", str(exc or ""))
    return f"{outcome}: {' '.join(wording.split())[:80]}"


def _keep_in_corpus(kind: str, data: bytes, label: str, seen: set[str]) -> None:
    if CORPUS is None or label in seen:
        return
    seen.add(label)
    folder = CORPUS / kind
    folder.mkdir(parents=True, exist_ok=True)
    (folder / hashlib.sha256(data).hexdigest()[:16]).write_bytes(data)
    with open(folder / "labels.txt", "a", encoding="utf-8") as index:
        index.write(label.replace("\n", " ") + "\n")


def _allowed(entry: str, root: Path) -> bool:
    resolved = Path(os.path.abspath(entry.rsplit(" (", 1)[0]))
    return resolved.is_relative_to(root) or str(resolved).startswith("/dev/")


def fuzz(kind: str, sources: list[Path], work: Callable[[Path, bytes], None], root: Path,
         default: int, known: Callable[[BaseException], str] | None = None) -> Counter:
    """Run ``CASES`` (or ``default``) mutated cases; fail listing every bad outcome.

    ``known`` names exceptions that are known bugs in files this suite may not fix (each
    also has its own xfail test); they are counted as ``known:<name>`` instead of failing.
    """
    n = CASES or default
    seeds = _corpus_seeds(kind)  # half the cases start from the corpus, when there is one
    rng = random.Random(f"{SEED}-{kind}-{len(seeds)}")  # a grown corpus explores new mutations
    labels = _corpus_labels(kind)
    watch = _watch()
    outcomes: Counter = Counter()
    failures: list[str] = []
    slowest = 0.0
    warm = root / f"{kind}-warm-up"  # first-call costs (imports, compiling) are not the case's
    warm.mkdir()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        work(warm, sources[0].read_bytes())
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    try:
        for index in range(n):
            source = rng.choice(seeds) if seeds and rng.random() < 0.5 else rng.choice(sources)
            data, steps = mutate(rng, source.read_bytes())
            case = root / f"{kind}-{index:05d}"
            case.mkdir()
            started = time.perf_counter()
            watch.paths.clear()
            watch.active = True
            signal.setitimer(signal.ITIMER_REAL, TIME_LIMIT)
            label = "ran"
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    work(case, data)
                outcomes["ran"] += 1
            except SdkitError as exc:
                label = _outcome_label(type(exc).__name__, exc)
                outcomes[type(exc).__name__] += 1
                if "\n" in str(exc):
                    failures.append(f"{kind} #{index} {source.name} {steps}: multi-line {type(exc).__name__}: {exc!r}")
            except CaseTimeout:
                label = "timeout"
                outcomes["timeout"] += 1
                failures.append(f"{kind} #{index} {source.name} {steps}: over {TIME_LIMIT:g} s")
            except Exception as exc:  # noqa: BLE001 - exactly what the fuzzer is looking for
                known_as = known(exc) if known else ""
                label = _outcome_label("known:" + known_as if known_as else "other:" + type(exc).__name__, exc)
                if known_as:
                    outcomes["known:" + known_as] += 1
                else:
                    outcomes["other:" + type(exc).__name__] += 1
                    failures.append(f"{kind} #{index} {source.name} {steps}: {type(exc).__name__}: {exc}"[:400])
                    (root / f"failing-{kind}-{index:05d}{source.suffix}").write_bytes(data)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
                watch.active = False
            _keep_in_corpus(kind, data, label, labels)
            elapsed = time.perf_counter() - started
            slowest = max(slowest, elapsed)
            outside = sorted({p for p in watch.paths if not _allowed(p, root)})
            if outside:
                failures.append(f"{kind} #{index} {source.name} {steps}: wrote outside its folder: {outside[:3]}")
            if not failures or not failures[-1].startswith(f"{kind} #{index} "):
                shutil.rmtree(case, ignore_errors=True)
    finally:
        signal.signal(signal.SIGALRM, previous)
    outcomes["cases"] = n
    _report(kind, outcomes, slowest, failures)
    assert not failures, f"{len(failures)} of {n} {kind} cases misbehaved:\n" + "\n".join(failures[:15])
    assert outcomes["ran"] + sum(v for k, v in outcomes.items() if k not in ("ran", "cases")) == n
    return outcomes


def _report(kind: str, outcomes: Counter, slowest: float, failures: list[str]) -> None:
    target = os.environ.get("SDKIT_FUZZ_REPORT")
    if not target:
        return
    path = Path(target)
    report = json.loads(path.read_text()) if path.exists() else {}
    report[kind] = {"seed": SEED, "outcomes": dict(outcomes), "slowest_s": round(slowest, 2),
                    "failures": len(failures), "first_failures": failures[:5]}
    path.write_text(json.dumps(report, indent=2, sort_keys=True))


# ---------------------------------------------------------------- the four kinds


@pytest.fixture(scope="module")
def core():
    """The shipped core model, its scenarios run once with the engine (checks are evaluated on them)."""
    model = sdkit.load_model(CORE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dataset = sdkit.run(model, scenarios=list(model.scenarios), engine="engine")
    return model, dataset


@pytest.mark.slow
def test_fuzz_model_files(sandbox):
    scenarios = MODELS / "kissinger_core.scenarios.toml"

    def work(case: Path, data: bytes) -> None:
        path = case / CORE.name
        path.write_bytes(data)
        shutil.copyfile(scenarios, case / scenarios.name)
        model = sdkit.load_model(path)
        sdkit.run(model, scenarios=list(model.scenarios)[:2] or None, engine="auto")

    outcomes = fuzz("model", [CORE], work, sandbox, DEFAULT_CASES["model"])
    assert outcomes["ModelFileError"] > 0


def test_fuzz_scenario_files(sandbox, core):
    model, _ = core
    original = dict(model.scenarios)
    source = MODELS / "kissinger_core.scenarios.toml"
    rng = random.Random(SEED)

    def work(case: Path, data: bytes) -> None:
        path = case / source.name
        path.write_bytes(data)
        scenarios = load_scenarios(path, model)
        model.scenarios = scenarios
        try:
            chosen = rng.sample(sorted(scenarios), min(2, len(scenarios)))
            sdkit.run(model, scenarios=chosen or None, engine="engine")
        finally:
            model.scenarios = original

    outcomes = fuzz("scenarios", [source], work, sandbox, DEFAULT_CASES["scenarios"])
    assert outcomes["ran"] > 0
    assert outcomes["ScenarioError"] > 0


def test_fuzz_check_files(sandbox, core):
    model, dataset = core
    source = MODELS / "kissinger_core.checks.toml"
    constants = constant_lookup(model, {})  # the shipped checks read parameters ({ fn = "param" })

    def work(case: Path, data: bytes) -> None:
        path = case / source.name
        path.write_bytes(data)
        evaluate(load_checks(path), dataset, constants)

    outcomes = fuzz("checks", [source], work, sandbox, DEFAULT_CASES["checks"])
    assert outcomes["ran"] > 0
    assert outcomes["CheckError"] > 0


@pytest.mark.slow
@pytest.mark.skipif(not SWEEPS, reason="no sweep files in sensitivity/")
def test_fuzz_sweep_files(sandbox, core):
    from sdkit.sensitivity.methods import METHODS
    from sdkit.sensitivity.pipeline import run_study
    from sdkit.sensitivity.spec import check_against_model, read_study

    model, _ = core
    models = sandbox / "models"
    models.mkdir()
    for path in MODELS.glob("*"):
        if path.is_file():  # not a __pycache__ of PySD's translations beside the models
            shutil.copyfile(path, models / path.name)
    loaded = {CORE.name: model}

    def work(case: Path, data: bytes) -> None:
        folder = case / "sensitivity"
        folder.mkdir()
        path = folder / "study.toml"
        path.write_bytes(data.replace(b"../models/", str(models).encode() + b"/"))
        study = read_study(path)
        if study.model.name not in loaded:
            loaded[study.model.name] = sdkit.load_model(study.model)
        study_model = loaded[study.model.name]
        check_against_model(study, study_model)
        small = dataclasses.replace(study, samples=METHODS[study.method].smallest(study.options), convergence=None)
        run_study(small, case / "out", model=study_model, engine="engine")

    fuzz("sweep", SWEEPS, work, sandbox, DEFAULT_CASES["sweep"])
    # the unmutated file ran to the end (the warm-up): the harness reaches real studies,
    # whether or not any of a few mutated cases (half from a grown corpus) still does
    assert any((sandbox / "sweep-warm-up" / "out").rglob("*.nc"))


def test_sweep_file_not_utf8(tmp_path):
    from sdkit.sensitivity.spec import read_study

    path = tmp_path / "study.toml"
    path.write_bytes(SWEEPS[0].read_bytes().replace(b"model", b"m\xf7del", 1) if SWEEPS else b"\xf7")
    with pytest.raises(SdkitError, match="not UTF-8"):
        read_study(path)
