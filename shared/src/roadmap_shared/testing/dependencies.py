"""Finding the dependencies FastAPI would run in a worker thread.

A plain `def` dependency is called through a thread pool: a hop to another thread and
back, which costs more CPU than the dependency itself. Each stage's suite asserts that its
app has none (`roadmap_shared.dependencies` says why they are all `async def`).
"""

import inspect
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute


def _routes(routes: Any) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        # Included routers keep their routes one or two levels down.
        for attribute in ("routes", "original_router", "router"):
            child = getattr(route, attribute, None)
            if child is not None and child is not route:
                yield from _routes(child if isinstance(child, list) else child.routes)


def _runs_in_a_thread(call: Any) -> bool:
    function = call if inspect.isroutine(call) else getattr(call, "__call__", None)  # noqa: B004
    if inspect.isclass(call):
        return True  # a class is instantiated by a plain call
    return not (inspect.iscoroutinefunction(function) or inspect.isasyncgenfunction(function))


def _walk(dependant: Dependant) -> Iterator[str]:
    for dependency in dependant.dependencies:
        if dependency.call is not None and _runs_in_a_thread(dependency.call):
            yield f"{dependency.call.__module__}.{dependency.call.__qualname__}"
        yield from _walk(dependency)


def threaded_dependencies(app: FastAPI) -> set[str]:
    """The dependencies of `app`'s routes that FastAPI would call in a worker thread."""
    return {name for route in _routes(app.routes) for name in _walk(route.dependant)}
