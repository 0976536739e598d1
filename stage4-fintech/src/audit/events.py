"""The events the audit service records, as the payments service writes them to its
outbox (the routing key is the event type, the body a JSON object).

The models forbid fields they do not name. An audit record can never be edited or
deleted, so whatever enters it stays for good: a name, an email address or an IBAN added
to an event by a later version of the producer would be personal data no one could ever
erase. Such an event is dead-lettered instead, for a person to look at, and the producer
fixed. Events carry ids; who a customer is stays in the payments service's database.

The payload is recorded as it was received, once it is known to fit its model: then it
holds only text and integers (no floats, no NUL), which PostgreSQL's JSONB gives back
exactly as they were hashed.
"""

from typing import Annotated, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt, StringConstraints

from roadmap_shared.fields import MAX_INT64, STORABLE

PAYMENT_REQUESTED = "payment.requested"
PAYMENT_HELD = "payment.held"
PAYMENT_COMPLETED = "payment.completed"
PAYMENT_REJECTED = "payment.rejected"

# Minor units (cents), as the ledger counts them: never a float.
Amount = Annotated[StrictInt, Field(gt=0, le=MAX_INT64)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
# A fraud rule's name, a refusal's reason: short text PostgreSQL can store.
Explanation = Annotated[str, StringConstraints(min_length=1, max_length=200), STORABLE]


class PaymentEvent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    payment_id: UUID
    customer_id: UUID
    occurred_at: AwareDatetime


class PaymentRequested(PaymentEvent):
    kind: Literal["top_up", "transfer", "payout"]
    debit_account_id: UUID
    credit_account_id: UUID
    amount: Amount
    currency: Currency


class PaymentHeld(PaymentEvent):
    rule: Explanation


class PaymentCompleted(PaymentEvent):
    amount: Amount
    currency: Currency
    # The staff member who approved it, when a reviewer did.
    reviewed_by: UUID | None = None


class PaymentRejected(PaymentEvent):
    reason: Explanation
    # The staff member who rejected it, when a reviewer did.
    reviewed_by: UUID | None = None


CONTRACTS: dict[str, type[PaymentEvent]] = {
    PAYMENT_REQUESTED: PaymentRequested,
    PAYMENT_HELD: PaymentHeld,
    PAYMENT_COMPLETED: PaymentCompleted,
    PAYMENT_REJECTED: PaymentRejected,
}
