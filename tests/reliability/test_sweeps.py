"""Catalogue of failure cases (docs/reliability.md): sweep definition files and the sweep command.

Each case must end in exit code 2 with one line on stderr naming the bad entry and
the fix, and no traceback; output folders are never half-written or overwritten.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sdkit.cli import main
from tests.reliability.expect import refused

DATA = Path(__file__).parents[1] / "data"

BASE = """model = "decay.mdl"
method = "morris"
samples = 2
seed = 1
[parameters]
"decay time" = [2, 30]
"initial stock" = [50, 150]
[outputs.final_stock]
variable = "Stock"
metric = "final"
"""


def edit(old: str, new: str) -> str:
    assert old in BASE, old
    return BASE.replace(old, new, 1)


def method(name: str, samples: int, **options: object) -> str:
    """BASE with another method, sample size and [options] table."""
    table = "".join(f"{k} = {str(v).lower() if isinstance(v, bool) else v}\n" for k, v in options.items())
    text = edit('method = "morris"\nsamples = 2', f'method = "{name}"\nsamples = {samples}')
    return text.replace("[parameters]", f"[options]\n{table}[parameters]", 1)


SWEEP_CASES = [
    ("W01-unknown-parameter", edit('"initial stock"', '"initial stok"'), ("'initial stok'", "sdkit params")),
    ("W02-wrong-type", edit("samples = 2", 'samples = "many"'), ("samples must be an integer",)),
    ("W03-range-low-above-high", edit("[2, 30]", "[30, 2]"), ("'decay time'", "must be below high")),
    ("W04-range-low-equals-high", edit("[2, 30]", "[2, 2]"), ("must be below high",)),
    ("W05-duplicate-parameter", edit('"initial stock" = [50, 150]', '"initial stock" = [50, 150]\n"initial stock" = [5, 9]'), ("not valid TOML",)),
    ("W06-same-parameter-two-spellings", edit('"initial stock" = [50, 150]', '"initial stock" = [50, 150]\n"initial_stock" = [5, 9]'), ("same constant",)),
    ("W07-missing-model-key", edit('model = "decay.mdl"\n', ""), ("needs `model",)),
    ("W08-missing-method-key", edit('method = "morris"\n', ""), ("method",)),
    ("W09-missing-parameters", BASE.split("[parameters]")[0] + '[outputs.final_stock]\nvariable = "Stock"\nmetric = "final"\n', ("[parameters]",)),
    ("W10-unknown-output-variable", edit('variable = "Stock"', 'variable = "Stok"'), ("'Stok'",)),
    ("W11-unknown-metric", edit('metric = "final"', 'metric = "median"'), ("unknown metric 'median'",)),
    ("W12-unknown-method", edit('"morris"', '"magic"'), ("unknown method 'magic'",)),
    ("W13-sample-size-unusable", edit('"morris"', '"sobol"').replace("samples = 2", "samples = 3"), ("power of 2",)),
    ("W14-model-file-missing", edit("decay.mdl", "nope.mdl"), ("does not exist",)),
    ("W15-unknown-scenario", 'scenario = "nope"\n' + BASE, ("no scenario 'nope'",)),
    ("W16-stock-as-parameter", edit('"initial stock"', '"Stock"'), ("is a stock",)),
    ("W17-bound-not-finite", edit("[2, 30]", "[2, nan]"), ("finite number",)),
    ("W18-bound-not-number", edit("[2, 30]", '["a", "b"]'), ("finite number",)),
    ("W19-range-three-numbers", edit("[2, 30]", "[2, 30, 40]"), ("[low, high]",)),
    ("W20-invalid-toml", "model = \n", ("not valid TOML",)),
    ("W59-seed-400-digits", edit("seed = 1", "seed = 1" + "0" * 400), ("401 digits",)),
    # method options and sample sizes, checked before anything runs
    ("W23-efast-M-negative", method("efast", 100, M=-3), ("option M = -3", "from 1 to 100")),
    ("W24-efast-M-zero", method("efast", 100, M=0), ("option M = 0", "from 1")),
    ("W25-efast-N-not-above-4M2", method("efast", 256, M=8), ("sample size 256", "257 or more with M = 8")),
    ("W26-num-resamples-zero", method("sobol", 8, num_resamples=0), ("num_resamples = 0", "from 2")),
    ("W27-num-resamples-negative", method("morris", 2, num_resamples=-1), ("num_resamples = -1",)),
    ("W28-conf-level-two", method("sobol", 8, conf_level=2), ("conf_level = 2", "between 0 and 1")),
    ("W29-conf-level-zero", method("delta", 50, conf_level=0.0), ("conf_level = 0.0", "between 0 and 1")),
    ("W30-morris-levels-odd", method("morris", 2, num_levels=5), ("num_levels = 5", "even")),
    ("W31-pawn-one-slide", method("pawn", 50, S=1), ("S = 1", "from 2")),
    ("W32-pawn-fewer-than-two-runs-per-slide", method("pawn", 50, S=40), ("sample size 50", "at least 80")),
    ("W33-option-wrong-type", method("sobol", 8, calc_second_order=1), ("calc_second_order", "true or false")),
    ("W34-sobol-2-to-the-24", method("sobol", 2**24), ("67,108,864 runs", "--max-runs 67108864")),
    ("W35-morris-10-to-the-9", method("morris", 10**9), ("3,000,000,000 runs", "--max-runs 3000000000")),
]


def _sweep(capsys, *argv: object) -> tuple[int, str]:
    try:
        code = main(["sweep", *[str(a) for a in argv]])
    except SystemExit as exit_:
        code = exit_.code
    return code, capsys.readouterr().err


@pytest.mark.parametrize(("case_id", "text", "needles"), SWEEP_CASES, ids=[c[0] for c in SWEEP_CASES])
def test_bad_sweep_file(case_id, text, needles, tmp_path, capsys):
    (tmp_path / "decay.mdl").write_bytes((DATA / "decay.mdl").read_bytes())
    spec = tmp_path / "study.toml"
    spec.write_text(text)
    code, err = _sweep(capsys, spec, "--out", tmp_path / "out", "--engine", "engine")
    refused(code, err, *needles)
    assert not (tmp_path / "out" / "outputs.nc").exists()


def test_W21_output_folder_rules(tmp_path, capsys):
    """A finished sweep is not overwritten without --force; --resume refuses a changed definition."""
    (tmp_path / "decay.mdl").write_bytes((DATA / "decay.mdl").read_bytes())
    spec = tmp_path / "study.toml"
    spec.write_text(BASE)
    out = tmp_path / "out"
    assert _sweep(capsys, spec, "--out", out, "--engine", "engine")[0] == 0
    first = (out / "outputs.nc").read_bytes()
    code, err = _sweep(capsys, spec, "--out", out, "--engine", "engine")
    assert code == 2
    assert "--force" in err
    spec.write_text(BASE.replace("seed = 1", "seed = 2"))
    code, err = _sweep(capsys, spec, "--out", out, "--resume", "--engine", "engine")
    assert code == 2
    assert "changed" in err
    assert "seed" in err
    assert (out / "outputs.nc").read_bytes() == first
    code, err = _sweep(capsys, spec, "--out", out, "--engine", "engine", "--workers", "0")
    assert code == 2
    assert "--workers" in err


LIMIT_CASES = [
    ("W36-workers-beyond-cpus", ["--workers", "100000"], ("--workers 100000", "CPUs", "--scheduler")),
    ("W37-memory-limit", ["--max-memory", "0.000001"], ("of memory", "--max-memory 1 (GB)")),
    ("W38-max-runs-zero", ["--max-runs", "0"], ("--max-runs must be at least 1",)),
    ("W39-max-memory-negative", ["--max-memory", "-2"], ("--max-memory must be a positive",)),
]


@pytest.mark.parametrize(("case_id", "argv", "needles"), LIMIT_CASES, ids=[c[0] for c in LIMIT_CASES])
def test_limits_refuse_before_running(case_id, argv, needles, tmp_path, capsys):
    (tmp_path / "decay.mdl").write_bytes((DATA / "decay.mdl").read_bytes())
    spec = tmp_path / "study.toml"
    spec.write_text(BASE)
    code, err = _sweep(capsys, spec, "--out", tmp_path / "out", "--engine", "engine", *argv)
    refused(code, err, *needles, exact=True)
    assert not (tmp_path / "out" / "outputs.nc").exists()


def test_W22_sweep_without_arguments(capsys):
    code, err = _sweep(capsys)
    assert code == 2
    assert err.strip().splitlines() == [
        "sdkit sweep: error: the following arguments are required: SPEC.toml; see `sdkit sweep --help`"
    ]


# --- one writer per folder, chunks verified on resume, nothing half-written left behind ---

CHUNKED = edit("seed = 1\n", "seed = 1\nchunk_size = 2\n")  # 6 runs in 3 chunks


@pytest.fixture
def chunked_spec(tmp_path: Path) -> Path:
    (tmp_path / "decay.mdl").write_bytes((DATA / "decay.mdl").read_bytes())
    spec = tmp_path / "study.toml"
    spec.write_text(CHUNKED)
    return spec


def _hold_lock(folder: Path, locked, release) -> None:
    from sdkit.locks import folder_lock

    with folder_lock(folder):
        locked.set()
        release.wait(30)


@pytest.fixture
def locked_by_another_process():
    """Lock a folder from a child process (as a running sweep does) until the test ends."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    locked, release = context.Event(), context.Event()
    children = []

    def lock(folder: Path) -> None:
        child = context.Process(target=_hold_lock, args=(folder, locked, release))
        child.start()
        children.append(child)
        assert locked.wait(30), "the child never took the lock"

    yield lock
    release.set()
    for child in children:
        child.join(30)


def test_W40_second_sweep_into_a_locked_folder_is_refused(chunked_spec, tmp_path, capsys, locked_by_another_process):
    out = tmp_path / "out"
    assert _sweep(capsys, chunked_spec, "--out", out, "--engine", "engine")[0] == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    locked_by_another_process(out)
    code, err = _sweep(capsys, chunked_spec, "--out", out, "--engine", "engine", "--force")
    assert code == 2, err
    assert err.strip().splitlines() == [f"sdkit: error: another sdkit process is writing to {out}; "
                                        "wait for it to finish or choose another --out"]
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before


def test_W41_ensemble_into_a_locked_store_is_refused(tmp_path, capsys, locked_by_another_process):
    (tmp_path / "s.csv").write_text("decay time,initial stock\n5,100\n8,120\n")
    store = tmp_path / "store"
    locked_by_another_process(store)
    code = main(["ensemble", str(DATA / "decay.mdl"), "--samples", str(tmp_path / "s.csv"),
                 "--out", str(tmp_path / "e.nc"), "--store", str(store)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "another sdkit process is writing to" in err
    assert "--store" in err
    assert not (tmp_path / "e.nc").exists()


def _chunk_files(out: Path) -> list[Path]:
    return sorted((out / "chunks").glob("chunk-*.npz"))


def test_W42_finished_sweep_deletes_its_chunks_unless_kept(chunked_spec, tmp_path, capsys):
    assert _sweep(capsys, chunked_spec, "--out", tmp_path / "a", "--engine", "engine")[0] == 0
    assert not (tmp_path / "a" / "chunks").exists()
    assert _sweep(capsys, chunked_spec, "--out", tmp_path / "b", "--engine", "engine", "--keep-chunks")[0] == 0
    assert len(_chunk_files(tmp_path / "b")) == 3
    assert (tmp_path / "a" / "indices.nc").read_bytes() == (tmp_path / "b" / "indices.nc").read_bytes()


def _swap(paths: list[Path]) -> None:
    first, second = paths[0].read_bytes(), paths[1].read_bytes()
    paths[0].write_bytes(second)
    paths[1].write_bytes(first)


def _truncate(paths: list[Path]) -> None:
    paths[1].write_bytes(paths[1].read_bytes()[:100])


def _empty(paths: list[Path]) -> None:
    paths[1].write_bytes(b"")


def _garbage(paths: list[Path]) -> None:
    paths[1].write_bytes(b"PK\x03\x04" + bytes(range(256)) * 4)


def _altered(paths: list[Path]) -> None:
    import numpy as np

    with np.load(paths[1]) as archive:
        data = {k: archive[k] for k in archive.files}
    name = next(k for k in data if not k.startswith("__"))
    data[name] = data[name] * 2  # the recorded checksums are kept: only the numbers change
    with open(paths[1], "wb") as handle:
        np.savez(handle, **data)


@pytest.mark.filterwarnings("default::sdkit.errors.SdkitWarning")
@pytest.mark.parametrize(("damage", "reason"), [
    (_swap, "was computed from other inputs"),
    (_truncate, "is unreadable"),
    (_empty, "is unreadable"),
    (_garbage, "is unreadable"),
    (_altered, "does not match its recorded checksum"),
], ids=["W43-swapped", "W44-truncated", "W45-empty", "W46-garbage", "W47-altered"])
def test_damaged_chunks_are_recomputed_never_used(damage, reason, chunked_spec, tmp_path, capsys):
    out = tmp_path / "out"
    assert _sweep(capsys, chunked_spec, "--out", out, "--engine", "engine", "--keep-chunks")[0] == 0
    expected = {name: (out / name).read_bytes() for name in ("indices.nc", "outputs.nc")}
    damage(_chunk_files(out))
    code, err = _sweep(capsys, chunked_spec, "--out", out, "--engine", "engine", "--resume")
    assert code == 0, err
    assert reason in err
    assert "deleted and recomputed" in err
    assert {name: (out / name).read_bytes() for name in expected} == expected


@pytest.mark.parametrize(("content", "reason"), [
    (b"", "it is empty"),
    (b'{"study": {"method": "mor', "JSONDecodeError"),
    (b"\xff\xfe\x00garbage\x00", "Error"),
    (b"[1, 2]", "not a sweep record"),
], ids=["W48-empty", "W49-truncated", "W50-binary", "W51-not-a-record"])
def test_damaged_study_json_on_resume_is_one_line(content, reason, chunked_spec, tmp_path, capsys):
    out = tmp_path / "out"
    assert _sweep(capsys, chunked_spec, "--out", out, "--engine", "engine")[0] == 0
    (out / "study.json").write_bytes(content)
    code, err = _sweep(capsys, chunked_spec, "--out", out, "--engine", "engine", "--resume")
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1, err
    assert f"{out / 'study.json'}" in err
    assert reason in err
    assert "--force" in err


def test_W52_leftover_temporaries_of_a_killed_sweep_are_removed(chunked_spec, tmp_path, capsys):
    out = tmp_path / "out"
    assert _sweep(capsys, chunked_spec, "--out", out, "--engine", "engine", "--keep-chunks")[0] == 0
    left = [out / "chunks" / ".chunk-000001.npz.k1ll3d.tmp", out / ".indices.nc.k1ll3d.tmp"]
    for path in left:
        path.write_bytes(b"half written")
    assert _sweep(capsys, chunked_spec, "--out", out, "--engine", "engine", "--resume")[0] == 0
    assert not any(path.exists() for path in left)


@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGTERM"], ids=["W53-ctrl-c", "W54-sigterm"])
def test_interrupted_chunk_write_leaves_no_temporary(signal_name, chunked_spec, tmp_path, capsys, monkeypatch):
    """Ctrl-C or SIGTERM arriving while a chunk is being written: exit 130, no .tmp file, resumable."""
    import os
    import signal

    import numpy as np

    real_savez, calls = np.savez, []

    def interrupted_savez(handle, **data):
        calls.append(1)
        if len(calls) == 2:  # the second chunk: half its bytes are written, then the signal
            handle.write(b"PK\x03\x04 partial")
            if signal_name == "SIGINT":
                # what Python's own Ctrl-C handler does; sent with os.kill, the signal was, in
                # about one full run of three, never handled (the sweep finished, exit 0)
                raise KeyboardInterrupt
            os.kill(os.getpid(), getattr(signal, signal_name))  # sdkit's SIGTERM handler
        real_savez(handle, **data)

    monkeypatch.setattr(np, "savez", interrupted_savez)
    out = tmp_path / "out"
    code, err = _sweep(capsys, chunked_spec, "--out", out, "--engine", "engine")
    assert code == 130, err
    assert "interrupted" in err
    assert not list(out.rglob("*.tmp"))
    assert len(_chunk_files(out)) == 1
    monkeypatch.setattr(np, "savez", real_savez)
    assert _sweep(capsys, chunked_spec, "--out", out, "--engine", "engine", "--resume")[0] == 0
    assert (out / "indices.nc").exists()
    assert not (out / "chunks").exists()


@pytest.mark.parametrize(("case_id", "store", "needles"), [
    ("W55-store-is-a-file", "a-file", ("is a file; give a folder for --store",)),
    ("W56-store-cannot-be-created", "/proc/sdkit-store", ("cannot create /proc/sdkit-store", "choose another --store")),
], ids=["W55-store-is-a-file", "W56-store-cannot-be-created"])
def test_unusable_ensemble_store_is_one_line(case_id, store, needles, tmp_path, capsys):
    (tmp_path / "s.csv").write_text("decay time,initial stock\n5,100\n8,120\n")
    (tmp_path / "a-file").write_text("not a folder")
    target = store if store.startswith("/") else str(tmp_path / store)
    code = main(["ensemble", str(DATA / "decay.mdl"), "--samples", str(tmp_path / "s.csv"),
                 "--out", str(tmp_path / "e.nc"), "--store", target])
    refused(code, capsys.readouterr().err, *needles, exact=True)
    assert not (tmp_path / "e.nc").exists()


def test_W57_lock_of_a_killed_sweep_is_released(tmp_path):
    """The lock dies with its process: after a SIGKILL the next writer gets the folder at once."""
    import multiprocessing
    import os
    import signal

    from sdkit.errors import OutputError
    from sdkit.locks import folder_lock

    context = multiprocessing.get_context("fork")
    locked, release = context.Event(), context.Event()
    child = context.Process(target=_hold_lock, args=(tmp_path / "out", locked, release))
    child.start()
    assert locked.wait(30)
    with pytest.raises(OutputError, match="another sdkit process is writing to"), folder_lock(tmp_path / "out"):
        pass
    os.kill(child.pid, signal.SIGKILL)
    child.join(30)
    with folder_lock(tmp_path / "out") as folder:
        assert folder == tmp_path / "out"
    assert list((tmp_path / "out").iterdir()) == []  # no lock file left behind


def test_W58_ensemble_workers_beyond_cpus_is_refused(tmp_path, capsys):
    (tmp_path / "s.csv").write_text("decay time,initial stock\n5,100\n8,120\n")
    code = main(["ensemble", str(DATA / "decay.mdl"), "--samples", str(tmp_path / "s.csv"),
                 "--out", str(tmp_path / "e.nc"), "--workers", "100000"])
    refused(code, capsys.readouterr().err, "--workers 100000 exceeds the", "--scheduler", exact=True)
    assert not (tmp_path / "e.nc").exists()
