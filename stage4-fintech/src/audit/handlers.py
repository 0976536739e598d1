"""What each event does: one record appended to the chain, in the consumer's transaction
(the one that also records the message as processed), then a notice once it commits."""

from collections.abc import Mapping

from pydantic import ValidationError
from sqlalchemy import event as orm_event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from audit.events import CONTRACTS, PaymentEvent
from audit.metrics import RECORDS_APPENDED
from audit.notifications import notify
from audit.records import append
from roadmap_shared.messaging import Event, Handler, PoisonMessage


def parse(event: Event) -> PaymentEvent:
    try:
        return CONTRACTS[event.type].model_validate(event.payload)
    except ValidationError as invalid:
        # The producer sent something this version cannot read, or something it must not
        # send (a field it does not name): no retry will change it. Named by the fields at
        # fault only, never their values, which may be the personal data kept out.
        faults = "; ".join(
            f"{'.'.join(map(str, error['loc']))}: {error['msg']}"
            for error in invalid.errors(include_input=False, include_url=False)
        )
        raise PoisonMessage(f"invalid {event.type}: {faults}") from invalid


class Auditor:
    EVENT_TYPES = tuple(CONTRACTS)

    def handlers(self) -> Mapping[str, Handler]:
        return dict.fromkeys(self.EVENT_TYPES, self.record)

    async def record(self, session: AsyncSession, event: Event) -> None:
        payment_event = parse(event)
        # As received: what the producer said, now known to fit the contract.
        record = await append(session, event.message_id, event.type, event.payload)
        if record is None:
            # Recorded already, though not under this consumer's processed-messages row
            # (a consumer renamed, those rows pruned): the chain still holds it once.
            return

        def committed(_: Session) -> None:
            RECORDS_APPENDED.labels(event.type).inc()
            notify(payment_event)

        orm_event.listen(session.sync_session, "after_commit", committed, once=True)
