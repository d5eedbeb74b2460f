"""docs/architecture.md's layout table names every package and top-level module of
src/netra, and every path it names exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "netra"
DOC = ROOT / "docs" / "architecture.md"


def _layout_rows() -> set[str]:
    text = DOC.read_text()
    section = text.split("## Layout", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([^`]+)` \|", section, flags=re.MULTILINE))


def _tree() -> set[str]:
    packages = {
        f"{init.parent.relative_to(PACKAGE).as_posix()}/"
        for init in PACKAGE.rglob("__init__.py")
        if init.parent != PACKAGE and "migrations" not in init.parent.parts
    }
    modules = {path.name for path in PACKAGE.glob("*.py") if path.name != "__init__.py"}
    return packages | modules | {"netra/__init__.py"}


def test_every_package_and_top_level_module_is_in_the_layout_table() -> None:
    missing = sorted(_tree() - _layout_rows())
    assert not missing, f"add these to the layout table of docs/architecture.md: {missing}"


def test_every_row_of_the_layout_table_exists() -> None:
    stale = sorted(_layout_rows() - _tree())
    assert not stale, f"docs/architecture.md's layout table names what is gone: {stale}"


def test_nothing_cites_design_documents_outside_the_repository() -> None:
    pattern = re.compile(r"(?<![/\w])(INCIDENTS|ARCHITECTURE)\.md")
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("src", "tests", "bench", "docs")
        for path in (ROOT / folder).rglob("*")
        # Installed third-party code (tests/.cache, node_modules) is not ours to check.
        if path.suffix in {".py", ".md", ".js", ".html"}
        and path.is_file()
        and not {"node_modules", ".cache"} & set(path.parts)
        and pattern.search(path.read_text())
    ]
    assert not offenders, f"cite docs/incidents.md or docs/architecture.md instead: {offenders}"
