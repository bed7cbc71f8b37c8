"""What a model's check results must show: every check passes unless marked xfail, and each xfail still fails."""


def unexpected_failures(results) -> list[str]:
    """Checks that fail without an xfail mark, as ``id: value op threshold``."""
    return [f"{r.id}: {r.value:.4g} {r.op} {r.threshold:.4g}" for r in results if not r.passed and r.xfail is None]


def unexpected_passes(results) -> list[str]:
    """Checks marked xfail that now pass (they should lose the mark)."""
    return [r.id for r in results if r.passed and r.xfail is not None]
