"""The double's state: every object by id, the events in the order they happened, a clock.

One lock serialises the API requests and the test controls, so an object is never seen
half changed and events keep the order of the changes that caused them.
"""

import copy
import secrets
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from roadmap_shared.testing.stripe_double.errors import missing
from roadmap_shared.testing.stripe_double.templates import JSONObject, blank, list_object, put

_ID_ALPHABET = string.ascii_letters + string.digits
# The Stripe-Version the double's events carry (the version the `stripe` package pins).
API_VERSION = "2026-10-28.endive"
# The names Stripe uses in "No such ..." errors.
OBJECT_NAMES = {
    "balance_transaction": "balance transaction",
    "billing_portal.session": "billing portal session",
    "charge": "charge",
    "checkout.session": "checkout.session",
    "customer": "customer",
    "dispute": "dispute",
    "event": "event",
    "invoice": "invoice",
    "payment_intent": "payment_intent",
    "price": "price",
    "product": "product",
    "refund": "refund",
    "subscription": "subscription",
}


def new_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


@dataclass
class RequestContext:
    """What an event records of the API request that caused it (none for Stripe's own
    work, such as a renewal or a customer paying on a Checkout page)."""

    request_id: str | None = None
    idempotency_key: str | None = None


AUTOMATIC = RequestContext()


@dataclass
class Store:
    clock: Callable[[], float] = time.time
    lock: threading.RLock = field(default_factory=threading.RLock)
    objects: dict[str, JSONObject] = field(default_factory=dict)
    event_log: list[JSONObject] = field(default_factory=list)
    clock_offset: int = 0
    # What Stripe keeps but does not show on the objects: a Checkout Session's line items,
    # a subscription's pending prorations and the card its next invoice is charged to.
    hidden: dict[str, Any] = field(default_factory=dict)

    def now(self) -> int:
        return int(self.clock()) + self.clock_offset

    def snapshot(self) -> Any:
        """Everything a request can change, copied, for `restore`."""
        return copy.deepcopy((self.objects, self.event_log, self.hidden, self.clock_offset))

    def restore(self, snapshot: Any) -> None:
        """Puts back the state `snapshot` copied, as if nothing had happened since (once:
        the snapshot's objects become the store's)."""
        self.objects, self.event_log, self.hidden, self.clock_offset = snapshot

    def add(self, obj: JSONObject) -> JSONObject:
        self.objects[obj["id"]] = obj
        return obj

    def get(self, object_type: str, object_id: str, param: str = "id") -> JSONObject:
        obj = self.objects.get(object_id)
        if obj is None or obj["object"] != object_type:
            raise missing(OBJECT_NAMES.get(object_type, object_type), object_id, param)
        return obj

    def find(self, object_type: str, object_id: str) -> JSONObject | None:
        obj = self.objects.get(object_id)
        return obj if obj is not None and obj["object"] == object_type else None

    def all(self, object_type: str) -> list[JSONObject]:
        """Objects of this type, newest first (Stripe's list order)."""
        found = [obj for obj in self.objects.values() if obj["object"] == object_type]
        return found[::-1]

    def emit(self, event_type: str, obj: JSONObject, context: RequestContext) -> JSONObject:
        """Records an event with a snapshot of `obj` as it is now, as Stripe does."""
        event = put(
            blank("event"),
            id=new_id("evt_"),
            api_version=API_VERSION,
            created=self.now(),
            data={"object": copy.deepcopy(obj)},
            pending_webhooks=0,
            request={"id": context.request_id, "idempotency_key": context.idempotency_key},
            type=event_type,
        )
        self.event_log.append(event)
        self.objects[event["id"]] = event
        return event


def paginate(
    found: list[JSONObject], url: str, limit: int | None, starting_after: str | None
) -> JSONObject:
    """A page of `found` (newest first) in Stripe's list envelope."""
    if starting_after is not None:
        ids = [obj["id"] for obj in found]
        if starting_after not in ids:
            raise missing("object", starting_after, "starting_after")
        found = found[ids.index(starting_after) + 1 :]
    size = 10 if limit is None else limit
    return list_object(url, found[:size], has_more=len(found) > size)
