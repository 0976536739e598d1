"""`.env.example` holds settings the payments service accepts, and the reconciler never
starts before the fraud check has given up."""

from pathlib import Path

import pytest

from payments.config import Settings

STAGE = Path(__file__).parents[2]


def test_the_example_settings_are_accepted() -> None:
    settings = Settings(_env_file=STAGE / ".env.example")
    assert (settings.reconcile_after_seconds, settings.reconcile_interval_seconds) == (900, 60)


def test_a_reconciler_that_would_race_the_fraud_check_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 1 + 10 s of retry delays, three deliveries of three 2 s attempts: 29 s at least.
    monkeypatch.setenv("PAYMENTS_RETRY_DELAYS_SECONDS", "[1, 10]")
    monkeypatch.setenv("PAYMENTS_LEDGER_TIMEOUT_SECONDS", "2")
    monkeypatch.setenv("PAYMENTS_LEDGER_ATTEMPTS", "3")
    monkeypatch.setenv("PAYMENTS_LEDGER_BACKOFF_SECONDS", "0")
    monkeypatch.setenv("PAYMENTS_RECONCILE_AFTER_SECONDS", "29")
    with pytest.raises(ValueError, match=r"PAYMENTS_RECONCILE_AFTER_SECONDS must exceed 29\.0"):
        Settings(_env_file=None)

    monkeypatch.setenv("PAYMENTS_RECONCILE_AFTER_SECONDS", "30")
    assert Settings(_env_file=None).reconcile_after_seconds == 30
