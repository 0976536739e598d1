"""The service reads its own `AUDIT_*` variables, and no other service's; `.env.example`
holds settings it accepts."""

from pathlib import Path

import pytest

from audit.config import Settings
from audit.worker import subscription

STAGE = Path(__file__).parents[2]


def test_settings_come_from_audit_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDIT_RETRY_DELAYS_SECONDS", "[1, 60]")
    monkeypatch.setenv("LEDGER_DATABASE_URL", "postgresql+asyncpg://postgres@elsewhere/ledger")

    settings = Settings(_env_file=None)

    assert settings.database_url.endswith("/audit")
    events = subscription(settings)
    assert events.name == "audit"
    assert events.max_attempts == 3
    assert set(events.event_types) == {
        "payment.requested",
        "payment.held",
        "payment.completed",
        "payment.rejected",
    }


def test_no_retry_delay_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDIT_RETRY_DELAYS_SECONDS", "[]")
    with pytest.raises(ValueError, match="retry_delays_seconds"):
        Settings(_env_file=None)


def test_the_example_settings_are_accepted() -> None:
    settings = Settings(_env_file=STAGE / ".env.example")
    assert settings.retry_delays_seconds == [1, 10, 30, 120]
    assert settings.port == 8009
