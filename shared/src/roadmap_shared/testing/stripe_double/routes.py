"""Which endpoint answers which request: Stripe's paths, each to its handler."""

import re
from collections.abc import Callable
from dataclasses import dataclass

from roadmap_shared.testing.stripe_double import billing, catalog, checkout, payments, refunds
from roadmap_shared.testing.stripe_double.params import Params
from roadmap_shared.testing.stripe_double.store import RequestContext, Store, paginate
from roadmap_shared.testing.stripe_double.templates import JSONObject

# A handler gets the store, the path's id (or ""), the parameters and the request's context.
Handler = Callable[[Store, str, Params, RequestContext], JSONObject]


def _retrieve(object_type: str) -> Handler:
    def retrieve(store: Store, object_id: str, params: Params, _: RequestContext) -> JSONObject:
        params.allow()
        return store.get(object_type, object_id)

    return retrieve


def _list_events(store: Store, _: str, params: Params, __: RequestContext) -> JSONObject:
    params.allow("type", "types", "limit", "starting_after", "created")
    found = store.event_log[::-1]
    one_type = params.text("type")
    wanted = params.strings("types") or ([one_type] if one_type is not None else [])
    if wanted:
        found = [event for event in found if event["type"] in wanted]
    return paginate(
        found, "/v1/events", params.integer("limit", minimum=1), params.text("starting_after")
    )


def _expire_session(store: Store, session_id: str, params: Params, context: RequestContext
                    ) -> JSONObject:  # fmt: skip
    params.allow()
    return checkout.expire_session(store, session_id, context)


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler


def _route(method: str, path: str, handler: Handler) -> Route:
    return Route(method, re.compile("^" + path.replace("{id}", "(?P<id>[^/]+)") + "$"), handler)


ROUTES = [
    _route("POST", "/v1/customers", lambda s, _, p, __: catalog.create_customer(s, p)),
    _route("GET", "/v1/customers/{id}", _retrieve("customer")),
    _route("POST", "/v1/customers/{id}", lambda s, i, p, _: catalog.update_customer(s, i, p)),
    _route("POST", "/v1/products", lambda s, _, p, __: catalog.create_product(s, p)),
    _route("GET", "/v1/products/{id}", _retrieve("product")),
    _route("POST", "/v1/prices", lambda s, _, p, __: catalog.create_price(s, p)),
    _route("GET", "/v1/prices", lambda s, _, p, __: catalog.list_prices(s, p)),
    _route("GET", "/v1/prices/{id}", _retrieve("price")),
    _route("POST", "/v1/payment_intents",
           lambda s, _, p, c: payments.create_payment_intent(s, p, c)),
    _route("GET", "/v1/payment_intents/{id}", _retrieve("payment_intent")),
    _route("POST", "/v1/payment_intents/{id}/confirm", payments.confirm_payment_intent),
    _route("POST", "/v1/payment_intents/{id}/cancel", payments.cancel_payment_intent),
    _route("POST", "/v1/payment_intents/{id}/capture", payments.capture_payment_intent),
    _route("GET", "/v1/charges", lambda s, _, p, __: payments.list_charges(s, p)),
    _route("GET", "/v1/charges/{id}", _retrieve("charge")),
    _route("POST", "/v1/refunds", lambda s, _, p, c: refunds.create_refund(s, p, c)),
    _route("GET", "/v1/refunds", lambda s, _, p, __: refunds.list_refunds(s, p)),
    _route("GET", "/v1/refunds/{id}", _retrieve("refund")),
    _route("GET", "/v1/disputes/{id}", _retrieve("dispute")),
    _route("GET", "/v1/balance_transactions",
           lambda s, _, p, __: payments.list_balance_transactions(s, p)),
    _route("GET", "/v1/balance_transactions/{id}", _retrieve("balance_transaction")),
    _route("POST", "/v1/checkout/sessions", lambda s, _, p, c: checkout.create_session(s, p, c)),
    _route("GET", "/v1/checkout/sessions/{id}", _retrieve("checkout.session")),
    _route("POST", "/v1/checkout/sessions/{id}/expire", _expire_session),
    _route("POST", "/v1/subscriptions",
           lambda s, _, p, c: billing.create_subscription(s, p, c)),
    _route("GET", "/v1/subscriptions", lambda s, _, p, __: billing.list_subscriptions(s, p)),
    _route("GET", "/v1/subscriptions/{id}", _retrieve("subscription")),
    _route("POST", "/v1/subscriptions/{id}", billing.update_subscription),
    _route("DELETE", "/v1/subscriptions/{id}", billing.cancel_subscription),
    _route("GET", "/v1/invoices", lambda s, _, p, __: billing.list_invoices(s, p)),
    _route("GET", "/v1/invoices/{id}", _retrieve("invoice")),
    _route("POST", "/v1/billing_portal/sessions",
           lambda s, _, p, __: checkout.create_portal_session(s, p)),
    _route("GET", "/v1/events", _list_events),
    _route("GET", "/v1/events/{id}", _retrieve("event")),
]  # fmt: skip


def find_route(method: str, path: str) -> tuple[Handler, str] | None:
    for route in ROUTES:
        match = route.pattern.match(path)
        if route.method == method and match:
            return route.handler, match.groupdict().get("id", "")
    return None
