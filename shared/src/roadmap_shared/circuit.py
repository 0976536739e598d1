"""A circuit breaker: stop calling a dependency that keeps failing, and try it again later.

A hung Redis costs every call its full socket timeout before the fallback (the database,
the per-process limiter) takes over. After `failure_threshold` failures in a row the
breaker opens: callers skip the dependency and go straight to their fallback. Once
`cooldown_seconds` have passed it lets one call through as a probe ("half-open"): a success
closes it, a failure keeps it open for another cool-down. Only that probe pays the timeout.

One breaker per dependency, shared by everything that uses it (the cache and the rate
limiter of one Redis), so what one of them learns spares the other. It keeps no lock:
an asyncio app calls it from one thread.
"""

import logging
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)

FAILURE_THRESHOLD = 3
COOLDOWN_SECONDS = 5.0


class CircuitBreaker:
    def __init__(
        self,
        name: str,
        *,
        failure_threshold: int = FAILURE_THRESHOLD,
        cooldown_seconds: float = COOLDOWN_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self._failure_threshold = failure_threshold
        self._cooldown_seconds = cooldown_seconds
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None  # None: closed

    @property
    def is_open(self) -> bool:
        return self._opened_at is not None

    def allows_call(self) -> bool:
        """Whether to call the dependency now (else use the fallback)."""
        if self._opened_at is None:
            return True
        if self._clock() - self._opened_at < self._cooldown_seconds:
            return False
        # Half-open: this caller probes. Restarting the cool-down lets no other caller
        # through meanwhile, and lets another probe through later if this one never reports.
        self._opened_at = self._clock()
        return True

    def record_success(self) -> None:
        if self._opened_at is not None:
            logger.info("%s answers again; circuit closed", self.name)
        self._failures = 0
        self._opened_at = None

    def record_failure(self) -> None:
        self._failures += 1
        if self._failures < self._failure_threshold:
            return
        if self._opened_at is None:
            logger.warning(
                "%s failed %d times in a row; circuit open, skipping it for %.1f s at a time",
                self.name,
                self._failures,
                self._cooldown_seconds,
            )
        self._opened_at = self._clock()
