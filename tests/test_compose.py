"""No Docker engine runs here, so the compose file and Dockerfiles are checked as text
(`make lint` also validates them against the compose specification and with hadolint):
every stage has a service built from its own Dockerfile, everything has a health check
that follows the port setting, every image is pinned, the PostgreSQL credentials agree
everywhere, and the unprivileged user can write where the stage writes."""

import importlib
import re
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from tests.stages import (
    PACKAGE_IDS,
    PACKAGES,
    ROOT,
    STAGES,
    alembic_ini,
    compose_service,
    distribution_name,
    dockerfile,
)

COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
STAGE_IDS = [stage.name for stage in STAGES]


def test_the_backing_services_are_there() -> None:
    assert {"postgres", "redis", "rabbitmq"} <= SERVICES.keys()


def dockerfile_of(service: dict[str, Any]) -> str | None:
    build = service.get("build")
    return (ROOT / build["dockerfile"]).read_text() if build else None


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_service_has_a_health_check(name: str) -> None:
    """In the compose file, or the HEALTHCHECK of the image it builds."""
    service = SERVICES[name]
    if "healthcheck" in service:
        assert "test" in service["healthcheck"]
    else:
        dockerfile = dockerfile_of(service)
        assert dockerfile is not None, f"{name} has no health check"
        assert re.search(r"^HEALTHCHECK .*CMD", dockerfile, re.MULTILINE | re.DOTALL)


@pytest.mark.parametrize(("stage", "package"), PACKAGES, ids=PACKAGE_IDS)
def test_the_health_check_asks_the_port_the_settings_name(stage: Path, package: str) -> None:
    """A hard-coded 8000 would mark a container on another port unhealthy forever."""
    text = dockerfile(stage, package).read_text()
    check = text[text.index("HEALTHCHECK") :].split("\n", 2)[:2]
    assert f'"roadmap_shared.healthcheck", "{package}"' in "".join(check)
    service = SERVICES[compose_service(stage, package)]
    assert "8000" not in yaml.safe_dump(service.get("healthcheck", {}))


def postgres_urls() -> list[tuple[str, str]]:
    """Every PostgreSQL URL a person copies or a program defaults to, with where it is."""
    places = [
        ROOT / "README.md",
        ROOT / "docker-compose.yml",
        ROOT / ".github/workflows/ci.yml",
        ROOT / ".ci/run",
        ROOT / "shared/src/roadmap_shared/testing/services.py",
    ]
    for stage in STAGES:
        places += [stage / "README.md", stage / ".env.example", *stage.glob("src/*/config.py")]
    pattern = re.compile(r"postgresql(?:\+\w+)?://[^\s\"'`]+")
    return [
        (str(place.relative_to(ROOT)), url)
        for place in places
        if place.exists()
        for url in pattern.findall(place.read_text())
    ]


def test_every_postgresql_url_uses_the_credentials_the_compose_server_accepts() -> None:
    environment = SERVICES["postgres"]["environment"]
    # The server trusts its local network; a URL with a password would work, but would
    # teach that some password matters, and none does here.
    assert environment["POSTGRES_HOST_AUTH_METHOD"] == "trust"
    assert "POSTGRES_PASSWORD" not in environment
    user = environment["POSTGRES_USER"]
    urls = postgres_urls()
    assert len(urls) > 10
    for place, url in urls:
        assert re.match(rf"postgresql(?:\+\w+)?://{user}@", url), f"{place}: {url}"


def test_rabbitmq_starts_with_the_stages_that_use_it() -> None:
    # No profile: a stage depends on it, and compose would not start it for that stage.
    assert "profiles" not in SERVICES["rabbitmq"]
    for name, service in SERVICES.items():
        if "RABBITMQ_URL" in str(service.get("environment", {})):
            condition = service["depends_on"]["rabbitmq"]["condition"]
            assert condition == "service_healthy", name


def container_paths(stage: Path, package: str) -> list[PurePosixPath]:
    """Where the stage writes files in its container: each Path setting, as the image's ENV
    sets it or by default, relative to the WORKDIR."""
    text = dockerfile(stage, package).read_text()
    runtime = text[text.rindex("\nFROM ") :]
    workdir = PurePosixPath(re.findall(r"^WORKDIR (\S+)", runtime, re.MULTILINE)[-1])
    settings = importlib.import_module(f"{package}.config").Settings
    prefix = settings.model_config["env_prefix"]
    paths = []
    for name, field in settings.model_fields.items():
        if isinstance(field.default, Path):
            override = re.search(rf"\b{prefix}{name.upper()}=(\S+)", runtime)
            value = PurePosixPath(override.group(1) if override else str(field.default))
            paths.append(workdir / value if not value.is_absolute() else value)
    return paths


@pytest.mark.parametrize(("stage", "package"), PACKAGES, ids=PACKAGE_IDS)
def test_the_unprivileged_user_owns_every_directory_the_stage_writes(
    stage: Path, package: str
) -> None:
    text = dockerfile(stage, package).read_text()
    owned = [
        PurePosixPath(path)
        for paths in re.findall(r"chown (?:-R )?\S+ ((?:/\S+ ?)+)", text)
        for path in paths.split()
    ]
    for path in container_paths(stage, package):
        assert any(path.is_relative_to(directory) for directory in owned), (
            f"{stage.name} writes {path}, which the user of its image does not own"
        )


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_image_is_pinned_to_an_exact_tag(name: str) -> None:
    image = SERVICES[name].get("image")
    if image is not None:
        assert re.fullmatch(r"[\w./-]+:v?\d+(\.\d+)+[\w.-]*", image), image


@pytest.mark.parametrize(("stage", "package"), PACKAGES, ids=PACKAGE_IDS)
def test_every_stage_has_a_service_built_from_its_own_dockerfile(stage: Path, package: str) -> None:
    build = SERVICES[compose_service(stage, package)]["build"]
    assert build["context"] == "."
    assert build["dockerfile"] == str(dockerfile(stage, package).relative_to(ROOT))
    assert dockerfile(stage, package).is_file()


@pytest.mark.parametrize(("stage", "package"), PACKAGES, ids=PACKAGE_IDS)
def test_every_dockerfile_is_multi_stage_non_root_and_healthy(stage: Path, package: str) -> None:
    text = dockerfile(stage, package).read_text()
    assert len(re.findall(r"^FROM ", text, re.MULTILINE)) >= 2
    assert re.search(r"^USER (?!root)\w+", text, re.MULTILINE)
    assert "HEALTHCHECK" in text
    # Dependencies are installed before the code is copied, so code edits keep them cached.
    assert text.index("requirements.txt") < text.index(f"COPY {stage.name}")
    assert f"--package {distribution_name(stage)}" in text
    assert f'"{package}"' in text or f"-m {package}" in text


@pytest.mark.parametrize(("stage", "package"), PACKAGES, ids=PACKAGE_IDS)
def test_a_stage_with_a_database_gets_one_in_compose(stage: Path, package: str) -> None:
    if not alembic_ini(stage, package).exists():
        pytest.skip("this stage has no database")
    environment = SERVICES[compose_service(stage, package)]["environment"]
    [url] = [value for key, value in environment.items() if key.endswith("_DATABASE_URL")]
    database = url.rsplit("/", 1)[1]
    created = (ROOT / "scripts/compose/create-databases.sql").read_text()
    assert f"CREATE DATABASE {database};" in created
    depends_on = SERVICES[compose_service(stage, package)]["depends_on"]
    assert depends_on["postgres"]["condition"] == "service_healthy"
