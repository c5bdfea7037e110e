"""Imports run one way (docs/architecture.md): domain is pure; http never touches persistence
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


def usecase_imports() -> dict[str, set[str]]:
    """For each use-case module, the other use-case modules it imports."""
    graph = {}
    for path in (ROOT / "service/usecases").glob("*.py"):
        if path.stem == "__init__":
            continue
        graph[path.stem] = {
            name.removeprefix("service.usecases.")
            for name in imported_modules(path)
            if name.startswith("service.usecases.")
        }
    return graph


def test_a_use_case_needs_the_access_module_and_at_most_one_other_feature():
    graph = usecase_imports()
    assert graph["access"] == set(), "access loads and checks; it imports no feature"
    too_many = {
        name: deps - {"access"} for name, deps in graph.items() if len(deps - {"access"}) > 1
    }
    assert too_many == {}


def test_use_case_imports_are_at_most_two_deep_and_never_circular():
    graph = usecase_imports()

    def depth(name: str, seen: tuple[str, ...] = ()) -> int:
        assert name not in seen, "import cycle: " + " -> ".join((*seen, name))
        features = graph[name] - {"access"}
        return 1 + max((depth(d, (*seen, name)) for d in features), default=0)

    deepest = {name: depth(name) for name in graph}
    assert max(deepest.values()) <= 2, deepest
