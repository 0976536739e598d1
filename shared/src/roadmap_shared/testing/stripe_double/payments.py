"""PaymentIntents, their charges, and the balance transactions money movements leave."""

from roadmap_shared.testing.stripe_double.cards import TEST_CARDS, TestCard
from roadmap_shared.testing.stripe_double.catalog import currency
from roadmap_shared.testing.stripe_double.errors import StripeError, invalid, unexpected_state
from roadmap_shared.testing.stripe_double.params import Params
from roadmap_shared.testing.stripe_double.store import RequestContext, Store, new_id, paginate
from roadmap_shared.testing.stripe_double.templates import (
    JSONObject,
    blank,
    list_object,
    part,
    put,
)

CONFIRMABLE = ("requires_payment_method", "requires_confirmation", "requires_action")
CANCELABLE = (*CONFIRMABLE, "requires_capture", "processing")
CAPTURE_METHODS = ("automatic", "automatic_async", "manual")
CANCELLATION_REASONS = ("duplicate", "fraudulent", "requested_by_customer", "abandoned")
# Stripe's minimum charge, in the smallest unit, for the currencies that have one of 0.50.
MINIMUM_AMOUNTS = {"usd": 50, "eur": 50, "gbp": 30, "chf": 50, "cad": 50, "aud": 50}
# An amount has at most eight digits, whatever the currency ($999,999.99 in dollars).
MAXIMUM_AMOUNT = 99_999_999


def card_for(payment_method: str) -> TestCard:
    card = TEST_CARDS.get(payment_method)
    if card is None:
        raise StripeError(
            400,
            f"No such PaymentMethod: '{payment_method}'",
            code="resource_missing",
            param="payment_method",
        )
    return card


def balance_transaction(
    store: Store, *, amount: int, currency: str, source: str, kind: str, description: str | None
) -> JSONObject:
    """Fees are zero in the double: `net` equals `amount`, which keeps reconciliation
    arithmetic readable."""
    now = store.now()
    return store.add(
        put(
            blank("balance_transaction"),
            id=new_id("txn_"),
            amount=amount,
            available_on=now + 2 * 86400,
            created=now,
            currency=currency,
            description=description,
            fee=0,
            fee_details=[],
            net=amount,
            reporting_category={"adjustment": "dispute"}.get(kind, kind),
            source=source,
            status="pending",
            type=kind,
            balance_type="payments",
        )
    )


def list_balance_transactions(store: Store, params: Params) -> JSONObject:
    params.allow("created", "type", "source", "limit", "starting_after")
    found = store.all("balance_transaction")
    created = params.nested("created")
    created.allow("gt", "gte", "lt", "lte")
    bounds = {op: created.integer(op) for op in ("gt", "gte", "lt", "lte")}
    found = [txn for txn in found if _within(txn["created"], bounds)]
    for key in ("type", "source"):
        if params.has(key):
            found = [txn for txn in found if txn[key] == params.text(key)]
    return paginate(
        found,
        "/v1/balance_transactions",
        params.integer("limit", minimum=1),
        params.text("starting_after"),
    )


def _within(moment: int, bounds: dict[str, int | None]) -> bool:
    checks = {
        "gt": lambda bound: moment > bound,
        "gte": lambda bound: moment >= bound,
        "lt": lambda bound: moment < bound,
        "lte": lambda bound: moment <= bound,
    }
    return all(bound is None or checks[op](bound) for op, bound in bounds.items())


def create_payment_intent(store: Store, params: Params, context: RequestContext) -> JSONObject:
    params.allow(
        "amount", "currency", "customer", "description", "metadata", "payment_method",
        "payment_method_types", "automatic_payment_methods", "confirm", "receipt_email",
        "return_url", "off_session", "setup_future_usage", "statement_descriptor_suffix",
        "capture_method",
    )  # fmt: skip
    amount = params.integer("amount", required=True, minimum=1) or 0
    money = currency(params) or ""
    minimum = MINIMUM_AMOUNTS.get(money, 1)
    if amount < minimum:
        raise StripeError(
            400,
            f"Amount must be at least {format_money(minimum, money)} {money}",
            code="amount_too_small",
            param="amount",
            saved=False,
        )
    if amount > MAXIMUM_AMOUNT:
        raise StripeError(
            400,
            f"Amount must be no more than {format_money(MAXIMUM_AMOUNT, money)} {money}",
            code="amount_too_large",
            param="amount",
            saved=False,
        )
    customer = params.text("customer")
    if customer is not None:
        store.get("customer", customer, "customer")
    automatic = params.nested("automatic_payment_methods").boolean("enabled")
    intent_id = new_id("pi_")
    intent = store.add(
        put(
            blank("payment_intent"),
            id=intent_id,
            amount=amount,
            amount_capturable=0,
            amount_details={"tip": {}},
            amount_received=0,
            automatic_payment_methods=None
            if automatic is None
            else part("payment_intent", "automatic_payment_methods", enabled=automatic),
            capture_method=params.choice("capture_method", CAPTURE_METHODS) or "automatic",
            client_secret=f"{intent_id}_secret_{new_id('', 25)}",
            confirmation_method="automatic",
            created=store.now(),
            currency=money,
            customer=customer,
            description=params.text("description"),
            metadata=params.metadata(),
            payment_method=params.text("payment_method"),
            payment_method_options={},
            payment_method_types=params.strings("payment_method_types") or ["card"],
            receipt_email=params.text("receipt_email"),
            setup_future_usage=params.text("setup_future_usage"),
            statement_descriptor_suffix=params.text("statement_descriptor_suffix"),
            status="requires_payment_method"
            if params.text("payment_method") is None
            else "requires_confirmation",
        )
    )
    store.emit("payment_intent.created", intent, context)
    if params.boolean("confirm"):
        confirm(store, intent, intent["payment_method"], context)
    return intent


def create_intent_for(
    store: Store, invoice: JSONObject, payment_method: str, context: RequestContext
) -> JSONObject:
    """The PaymentIntent Stripe creates to collect an invoice."""
    intent_id = new_id("pi_")
    intent = store.add(
        put(
            blank("payment_intent"),
            id=intent_id,
            amount=invoice["amount_due"],
            amount_capturable=0,
            amount_details={"tip": {}},
            amount_received=0,
            capture_method="automatic",
            client_secret=f"{intent_id}_secret_{new_id('', 25)}",
            confirmation_method="automatic",
            created=store.now(),
            currency=invoice["currency"],
            customer=invoice["customer"],
            description="Subscription update"
            if invoice["billing_reason"] == "subscription_update"
            else "Subscription creation"
            if invoice["billing_reason"] == "subscription_create"
            else "Subscription cycle",
            payment_method=payment_method,
            payment_method_options={},
            payment_method_types=["card"],
            status="requires_confirmation",
        )
    )
    store.emit("payment_intent.created", intent, context)
    return intent


def confirm_payment_intent(
    store: Store, intent_id: str, params: Params, context: RequestContext
) -> JSONObject:
    params.allow("payment_method", "return_url", "off_session", "receipt_email")
    intent = store.get("payment_intent", intent_id)
    return confirm(
        store, intent, params.text("payment_method") or intent["payment_method"], context
    )


def confirm(
    store: Store, intent: JSONObject, payment_method: str | None, context: RequestContext
) -> JSONObject:
    if intent["status"] == "succeeded":
        raise unexpected_state(
            "You cannot confirm this PaymentIntent because it has already succeeded after "
            "being previously confirmed."
        )
    if intent["status"] not in CONFIRMABLE:
        raise unexpected_state(
            f"You cannot confirm this PaymentIntent because it has a status of {intent['status']}."
        )
    if payment_method is None:
        raise unexpected_state(
            "You cannot confirm this PaymentIntent because it's missing a payment method. "
            "To confirm the PaymentIntent with a payment method, pass `payment_method`."
        )
    card = card_for(payment_method)
    intent["payment_method"] = payment_method
    if card.requires_authentication and intent["status"] != "requires_action":
        intent.update(status="requires_action", next_action={"type": "use_stripe_sdk"})
        store.emit("payment_intent.requires_action", intent, context)
        return intent
    return settle(store, intent, card, context)


def authenticate(
    store: Store, intent_id: str, *, succeeds: bool, context: RequestContext
) -> JSONObject:
    """The customer passes (or fails) 3-D Secure for an intent that requires action."""
    intent = store.get("payment_intent", intent_id)
    if intent["status"] != "requires_action":
        raise ValueError(f"{intent_id} is {intent['status']}, not requires_action")
    if succeeds:
        return settle(store, intent, card_for(intent["payment_method"]), context)
    intent.update(status="requires_payment_method", next_action=None,
                  last_payment_error={"type": "card_error"})  # fmt: skip
    store.emit("payment_intent.payment_failed", intent, context)
    return intent


def settle(store: Store, intent: JSONObject, card: TestCard, context: RequestContext) -> JSONObject:
    """Charges the card: the intent succeeds, or fails with Stripe's decline (402)."""
    charge = store.add(new_charge(store, intent, card))
    intent.update(latest_charge=charge["id"], next_action=None)
    if card.decline is not None:
        intent.update(status="requires_payment_method", last_payment_error={"type": "card_error"})
        store.emit("charge.failed", charge, context)
        store.emit("payment_intent.payment_failed", intent, context)
        code, decline_code, message = card.decline
        raise StripeError(
            402,
            message,
            error_type="card_error",
            code=code,
            decline_code=decline_code,
            extra={
                "charge": charge["id"],
                "doc_url": f"https://stripe.com/docs/error-codes/{code}",
                "payment_intent": intent,
            },
        )
    if intent["capture_method"] == "manual":
        # Authorised only: the amount is held on the card until captured or canceled.
        charge.update(captured=False, amount_captured=0)
        intent.update(
            status="requires_capture", amount_capturable=intent["amount"], last_payment_error=None
        )
        store.emit("charge.succeeded", charge, context)
        store.emit("payment_intent.amount_capturable_updated", intent, context)
        return intent
    charge["balance_transaction"] = charged(store, charge, charge["amount"])
    intent.update(status="succeeded", amount_received=intent["amount"], last_payment_error=None)
    store.emit("charge.succeeded", charge, context)
    store.emit("payment_intent.succeeded", intent, context)
    return intent


def charged(store: Store, charge: JSONObject, amount: int) -> str:
    """The balance transaction of money taken; returns its id."""
    txn = balance_transaction(
        store,
        amount=amount,
        currency=charge["currency"],
        source=charge["id"],
        kind="charge",
        description=charge["description"],
    )
    return str(txn["id"])


def capture_payment_intent(
    store: Store, intent_id: str, params: Params, context: RequestContext
) -> JSONObject:
    """Takes all or part of an authorised amount; the rest is released to the customer."""
    params.allow("amount_to_capture")
    intent = store.get("payment_intent", intent_id)
    if intent["status"] != "requires_capture":
        raise unexpected_state(
            "This PaymentIntent could not be captured because it has a status of "
            f"{intent['status']}. Only a PaymentIntent with one of the following statuses may "
            "be captured: requires_capture."
        )
    amount = params.integer("amount_to_capture", minimum=1) or intent["amount_capturable"]
    if amount > intent["amount_capturable"]:
        raise invalid(
            "The amount to capture must be less than or equal to the amount capturable "
            f"({intent['amount_capturable']}).",
            param="amount_to_capture",
            code="amount_too_large",
        )
    charge = store.get("charge", intent["latest_charge"])
    charge.update(
        captured=True, amount_captured=amount, balance_transaction=charged(store, charge, amount)
    )
    intent.update(status="succeeded", amount_capturable=0, amount_received=amount)
    store.emit("charge.captured", charge, context)
    store.emit("payment_intent.succeeded", intent, context)
    return intent


def new_charge(store: Store, intent: JSONObject, card: TestCard) -> JSONObject:
    charge_id = new_id("ch_")
    paid = card.decline is None
    outcome = part(
        "charge",
        "outcome",
        network_status="approved_by_network" if paid else "declined_by_network",
        reason=None if paid else card.decline[1] if card.decline else None,
        seller_message="Payment complete."
        if paid
        else "The bank did not return any further details with this decline.",
        type="authorized" if paid else "issuer_declined",
    )
    details = part(
        "charge",
        "payment_method_details.card",
        brand=card.brand,
        checks=part("charge", "payment_method_details.card.checks", cvc_check="pass"),
        country="US",
        exp_month=12,
        exp_year=2034,
        fingerprint=new_id("", 16),
        funding="credit",
        last4=card.last4,
        network=card.brand,
    )
    return put(
        blank("charge"),
        id=charge_id,
        amount=intent["amount"],
        amount_captured=intent["amount"] if paid else 0,
        amount_refunded=0,
        billing_details=part("charge", "billing_details"),
        captured=paid,
        created=store.now(),
        currency=intent["currency"],
        customer=intent["customer"],
        description=intent["description"],
        disputed=False,
        failure_code=None if paid else card.decline[0] if card.decline else None,
        failure_message=None if paid else card.decline[2] if card.decline else None,
        fraud_details={},
        metadata=dict(intent["metadata"]),
        outcome=outcome,
        paid=paid,
        payment_intent=intent["id"],
        payment_method=intent["payment_method"],
        payment_method_details=part("charge", "payment_method_details", card=details, type="card"),
        receipt_email=intent["receipt_email"],
        receipt_url=f"https://pay.stripe.com/receipts/payment/{new_id('', 40)}",
        refunded=False,
        refunds=list_object(f"/v1/charges/{charge_id}/refunds", []),
        status="succeeded" if paid else "failed",
    )


def cancel_payment_intent(
    store: Store, intent_id: str, params: Params, context: RequestContext
) -> JSONObject:
    params.allow("cancellation_reason")
    intent = store.get("payment_intent", intent_id)
    reason = params.choice("cancellation_reason", CANCELLATION_REASONS)
    if intent["status"] not in CANCELABLE:
        raise unexpected_state(
            "You cannot cancel this PaymentIntent because it has a status of "
            f"{intent['status']}. Only a PaymentIntent with one of the following statuses may "
            "be canceled: requires_payment_method, requires_capture, requires_confirmation, "
            "requires_action, processing."
        )
    intent.update(
        status="canceled",
        canceled_at=store.now(),
        cancellation_reason=reason,
        next_action=None,
        amount_capturable=0,  # an authorisation's hold is released
    )
    store.emit("payment_intent.canceled", intent, context)
    return intent


def list_charges(store: Store, params: Params) -> JSONObject:
    params.allow("payment_intent", "customer", "limit", "starting_after")
    found = store.all("charge")
    for key in ("payment_intent", "customer"):
        if params.has(key):
            found = [charge for charge in found if charge[key] == params.text(key)]
    return paginate(
        found, "/v1/charges", params.integer("limit", minimum=1), params.text("starting_after")
    )


ZERO_DECIMAL = {"jpy", "krw", "vnd", "clp", "pyg", "ugx", "xaf", "xof"}
SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "cad": "$", "aud": "$"}


def format_money(amount: int, money: str) -> str:
    """As Stripe writes amounts in its messages: `$7.00`, `¥700`."""
    if money in ZERO_DECIMAL:
        return f"{SYMBOLS.get(money, '')}{amount}"
    return f"{SYMBOLS.get(money, '')}{amount / 100:.2f}"


def ensure_positive(amount: int | None, param: str) -> None:
    if amount is not None and amount <= 0:
        raise invalid("Invalid positive integer", param=param, code="parameter_invalid_integer")
