"""Starting a stage: every reason it cannot start is one line, and the options work."""

import json
import logging
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from textwrap import dedent

import pytest
from pydantic_settings import SettingsConfigDict

from roadmap_shared.logging import HumanFormatter, JsonFormatter, configure_logging
from roadmap_shared.preflight import (
    RequiredService,
    port_taken,
    required_services,
    unreachable,
)
from roadmap_shared.serve import run_stage
from roadmap_shared.settings import AppSettings

CLOSED_PORT = 1  # tcpmux: nothing listens there


@pytest.fixture
def listening_port() -> Iterator[int]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


@pytest.fixture
def stage_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A stage-shaped package (`<package>.config.get_settings`) with PostgreSQL and Redis."""
    package = tmp_path / "demo_stage"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "config.py").write_text(
        dedent("""
        from pydantic import SecretStr
        from pydantic_settings import SettingsConfigDict
        from roadmap_shared.settings import AppSettings

        class Settings(AppSettings):
            model_config = SettingsConfigDict(env_prefix="DEMO_")
            database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/demo"
            redis_url: str = "redis://127.0.0.1:6379/0"
            s3_endpoint_url: str = "http://127.0.0.1:9000"
            signing_key: SecretStr = SecretStr("change-me")

        def get_settings() -> Settings:
            return Settings()
        """)
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in list(sys.modules):
        if name.startswith("demo_stage"):
            monkeypatch.delitem(sys.modules, name)
    return "demo_stage"


def test_a_service_that_answers_is_not_reported(listening_port: int) -> None:
    url = f"postgresql://x@127.0.0.1:{listening_port}/db"
    assert unreachable([RequiredService("PostgreSQL", url, "X", "pg")]) == []


def test_a_missing_service_gets_one_line_saying_how_to_start_it() -> None:
    service = RequiredService(
        "Redis", f"redis://127.0.0.1:{CLOSED_PORT}/0", "AUTH_REDIS_URL", compose_service="redis"
    )
    [line] = unreachable([service])
    assert line == (
        "Redis is not reachable at 127.0.0.1:1. Start it with `docker compose up -d redis`, "
        "or set AUTH_REDIS_URL to the URL of a running Redis."
    )


def test_the_services_come_from_the_settings_urls_named_by_their_variables() -> None:
    class Settings(AppSettings):
        model_config = SettingsConfigDict(env_prefix="SHOP_")
        database_url: str = "postgresql+asyncpg://postgres@db:5433/shop"
        redis_url: str = "redis://cache/1"
        broker_url: str = "amqp://guest:guest@mq/"
        s3_endpoint_url: str = "http://127.0.0.1:9000"  # not a service we start

    services = required_services(Settings())

    assert [(s.name, s.env_var, s.compose_service, s.address()) for s in services] == [
        ("PostgreSQL", "SHOP_DATABASE_URL", "postgres", ("db", 5433)),
        ("Redis", "SHOP_REDIS_URL", "redis", ("cache", 6379)),
        ("RabbitMQ", "SHOP_BROKER_URL", "rabbitmq", ("mq", 5672)),
    ]


def test_run_stage_stops_with_one_line_when_postgresql_is_down(
    stage_package: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEMO_DATABASE_URL", f"postgresql://postgres@127.0.0.1:{CLOSED_PORT}/x")
    monkeypatch.setenv("DEMO_REDIS_URL", "redis://127.0.0.1:6379/0")
    with pytest.raises(SystemExit) as stopped:
        run_stage(stage_package, [])
    assert str(stopped.value) == (
        "PostgreSQL is not reachable at 127.0.0.1:1. Start it with `docker compose up -d "
        "postgres`, or set DEMO_DATABASE_URL to the URL of a running PostgreSQL."
    )


def test_a_placeholder_secret_in_production_is_one_line(
    stage_package: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEMO_ENVIRONMENT", "production")
    with pytest.raises(SystemExit) as stopped:
        run_stage(stage_package, [])
    assert str(stopped.value) == (
        "demo_stage cannot start: DEMO_SIGNING_KEY is unset or a placeholder; "
        "set a real secret outside development"
    )


def test_an_invalid_setting_is_one_line_naming_its_variable(
    stage_package: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEMO_PORT", "eighty")
    with pytest.raises(SystemExit) as stopped:
        run_stage(stage_package, [])
    assert str(stopped.value).startswith("demo_stage cannot start: DEMO_PORT: Input should be")
    assert "\n" not in str(stopped.value)


def test_a_taken_port_is_one_line_suggesting_another(
    stage_package: str, monkeypatch: pytest.MonkeyPatch, listening_port: int
) -> None:
    # Both services "answer": the listening socket stands in for them.
    monkeypatch.setenv("DEMO_DATABASE_URL", f"postgresql://p@127.0.0.1:{listening_port}/x")
    monkeypatch.setenv("DEMO_REDIS_URL", f"redis://127.0.0.1:{listening_port}/0")
    with pytest.raises(SystemExit) as stopped:
        run_stage(stage_package, ["--port", str(listening_port)])
    assert str(stopped.value) == (
        f"Port {listening_port} on 127.0.0.1 is already in use by another program. Stop it, "
        f"or choose another port: `make run PORT={listening_port + 1}` "
        f"or set DEMO_PORT={listening_port + 1}."
    )


def test_a_free_port_is_not_taken(listening_port: int) -> None:
    assert port_taken("127.0.0.1", listening_port)
    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        free = spare.getsockname()[1]
    assert not port_taken("127.0.0.1", free)


def uvicorn_record() -> logging.LogRecord:
    """What uvicorn logs at start: its message, plus a copy with ANSI colour codes."""
    record = logging.makeLogRecord(
        {"name": "uvicorn.error", "levelname": "INFO", "msg": "Uvicorn running on %s"}
    )
    record.args = ("http://127.0.0.1:8000",)
    record.color_message = "Uvicorn running on \x1b[1m%s\x1b[0m"
    return record


def test_json_logs_carry_no_colour_codes() -> None:
    entry = json.loads(JsonFormatter().format(uvicorn_record()))
    assert entry["message"] == "Uvicorn running on http://127.0.0.1:8000"
    assert "color_message" not in entry
    assert "\x1b" not in json.dumps(entry)


def test_human_logs_are_one_plain_line() -> None:
    line = HumanFormatter().format(uvicorn_record())
    assert line.endswith("INFO     uvicorn.error: Uvicorn running on http://127.0.0.1:8000")
    assert "\x1b" not in line


@pytest.mark.parametrize(
    ("terminal", "formatter"), [(True, HumanFormatter), (False, JsonFormatter)]
)
def test_logs_are_for_people_at_a_terminal_and_json_elsewhere(
    monkeypatch: pytest.MonkeyPatch, terminal: bool, formatter: type[logging.Formatter]
) -> None:
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])
    monkeypatch.setattr(sys.stderr, "isatty", lambda: terminal)
    configure_logging()
    configure_logging()  # a second call adds nothing
    [handler] = root.handlers
    assert type(handler.formatter) is formatter
