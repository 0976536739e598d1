"""redis-py types many commands `Awaitable[T] | T`, one signature for its synchronous and
asyncio clients; on the asyncio client the result is always awaitable. `await awaited(...)`
says so once, where mypy would otherwise refuse the `await`."""

import inspect
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


async def awaited(result: Awaitable[T] | T) -> T:
    if inspect.isawaitable(result):
        return await result
    return result
