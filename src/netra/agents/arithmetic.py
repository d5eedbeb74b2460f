"""Safe arithmetic: a small evaluator over Python's `ast`, never `eval`.

Only numbers, + - * / // % **, unary signs, parentheses and a few math functions are
allowed. Sizes are bounded before the work is done, so `9**9**9`, a megabyte of
digits or a thousand nested parentheses are refused quickly instead of eating the CPU.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable

Number = int | float

MAX_EXPRESSION_CHARS = 500
MAX_DEPTH = 40
MAX_INT_BITS = 4096  # about 1233 decimal digits
MAX_EXPONENT = 10_000


class ExpressionRefused(ValueError):
    """The expression was refused or cannot be computed; the message is for the user."""


_BINARY: dict[type[ast.operator], Callable[[Number, Number], Number]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}
_FUNCTIONS: dict[str, Callable[..., Number]] = {
    "abs": abs,
    "round": round,
    "sqrt": math.sqrt,
    "log": math.log,
    "log10": math.log10,
    "exp": math.exp,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "min": min,
    "max": max,
}
_CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}


def evaluate(expression: str) -> Number:
    """The value of an arithmetic expression, or `ExpressionRefused` saying why not."""
    text = expression.strip()
    if not text:
        raise ExpressionRefused("The expression is empty.")
    if len(text) > MAX_EXPRESSION_CHARS:
        raise ExpressionRefused(f"The expression is longer than {MAX_EXPRESSION_CHARS} characters.")
    if _paren_depth(text) > MAX_DEPTH:
        raise ExpressionRefused(f"The expression is nested deeper than {MAX_DEPTH} levels.")
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise ExpressionRefused(f"'{text}' is not an arithmetic expression.") from exc
    try:
        return _Evaluator().value(tree.body, 0)
    except ZeroDivisionError as exc:
        raise ExpressionRefused("Division by zero.") from exc
    except OverflowError as exc:
        raise ExpressionRefused("The result is too large.") from exc
    except (ValueError, TypeError) as exc:
        if isinstance(exc, ExpressionRefused):
            raise
        raise ExpressionRefused(f"Cannot compute that: {exc}.") from exc


def _paren_depth(text: str) -> int:
    depth = deepest = 0
    for char in text:
        if char == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif char == ")":
            depth -= 1
    return deepest


class _Evaluator:
    """Walks the tree with an allow-list of node types; anything else is refused."""

    def value(self, node: ast.expr, depth: int) -> Number:
        if depth > MAX_DEPTH:
            raise ExpressionRefused(f"The expression is nested deeper than {MAX_DEPTH} levels.")
        if isinstance(node, ast.Constant):
            return self._constant(node.value)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            operand = self.value(node.operand, depth + 1)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp):
            left = self.value(node.left, depth + 1)
            right = self.value(node.right, depth + 1)
            if isinstance(node.op, ast.Pow):
                return _bounded(_power(left, right))
            apply = _BINARY.get(type(node.op))
            if apply is None:
                raise ExpressionRefused(f"The operator {type(node.op).__name__} is not allowed.")
            return _bounded(apply(left, right))
        if isinstance(node, ast.Name) and node.id in _CONSTANTS:
            return _CONSTANTS[node.id]
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
            function = _FUNCTIONS.get(node.func.id)
            if function is not None:
                args = [self.value(arg, depth + 1) for arg in node.args]
                return _bounded(function(*args))
        raise ExpressionRefused(
            "Only numbers, + - * / // % **, parentheses and "
            f"{', '.join(sorted(_FUNCTIONS))} are allowed."
        )

    @staticmethod
    def _constant(value: object) -> Number:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ExpressionRefused("Only numbers are allowed.")
        return _bounded(value)


def _power(base: Number, exponent: Number) -> Number:
    """Refuse before computing: the size of base**exponent is known from logarithms."""
    if abs(exponent) > MAX_EXPONENT and abs(base) not in (0, 1):
        raise ExpressionRefused("The result is too large.")
    grows = isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and abs(base) > 1
    if grows and exponent * math.log2(abs(base)) > MAX_INT_BITS:
        raise ExpressionRefused("The result is too large.")
    result = base**exponent
    if isinstance(result, complex):
        raise ExpressionRefused("The result is not a real number.")
    return result


def _bounded(value: Number) -> Number:
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise ExpressionRefused("The result is too large.")
    if isinstance(value, float) and not math.isfinite(value):
        raise ExpressionRefused("The result is too large.")
    return value
