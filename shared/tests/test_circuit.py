from roadmap_shared.circuit import CircuitBreaker


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def open_breaker(clock: FakeClock) -> CircuitBreaker:
    breaker = CircuitBreaker("redis", failure_threshold=3, cooldown_seconds=5, clock=clock)
    for _ in range(3):
        breaker.record_failure()
    return breaker


def test_it_stays_closed_below_the_threshold_and_a_success_resets_the_count() -> None:
    breaker = CircuitBreaker("redis", failure_threshold=3, clock=FakeClock())
    for _ in range(2):
        breaker.record_failure()
    breaker.record_success()
    for _ in range(2):
        breaker.record_failure()
    assert breaker.allows_call()
    assert not breaker.is_open


def test_it_opens_after_the_threshold_and_skips_calls_during_the_cooldown() -> None:
    clock = FakeClock()
    breaker = open_breaker(clock)
    clock.now = 4.9
    assert breaker.is_open
    assert not breaker.allows_call()


def test_after_the_cooldown_one_probe_goes_through_and_its_success_closes_it() -> None:
    clock = FakeClock()
    breaker = open_breaker(clock)
    clock.now = 5.0
    assert breaker.allows_call()  # the probe
    assert not breaker.allows_call()  # everyone else waits for its outcome
    breaker.record_success()
    assert breaker.allows_call()
    assert not breaker.is_open


def test_a_failed_probe_keeps_it_open_for_another_cooldown() -> None:
    clock = FakeClock()
    breaker = open_breaker(clock)
    clock.now = 5.0
    assert breaker.allows_call()
    breaker.record_failure()
    clock.now = 9.9
    assert not breaker.allows_call()
    clock.now = 10.0
    assert breaker.allows_call()


def test_a_probe_that_never_reports_does_not_keep_it_shut_forever() -> None:
    clock = FakeClock()
    breaker = open_breaker(clock)
    clock.now = 5.0
    assert breaker.allows_call()  # this probe's caller was cancelled: no outcome
    clock.now = 10.0
    assert breaker.allows_call()
