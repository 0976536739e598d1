"""Services never import each other: each is deployed alone, with its own database, and
talks to the others over gRPC or RabbitMQ only. The one exception is the code generated
from the ledger's contract (`ledger.v1`, built from proto/ at install): a contract, not
the ledger's code. What two services share otherwise is in `shared/`."""

import ast
from pathlib import Path

import pytest

SOURCE = Path(__file__).parents[1] / "src"
SERVICES = sorted(path.name for path in SOURCE.iterdir() if (path / "__init__.py").exists())
# What of another service a service may import: the package generated from its contract.
CONTRACT = "ledger.v1"


def is_contract(name: str) -> bool:
    return name == CONTRACT or name.startswith(f"{CONTRACT}.")


def imported_modules(module: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from ledger.v1 import ledger_pb2` imports ledger.v1.ledger_pb2.
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


def test_the_stage_has_its_services() -> None:
    assert {"ledger", "payments"} <= set(SERVICES)


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_imports_no_other_service_but_its_contract(service: str) -> None:
    others = set(SERVICES) - {service}
    offenders = {
        f"{module.relative_to(SOURCE)} imports {name}"
        for module in (SOURCE / service).rglob("*.py")
        for name in imported_modules(module)
        if name.split(".")[0] in others and not is_contract(name)
    }
    assert not offenders


def test_payments_uses_the_ledger_only_through_its_contract() -> None:
    """The boundary above holds for payments in practice: it does use the contract."""
    used = {
        name
        for module in (SOURCE / "payments").rglob("*.py")
        for name in imported_modules(module)
        if name.startswith("ledger.")
    }
    assert used
    assert all(is_contract(name) for name in used)
