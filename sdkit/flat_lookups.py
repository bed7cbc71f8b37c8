"""Lookups written as one flat list, ``table(x1, ..., xn, y1, ..., yn)``, in Vensim's pair form.

Models converted from DYNAMO (e.g. ``TEUPPS Table(0,0.2,0.4,0.6,0.8,1,0,0.4,0.7,0.9,0.97,1)``)
define a lookup by its n x values followed by its n y values. Vensim reads this form;
PySD's parser reads only pairs, ``table((x1,y1),...,(xn,yn))``. :func:`pair_flat_lookups`
rewrites such a definition in the model text into pairs before any reader sees it, so
PySD and the engine both run it. Only an equation that is nothing but a name and an
even number (at least four) of plain numbers in one pair of parentheses is rewritten;
the newlines it spanned follow the rewritten list, so every equation keeps its line.
"""

from __future__ import annotations

import re

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_SPACE = r"(?:[ \t\r\n]|\\[ \t]*\r?\n)*"  # blanks and line continuations
_FLAT = re.compile(
    rf"(?P<start>(?:\A|\|)(?:\s|\{{[^}}]*\}})*)"  # the start of an equation (after comments)
    rf"(?P<name>[^\s=~|(){{}}:][^=~|(){{}}\n]*?){_SPACE}"
    rf"\({_SPACE}(?P<numbers>{_NUMBER}(?:{_SPACE},{_SPACE}{_NUMBER})+){_SPACE}\)"
    rf"(?P<end>{_SPACE})(?=~)"
)


def pair_flat_lookups(text: str) -> str:
    """``text`` with every flat-list lookup definition rewritten as (x, y) pairs."""
    return _FLAT.sub(_paired, text)


def _paired(match: re.Match) -> str:
    numbers = re.findall(_NUMBER, match["numbers"])
    half = len(numbers) // 2
    if len(numbers) % 2 or half < 2:
        return match[0]
    pairs = ",".join(f"({x},{y})" for x, y in zip(numbers[:half], numbers[half:], strict=True))
    newlines = match[0][len(match["start"]):].count("\n")
    return f"{match['start']}{match['name'].rstrip()}({pairs})" + "\n" * newlines + " "
