"""Services never import each other: each is deployed alone, with its own database, and
talks to the others over HTTP or RabbitMQ only. What two services share is in `shared/`."""

import ast
from pathlib import Path

import pytest

SOURCE = Path(__file__).parents[1] / "src"
SERVICES = sorted(path.name for path in SOURCE.iterdir() if (path / "__init__.py").exists())


def imported_packages(module: Path) -> set[str]:
    packages: set[str] = set()
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.Import):
            packages.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            packages.add(node.module.split(".")[0])
    return packages


def test_the_stage_has_its_services() -> None:
    assert {"catalog", "orders"} <= set(SERVICES)


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_imports_no_other_service(service: str) -> None:
    others = set(SERVICES) - {service}
    offenders = {
        f"{module.relative_to(SOURCE)} imports {', '.join(sorted(found))}"
        for module in (SOURCE / service).rglob("*.py")
        if (found := imported_packages(module) & others)
    }
    assert not offenders
