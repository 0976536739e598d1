"""Every object the Stripe double serves has the keys, at every level, of Stripe's own
example object of that type (`shared/stripe/fixtures3.json` beside the repository, or the
double's verbatim copies of it), so code tested against the double meets the same shapes in
production."""

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe

from roadmap_shared.testing.stripe_double import StripeDouble
from roadmap_shared.testing.stripe_double.templates import SERVED_TYPES, example
from tests.stripe_clients import TEST_SECRET_KEY, client_for

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path("shared", "stripe", "fixtures3.json")
# Where each type is fetched from, as the application would; the others are nested ones.
RETRIEVE_PATHS = {
    "balance_transaction": "/v1/balance_transactions/{}",
    "charge": "/v1/charges/{}",
    "checkout.session": "/v1/checkout/sessions/{}",
    "customer": "/v1/customers/{}",
    "dispute": "/v1/disputes/{}",
    "event": "/v1/events/{}",
    "invoice": "/v1/invoices/{}",
    "payment_intent": "/v1/payment_intents/{}",
    "price": "/v1/prices/{}",
    "product": "/v1/products/{}",
    "refund": "/v1/refunds/{}",
    "subscription": "/v1/subscriptions/{}",
}
# Maps whose keys are the integration's own, not Stripe's.
FREE_FORM = {"metadata"}
# The state changes a Stripe integration reacts to: each must have been recorded.
EXPECTED_EVENTS = {
    "payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.canceled",
    "checkout.session.completed", "checkout.session.expired", "charge.refunded",
    "refund.created", "refund.updated", "customer.subscription.created",
    "customer.subscription.updated", "customer.subscription.deleted", "invoice.paid",
    "invoice.payment_failed", "charge.dispute.created", "charge.dispute.closed",
    "payment_intent.amount_capturable_updated", "charge.captured",
}  # fmt: skip


def published_examples() -> dict[str, Any] | None:
    """Stripe's published example objects, found by walking up from the repository's root
    (CI puts `shared/stripe/` beside the clone); None where they are not."""
    for folder in REPOSITORY_ROOT.parents:
        if (folder / FIXTURES).is_file():
            resources: dict[str, Any] = json.loads((folder / FIXTURES).read_text())["resources"]
            return resources
    return None


@pytest.fixture(scope="module")
def stripe_examples() -> dict[str, Any]:
    """Stripe's examples as published where they are beside the repository, else the
    double's own verbatim copies of them (`templates.json`, checked against the published
    ones wherever both are present), so a clone on its own checks the same keys."""
    published = published_examples()
    if published is not None:
        return published
    return {object_type: example(object_type) for object_type in SERVED_TYPES}


def key_differences(
    ours: Any, reference: Any, examples: dict[str, Any], where: str = "$"
) -> list[str]:
    """Where `ours` and `reference` differ in keys. An object compares with the example at
    the same place, or, when its type differs from that (an event's `data.object`, an
    expanded id) or no example item is there (an empty list), with its type's example.
    A null in place of an object is how Stripe sends an optional object that is absent;
    `metadata` holds the integration's own keys."""
    if isinstance(ours, dict):
        typed = ours.get("object")
        if isinstance(typed, str) and typed in examples and typed != "list" and (
            not isinstance(reference, dict) or reference.get("object") != typed
        ):  # fmt: skip
            reference = examples[typed]
        if not isinstance(reference, dict):
            return [f"{where}: an object where Stripe's example has {reference!r}"]
        problems = [f"{where}.{key}: missing" for key in reference.keys() - ours.keys()]
        problems += [
            f"{where}.{key}: not in Stripe's example" for key in ours.keys() - reference.keys()
        ]
        for key in ours.keys() & reference.keys() - FREE_FORM:
            problems += key_differences(ours[key], reference[key], examples, f"{where}.{key}")
        return problems
    if isinstance(ours, list):
        item_reference = reference[0] if isinstance(reference, list) and reference else None
        problems = []
        for index, item in enumerate(ours):
            if isinstance(item, dict | list):
                problems += key_differences(item, item_reference, examples, f"{where}[{index}]")
        return problems
    return []


def types_within(value: Any) -> set[str]:
    if isinstance(value, dict):
        found = {value["object"]} if isinstance(value.get("object"), str) else set()
        return found.union(*(types_within(item) for item in value.values()))
    if isinstance(value, list):
        return set().union(*(types_within(item) for item in value))
    return set()


def run_every_flow(double: StripeDouble) -> None:
    """Creates at least one object of every type the double serves, through the API and
    the test controls, leaving every state change an integration reacts to."""
    client = client_for(double.base_url)
    customer = client.v1.customers.create(params={"email": "owner@example.com"})
    credits_price = client.v1.prices.create(
        params={"currency": "usd", "unit_amount": 1000, "product_data": {"name": "Credits"}}
    )
    pro = client.v1.products.create(params={"name": "Pro"})
    monthly = client.v1.prices.create(
        params={"product": pro.id, "currency": "usd", "unit_amount": 2000,
                "recurring": {"interval": "month"}, "lookup_key": "pro_monthly"}
    )  # fmt: skip
    yearly = client.v1.prices.create(
        params={"product": pro.id, "currency": "usd", "unit_amount": 20000,
                "recurring": {"interval": "year"}}
    )  # fmt: skip

    paid = client.v1.payment_intents.create(
        params={"amount": 1000, "currency": "usd", "customer": customer.id,
                "payment_method": "pm_card_visa", "confirm": True}
    )  # fmt: skip
    with pytest.raises(stripe.CardError):
        client.v1.payment_intents.create(
            params={"amount": 1000, "currency": "usd", "payment_method": "pm_card_chargeDeclined",
                    "confirm": True}
        )  # fmt: skip
    secure = client.v1.payment_intents.create(
        params={"amount": 1000, "currency": "usd",
                "payment_method": "pm_card_authenticationRequired", "confirm": True}
    )  # fmt: skip
    client.v1.payment_intents.cancel(secure.id)
    refund = client.v1.refunds.create(params={"payment_intent": paid.id, "amount": 300})
    double.fail_refund(refund.id)
    client.v1.refunds.create(params={"payment_intent": paid.id, "reason": "duplicate"})
    disputed = client.v1.payment_intents.create(
        params={"amount": 5000, "currency": "usd", "payment_method": "pm_card_visa",
                "confirm": True}
    )  # fmt: skip
    dispute = double.open_dispute(disputed.latest_charge)  # type: ignore[arg-type]
    held = client.v1.payment_intents.create(
        params={"amount": 5000, "currency": "usd", "payment_method": "pm_card_visa",
                "confirm": True, "capture_method": "manual"}
    )  # fmt: skip
    client.v1.payment_intents.capture(held.id, params={"amount_to_capture": 4000})
    double.close_dispute(dispute["id"], won=True)

    one_off = client.v1.checkout.sessions.create(
        params={"mode": "payment", "line_items": [{"price": credits_price.id, "quantity": 2}],
                "success_url": "https://example.com/ok", "cancel_url": "https://example.com/no"}
    )  # fmt: skip
    double.complete_checkout_session(one_off.id)
    abandoned = client.v1.checkout.sessions.create(
        params={"mode": "payment", "line_items": [{"price": credits_price.id, "quantity": 1}],
                "success_url": "https://example.com/ok"}
    )  # fmt: skip
    client.v1.checkout.sessions.expire(abandoned.id)
    signup = client.v1.checkout.sessions.create(
        params={"mode": "subscription", "customer": customer.id,
                "line_items": [{"price": monthly.id, "quantity": 3}],
                "subscription_data": {"trial_period_days": 14},
                "success_url": "https://example.com/ok"}
    )  # fmt: skip
    session = double.complete_checkout_session(signup.id)

    subscription_id = session["subscription"]
    double.pay_next_invoice(subscription_id)
    double.fail_next_invoice(subscription_id)
    double.pay_next_invoice(subscription_id)
    item = client.v1.subscriptions.retrieve(subscription_id)["items"].data[0]
    client.v1.subscriptions.update(
        subscription_id,
        params={"items": [{"id": item.id, "price": yearly.id, "quantity": 5}],
                "proration_behavior": "always_invoice"},
    )  # fmt: skip
    client.v1.subscriptions.update(subscription_id, params={"cancel_at_period_end": True})
    client.v1.subscriptions.update(subscription_id, params={"cancel_at_period_end": False})
    client.v1.subscriptions.cancel(subscription_id)
    client.v1.billing_portal.sessions.create(
        params={"customer": customer.id, "return_url": "https://example.com/account"}
    )


@pytest.fixture(scope="module")
def served() -> Any:
    """Every object the double holds after every flow, as its API serves it."""
    with StripeDouble() as double:
        run_every_flow(double)
        headers = {"Authorization": f"Bearer {TEST_SECRET_KEY}"}
        with httpx.Client(base_url=double.base_url, headers=headers) as http:
            objects = []
            for obj in list(double.store.objects.values()):
                path = RETRIEVE_PATHS.get(obj["object"])
                if path is None:  # served inside another object only
                    objects.append(obj)
                    continue
                response = http.get(path.format(obj["id"]))
                assert response.status_code == 200, response.text
                objects.append(response.json())
            # Expanded ids become whole objects, which must match their own type's example.
            for obj in double.store.all("payment_intent"):
                expanded = http.get(
                    f"/v1/payment_intents/{obj['id']}",
                    params={"expand[]": ["latest_charge", "customer"]},
                )
                objects.append(expanded.json())
            lists = [
                http.get(path).json()
                for path in ("/v1/events", "/v1/balance_transactions", "/v1/invoices")
            ]
        yield {"objects": objects, "lists": lists, "events": double.events()}


def test_every_served_type_is_produced(served: Any) -> None:
    assert types_within(served["objects"]) >= set(SERVED_TYPES)


def test_expanded_fields_are_served_as_objects(served: Any) -> None:
    intents = [obj for obj in served["objects"] if obj["object"] == "payment_intent"]
    assert any(isinstance(intent["latest_charge"], dict) for intent in intents)


def test_every_state_change_is_recorded_as_an_event(served: Any) -> None:
    assert {event["type"] for event in served["events"]} >= EXPECTED_EVENTS


def test_every_served_object_has_the_keys_of_stripes_example(
    served: Any, stripe_examples: dict[str, Any]
) -> None:
    problems = []
    for obj in served["objects"]:
        problems += key_differences(obj, stripe_examples[obj["object"]], stripe_examples,
                                    f"{obj['object']} {obj['id']}")  # fmt: skip
    assert problems == []


def test_lists_have_the_keys_of_stripes_list_and_items(
    served: Any, stripe_examples: dict[str, Any]
) -> None:
    reference = stripe_examples["charge"]["refunds"]
    problems = []
    for listed in served["lists"]:
        problems += key_differences(listed, reference, stripe_examples, listed["url"])
    assert problems == []


def test_the_templates_are_stripes_examples_verbatim() -> None:
    stripe_examples = published_examples()
    if stripe_examples is None:
        pytest.skip(f"no {FIXTURES} beside {REPOSITORY_ROOT} to compare the templates with")
    for object_type in SERVED_TYPES:
        assert example(object_type) == stripe_examples[object_type], object_type


def test_the_comparison_finds_a_missing_an_extra_and_a_nested_key(
    stripe_examples: dict[str, Any],
) -> None:
    charge = example("charge")
    del charge["amount"]
    charge["amount_in_cents"] = 1
    del charge["outcome"]["type"]
    charge["refunds"]["data"] = [{**example("refund"), "extra": 1}]
    assert sorted(key_differences(charge, stripe_examples["charge"], stripe_examples)) == [
        "$.amount: missing",
        "$.amount_in_cents: not in Stripe's example",
        "$.outcome.type: missing",
        "$.refunds.data[0].extra: not in Stripe's example",
    ]
