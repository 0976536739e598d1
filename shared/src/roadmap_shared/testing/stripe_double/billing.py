"""Subscriptions and their invoices: trials, renewals, proration, cancellation, dunning."""

import calendar
import copy
from datetime import UTC, datetime

from roadmap_shared.testing.stripe_double.errors import StripeError, invalid
from roadmap_shared.testing.stripe_double.params import Params
from roadmap_shared.testing.stripe_double.payments import card_for, create_intent_for, settle
from roadmap_shared.testing.stripe_double.store import RequestContext, Store, new_id, paginate
from roadmap_shared.testing.stripe_double.templates import (
    JSONObject,
    blank,
    list_object,
    part,
    put,
)

PRORATION_BEHAVIORS = ("create_prorations", "none", "always_invoice")
SUCCEEDING_CARD = "pm_card_visa"
DECLINING_CARD = "pm_card_chargeDeclined"


def add_interval(moment: int, interval: str, count: int) -> int:
    when = datetime.fromtimestamp(moment, UTC)
    if interval in ("day", "week"):
        return moment + count * (86400 if interval == "day" else 7 * 86400)
    months = count * (12 if interval == "year" else 1)
    year, month = divmod(when.month - 1 + months, 12)
    year += when.year
    day = min(when.day, calendar.monthrange(year, month + 1)[1])
    return int(when.replace(year=year, month=month + 1, day=day).timestamp())


def _item(store: Store, subscription_id: str, price: JSONObject, quantity: int) -> JSONObject:
    recurring = price["recurring"]
    plan = part(
        "subscription_item",
        "plan",
        active=True,
        amount=price["unit_amount"],
        amount_decimal=price["unit_amount_decimal"],
        billing_scheme="per_unit",
        created=price["created"],
        currency=price["currency"],
        id=price["id"],
        interval=recurring["interval"],
        interval_count=recurring["interval_count"],
        livemode=False,
        metadata=price["metadata"],
        nickname=price["nickname"],
        object="plan",
        product=price["product"],
        usage_type="licensed",
        transform_usage=None,
    )
    return put(
        blank("subscription_item"),
        id=new_id("si_", 14),
        created=store.now(),
        discounts=[],
        price=copy.deepcopy(price),
        quantity=quantity,
        subscription=subscription_id,
        tax_rates=[],
        plan=plan,
    )


def _recurring_price(store: Store, price_id: str, param: str) -> JSONObject:
    price = store.get("price", price_id, param)
    if price["recurring"] is None:
        raise invalid(
            f"The price specified is set to `type=one_time` but this field only accepts prices "
            f"with `type=recurring`: {price_id}",
            param=param,
        )
    return price


def create_subscription(store: Store, params: Params, context: RequestContext) -> JSONObject:
    params.allow(
        "customer", "items", "trial_period_days", "metadata", "default_payment_method",
        "cancel_at_period_end", "payment_behavior", "proration_behavior", "collection_method",
    )  # fmt: skip
    customer = store.get("customer", params.required("customer"), "customer")
    items = params.items("items")
    if not items:
        raise invalid("Missing required param: items.", param="items", code="parameter_missing")
    chosen = []
    for item in items:
        item.allow("price", "quantity")
        price = _recurring_price(store, item.required("price"), f"{item.prefix}[price]")
        chosen.append((price, item.integer("quantity", minimum=1) or 1))
    payment_method = params.text("default_payment_method")
    if payment_method is not None:
        card_for(payment_method)
    return start_subscription(
        store,
        customer["id"],
        chosen,
        trial_days=params.integer("trial_period_days", minimum=1),
        metadata=params.metadata(),
        payment_method=payment_method,
        cancel_at_period_end=bool(params.boolean("cancel_at_period_end")),
        context=context,
    )


def start_subscription(
    store: Store,
    customer_id: str,
    prices: list[tuple[JSONObject, int]],
    *,
    trial_days: int | None,
    metadata: dict[str, str],
    payment_method: str | None,
    cancel_at_period_end: bool,
    context: RequestContext,
) -> JSONObject:
    now = store.now()
    subscription_id = new_id("sub_")
    recurring = prices[0][0]["recurring"]
    trial_end = None if trial_days is None else now + trial_days * 86400
    period_end = trial_end or add_interval(now, recurring["interval"], recurring["interval_count"])
    items = [_item(store, subscription_id, price, quantity) for price, quantity in prices]
    for item in items:
        item.update(current_period_start=now, current_period_end=period_end)
    subscription = store.add(
        put(
            blank("subscription"),
            id=subscription_id,
            automatic_tax=part("subscription", "automatic_tax", enabled=False),
            billing_cycle_anchor=period_end if trial_end else now,
            cancel_at=period_end if cancel_at_period_end else None,
            cancellation_details=part("subscription", "cancellation_details"),
            collection_method="charge_automatically",
            created=now,
            currency=prices[0][0]["currency"],
            customer=customer_id,
            default_payment_method=payment_method,
            default_tax_rates=[],
            discounts=[],
            invoice_settings=part("subscription", "invoice_settings", issuer={"type": "self"}),
            items=list_object(f"/v1/subscription_items?subscription={subscription_id}", items),
            metadata=metadata,
            payment_settings=part(
                "subscription",
                "payment_settings",
                payment_method_options=None,
                save_default_payment_method="off",
            ),
            start_date=now,
            status="trialing" if trial_end else "incomplete",
            trial_end=trial_end,
            trial_settings=part(
                "subscription",
                "trial_settings",
                end_behavior={"missing_payment_method": "create_invoice"},
            ),
            trial_start=now if trial_end else None,
            cancel_at_period_end=cancel_at_period_end,
            billing_mode=part("subscription", "billing_mode", type="classic"),
            billing_schedules=[],
        )
    )
    store.hidden[f"card:{subscription_id}"] = payment_method or SUCCEEDING_CARD
    invoice = _invoice(store, subscription, "subscription_create", _cycle_lines(subscription))
    store.emit("customer.subscription.created", subscription, context)
    _collect(store, subscription, invoice, store.hidden[f"card:{subscription_id}"], context)
    return subscription


def _cycle_lines(subscription: JSONObject) -> list[tuple[JSONObject, int, int, bool]]:
    """(item, quantity, amount, proration) for one period of every item; nothing is
    charged during a trial."""
    trialing = subscription["status"] == "trialing"
    return [
        (item, item["quantity"], 0 if trialing else item["price"]["unit_amount"] * item["quantity"],
         False)
        for item in subscription["items"]["data"]
    ]  # fmt: skip


def _invoice(
    store: Store,
    subscription: JSONObject,
    billing_reason: str,
    lines: list[tuple[JSONObject, int, int, bool]],
) -> JSONObject:
    now = store.now()
    invoice_id = new_id("in_")
    customer = store.get("customer", subscription["customer"])
    first = subscription["items"]["data"][0]
    line_items = [
        put(
            blank("line_item"),
            id=new_id("il_"),
            amount=amount,
            currency=subscription["currency"],
            description=f"{quantity} x {item['price']['product']}"
            + (" (proration)" if proration else ""),
            discount_amounts=[],
            discountable=not proration,
            discounts=[],
            invoice=invoice_id,
            period={"end": item["current_period_end"], "start": item["current_period_start"]},
            quantity=quantity,
            subscription=subscription["id"],
            parent=part(
                "line_item",
                "parent",
                subscription_item_details=part(
                    "line_item",
                    "parent.subscription_item_details",
                    proration=proration,
                    subscription=subscription["id"],
                    subscription_item=item["id"],
                ),
                type="subscription_item_details",
            ),
            pricing=part(
                "line_item",
                "pricing",
                type="price_details",
                unit_amount_decimal=item["price"]["unit_amount_decimal"],
            ),
            subtotal=amount,
        )
        for item, quantity, amount, proration in lines
    ]
    total = max(0, sum(line["amount"] for line in line_items))
    sequence = customer["next_invoice_sequence"]
    customer["next_invoice_sequence"] += 1
    invoice = store.add(
        put(
            blank("invoice"),
            id=invoice_id,
            account_country="US",
            amount_due=total,
            amount_paid=0,
            amount_remaining=total,
            amount_shipping=0,
            attempt_count=0,
            attempted=False,
            auto_advance=True,
            automatic_tax=part("invoice", "automatic_tax", enabled=False),
            billing_reason=billing_reason,
            collection_method="charge_automatically",
            created=now,
            currency=subscription["currency"],
            customer=customer["id"],
            customer_email=customer["email"],
            customer_name=customer["name"],
            customer_tax_exempt="none",
            customer_tax_ids=[],
            default_tax_rates=[],
            discounts=[],
            effective_at=now,
            ending_balance=0,
            hosted_invoice_url=f"https://invoice.stripe.com/i/{new_id('', 32)}",
            issuer={"type": "self"},
            lines=list_object(f"/v1/invoices/{invoice_id}/lines", line_items),
            number=f"{customer['invoice_prefix']}-{sequence:04d}",
            parent=part(
                "invoice",
                "parent",
                subscription_details=part(
                    "invoice",
                    "parent.subscription_details",
                    metadata=dict(subscription["metadata"]),
                    subscription=subscription["id"],
                ),
                type="subscription_details",
            ),
            period_end=first["current_period_end"],
            period_start=first["current_period_start"],
            post_payment_credit_notes_amount=0,
            pre_payment_credit_notes_amount=0,
            starting_balance=0,
            status="open",
            status_transitions=part("invoice", "status_transitions", finalized_at=now),
            subscription=subscription["id"],
            subtotal=total,
            subtotal_excluding_tax=total,
            total=total,
            total_discount_amounts=[],
            total_excluding_tax=total,
            total_pretax_credit_amounts=[],
            total_taxes=[],
            amount_overpaid=0,
        )
    )  # fmt: skip
    subscription["latest_invoice"] = invoice_id
    store.emit("invoice.created", invoice, RequestContext())
    store.emit("invoice.finalized", invoice, RequestContext())
    return invoice


def _collect(
    store: Store,
    subscription: JSONObject,
    invoice: JSONObject,
    payment_method: str,
    context: RequestContext,
) -> None:
    """Charges an open invoice; the subscription follows: active once paid, past due (or
    incomplete, for its first invoice) when the card is declined."""
    invoice["attempted"] = True
    invoice["attempt_count"] += 1
    paid = True
    if invoice["amount_due"] > 0:
        intent = create_intent_for(store, invoice, payment_method, context)
        try:
            settle(store, intent, card_for(payment_method), context)
        except StripeError:
            paid = False
    previous_status = subscription["status"]
    if paid:
        now = store.now()
        invoice.update(status="paid", amount_paid=invoice["amount_due"], amount_remaining=0,
                       next_payment_attempt=None)  # fmt: skip
        invoice["status_transitions"]["paid_at"] = now
        if subscription["status"] != "trialing":
            subscription["status"] = "active"
        store.emit("invoice.paid", invoice, context)
        store.emit("invoice.payment_succeeded", invoice, context)
    else:
        invoice["next_payment_attempt"] = store.now() + 3 * 86400
        first_invoice = invoice["billing_reason"] == "subscription_create"
        subscription["status"] = "incomplete" if first_invoice else "past_due"
        store.emit("invoice.payment_failed", invoice, context)
    if previous_status != subscription["status"]:
        store.emit("customer.subscription.updated", subscription, context)


def update_subscription(
    store: Store, subscription_id: str, params: Params, context: RequestContext
) -> JSONObject:
    params.allow(
        "items", "proration_behavior", "cancel_at_period_end", "metadata",
        "default_payment_method", "cancellation_details",
    )  # fmt: skip
    subscription = store.get("subscription", subscription_id)
    if subscription["status"] == "canceled":
        raise StripeError(
            400,
            "A canceled subscription can only update its cancellation_details and metadata.",
        )
    behavior = params.choice("proration_behavior", PRORATION_BEHAVIORS) or "create_prorations"
    before = copy.deepcopy(subscription)
    prorations = _change_items(store, subscription, params.items("items"))
    cancel_at_period_end = params.boolean("cancel_at_period_end")
    if cancel_at_period_end is not None:
        end = subscription["items"]["data"][0]["current_period_end"]
        subscription.update(
            cancel_at_period_end=cancel_at_period_end,
            cancel_at=end if cancel_at_period_end else None,
            canceled_at=store.now() if cancel_at_period_end else None,
        )
    subscription["metadata"] = params.metadata(subscription["metadata"])
    payment_method = params.text("default_payment_method")
    if payment_method is not None:
        card_for(payment_method)
        subscription["default_payment_method"] = payment_method
        store.hidden[f"card:{subscription_id}"] = payment_method
    if prorations and behavior != "none" and subscription["status"] != "trialing":
        if behavior == "always_invoice":
            invoice = _invoice(store, subscription, "subscription_update", prorations)
            _collect(store, subscription, invoice, store.hidden[f"card:{subscription_id}"],
                     context)  # fmt: skip
        else:
            store.hidden.setdefault(f"prorations:{subscription_id}", []).extend(prorations)
    if subscription != before:
        store.emit("customer.subscription.updated", subscription, context)
    return subscription


def _change_items(
    store: Store, subscription: JSONObject, changes: list[Params]
) -> list[tuple[JSONObject, int, int, bool]]:
    """Applies item changes; returns the proration lines: the unused time of the old
    price and quantity credited, the remaining time of the new ones charged."""
    now = store.now()
    prorations = []
    items = subscription["items"]["data"]
    for change in changes:
        change.allow("id", "price", "quantity", "deleted")
        item_id = change.text("id")
        if item_id is None:
            raise invalid(
                "Pass the `id` of the subscription item to change.", param=f"{change.prefix}[id]"
            )
        item = next((item for item in items if item["id"] == item_id), None)
        if item is None:
            raise StripeError(
                404,
                f"No such subscription item: '{item_id}'",
                code="resource_missing",
                param=f"{change.prefix}[id]",
            )
        start, end = item["current_period_start"], item["current_period_end"]
        remaining = max(0.0, (end - now) / (end - start)) if end > start else 0.0
        old_amount = item["price"]["unit_amount"] * item["quantity"]
        if change.has("price"):
            price = _recurring_price(store, change.required("price"), f"{change.prefix}[price]")
            item["price"] = copy.deepcopy(price)
            item["plan"].update(id=price["id"], amount=price["unit_amount"],
                                amount_decimal=price["unit_amount_decimal"],
                                interval=price["recurring"]["interval"],
                                interval_count=price["recurring"]["interval_count"],
                                product=price["product"])  # fmt: skip
        quantity = change.integer("quantity", minimum=1)
        if quantity is not None:
            item["quantity"] = quantity
        new_amount = item["price"]["unit_amount"] * item["quantity"]
        if new_amount != old_amount:
            prorations.append((item, item["quantity"], round((new_amount - old_amount) * remaining),
                               True))  # fmt: skip
    return prorations


def cancel_subscription(
    store: Store, subscription_id: str, params: Params, context: RequestContext
) -> JSONObject:
    params.allow("invoice_now", "prorate", "cancellation_details")
    subscription = store.get("subscription", subscription_id)
    if subscription["status"] == "canceled":
        raise StripeError(
            400, f"The subscription {subscription_id} has already been canceled.", param="id"
        )
    return end_subscription(store, subscription, "cancellation_requested", context)


def end_subscription(
    store: Store, subscription: JSONObject, reason: str, context: RequestContext
) -> JSONObject:
    now = store.now()
    subscription.update(status="canceled", canceled_at=subscription["canceled_at"] or now,
                        ended_at=now)  # fmt: skip
    subscription["cancellation_details"]["reason"] = reason
    store.emit("customer.subscription.deleted", subscription, context)
    return subscription


def next_invoice(store: Store, subscription_id: str, *, pays: bool) -> JSONObject:
    """What Stripe does at the end of a period (or on its next retry of an unpaid invoice):
    charges the next invoice to a card that succeeds (`pays`) or is declined."""
    context = RequestContext()
    subscription = store.get("subscription", subscription_id)
    card = SUCCEEDING_CARD if pays else DECLINING_CARD
    latest = store.find("invoice", subscription["latest_invoice"] or "")
    if latest is not None and latest["status"] == "open":
        _collect(store, subscription, latest, card, context)
        return latest
    if subscription["cancel_at_period_end"]:
        end_subscription(store, subscription, "cancellation_requested", context)
        raise ValueError(f"{subscription_id} ended at its period's end: it has no next invoice")
    for item in subscription["items"]["data"]:
        start = item["current_period_end"]
        recurring = item["price"]["recurring"]
        item.update(
            current_period_start=start,
            current_period_end=add_interval(start, recurring["interval"],
                                            recurring["interval_count"]),
        )  # fmt: skip
    if subscription["status"] == "trialing":
        subscription["status"] = "active"
    lines = _cycle_lines(subscription) + store.hidden.pop(f"prorations:{subscription_id}", [])
    invoice = _invoice(store, subscription, "subscription_cycle", lines)
    store.emit("customer.subscription.updated", subscription, context)
    _collect(store, subscription, invoice, card, context)
    return invoice


def list_subscriptions(store: Store, params: Params) -> JSONObject:
    params.allow("customer", "status", "price", "limit", "starting_after")
    found = store.all("subscription")
    status = params.text("status")
    if status != "all":
        found = [sub for sub in found if sub["status"] == status or (
            status is None and sub["status"] != "canceled")]  # fmt: skip
    if params.has("customer"):
        found = [sub for sub in found if sub["customer"] == params.text("customer")]
    return paginate(
        found,
        "/v1/subscriptions",
        params.integer("limit", minimum=1),
        params.text("starting_after"),
    )


def list_invoices(store: Store, params: Params) -> JSONObject:
    params.allow("subscription", "customer", "status", "limit", "starting_after")
    found = store.all("invoice")
    for key in ("subscription", "customer", "status"):
        if params.has(key):
            found = [invoice for invoice in found if invoice[key] == params.text(key)]
    return paginate(
        found, "/v1/invoices", params.integer("limit", minimum=1), params.text("starting_after")
    )
