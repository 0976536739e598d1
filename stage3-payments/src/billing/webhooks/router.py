"""`POST /webhooks/stripe`: verify, store once, answer 200. Nothing else happens here.

Stripe waits a few seconds for the answer and retries (for days) when it gets none, so
the endpoint does the least it can: the work an event asks for is done by the worker,
from the inbox (billing.webhooks.processing), where it can be retried without Stripe.
"""

from typing import Annotated

from fastapi import APIRouter, Header, Request
from pydantic import BaseModel

from billing.dependencies import SessionDep, SettingsDep
from billing.webhooks import inbox
from billing.webhooks.verification import verified_event
from roadmap_shared.errors import problem_responses

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


class Acknowledged(BaseModel):
    received: bool = True
    duplicate: bool


@router.post(
    "/stripe",
    summary="Stripe's events (signed); stored once and processed in the background",
    responses=problem_responses(400, 413),
)
async def receive_stripe_event(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    stripe_signature: Annotated[str | None, Header(alias="Stripe-Signature")] = None,
) -> Acknowledged:
    payload = await request.body()  # the raw bytes: the signature is over them
    event = verified_event(
        payload,
        stripe_signature,
        secrets=settings.stripe_webhook_secrets,
        tolerance=settings.webhook_tolerance_seconds,
    )
    stored = await inbox.store(
        session,
        event_id=event.id,
        type_=event.type,
        created=event.created,
        payload=event.payload,
    )
    return Acknowledged(duplicate=not stored)
