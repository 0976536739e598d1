"""No Docker engine runs here, so the compose file and Dockerfiles are checked as text:
every stage has a service built from its own Dockerfile, everything has a health check,
and every image is pinned."""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.stages import ROOT, STAGES, distribution_name, import_package

COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
STAGE_IDS = [stage.name for stage in STAGES]


def test_the_backing_services_are_there() -> None:
    assert {"postgres", "redis", "rabbitmq"} <= SERVICES.keys()


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_service_has_a_health_check(name: str) -> None:
    assert "test" in SERVICES[name]["healthcheck"]


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_image_is_pinned_to_an_exact_tag(name: str) -> None:
    image = SERVICES[name].get("image")
    if image is not None:
        assert re.fullmatch(r"[\w./-]+:\d+(\.\d+)+[\w.-]*", image), image


@pytest.mark.parametrize("stage", STAGES, ids=STAGE_IDS)
def test_every_stage_has_a_service_built_from_its_own_dockerfile(stage: Path) -> None:
    build = SERVICES[stage.name]["build"]
    assert build["context"] == "."
    assert build["dockerfile"] == f"{stage.name}/Dockerfile"
    assert (stage / "Dockerfile").is_file()


@pytest.mark.parametrize("stage", STAGES, ids=STAGE_IDS)
def test_every_dockerfile_is_multi_stage_non_root_and_healthy(stage: Path) -> None:
    dockerfile = (stage / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", dockerfile, re.MULTILINE)) >= 2
    assert re.search(r"^USER (?!root)\w+", dockerfile, re.MULTILINE)
    assert "HEALTHCHECK" in dockerfile
    # Dependencies are installed before the code is copied, so code edits keep them cached.
    assert dockerfile.index("requirements.txt") < dockerfile.index(f"COPY {stage.name} ")
    assert f"--package {distribution_name(stage)}" in dockerfile
    assert f'"{import_package(stage)}"' in dockerfile or f"-m {import_package(stage)}" in dockerfile


@pytest.mark.parametrize("stage", STAGES, ids=STAGE_IDS)
def test_a_stage_with_a_database_gets_one_in_compose(stage: Path) -> None:
    if not (stage / "alembic.ini").exists():
        pytest.skip("this stage has no database")
    environment = SERVICES[stage.name]["environment"]
    [url] = [value for key, value in environment.items() if key.endswith("_DATABASE_URL")]
    database = url.rsplit("/", 1)[1]
    created = (ROOT / "scripts/compose/create-databases.sql").read_text()
    assert f"CREATE DATABASE {database};" in created
    assert SERVICES[stage.name]["depends_on"]["postgres"]["condition"] == "service_healthy"
