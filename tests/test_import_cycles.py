"""No two domains of a stage import each other, directly or round a longer loop.

A domain is a stage package's subpackage (`orders/`, `storage/`) or module (`config.py`,
`money.py`). When `orders` imports `jobs` and `jobs` imports `orders`, neither can be read,
tested or moved alone, and the import order decides what works. The app's wiring
(`main.py`, `dependencies.py`, and the entry points) imports every domain on purpose and
is left out.
"""

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.stages import PACKAGE_IDS, PACKAGES

WIRING = {"main", "dependencies", "__main__", "seed", "worker", "migrations"}


def _imported_modules(source: Path) -> Iterator[str]:
    tree = ast.parse(source.read_text(), filename=str(source))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def domain_imports(stage: Path, package: str) -> dict[str, set[str]]:
    """Each domain of the stage's package, and the other domains its modules import."""
    root = stage / "src" / package
    graph: dict[str, set[str]] = {}
    for source in root.rglob("*.py"):
        domain = source.relative_to(root).parts[0].removesuffix(".py")
        if domain in WIRING or domain == "__init__":
            continue
        targets = graph.setdefault(domain, set())
        for name in _imported_modules(source):
            parts = name.split(".")
            if parts[0] == package and len(parts) > 1:
                target = parts[1]
                if target not in WIRING and target != domain:
                    targets.add(target)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One loop in the graph (`[a, b, a]`), or None. Depth-first, with the path on a stack."""
    visiting: list[str] = []
    done: set[str] = set()

    def visit(node: str) -> list[str] | None:
        if node in visiting:
            return [*visiting[visiting.index(node) :], node]
        if node in done:
            return None
        visiting.append(node)
        for target in sorted(graph.get(node, ())):
            if cycle := visit(target):
                return cycle
        visiting.pop()
        done.add(node)
        return None

    for node in sorted(graph):
        if cycle := visit(node):
            return cycle
    return None


def test_the_cycle_finder_finds_a_loop_and_only_a_loop() -> None:
    assert find_cycle({"orders": {"jobs"}, "jobs": {"outbox"}, "outbox": set()}) is None
    assert find_cycle({"orders": {"jobs"}, "jobs": {"orders"}}) == ["jobs", "orders", "jobs"]


@pytest.mark.parametrize(("stage", "package"), PACKAGES, ids=PACKAGE_IDS)
def test_no_domain_imports_another_that_imports_it_back(stage: Path, package: str) -> None:
    cycle = find_cycle(domain_imports(stage, package))
    assert cycle is None, f"{stage.name}: domains import each other: {' -> '.join(cycle or [])}"


@pytest.mark.parametrize(("stage", "package"), PACKAGES, ids=PACKAGE_IDS)
def test_repositories_import_no_http_schema(stage: Path, package: str) -> None:
    """A repository speaks SQL and models; what a request looks like is the router's."""
    offenders = [
        f"{source.relative_to(stage)} imports {name}"
        for source in (stage / "src" / package).rglob("repository.py")
        for name in _imported_modules(source)
        if name.startswith(f"{package}.") and name.split(".")[-1] == "schemas"
    ]
    assert offenders == []
