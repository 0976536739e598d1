"""`StripeDouble`: the double served on loopback, and the controls a test drives it with."""

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterable
from types import TracebackType
from typing import Self

import httpx
import uvicorn

from roadmap_shared.testing.private_servers import free_port
from roadmap_shared.testing.stripe_double import billing, checkout, payments, refunds
from roadmap_shared.testing.stripe_double.app import (
    FailureRule,
    Gateway,
    RecordedRequest,
    build_app,
)
from roadmap_shared.testing.stripe_double.store import RequestContext, Store
from roadmap_shared.testing.stripe_double.templates import JSONObject

STARTUP_SECONDS = 10


class StripeDouble:
    """A stateful stand-in for Stripe's API, on 127.0.0.1, for `stripe.StripeClient`:

        with StripeDouble() as double:
            client = stripe.StripeClient("sk_test_x", base_addresses={"api": double.base_url},
                                         max_network_retries=2)

    `hang_seconds`: how long a request injected with `fail_next(..., timeout=True)` holds
    its answer back (longer than the client's timeout).
    """

    def __init__(self, *, hang_seconds: float = 5.0) -> None:
        self.store = Store()
        self._gateway = Gateway(self.store, hang_seconds=hang_seconds)
        self._port = free_port()
        self._server = uvicorn.Server(
            uvicorn.Config(
                build_app(self._gateway),
                host="127.0.0.1",
                port=self._port,
                log_level="warning",
                lifespan="off",
                timeout_graceful_shutdown=1,
            )
        )
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def start(self) -> Self:
        self._thread.start()
        deadline = time.monotonic() + STARTUP_SECONDS
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the Stripe double did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(STARTUP_SECONDS)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # What the test sees of the traffic.

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received, in order: method, path, idempotency key, the status
        answered, whether it was a replay, and its decoded parameters."""
        with self.store.lock:
            return list(self._gateway.requests)

    def events(self, event_type: str | None = None) -> list[JSONObject]:
        """The events, oldest first (the order of the changes that caused them)."""
        with self.store.lock:
            return [e for e in self.store.event_log if event_type in (None, e["type"])]

    def get(self, object_id: str) -> JSONObject:
        """Any object by id, as the double holds it now."""
        with self.store.lock:
            return self.store.objects[object_id]

    # Failures.

    def fail_next(
        self,
        method: str,
        path_prefix: str,
        status: int = 500,
        *,
        timeout: bool = False,
        times: int = 1,
    ) -> None:
        """The next `times` requests matching `method` and `path_prefix` fail: with
        Stripe's error body for `status` and no effect; or, with `timeout`, take effect
        (and are saved for idempotent replay) but answer only after `hang_seconds`."""
        with self.store.lock:
            self._gateway.failures.append(
                FailureRule(method.upper(), path_prefix, status, timeout, times)
            )

    # What happens at Stripe or at the customer's, outside the API.

    def complete_checkout_session(
        self,
        session_id: str,
        *,
        payment_method: str = "pm_card_visa",
        email: str = "customer@example.com",
    ) -> JSONObject:
        """The customer pays on the hosted page. A declining card raises the decline
        (`StripeError`, 402) and leaves the session open, as the page would."""
        with self.store.lock:
            return checkout.complete_session(self.store, session_id, payment_method, email)

    def pay_next_invoice(self, subscription_id: str) -> JSONObject:
        """The subscription's open invoice is paid, or the next period is billed and paid."""
        with self.store.lock:
            return billing.next_invoice(self.store, subscription_id, pays=True)

    def fail_next_invoice(self, subscription_id: str) -> JSONObject:
        """As `pay_next_invoice`, with the card declined: the subscription goes past due."""
        with self.store.lock:
            return billing.next_invoice(self.store, subscription_id, pays=False)

    def authenticate(self, payment_intent_id: str, *, succeeds: bool = True) -> JSONObject:
        """The customer completes 3-D Secure (or fails it) for an intent in
        `requires_action`: it then succeeds (or needs another payment method)."""
        with self.store.lock:
            return payments.authenticate(
                self.store, payment_intent_id, succeeds=succeeds, context=RequestContext()
            )

    def open_dispute(
        self, charge_id: str, *, reason: str = "fraudulent", amount: int | None = None
    ) -> JSONObject:
        with self.store.lock:
            return refunds.open_dispute(self.store, charge_id, reason, amount, RequestContext())

    def close_dispute(self, dispute_id: str, *, won: bool) -> JSONObject:
        """The dispute is decided, for us (`won`) or for the cardholder."""
        with self.store.lock:
            return refunds.close_dispute(
                self.store, dispute_id, "won" if won else "lost", RequestContext()
            )

    def fail_refund(self, refund_id: str) -> JSONObject:
        with self.store.lock:
            return refunds.fail_refund(self.store, refund_id, RequestContext())

    def advance_clock(self, seconds: int) -> None:
        with self.store.lock:
            self.store.clock_offset += seconds

    # Webhooks.

    @staticmethod
    def sign(event: JSONObject, secret: str, timestamp: int | None = None) -> tuple[bytes, str]:
        """The body and `Stripe-Signature` header Stripe would send: `t=<unix time>,v1=<hex
        HMAC-SHA256 of "<t>.<body>" keyed with the endpoint's secret>`."""
        payload = json.dumps(event, indent=2).encode()
        moment = int(time.time()) if timestamp is None else timestamp
        signed = f"{moment}.".encode() + payload
        signature = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
        return payload, f"t={moment},v1={signature}"

    def deliver(self, events: Iterable[JSONObject], url: str, secret: str) -> list[int]:
        """POSTs each event, signed, to `url` as Stripe does; returns the status codes."""
        statuses = []
        with httpx.Client(timeout=10) as client:
            for event in events:
                payload, signature = self.sign(event, secret)
                response = client.post(
                    url,
                    content=payload,
                    headers={"Content-Type": "application/json", "Stripe-Signature": signature},
                )
                statuses.append(response.status_code)
        return statuses
