"""The import graph: domains import only the domains below them, and core imports none."""

from __future__ import annotations

import ast
from pathlib import Path

from learning import DOMAINS

PACKAGE = Path(__file__).resolve().parent.parent / "learning"
#: Modules of the root package wire every domain together (create_app, CLI, demo data).
COMPOSITION_ROOT = {"learning", "learning.cli", "learning.demo"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """Every `learning...` module a file imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {m for m in found if m == "learning" or m.startswith("learning.")}


def domain_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in DOMAINS else None


def graph() -> dict[str, set[tuple[str, str]]]:
    """domain -> {(importing module, imported domain)} for imports that cross domains."""
    edges: dict[str, set[tuple[str, str]]] = {d: set() for d in DOMAINS}
    for path in PACKAGE.rglob("*.py"):
        name = module_name(path)
        if name in COMPOSITION_ROOT:
            continue
        here = domain_of(name)
        assert here is not None, f"{name} is outside every domain package"
        for target in imported_modules(path):
            there = domain_of(target)
            assert there is not None, f"{name} imports {target}, which is in no domain"
            if there != here:
                edges[here].add((name, there))
    return edges


def test_domains_import_only_the_domains_below_them():
    order = {d: i for i, d in enumerate(DOMAINS)}
    wrong = sorted(f"{module} imports learning.{there} ({here} may not)"
                   for here, found in graph().items()
                   for module, there in found if order[there] >= order[here])
    assert wrong == []


def test_core_imports_no_domain():
    assert graph()["core"] == set()


def test_reports_is_imported_by_no_domain():
    assert [m for here, found in graph().items() for m, there in found
            if there == "reports"] == []


def test_the_checker_sees_a_wrong_arrow(tmp_path, monkeypatch):
    """Guard the guard: an upward import added to a copy of core is reported."""
    fake = PACKAGE / "core" / "_arrow_probe.py"
    monkeypatch.setattr(Path, "rglob", lambda self, pattern: [fake])
    monkeypatch.setattr(Path, "read_text",
                        lambda self, encoding=None: "from learning.reports import matrix\n")
    assert graph()["core"] == {("learning.core._arrow_probe", "reports")}
