"""What every case of the failure catalogue must show (docs/reliability.md): one line naming the bad thing."""

from __future__ import annotations


def one_line(message: object, *needles: str) -> str:
    """The message, after checking it is one non-empty line that contains every needle (case-insensitive)."""
    text = str(message)
    assert text.strip(), "empty message"
    assert "\n" not in text, f"message is not one line: {text!r}"
    for needle in needles:
        assert needle.lower() in text.lower(), f"{needle!r} not in {text!r}"
    return text


def refused(code: int, err: str, *needles: str, exact: bool = False) -> str:
    """Exit code 2, one line on stderr, no traceback, every needle in it (as written when `exact`)."""
    assert code == 2, (code, err)
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    for needle in needles:
        found = needle in err if exact else needle.lower() in err.lower()
        assert found, f"{needle!r} not in {err!r}"
    return err
