"""The READMEs are the textbook: every stage has the sections a learner relies on, and
every curl example names a route the stage really has."""

import importlib
import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from starlette.routing import Match

from tests.stages import ROOT, STAGES, import_package

STAGE_IDS = [stage.name for stage in STAGES]
ROOT_README = (ROOT / "README.md").read_text()
BASE_URL = r"https?://(?:127\.0\.0\.1|localhost):8000"
CURL_URL = re.compile(rf"curl[^\n]*?{BASE_URL}(/[^\s'\"?]*)")
# A README may name the base URL once (`B=http://127.0.0.1:8000`) and use `$B` after.
BASE_URL_VARIABLE = re.compile(rf"^(\w+)={BASE_URL}/?$", re.MULTILINE)


def readme(stage: Path) -> str:
    return (stage / "README.md").read_text()


def curl_paths(text: str) -> list[str]:
    for variable in BASE_URL_VARIABLE.findall(text):
        text = re.sub(rf"\$\{{?{variable}\b\}}?", "http://127.0.0.1:8000", text)
    paths: list[str] = CURL_URL.findall(text)
    return paths


@pytest.mark.parametrize("stage", STAGES, ids=STAGE_IDS)
def test_the_root_readme_lists_every_stage(stage: Path) -> None:
    assert re.search(rf"^\|[^\n]*{re.escape(stage.name)}[^\n]*\|$", ROOT_README, re.MULTILINE)


def test_the_root_readme_gives_the_two_commands() -> None:
    assert "make run" in ROOT_README
    assert "make test" in ROOT_README


@pytest.mark.parametrize("stage", STAGES, ids=STAGE_IDS)
def test_every_stage_readme_has_the_sections_a_learner_needs(stage: Path) -> None:
    text = readme(stage).lower()
    for section in ["what it teaches", "run", "endpoints", "exercises"]:
        assert re.search(rf"^#+ .*{section}", text, re.MULTILINE), section
    assert "```mermaid" in text


@pytest.mark.parametrize("stage", STAGES, ids=STAGE_IDS)
def test_every_stage_readme_has_three_graded_exercises(stage: Path) -> None:
    text = readme(stage)
    exercises = text[text.lower().index("exercises") :]
    assert len(re.findall(r"^(?:#+|\d+\.|[-*]) ", exercises, re.MULTILINE)) >= 3


def is_routed(app: FastAPI, path: str) -> bool:
    """Asks the app's own router, so path parameters and included routers count as served."""
    scope = {"type": "http", "method": "GET", "path": path, "root_path": "", "headers": []}
    return any(route.matches(scope)[0] is not Match.NONE for route in app.router.routes)


@pytest.mark.parametrize("stage", STAGES, ids=STAGE_IDS)
def test_every_curl_example_names_a_real_route(stage: Path) -> None:
    app = importlib.import_module(f"{import_package(stage)}.main").create_app()
    paths = curl_paths(readme(stage))
    assert paths, "the README should show curl examples"
    for path in paths:
        assert is_routed(app, path), f"{path} is not a route of {stage.name}"


@pytest.mark.parametrize("stage", STAGES, ids=STAGE_IDS)
def test_every_stage_documents_its_settings(stage: Path) -> None:
    example = (stage / ".env.example").read_text()
    assert re.search(r"^[A-Z]+_\w+=", example, re.MULTILINE)
