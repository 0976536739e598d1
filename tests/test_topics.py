"""TOPICS.md maps each roadmap topic to code and tests: every name in it must exist, and it
must say what docs/topics.toml says."""

import ast
from pathlib import Path

import pytest

from scripts.topics import DATA, INDEX, PLANNED_STAGES, Topic, load_topics, render
from tests.stages import ROOT, STAGES

TOPICS = load_topics()
REFERENCES = sorted({ref for topic in TOPICS for ref in [*topic.code, *topic.tests]})


def defines(tree: ast.Module, dotted: str) -> bool:
    """Whether a module defines `Name` or `Class.attribute` (methods, fields, constants)."""
    scope: list[ast.stmt] = tree.body
    for part in dotted.split("."):
        found = [node for node in scope if part in names_defined(node)]
        if not found:
            return False
        scope = found[0].body if isinstance(found[0], ast.ClassDef) else []
    return True


def names_defined(node: ast.stmt) -> set[str]:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {node.name}
    if isinstance(node, ast.Assign):
        return {target.id for target in node.targets if isinstance(target, ast.Name)}
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return {node.target.id}
    return set()


@pytest.mark.parametrize("reference", REFERENCES)
def test_every_path_and_symbol_named_exists(reference: str) -> None:
    path, _, symbol = reference.partition("::")
    assert (ROOT / path).is_file(), f"{path} does not exist ({DATA.name})"
    if symbol:
        tree = ast.parse((ROOT / path).read_text())
        assert defines(tree, symbol), f"{path} defines no {symbol} ({DATA.name})"


def test_topics_md_is_generated_from_the_data() -> None:
    assert INDEX.read_text() == render(TOPICS), "run: python scripts/topics.py"


@pytest.mark.parametrize("topic", TOPICS, ids=[topic.name for topic in TOPICS])
def test_a_topic_is_taught_with_a_test_or_planned_for_a_stage(topic: Topic) -> None:
    stages = {stage.name for stage in STAGES}
    if topic.not_yet:
        assert topic.not_yet in PLANNED_STAGES | stages
        assert not topic.code
    else:
        assert topic.code, "name the code that teaches it"
        assert topic.tests, "name a test that proves it"
        assert topic.stages
        assert set(topic.stages) <= stages


def test_the_roadmap_topics_are_all_there() -> None:
    names = " ".join(topic.name for topic in TOPICS).lower()
    for word in [
        "http",
        "rest",
        "crud",
        "twelve-factor",
        "sql",
        "transactions",
        "orm",
        "migrations",
        "pagination",
        "jwt",
        "roles",
        "password",
        "logging",
        "middleware",
        "cors",
        "rate limiting",
        "security headers",
        "injection",
        "xss",
        "csrf",
        "access control",
        "uploads",
        "redis",
        "email",
        "brokers",
        "event-driven",
        "websockets",
        "graphql",
        "grpc",
        "search",
        "payments",
        "microservices",
        "load balancing",
        "compose",
        "ci/cd",
        "openapi",
        "end to end",
        "prometheus",
        "performance",
        "cap",
    ]:
        assert word in names, word


def test_the_readme_points_to_the_topic_index() -> None:
    assert "TOPICS.md" in (ROOT / "README.md").read_text()


def test_test_paths_name_tests() -> None:
    for topic in TOPICS:
        for reference in topic.tests:
            path, _, symbol = reference.partition("::")
            assert Path(path).name.startswith("test_"), reference
            assert not symbol or symbol.split(".")[-1].startswith("test_"), reference
