"""`sdkit check --baseline`: verdicts that changed come first, values never print alike."""

from sdkit.checks import CheckResult
from sdkit.report import baseline_table


def result(check_id: str, value: float, passed: bool) -> CheckResult:
    return CheckResult(check_id, "RM2", "versailles", "", value, "<", 0.2, passed, None)


def test_changed_verdicts_come_first_with_both_values_and_margin_change():
    base = [result("RM2.a", 0.1, True), result("RM2.b", 0.05, True)]
    variant = [result("RM2.a", 0.2000001, False), result("RM2.b", 0.04, True)]
    lines = baseline_table(base, variant, "base.mdl", "variant.mdl").splitlines()
    assert lines[0] == "1 of 2 checks changed verdict from base.mdl to variant.mdl"
    assert lines[3].split() == ["RM2.a", "pass", "FAIL", "0.1", "0.2", "-0.1"]
    assert lines[4] == "unchanged verdicts:"
    assert lines[7].split() == ["RM2.b", "pass", "pass", "0.05", "0.04", "+0.01"]
