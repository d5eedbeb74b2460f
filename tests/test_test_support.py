"""Helpers live in plain modules (netra.testing, tests/support/): a conftest only declares
fixtures, and no module imports from a conftest or from a test module."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _modules() -> list[Path]:
    return sorted([*ROOT.glob("tests/**/*.py"), *ROOT.glob("bench/*.py")])


def _imported(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_nothing_imports_from_a_conftest_or_a_test_module() -> None:
    offenders = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in _modules()
        for name in _imported(ast.parse(path.read_text()))
        if name.rsplit(".", 1)[-1] == "conftest" or name.rsplit(".", 1)[-1].startswith("test_")
    }
    assert not offenders, f"move what they import to tests/support/: {sorted(offenders)}"


def test_conftest_files_only_declare_fixtures() -> None:
    offenders = []
    for path in ROOT.glob("tests/**/conftest.py"):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                decorators = [ast.unparse(d) for d in node.decorator_list]
                if not any(d.startswith("pytest.fixture") for d in decorators):
                    offenders.append(f"{path.relative_to(ROOT)}: {node.name}")
            elif isinstance(node, ast.ClassDef | ast.Assign | ast.AnnAssign):
                offenders.append(f"{path.relative_to(ROOT)}: {ast.unparse(node)[:60]}")
    assert not offenders, f"move these to a module of tests/support/: {offenders}"
