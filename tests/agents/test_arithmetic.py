from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from netra.agents.arithmetic import ExpressionRefused, evaluate


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("17 * 23", 391),
        ("2 ** 10", 1024),
        ("-3 + 4 * (2 - 1)", 1),
        ("7 // 2 + 7 % 2", 4),
        ("1 / 4", 0.25),
        ("sqrt(16) + abs(-2)", 6.0),
        ("max(1, 5, 3)", 5),
        ("2 ** -1", 0.5),
        ("((((((1 + 1))))))", 2),
    ],
)
def test_evaluates_arithmetic(expression: str, value: float) -> None:
    assert evaluate(expression) == value


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("9**9**9", "too large"),
        ("2 ** 100000", "too large"),
        ("10.0 ** 400", "too large"),
        ("exp(1000)", "too large"),
        ("1 / 0", "Division by zero"),
        ("5 % 0", "Division by zero"),
        ("(" * 60 + "1" + ")" * 60, "nested deeper"),
        ("-" * 200 + "1", "nested deeper"),
        ("1 + " * 200 + "1", "longer than"),
        ("__import__('os').system('true')", "Only numbers"),
        ("(1).__class__", "Only numbers"),
        ("'a' * 3", "Only numbers"),
        ("True + 1", "Only numbers"),
        ("[1, 2]", "Only numbers"),
        ("lambda: 1", "Only numbers"),
        ("sqrt(-1)", "Cannot compute"),
        ("(-8) ** 0.5", "not a real number"),
        ("1 +", "not an arithmetic expression"),
        ("", "empty"),
    ],
)
def test_refuses_with_a_reason(expression: str, reason: str) -> None:
    with pytest.raises(ExpressionRefused, match=reason):
        evaluate(expression)


def test_huge_powers_are_refused_before_any_work() -> None:
    # Computing any of these would take minutes or all the memory; the watchdog turns
    # such a hang into a failure instead of a stuck suite.
    with ThreadPoolExecutor(1) as pool:
        for expression in ("9**9**9", "99999**99999", "2**2**2**2**2**2"):
            with pytest.raises(ExpressionRefused):
                pool.submit(evaluate, expression).result(timeout=10)


def test_big_but_bounded_integers_are_exact() -> None:
    assert evaluate("2 ** 4000") == 2**4000
    assert evaluate("12345678901234567890 * 98765432109876543210") == (
        12345678901234567890 * 98765432109876543210
    )
