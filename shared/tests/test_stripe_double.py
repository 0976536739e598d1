"""The Stripe double, driven through the real `stripe` package as an application drives
Stripe: idempotency, declines, refund limits, failures then retries, subscriptions,
Checkout, and webhooks signed as Stripe signs them."""

import time
from typing import Any

import pytest
import stripe
from fastapi import FastAPI, Request
from stripe.params import SubscriptionCreateParams

from roadmap_shared.settings import AppSettings, Environment
from roadmap_shared.testing.live_server import live_server
from roadmap_shared.testing.stripe_double import StripeDouble
from roadmap_shared.testing.stripe_double.params import decode_form
from tests.stripe_clients import client_for


@pytest.fixture
def client(stripe_double: StripeDouble) -> stripe.StripeClient:
    return client_for(stripe_double.base_url)


def paid_intent(client: stripe.StripeClient, amount: int = 1000) -> stripe.PaymentIntent:
    return client.v1.payment_intents.create(
        params={"amount": amount, "currency": "usd", "payment_method": "pm_card_visa",
                "confirm": True}
    )  # fmt: skip


def objects_of(double: StripeDouble, object_type: str) -> list[Any]:
    return double.store.all(object_type)


# --- the wire format ----------------------------------------------------------------------


def test_bracket_syntax_decodes_into_nested_hashes_and_lists() -> None:
    body = (
        "metadata[order]=42&items[0][price]=price_a&items[0][quantity]=2&items[1][price]=price_b"
        "&expand[]=latest_charge&expand[]=customer&description="
    )
    assert decode_form(body) == {
        "metadata": {"order": "42"},
        "items": [{"price": "price_a", "quantity": "2"}, {"price": "price_b"}],
        "expand": ["latest_charge", "customer"],
        "description": "",
    }


def test_metadata_and_nested_items_round_trip(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"metadata": {"tenant": "7"}})
    assert customer.metadata is not None
    assert customer.metadata.to_dict() == {"tenant": "7"}
    assert customer.id.startswith("cus_")
    assert customer.object == "customer"


def test_a_missing_object_is_stripes_404(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.retrieve("pi_missing")
    assert raised.value.http_status == 404
    assert raised.value.code == "resource_missing"
    assert raised.value.user_message == "No such payment_intent: 'pi_missing'"


def test_an_unknown_parameter_is_refused_as_stripe_does(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.create(params={"amount": 1000, "currency": "usd", "amout": 1})  # type: ignore[typeddict-unknown-key]
    assert raised.value.http_status == 400
    assert raised.value.param == "amout"


def test_a_request_without_a_secret_key_is_401(stripe_double: StripeDouble) -> None:
    client = stripe.StripeClient(
        "pk_test_publishable", base_addresses={"api": stripe_double.base_url}
    )
    with pytest.raises(stripe.AuthenticationError):
        client.v1.customers.create()


def test_expand_replaces_an_id_with_the_object(client: stripe.StripeClient) -> None:
    intent = paid_intent(client)
    expanded = client.v1.payment_intents.retrieve(intent.id, params={"expand": ["latest_charge"]})
    assert isinstance(expanded.latest_charge, stripe.Charge)
    assert expanded.latest_charge.amount == 1000


def test_an_unknown_expansion_is_refused_before_anything_happens(
    client: stripe.StripeClient, stripe_double: StripeDouble
) -> None:
    params: Any = {"amount": 1000, "currency": "usd", "payment_method": "pm_card_visa",
                   "confirm": True}  # fmt: skip
    unknown: Any = {**params, "expand": ["no_such_field"]}
    with pytest.raises(stripe.InvalidRequestError, match="cannot be expanded"):
        client.v1.payment_intents.create(params=unknown, options={"idempotency_key": "pay-1"})
    assert objects_of(stripe_double, "payment_intent") == []
    assert stripe_double.events() == []
    # Nothing was saved under the key: the corrected request may use it.
    paid = client.v1.payment_intents.create(params=params, options={"idempotency_key": "pay-1"})
    assert paid.status == "succeeded"


# --- idempotency --------------------------------------------------------------------------


def test_the_same_key_and_parameters_replay_the_first_response(
    client: stripe.StripeClient, stripe_double: StripeDouble
) -> None:
    params: Any = {"amount": 1000, "currency": "usd", "payment_method": "pm_card_visa",
                   "confirm": True}  # fmt: skip
    first = client.v1.payment_intents.create(params=params, options={"idempotency_key": "order-1"})
    again = client.v1.payment_intents.create(params=params, options={"idempotency_key": "order-1"})
    assert again.id == first.id
    assert again.last_response is not None
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert len(objects_of(stripe_double, "payment_intent")) == 1
    assert len(objects_of(stripe_double, "charge")) == 1
    assert [r.replayed for r in stripe_double.requests] == [False, True]


def test_the_same_key_with_other_parameters_is_an_idempotency_error(
    client: stripe.StripeClient,
) -> None:
    client.v1.customers.create(params={"email": "a@example.com"}, options={"idempotency_key": "k"})
    with pytest.raises(stripe.IdempotencyError) as raised:
        client.v1.customers.create(
            params={"email": "b@example.com"}, options={"idempotency_key": "k"}
        )
    assert raised.value.http_status == 400


def test_a_request_refused_for_its_parameters_leaves_its_key_free(
    client: stripe.StripeClient,
) -> None:
    """Stripe saves a result only once the endpoint started executing."""
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.create(
            params={"amount": 10, "currency": "usd"}, options={"idempotency_key": "order-2"}
        )
    intent = client.v1.payment_intents.create(
        params={"amount": 1000, "currency": "usd"}, options={"idempotency_key": "order-2"}
    )
    assert intent.amount == 1000


def test_a_decline_is_replayed_too(
    client: stripe.StripeClient, stripe_double: StripeDouble
) -> None:
    intent = client.v1.payment_intents.create(params={"amount": 1000, "currency": "usd"})
    for _ in range(2):
        with pytest.raises(stripe.CardError):
            client.v1.payment_intents.confirm(
                intent.id,
                params={"payment_method": "pm_card_chargeDeclined"},
                options={"idempotency_key": "pay-1"},
            )
    assert len(objects_of(stripe_double, "charge")) == 1


# --- payments -----------------------------------------------------------------------------


def test_a_succeeded_intent_has_a_charge_and_a_balance_transaction(
    client: stripe.StripeClient,
) -> None:
    intent = paid_intent(client)
    assert intent.status == "succeeded"
    assert intent.amount_received == 1000
    charge = client.v1.charges.retrieve(intent.latest_charge)  # type: ignore[arg-type]
    assert (charge.paid, charge.amount, charge.payment_intent) == (True, 1000, intent.id)
    txn = client.v1.balance_transactions.retrieve(charge.balance_transaction)  # type: ignore[arg-type]
    assert (txn.type, txn.amount, txn.source) == ("charge", 1000, charge.id)


@pytest.mark.parametrize(
    ("payment_method", "code", "decline_code"),
    [
        ("pm_card_chargeDeclined", "card_declined", "generic_decline"),
        ("pm_card_chargeDeclinedInsufficientFunds", "card_declined", "insufficient_funds"),
    ],
)
def test_a_declined_card_raises_card_error(
    client: stripe.StripeClient,
    stripe_double: StripeDouble,
    payment_method: str,
    code: str,
    decline_code: str,
) -> None:
    intent = client.v1.payment_intents.create(params={"amount": 1000, "currency": "usd"})
    with pytest.raises(stripe.CardError) as raised:
        client.v1.payment_intents.confirm(intent.id, params={"payment_method": payment_method})
    assert raised.value.http_status == 402
    assert raised.value.code == code
    assert raised.value.error is not None
    assert raised.value.error.decline_code == decline_code
    assert client.v1.payment_intents.retrieve(intent.id).status == "requires_payment_method"
    assert stripe_double.events()[-1]["type"] == "payment_intent.payment_failed"


def test_a_card_that_needs_authentication_requires_action(client: stripe.StripeClient) -> None:
    intent = client.v1.payment_intents.create(
        params={"amount": 1000, "currency": "usd",
                "payment_method": "pm_card_authenticationRequired", "confirm": True}
    )  # fmt: skip
    assert intent.status == "requires_action"
    assert intent.next_action is not None


@pytest.mark.parametrize(
    ("succeeds", "status"), [(True, "succeeded"), (False, "requires_payment_method")]
)
def test_authentication_settles_an_intent_that_requires_action(
    client: stripe.StripeClient, stripe_double: StripeDouble, succeeds: bool, status: str
) -> None:
    intent = client.v1.payment_intents.create(
        params={"amount": 1000, "currency": "usd",
                "payment_method": "pm_card_authenticationRequired", "confirm": True}
    )  # fmt: skip
    stripe_double.authenticate(intent.id, succeeds=succeeds)
    assert client.v1.payment_intents.retrieve(intent.id).status == status


def test_a_succeeded_intent_cannot_be_confirmed_or_canceled(client: stripe.StripeClient) -> None:
    intent = paid_intent(client)
    for attempt in (client.v1.payment_intents.confirm, client.v1.payment_intents.cancel):
        with pytest.raises(stripe.InvalidRequestError) as raised:
            attempt(intent.id)
        assert raised.value.code == "payment_intent_unexpected_state"


def test_an_amount_below_stripes_minimum_is_refused(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.create(params={"amount": 49, "currency": "usd"})
    assert raised.value.code == "amount_too_small"


def test_an_amount_of_more_than_eight_digits_is_refused(client: stripe.StripeClient) -> None:
    client.v1.payment_intents.create(params={"amount": 99_999_999, "currency": "usd"})
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.create(params={"amount": 100_000_000, "currency": "usd"})
    assert raised.value.code == "amount_too_large"


# --- refunds ------------------------------------------------------------------------------


def test_refunds_never_exceed_what_was_captured(
    client: stripe.StripeClient, stripe_double: StripeDouble
) -> None:
    intent = paid_intent(client)
    client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 700,
                                     "reason": "requested_by_customer"})  # fmt: skip
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 700})
    assert raised.value.http_status == 400
    assert raised.value.param == "amount"
    assert raised.value.user_message == (
        "Refund amount ($7.00) is greater than unrefunded amount on charge ($3.00)"
    )
    charge = client.v1.charges.retrieve(intent.latest_charge)  # type: ignore[arg-type]
    assert (charge.amount_refunded, charge.refunded) == (700, False)
    assert len(objects_of(stripe_double, "refund")) == 1


def test_a_fully_refunded_charge_refuses_another_refund(client: stripe.StripeClient) -> None:
    intent = paid_intent(client)
    refund = client.v1.refunds.create(params={"payment_intent": intent.id})
    assert refund.amount == 1000
    charge = client.v1.charges.retrieve(intent.latest_charge)  # type: ignore[arg-type]
    assert (charge.amount_refunded, charge.refunded) == (1000, True)
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.refunds.create(params={"charge": charge.id, "amount": 1})
    assert raised.value.code == "charge_already_refunded"


def test_a_refund_reason_outside_stripes_list_is_refused(client: stripe.StripeClient) -> None:
    intent = paid_intent(client)
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.refunds.create(params={"payment_intent": intent.id, "reason": "changed_mind"})
    assert raised.value.param == "reason"


def test_a_failed_refund_makes_the_amount_refundable_again(
    client: stripe.StripeClient, stripe_double: StripeDouble
) -> None:
    intent = paid_intent(client)
    refund = client.v1.refunds.create(params={"payment_intent": intent.id})
    stripe_double.fail_refund(refund.id)
    assert client.v1.refunds.retrieve(refund.id).status == "failed"
    assert client.v1.refunds.create(params={"payment_intent": intent.id}).amount == 1000
    assert "refund.updated" in [event["type"] for event in stripe_double.events()]


def test_balance_transactions_list_one_per_charge_and_refund_in_a_period(
    client: stripe.StripeClient, stripe_double: StripeDouble
) -> None:
    before = paid_intent(client, 5000)
    stripe_double.advance_clock(3600)
    start = int(time.time()) + 3600
    intent = paid_intent(client, 2000)
    client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 500})
    listed = client.v1.balance_transactions.list(params={"created": {"gte": start}})
    assert sorted((txn.type, txn.amount) for txn in listed.data) == [
        ("charge", 2000),
        ("refund", -500),
    ]
    assert before.latest_charge not in [txn.source for txn in listed.data]


def test_a_dispute_is_an_event_and_a_withdrawal(
    client: stripe.StripeClient, stripe_double: StripeDouble
) -> None:
    intent = paid_intent(client)
    dispute = stripe_double.open_dispute(intent.latest_charge)  # type: ignore[arg-type]
    assert stripe_double.events()[-1]["type"] == "charge.dispute.created"
    assert stripe_double.events()[-1]["data"]["object"]["id"] == dispute["id"]
    assert client.v1.charges.retrieve(intent.latest_charge).disputed is True  # type: ignore[arg-type]
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.refunds.create(params={"payment_intent": intent.id})
    assert raised.value.code == "charge_disputed"


def test_an_authorisation_is_held_then_captured_once_in_part(
    client: stripe.StripeClient, stripe_double: StripeDouble
) -> None:
    held = client.v1.payment_intents.create(
        params={"amount": 1000, "currency": "usd", "payment_method": "pm_card_visa",
                "confirm": True, "capture_method": "manual"}
    )  # fmt: skip
    assert (held.status, held.amount_capturable, held.amount_received) == (
        "requires_capture",
        1000,
        0,
    )
    assert stripe_double.events()[-1]["type"] == "payment_intent.amount_capturable_updated"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.capture(held.id, params={"amount_to_capture": 1001})
    captured = client.v1.payment_intents.capture(held.id, params={"amount_to_capture": 600})
    assert (captured.status, captured.amount_capturable, captured.amount_received) == (
        "succeeded",
        0,
        600,
    )
    charge = client.v1.charges.retrieve(captured.latest_charge)  # type: ignore[arg-type]
    assert (charge.captured, charge.amount_captured) == (True, 600)
    assert stripe_double.events()[-1]["type"] == "payment_intent.succeeded"
    with pytest.raises(stripe.InvalidRequestError) as twice:
        client.v1.payment_intents.capture(held.id)
    assert twice.value.code == "payment_intent_unexpected_state"


def test_an_authorisation_canceled_releases_the_hold(client: stripe.StripeClient) -> None:
    held = client.v1.payment_intents.create(
        params={"amount": 1000, "currency": "usd", "payment_method": "pm_card_visa",
                "confirm": True, "capture_method": "manual"}
    )  # fmt: skip
    canceled = client.v1.payment_intents.cancel(held.id)
    assert (canceled.status, canceled.amount_capturable) == ("canceled", 0)


def test_a_won_dispute_gives_the_amount_back_a_lost_one_keeps_it(
    client: stripe.StripeClient, stripe_double: StripeDouble
) -> None:
    for won, balance in ((True, 0), (False, -1000)):
        intent = paid_intent(client)
        opened = stripe_double.open_dispute(intent.latest_charge)  # type: ignore[arg-type]
        stripe_double.close_dispute(opened["id"], won=won)
        [closed] = [
            event["data"]["object"]
            for event in stripe_double.events("charge.dispute.closed")
            if event["data"]["object"]["id"] == opened["id"]
        ]
        assert closed["status"] == ("won" if won else "lost")
        dispute = client.v1.disputes.retrieve(opened["id"])
        assert sum(txn.amount for txn in dispute.balance_transactions) == balance
        with pytest.raises(ValueError, match="already"):
            stripe_double.close_dispute(opened["id"], won=won)


# --- failures, retries, one effect --------------------------------------------------------


def test_server_errors_then_success_make_one_intent_under_one_key(
    stripe_double: StripeDouble,
) -> None:
    client = client_for(stripe_double.base_url, retries=2)
    stripe_double.fail_next("POST", "/v1/payment_intents", status=500, times=2)
    intent = paid_intent(client)
    attempts = [r for r in stripe_double.requests if r.path == "/v1/payment_intents"]
    assert [r.status for r in attempts] == [500, 500, 200]
    assert len({r.idempotency_key for r in attempts}) == 1
    assert attempts[0].idempotency_key is not None
    assert [obj["id"] for obj in objects_of(stripe_double, "payment_intent")] == [intent.id]


def test_a_conflict_is_retried_too(stripe_double: StripeDouble) -> None:
    client = client_for(stripe_double.base_url, retries=1)
    stripe_double.fail_next("POST", "/v1/refunds", status=409)
    intent = paid_intent(client)
    client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 100})
    assert [r.status for r in stripe_double.requests if r.path == "/v1/refunds"] == [409, 200]
    assert len(objects_of(stripe_double, "refund")) == 1


def test_a_timeout_after_the_effect_is_retried_into_a_replay() -> None:
    with StripeDouble(hang_seconds=3) as double:
        client = client_for(double.base_url, retries=1, timeout=1)
        double.fail_next("POST", "/v1/refunds", timeout=True)
        intent = paid_intent(client)
        refund = client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 400})
        attempts = [r for r in double.requests if r.path == "/v1/refunds"]
        assert [r.replayed for r in attempts] == [False, True]
        assert len({r.idempotency_key for r in attempts}) == 1
        assert [obj["id"] for obj in objects_of(double, "refund")] == [refund.id]
        assert client.v1.charges.retrieve(intent.latest_charge).amount_refunded == 400  # type: ignore[arg-type]


def test_without_retries_an_injected_failure_reaches_the_caller(
    client: stripe.StripeClient, stripe_double: StripeDouble
) -> None:
    stripe_double.fail_next("POST", "/v1/customers", status=503)
    with pytest.raises(stripe.APIError) as raised:
        client.v1.customers.create()
    assert raised.value.http_status == 503
    assert objects_of(stripe_double, "customer") == []
    client.v1.customers.create()  # the rule was for one request only


# --- subscriptions ------------------------------------------------------------------------


@pytest.fixture
def plans(client: stripe.StripeClient) -> dict[str, str]:
    product = client.v1.products.create(params={"name": "Team"})
    prices = {}
    for interval, amount in (("month", 1500), ("year", 15000)):
        price = client.v1.prices.create(
            params={"product": product.id, "currency": "usd", "unit_amount": amount,
                    "recurring": {"interval": interval}, "lookup_key": f"team_{interval}"}
        )  # fmt: skip
        prices[interval] = price.id
    return prices


def subscribe(
    client: stripe.StripeClient,
    price: str,
    *,
    trial_period_days: int | None = None,
    cancel_at_period_end: bool = False,
) -> stripe.Subscription:
    customer = client.v1.customers.create(params={"email": "owner@example.com"})
    params: SubscriptionCreateParams = {
        "customer": customer.id,
        "items": [{"price": price, "quantity": 2}],
        "cancel_at_period_end": cancel_at_period_end,
    }
    if trial_period_days is not None:
        params["trial_period_days"] = trial_period_days
    return client.v1.subscriptions.create(params=params)


def event_types(double: StripeDouble) -> list[str]:
    return [event["type"] for event in double.events()]


def test_prices_are_found_by_lookup_key(client: stripe.StripeClient, plans: dict[str, str]) -> None:
    found = client.v1.prices.list(params={"lookup_keys": ["team_year"]})
    assert [price.id for price in found.data] == [plans["year"]]
    assert found.data[0].recurring is not None
    assert found.data[0].recurring.interval == "year"


def test_a_trial_then_paid_and_failed_invoices_drive_the_status(
    client: stripe.StripeClient, stripe_double: StripeDouble, plans: dict[str, str]
) -> None:
    subscription = subscribe(client, plans["month"], trial_period_days=14)
    assert subscription.status == "trialing"
    assert subscription.trial_end is not None
    item = subscription["items"].data[0]
    assert item.current_period_end - item.current_period_start == 14 * 86400

    invoice = stripe_double.pay_next_invoice(subscription.id)
    assert (invoice["status"], invoice["amount_paid"]) == ("paid", 3000)
    assert client.v1.subscriptions.retrieve(subscription.id).status == "active"

    failed = stripe_double.fail_next_invoice(subscription.id)
    assert client.v1.subscriptions.retrieve(subscription.id).status == "past_due"
    assert client.v1.invoices.retrieve(failed["id"]).status == "open"
    assert event_types(stripe_double)[-2:] == [
        "invoice.payment_failed",
        "customer.subscription.updated",
    ]

    assert stripe_double.pay_next_invoice(subscription.id)["id"] == failed["id"]
    assert client.v1.subscriptions.retrieve(subscription.id).status == "active"
    listed = client.v1.invoices.list(params={"subscription": subscription.id})
    assert [(i.billing_reason, i.status) for i in listed.data] == [
        ("subscription_cycle", "paid"),
        ("subscription_cycle", "paid"),
        ("subscription_create", "paid"),
    ]


def test_a_subscription_without_trial_is_active_and_paid(
    client: stripe.StripeClient, stripe_double: StripeDouble, plans: dict[str, str]
) -> None:
    subscription = subscribe(client, plans["month"])
    assert subscription.status == "active"
    invoice = client.v1.invoices.retrieve(subscription.latest_invoice)  # type: ignore[arg-type]
    assert (invoice.status, invoice.amount_paid) == ("paid", 3000)
    assert "invoice.paid" in event_types(stripe_double)


def test_an_upgrade_with_always_invoice_bills_the_proration_now(
    client: stripe.StripeClient, plans: dict[str, str]
) -> None:
    subscription = subscribe(client, plans["month"])
    item = subscription["items"].data[0]
    updated = client.v1.subscriptions.update(
        subscription.id,
        params={"items": [{"id": item.id, "quantity": 5}], "proration_behavior": "always_invoice"},
    )
    assert updated["items"].data[0].quantity == 5
    invoice = client.v1.invoices.retrieve(updated.latest_invoice)  # type: ignore[arg-type]
    assert invoice.billing_reason == "subscription_update"
    # Three more seats at 1500 for (almost) the whole period.
    assert 4400 <= invoice.amount_paid <= 4500


def test_a_price_change_without_proration_bills_nothing_now(
    client: stripe.StripeClient, plans: dict[str, str]
) -> None:
    subscription = subscribe(client, plans["month"])
    item = subscription["items"].data[0]
    updated = client.v1.subscriptions.update(
        subscription.id,
        params={"items": [{"id": item.id, "price": plans["year"]}], "proration_behavior": "none"},
    )
    assert updated["items"].data[0].price.id == plans["year"]
    assert updated.latest_invoice == subscription.latest_invoice


def test_cancel_at_period_end_then_resume_then_cancel_now(
    client: stripe.StripeClient, stripe_double: StripeDouble, plans: dict[str, str]
) -> None:
    subscription = subscribe(client, plans["month"])
    ending = client.v1.subscriptions.update(subscription.id, params={"cancel_at_period_end": True})
    assert ending.cancel_at_period_end is True
    assert ending.cancel_at == ending["items"].data[0].current_period_end
    resumed = client.v1.subscriptions.update(
        subscription.id, params={"cancel_at_period_end": False}
    )
    assert (resumed.cancel_at_period_end, resumed.cancel_at) == (False, None)
    canceled = client.v1.subscriptions.cancel(subscription.id)
    assert canceled.status == "canceled"
    assert event_types(stripe_double)[-1] == "customer.subscription.deleted"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.subscriptions.update(subscription.id, params={"metadata": {"a": "b"}})


def test_a_subscription_set_to_cancel_ends_at_its_period_end(
    client: stripe.StripeClient, stripe_double: StripeDouble, plans: dict[str, str]
) -> None:
    subscription = subscribe(client, plans["month"], cancel_at_period_end=True)
    with pytest.raises(ValueError, match="no next invoice"):
        stripe_double.pay_next_invoice(subscription.id)
    assert client.v1.subscriptions.retrieve(subscription.id).status == "canceled"


# --- Checkout and the Billing Portal ------------------------------------------------------


def test_a_completed_checkout_session_paid_its_intent(
    client: stripe.StripeClient, stripe_double: StripeDouble
) -> None:
    price = client.v1.prices.create(
        params={"currency": "eur", "unit_amount": 900, "product_data": {"name": "Credits"}}
    )
    session = client.v1.checkout.sessions.create(
        params={"mode": "payment", "line_items": [{"price": price.id, "quantity": 3}],
                "client_reference_id": "order-9", "success_url": "https://example.com/ok",
                "payment_intent_data": {"metadata": {"order": "9"}}}
    )  # fmt: skip
    assert (session.status, session.amount_total, session.payment_intent) == ("open", 2700, None)
    assert session.url is not None
    stripe_double.complete_checkout_session(session.id)
    completed = client.v1.checkout.sessions.retrieve(session.id)
    assert (completed.status, completed.payment_status) == ("complete", "paid")
    intent = client.v1.payment_intents.retrieve(completed.payment_intent)  # type: ignore[arg-type]
    assert (intent.status, intent.amount, intent.metadata.to_dict()) == (
        "succeeded",
        2700,
        {"order": "9"},
    )
    assert event_types(stripe_double)[-1] == "checkout.session.completed"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.expire(session.id)


def test_a_subscription_checkout_creates_the_customer_and_subscription(
    client: stripe.StripeClient, stripe_double: StripeDouble, plans: dict[str, str]
) -> None:
    session = client.v1.checkout.sessions.create(
        params={"mode": "subscription", "line_items": [{"price": plans["year"], "quantity": 1}],
                "success_url": "https://example.com/ok"}
    )  # fmt: skip
    stripe_double.complete_checkout_session(session.id, email="new@example.com")
    completed = client.v1.checkout.sessions.retrieve(session.id)
    subscription = client.v1.subscriptions.retrieve(completed.subscription)  # type: ignore[arg-type]
    assert subscription.status == "active"
    assert client.v1.customers.retrieve(subscription.customer).email == "new@example.com"  # type: ignore[arg-type]


def test_a_recurring_price_needs_subscription_mode(
    client: stripe.StripeClient, plans: dict[str, str]
) -> None:
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.create(
            params={"mode": "payment", "line_items": [{"price": plans["month"], "quantity": 1}]}
        )


def test_an_expired_session_is_an_event(
    client: stripe.StripeClient, stripe_double: StripeDouble
) -> None:
    session = client.v1.checkout.sessions.create(
        params={"mode": "payment", "success_url": "https://example.com/ok",
                "line_items": [{"price_data": {"currency": "usd", "unit_amount": 500,
                                               "product_data": {"name": "Once"}},
                                "quantity": 1}]}
    )  # fmt: skip
    assert client.v1.checkout.sessions.expire(session.id).status == "expired"
    assert event_types(stripe_double)[-1] == "checkout.session.expired"


def test_a_billing_portal_session_is_a_url(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create()
    portal = client.v1.billing_portal.sessions.create(
        params={"customer": customer.id, "return_url": "https://example.com/account"}
    )
    assert portal.url.startswith("https://")
    assert portal.customer == customer.id


# --- events and webhooks ------------------------------------------------------------------


def test_events_are_listed_newest_first_and_retrieved_by_id(
    client: stripe.StripeClient, stripe_double: StripeDouble
) -> None:
    intent = paid_intent(client)
    listed = client.v1.events.list(params={"type": "payment_intent.succeeded"})
    assert [event.data.object["id"] for event in listed.data] == [intent.id]
    recorded = stripe_double.events()
    assert [e.id for e in client.v1.events.list().data] == [e["id"] for e in recorded[::-1]]
    event = client.v1.events.retrieve(recorded[0]["id"])
    assert event.type == "payment_intent.created"
    assert event.request is not None
    assert event.request.idempotency_key == stripe_double.requests[0].idempotency_key


def test_an_event_snapshots_the_object_as_it_was(
    client: stripe.StripeClient, stripe_double: StripeDouble
) -> None:
    intent = paid_intent(client)
    client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 100})
    client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 200})
    refunded = [
        e["data"]["object"]["amount_refunded"] for e in stripe_double.events("charge.refunded")
    ]
    assert refunded == [100, 300]


def test_a_signed_event_is_accepted_by_stripes_own_verification(
    client: stripe.StripeClient, stripe_double: StripeDouble
) -> None:
    paid_intent(client)
    event = stripe_double.events("payment_intent.succeeded")[0]
    payload, signature = stripe_double.sign(event, "whsec_test")
    verified = stripe.Webhook.construct_event(payload, signature, "whsec_test", tolerance=300)
    assert (verified.id, verified.type) == (event["id"], "payment_intent.succeeded")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload, signature, "whsec_other", tolerance=300)
    stale_payload, stale = stripe_double.sign(event, "whsec_test", int(time.time()) - 301)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(stale_payload, stale, "whsec_test", tolerance=300)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload + b" ", signature, "whsec_test", tolerance=300)


def test_delivered_events_arrive_signed_at_the_endpoint(
    client: stripe.StripeClient, stripe_double: StripeDouble
) -> None:
    received: list[str] = []
    app = FastAPI()

    @app.post("/webhooks/stripe")
    async def webhook(request: Request) -> dict[str, bool]:
        payload = await request.body()
        signature = request.headers.get("stripe-signature")
        event = stripe.Webhook.construct_event(payload, signature, "whsec_test", tolerance=300)
        received.append(event.type)
        return {"received": True}

    paid_intent(client)
    with live_server(app, AppSettings(environment=Environment.TEST)) as port:
        statuses = stripe_double.deliver(
            stripe_double.events(), f"http://127.0.0.1:{port}/webhooks/stripe", "whsec_test"
        )
    assert statuses == [200] * len(stripe_double.events())
    assert received == event_types(stripe_double)
