"""The orders service's client of the catalog service: the network between them fails, and
this is where that is handled, once.

- Every call has a timeout (`httpx.Timeout`): a catalog that hangs costs a bounded wait.
- Only idempotent calls are retried, after a jittered exponential backoff. The reservation
  calls all are (the key names the reservation), so a retry after a lost answer cannot
  hold stock twice; a call that is not idempotent would be sent once.
- A circuit breaker (`roadmap_shared.circuit`) counts failures in a row; once open, calls
  fail at once with `CatalogUnavailable`, and checkouts answer 503 without waiting for
  a catalog that is known to be down. One probe call per cool-down tests it again.

An answer the catalog gives on purpose (404, 409, 422) is not a failure of the catalog:
it is raised as `CatalogRefused` and closes the breaker like any answer.
"""

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from orders.accounts.tokens import ServiceToken
from orders.config import Settings
from roadmap_shared import tracing
from roadmap_shared.circuit import CircuitBreaker


class CatalogUnavailable(Exception):
    """The catalog did not answer usefully (down, too slow, 5xx), or the breaker is open."""

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__("the catalog service is unavailable")
        self.retry_after_seconds = retry_after_seconds


class CatalogRefused(Exception):
    """The catalog answered, and said no (its problem detail is kept for the customer)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int
    backoff_seconds: float

    def delay(self, attempt: int) -> float:
        """Full jitter: a random wait up to base x 2^attempt, so that many clients retrying
        after one outage do not all come back at the same instant."""
        return random.uniform(0, self.backoff_seconds * 2**attempt)  # noqa: S311 (not crypto)


class CatalogClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        service_token: Callable[[], str],
        breaker: CircuitBreaker,
        retry: RetryPolicy,
        cooldown_seconds: float,
    ) -> None:
        self._http = http
        self._service_token = service_token
        self.breaker = breaker
        self._retry = retry
        self._retry_after = max(1, round(cooldown_seconds))

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        tracer_provider: tracing.TracerProvider | None = None,
    ) -> "CatalogClient":
        """The client the API and the worker use; `transport` lets a test stand between
        orders and the catalog (to lose an answer on the way back). Close it with `aclose`."""
        http = httpx.AsyncClient(
            base_url=settings.catalog_url,
            timeout=httpx.Timeout(settings.catalog_timeout_seconds),
            transport=transport,
        )
        # Each call to the catalog is a client span, and carries it as `traceparent`.
        tracing.instrument_client(http, tracer_provider)
        return cls(
            http,
            service_token=ServiceToken(settings.token_signer()),
            breaker=CircuitBreaker(
                "catalog",
                failure_threshold=settings.catalog_breaker_failures,
                cooldown_seconds=settings.catalog_breaker_cooldown_seconds,
            ),
            retry=RetryPolicy(
                attempts=settings.catalog_attempts,
                backoff_seconds=settings.catalog_backoff_seconds,
            ),
            cooldown_seconds=settings.catalog_breaker_cooldown_seconds,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def reservation(self, key: str) -> dict[str, Any]:
        """The reservation as the catalog has it: how a checkout left unsettled learns
        whether its confirmation took effect."""
        return await self._call("GET", f"/reservations/{key}", idempotent=True)

    async def reserve(self, key: str, lines: list[tuple[int, int]]) -> dict[str, Any]:
        body = {"lines": [{"variant_id": v, "quantity": q} for v, q in lines]}
        return await self._call("PUT", f"/reservations/{key}", json=body, idempotent=True)

    async def confirm(self, key: str) -> dict[str, Any]:
        return await self._call("POST", f"/reservations/{key}/confirm", idempotent=True)

    async def release(self, key: str) -> dict[str, Any]:
        return await self._call("POST", f"/reservations/{key}/release", idempotent=True)

    async def cancel(self, key: str) -> dict[str, Any]:
        """Gives a confirmed reservation's stock back (its order was cancelled)."""
        return await self._call("POST", f"/reservations/{key}/cancel", idempotent=True)

    async def _call(
        self, method: str, path: str, *, json: object = None, idempotent: bool
    ) -> dict[str, Any]:
        attempts = self._retry.attempts if idempotent else 1
        for attempt in range(attempts):
            if not self.breaker.allows_call():
                break
            try:
                answer = await self._http.request(
                    method,
                    path,
                    json=json,
                    headers={"Authorization": f"Bearer {self._service_token()}"},
                )
            except httpx.HTTPError:  # refused, reset, timed out
                self.breaker.record_failure()
            else:
                if answer.status_code < 500:
                    self.breaker.record_success()
                    return _answer(answer)
                self.breaker.record_failure()
            if attempt + 1 < attempts:
                await asyncio.sleep(self._retry.delay(attempt))
        raise CatalogUnavailable(self._retry_after)


def _answer(answer: httpx.Response) -> dict[str, Any]:
    try:
        body = answer.json()
    except ValueError:
        body = None
    if answer.is_success and isinstance(body, dict):
        return body
    detail = body.get("detail") if isinstance(body, dict) else None
    raise CatalogRefused(answer.status_code, str(detail or f"HTTP {answer.status_code}"))
