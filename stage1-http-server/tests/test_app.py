"""How the service starts and what it documents."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from httpx import AsyncClient

from books_api.config import Settings


def run_module(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Runs `python -m books_api` as `make run` does, away from any `.env` and `BOOKS_*`
    variables of the developer's; with a bad data file it exits on its own."""
    inherited = {name: value for name, value in os.environ.items() if not name.startswith("BOOKS_")}
    return subprocess.run(
        [sys.executable, "-m", "books_api"],
        env=inherited | env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_corrupt_data_file_stops_the_server_with_one_clear_line(tmp_path: Path) -> None:
    data_file = tmp_path / "books.json"
    data_file.write_text('{"next_id": 1, "books": [')

    result = run_module({"BOOKS_DATA_FILE": str(data_file)}, cwd=tmp_path)

    assert result.returncode == 1
    assert result.stderr.startswith(f"books_api cannot start: The data file {data_file}")
    assert "It has been left untouched" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert data_file.read_text() == '{"next_id": 1, "books": ['


def test_a_missing_data_file_stops_the_server_when_creating_is_off(tmp_path: Path) -> None:
    data_file = tmp_path / "books.json"

    result = run_module(
        {"BOOKS_DATA_FILE": str(data_file), "BOOKS_CREATE_DATA_FILE": "false"}, cwd=tmp_path
    )

    assert result.returncode == 1
    assert "does not exist" in result.stderr
    assert not data_file.exists()


def test_settings_come_from_books_environment_variables(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BOOKS_DATA_FILE", str(tmp_path / "elsewhere.json"))
    monkeypatch.setenv("BOOKS_MAX_BODY_BYTES", "4096")
    monkeypatch.setenv("DATA_FILE", "ignored: no prefix")

    settings = Settings(_env_file=None)

    assert settings.data_file == tmp_path / "elsewhere.json"
    assert settings.max_body_bytes == 4096


def test_by_default_the_data_file_is_relative_to_the_working_directory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("BOOKS_DATA_FILE", raising=False)
    assert Settings(_env_file=None).data_file == Path("data/books.json")


async def test_the_api_is_documented_with_problem_responses(client: AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()

    assert set(schema["paths"]) == {"/healthz", "/readyz", "/books", "/books/{book_id}"}
    patch = schema["paths"]["/books/{book_id}"]["patch"]
    assert {"404", "409", "412", "422", "428"} <= set(patch["responses"])
    assert "if-match" in {parameter["name"].lower() for parameter in patch["parameters"]}
    problem = patch["responses"]["412"]["content"]["application/problem+json"]
    assert problem["schema"] == {"$ref": "#/components/schemas/PreconditionFailedProblem"}
    assert schema["components"]["schemas"]["PreconditionFailedProblem"]["allOf"] == [
        {"$ref": "#/components/schemas/Problem"}
    ]


async def test_health_answers_without_touching_the_data_file(client: AsyncClient) -> None:
    response = await client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
