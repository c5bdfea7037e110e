"""Imports run one way (STYLE.md): domain is pure; http never touches persistence
directly for rules; service never imports workers."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "service/domain": (
        "flask",
        "sqlalchemy",
        "rq",
        "weasyprint",
        "service.persistence",
        "service.usecases",
        "service.http",
        "workers",
    ),
    "service/usecases": ("flask", "service.http", "workers"),
    "service/persistence": ("flask", "service.http", "service.usecases", "workers"),
    "service": ("workers",),
}


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("room", sorted(FORBIDDEN))
def test_room_imports_nothing_forbidden(room):
    offences = []
    for path in (ROOT / room).rglob("*.py"):
        for name in imported_modules(path):
            if any(name == f or name.startswith(f + ".") for f in FORBIDDEN[room]):
                offences.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offences == []
