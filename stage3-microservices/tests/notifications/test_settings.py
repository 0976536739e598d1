"""The service reads its own `NOTIFICATIONS_*` variables, and no other service's."""

import pytest

from notifications.config import Settings
from notifications.worker import subscription


def test_settings_come_from_notifications_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFICATIONS_ADMIN_EMAILS", '["ops@shop.example"]')
    monkeypatch.setenv("NOTIFICATIONS_RETRY_DELAYS_SECONDS", "[1, 60]")
    monkeypatch.setenv("ORDERS_CONSUMER_NAME", "not ours")

    settings = Settings(_env_file=None)

    assert settings.admin_emails == ["ops@shop.example"]
    assert settings.consumer_name == "notifications"
    events = subscription(settings)
    assert events.max_attempts == 3
    assert set(events.event_types) == {"order.placed", "order.cancelled", "stock.low"}


def test_no_admin_to_alert_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFICATIONS_ADMIN_EMAILS", "[]")
    with pytest.raises(ValueError, match="admin_emails"):
        Settings(_env_file=None)
