"""Is this request really from Stripe? The signature over the raw body says so.

Stripe signs `"{timestamp}.{raw body}"` with HMAC-SHA256 under the endpoint's signing
secret and sends `Stripe-Signature: t=<timestamp>,v1=<hex>`. `stripe.Webhook.construct_event`
checks it in constant time and refuses a timestamp older than the tolerance, so a captured
delivery cannot be replayed later. The body must be the bytes as received: parsed and
re-serialised JSON would not match the signature.

Several secrets are tried, newest first, so that a secret can be rotated without losing
the events signed, meanwhile, with the other one.
"""

import json
from collections.abc import Sequence
from typing import Any

import stripe
from pydantic import BaseModel, Field, SecretStr, ValidationError

from roadmap_shared.errors import BadRequest
from roadmap_shared.fields import MAX_INT64


class VerifiedEvent(BaseModel):
    """The fields of an event the inbox keeps apart from its payload."""

    id: str = Field(min_length=1, max_length=255)
    type: str = Field(min_length=1, max_length=100)
    created: int = Field(ge=0, le=MAX_INT64)
    payload: dict[str, Any]


def verified_event(
    payload: bytes, signature: str | None, *, secrets: Sequence[SecretStr], tolerance: int
) -> VerifiedEvent:
    if not signature:
        raise BadRequest("The Stripe-Signature header is missing")
    for secret in secrets:
        try:
            stripe.Webhook.construct_event(
                payload, signature, secret.get_secret_value(), tolerance=tolerance
            )
        except stripe.SignatureVerificationError:
            continue  # perhaps signed with the other secret of a rotation
        except (ValueError, AttributeError) as malformed:
            # Signed correctly (the signature is checked first), but not JSON (ValueError)
            # or JSON that is not an object (the SDK's AttributeError): not an event.
            raise BadRequest("The payload is not a Stripe event") from malformed
        return _envelope(payload)
    raise BadRequest("The signature does not match, or is too old")


def _envelope(payload: bytes) -> VerifiedEvent:
    data = json.loads(payload)
    try:
        return VerifiedEvent.model_validate({**data, "payload": data})
    except (ValidationError, TypeError) as malformed:  # JSON, but not an event
        raise BadRequest("The payload is not a Stripe event") from malformed
