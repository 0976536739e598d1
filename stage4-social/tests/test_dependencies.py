"""No dependency costs a thread hop: FastAPI calls a plain `def` dependency in a worker
thread, which costs more CPU per request than the dependency itself."""

from fastapi import FastAPI

from roadmap_shared.testing.dependencies import threaded_dependencies


def test_every_dependency_is_a_coroutine(app: FastAPI) -> None:
    assert threaded_dependencies(app) == set()
