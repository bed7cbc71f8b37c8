"""Standing attack suite (docs/security.md): crafted files, generated here, must not run code.

Every crafted model carries a payload that would create a marker file if any stage
(decoding, PySD's parser, PySD's generated module, the engine) executed it. Each test
asserts the refusal and that the marker never appears. Cases are data: add a row to
extend the suite.
"""

from __future__ import annotations

import codecs
import encodings.aliases
from pathlib import Path

import pytest

import sdkit
from sdkit.cli import main
from sdkit.errors import ModelFileError
from sdkit.safety import ENCODINGS, check_model_text

DATA = Path(__file__).parents[1] / "data"
DECAY = (DATA / "decay.mdl").read_text()
BODY = DECAY.split("\n", 1)[1]  # without the {UTF-8} line


def payload(marker: Path) -> str:
    return f"__import__('os').system('touch {marker}')"


def lookup_attack(marker: Path) -> str:
    """The model with a lookup range PySD would ``eval``: the payload runs while parsing."""
    return BODY.replace(
        "decay time = 10",
        f"decay time = WITH LOOKUP(Time, ([{payload(marker)} or (0,0)-(30,20)],(0,10),(30,12)))",
    )


def docstring_attack(marker: Path) -> str:
    """The model with a comment that closes PySD's generated docstring."""
    return BODY.replace("Average residence time of a widget.", f'""" + str({payload(marker)}) + """')


#: How a codec spells the characters the guard looks for without writing them.
INDIRECT = {
    "utf_7": {"[": "+AFs-", '"': "+ACI-", "(": "+ACg-", "\\": "+AFw-"},
    "unicode_escape": {"[": "\\x5b", '"': "\\u0022", "(": "\\N{LEFT PARENTHESIS}", "\\": "\\x5c"},
    "raw_unicode_escape": {"[": "\\u005b", '"': "\\u0022", "(": "\\u0028", "\\": "\\u005c"},
}


def _all_codecs() -> list[str]:
    names = set(encodings.aliases.aliases.values()) | set(INDIRECT)
    names |= {"utf_16", "utf_16_le", "utf_16_be", "utf_32", "utf_32_le", "utf_32_be", "utf_8_sig"}
    usable = []
    for name in sorted(names):
        try:
            info = codecs.lookup(name)
        except LookupError:
            continue
        if info._is_text_encoding:
            usable.append(name)
    return usable


CODECS = _all_codecs()


def crafted_in(codec: str, text: str, indirect: dict[str, str] | None = None) -> bytes:
    """``text`` under a ``{codec}`` header, encoded with that codec (characters it cannot spell dropped)."""
    for char, spelling in (indirect or {}).items():
        text = text.replace(char, spelling)
    try:
        body = text.encode(codec, errors="ignore") if not indirect else text.encode("ascii")
    except (UnicodeError, LookupError, TypeError):
        body = text.encode("ascii")
    return f"{{{codec.replace('_', '-')}}}\n".encode("ascii") + body


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("attack", [lookup_attack, docstring_attack], ids=["lookup", "docstring"])
def test_no_declared_codec_runs_code(codec, attack, tmp_path):
    marker = tmp_path / "MARKER"
    path = tmp_path / "crafted.mdl"
    path.write_bytes(crafted_in(codec, attack(marker), INDIRECT.get(codec)))
    with pytest.raises(ModelFileError) as caught:
        sdkit.load_model(path)
    message = str(caught.value)
    assert "\n" not in message
    accepted = codec.replace("_", "").replace("-", "").lower() in ENCODINGS
    assert ("encoding" in message or "not" in message) if not accepted else "line" in message
    assert not marker.exists()


def test_every_indirect_spelling_is_tried():
    """The codecs known to spell '[', '"', '\\' and '(' indirectly are all in the suite."""
    for codec, spellings in INDIRECT.items():
        assert codec in CODECS
        for char, spelling in spellings.items():
            assert codecs.decode(spelling.encode("ascii"), codec) == char


@pytest.mark.parametrize("encoding", sorted(set(ENCODINGS.values())))
def test_accepted_encodings_spell_the_guarded_characters_only_as_themselves(encoding):
    """A byte other than the ASCII one never decodes to a character the guard looks for."""
    for byte in range(256):
        try:
            char = bytes([byte]).decode(encoding)
        except UnicodeDecodeError:
            continue
        if char in "[]\"'\\(),\x00":
            assert byte == ord(char), (encoding, byte)
    for overlong in (b"\xc1\x9b", b"\xe0\x81\x9b", b"\xc0\xa2", b"\xf0\x80\x80\xa2"):
        with pytest.raises(UnicodeDecodeError):
            overlong.decode("utf-8")


STUDY = """model = "crafted.mdl"\nmethod = "morris"\nsamples = 4\nseed = 1\n[parameters]
"decay time" = [1.0, 20.0]\n"initial stock" = [50.0, 150.0]\n[outputs.final]\nvariable = "Stock"\nmetric = "final"\n"""


@pytest.mark.parametrize(
    "command", [["params"], ["scenarios"], ["run"], ["run", "--engine", "pysd"], ["check"], ["sweep"]]
)
def test_utf7_model_is_refused_by_every_command(command, tmp_path, capsys):
    marker = tmp_path / "MARKER"
    path = tmp_path / "crafted.mdl"
    path.write_bytes(crafted_in("utf_7", lookup_attack(marker), INDIRECT["utf_7"]))
    if command == ["sweep"]:
        (tmp_path / "study.toml").write_text(STUDY)
        path = tmp_path / "study.toml"
    code = main([*command[:1], str(path), *command[1:]])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "{utf-7}" in err
    assert not marker.exists()


@pytest.mark.parametrize(
    ("name", "encode"),
    [
        ("bom", lambda text: b"\xef\xbb\xbf" + ("{UTF-8}\n" + text).encode("utf-8")),
        ("bom-no-header", lambda text: b"\xef\xbb\xbf" + text.encode("utf-8")),
        ("crlf", lambda text: ("{UTF-8}\n" + text).replace("\n", "\r\n").encode("utf-8")),
        ("latin-1", lambda text: ("{ISO-8859-1}\n" + text).encode("latin-1")),
        ("windows-1252", lambda text: ("{windows-1252}\n" + text).encode("cp1252")),
    ],
)
def test_files_vensim_writes_are_accepted(name, encode, tmp_path):
    text = BODY.replace("Average residence time of a widget.", "Résidence moyenne, café")
    path = tmp_path / "decay.mdl"
    path.write_bytes(encode(text))
    model = sdkit.load_model(path)
    assert model.variables["decay_time"].comment == "Résidence moyenne, café"
    engine = sdkit.run(model, engine="engine")["stock"].values
    pysd = sdkit.run(model, engine="pysd")["stock"].values
    assert abs(engine[0, -1] - pysd[0, -1]) < 1e-9


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("utf-16", ("{UTF-8}\n" + BODY).encode("utf-16")),
        ("bom-with-other-header", b"\xef\xbb\xbf{windows-1252}\n" + BODY.encode("utf-8")),
        ("invalid-utf-8", ("{UTF-8}\n" + BODY).encode("utf-8").replace(b"First-order", b"First\xc1\x9border")),
        ("unknown-header", ("{x-mac-sneaky}\n" + BODY).encode("utf-8")),
    ],
)
def test_other_encodings_are_refused_in_one_line(name, content, tmp_path, capsys):
    path = tmp_path / "bad.mdl"
    path.write_bytes(content)
    with pytest.raises(ModelFileError) as caught:
        sdkit.load_model(path)
    assert "\n" not in str(caught.value)
    assert main(["params", str(path)]) == 2


def test_pysd_and_the_engine_get_the_checked_text_not_the_path(tmp_path):
    """A file swapped for a crafted one after loading is never read again."""
    marker = tmp_path / "MARKER"
    path = tmp_path / "decay.mdl"
    path.write_text(DECAY)
    model = sdkit.load_model(path)
    path.write_text("{UTF-8}\n" + lookup_attack(marker))
    by_pysd = sdkit.run(model, engine="pysd")["stock"].values
    by_engine = sdkit.run(model, engine="engine")["stock"].values
    assert not marker.exists()
    assert abs(by_pysd[0, -1] - by_engine[0, -1]) < 1e-9


LOOKUP_RANGES_ACCEPTED = [
    "[(0,0)-(30,20)]",
    "[(0,0)-(30,20),(-1,10),(-0.743119,5.78947)]",
    "[(0,0)-(3e+001,2.5E-3)]",
    "[(-1,-2)-(+30,4)]",
    "[( 0 , 0 )-( 30 , 20 )]",
    "[(0,0)-(30,20),\\\n\t\t(1,2)]",
]
LOOKUP_RANGES_REFUSED = [
    "[(0,0)-(30,20),(__import__('os'),1)]",
    "[(0x10,0)-(30,20)]",
    "[1]",
    "[(0,0)-(30,20)) or ((0,0)]",
    "[(0,0)-(30,20)+(1,1)]",
    "[()-()]",
    "[(0,0)-(30,20);(1,1)]",
]


@pytest.mark.parametrize("limits", LOOKUP_RANGES_ACCEPTED)
def test_every_numeric_lookup_range_vensim_writes_is_accepted(limits, tmp_path):
    path = tmp_path / "decay.mdl"
    path.write_text(DECAY.replace("decay time = 10", f"decay time = WITH LOOKUP(Time, ({limits},(0,10),(30,12)))"))
    assert sdkit.load_model(path).variables["decay_time"].kind == "auxiliary"


@pytest.mark.parametrize("limits", LOOKUP_RANGES_REFUSED)
def test_lookup_ranges_that_are_not_numbers_are_refused(limits):
    text = DECAY.replace("decay time = 10", f"decay time = WITH LOOKUP(Time, ({limits},(0,10),(30,12)))")
    with pytest.raises(ModelFileError, match="lookup range"):
        check_model_text(text, Path("crafted.mdl"))


def test_lookup_point_written_with_a_spaced_sign_is_checked_for_order(tmp_path):
    path = tmp_path / "decay.mdl"
    path.write_text(DECAY.replace(
        "decay time = 10", "decay time = WITH LOOKUP(Time, ([(-5,0)-(30,20)],(0,10),(- 3,2),(30,12)))"
    ))
    with pytest.raises(ModelFileError, match="-3 follows 0"):
        sdkit.load_model(path)
