"""An event the contract refuses is dead-lettered with a reason that names its faults,
never the values sent: a producer's mistake may be the very personal data kept out."""

import uuid

import pytest

from audit.handlers import parse
from roadmap_shared.messaging import Event, PoisonMessage
from tests.audit.producer import payment_completed, payment_rejected


def test_a_refused_event_is_named_by_its_faults_without_their_values() -> None:
    payload = payment_completed() | {"email": "alice@example.com", "amount": "12.50 EUR"}
    event = Event(uuid.uuid4(), "payment.completed", payload, attempt=1, traceparent=None)

    with pytest.raises(PoisonMessage) as refused:
        parse(event)

    reason = str(refused.value)
    assert "email" in reason
    assert "amount" in reason
    assert "alice@example.com" not in reason
    assert "12.50" not in reason


@pytest.mark.parametrize(
    ("event_type", "payload"),
    [("payment.completed", payment_completed()), ("payment.rejected", payment_rejected())],
)
def test_a_reviewers_decision_names_the_reviewer(event_type: str, payload: dict[str, str]) -> None:
    reviewer = uuid.uuid4()
    event = Event(
        uuid.uuid4(),
        event_type,
        payload | {"reviewed_by": str(reviewer)},
        attempt=1,
        traceparent=None,
    )

    assert parse(event).model_dump()["reviewed_by"] == reviewer


def test_a_reviewer_is_named_by_id_only() -> None:
    payload = payment_completed() | {"reviewed_by": "Ada Lovelace"}
    event = Event(uuid.uuid4(), "payment.completed", payload, attempt=1, traceparent=None)

    with pytest.raises(PoisonMessage, match="reviewed_by"):
        parse(event)
