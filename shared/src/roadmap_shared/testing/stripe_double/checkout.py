"""Checkout Sessions (Stripe's hosted payment page) and Billing Portal sessions."""

from roadmap_shared.testing.stripe_double.billing import start_subscription
from roadmap_shared.testing.stripe_double.catalog import new_price, new_product
from roadmap_shared.testing.stripe_double.errors import StripeError, invalid
from roadmap_shared.testing.stripe_double.params import Params
from roadmap_shared.testing.stripe_double.payments import card_for, settle
from roadmap_shared.testing.stripe_double.store import RequestContext, Store, new_id
from roadmap_shared.testing.stripe_double.templates import JSONObject, blank, part, put

MODES = ("payment", "subscription")
SESSION_SECONDS = 24 * 3600


def _line_items(store: Store, params: Params, mode: str) -> list[tuple[JSONObject, int]]:
    lines = []
    for line in params.items("line_items"):
        line.allow("price", "price_data", "quantity")
        if line.has("price_data"):
            data = line.nested("price_data")
            data.allow("currency", "unit_amount", "product", "product_data", "recurring")
            if data.has("product_data"):
                product_id = store.add(new_product(store, data.nested("product_data")))["id"]
            else:
                product_id = store.get("product", data.required("product"), "product")["id"]
            price = store.add(new_price(store, data, product_id))
        else:
            price = store.get("price", line.required("price"), f"{line.prefix}[price]")
        lines.append((price, line.integer("quantity", required=True, minimum=1) or 1))
    if not lines:
        raise invalid(
            "Missing required param: line_items.", param="line_items", code="parameter_missing"
        )
    recurring = [price for price, _ in lines if price["recurring"] is not None]
    if mode == "payment" and recurring:
        raise invalid(
            "You specified `payment` mode but passed a recurring price. Either switch to "
            "`subscription` mode or use only one-time prices.",
            param="mode",
        )
    if mode == "subscription" and len(recurring) != len(lines):
        raise invalid(
            "You must specify only recurring prices in `subscription` mode.", param="line_items"
        )
    return lines


def create_session(store: Store, params: Params, context: RequestContext) -> JSONObject:
    params.allow(
        "mode", "line_items", "success_url", "cancel_url", "customer", "customer_email",
        "client_reference_id", "metadata", "subscription_data", "payment_intent_data",
        "payment_method_types", "ui_mode", "expires_at",
    )  # fmt: skip
    mode = params.choice("mode", MODES, required=True) or "payment"
    lines = _line_items(store, params, mode)
    customer = params.text("customer")
    if customer is not None:
        store.get("customer", customer, "customer")
    subtotal = sum(price["unit_amount"] * quantity for price, quantity in lines)
    now = store.now()
    session_id = new_id("cs_test_", 58)
    session = store.add(
        put(
            blank("checkout.session"),
            id=session_id,
            amount_subtotal=subtotal,
            amount_total=subtotal,
            automatic_tax=part("checkout.session", "automatic_tax", enabled=False),
            cancel_url=params.text("cancel_url"),
            client_reference_id=params.text("client_reference_id"),
            created=now,
            currency=lines[0][0]["currency"],
            custom_fields=[],
            customer=customer,
            customer_creation=None if customer else "if_required" if mode == "payment"
            else "always",
            customer_email=params.text("customer_email"),
            expires_at=params.integer("expires_at") or now + SESSION_SECONDS,
            metadata=params.metadata(),
            mode=mode,
            payment_method_collection="always",
            payment_method_options={},
            payment_method_types=params.strings("payment_method_types") or ["card"],
            payment_status="unpaid",
            phone_number_collection=part("checkout.session", "phone_number_collection",
                                         enabled=False),
            shipping_options=[],
            status="open",
            success_url=params.text("success_url"),
            total_details=part("checkout.session", "total_details", amount_discount=0,
                               amount_shipping=0, amount_tax=0),
            ui_mode=params.text("ui_mode") or "hosted",
            url=f"https://checkout.stripe.com/c/pay/{session_id}",
            discounts=[],
        )
    )  # fmt: skip
    subscription_data = params.nested("subscription_data")
    subscription_data.allow("trial_period_days", "metadata")
    intent_data = params.nested("payment_intent_data")
    intent_data.allow("metadata", "description")
    store.hidden[f"lines:{session_id}"] = lines
    store.hidden[f"trial:{session_id}"] = subscription_data.integer("trial_period_days", minimum=1)
    store.hidden[f"subscription_metadata:{session_id}"] = subscription_data.metadata()
    store.hidden[f"intent_metadata:{session_id}"] = intent_data.metadata()
    return session


def _open(store: Store, session_id: str, action: str) -> JSONObject:
    session = store.get("checkout.session", session_id, "session")
    if session["status"] != "open":
        raise StripeError(
            400,
            f'Only Checkout Sessions with a status in ["open"] can be {action}. This Checkout '
            f'Session has a status of "{session["status"]}".',
            code="checkout_session_not_open" if action == "expired" else None,
        )
    return session


def expire_session(store: Store, session_id: str, context: RequestContext) -> JSONObject:
    session = _open(store, session_id, "expired")
    session.update(status="expired", url=None)
    store.emit("checkout.session.expired", session, context)
    return session


def complete_session(store: Store, session_id: str, payment_method: str, email: str) -> JSONObject:
    """The customer pays on the hosted page: what Stripe then does, and its events."""
    context = RequestContext()
    session = _open(store, session_id, "completed")
    card = card_for(payment_method)
    lines = store.hidden[f"lines:{session_id}"]
    customer_id = session["customer"]
    if customer_id is None and session["mode"] == "subscription":
        customer_id = store.add(_customer(store, email))["id"]
        store.emit("customer.created", store.get("customer", customer_id), context)
    if session["mode"] == "payment":
        intent = _intent(store, session, customer_id, payment_method, context)
        settle(store, intent, card, context)
        session["payment_intent"] = intent["id"]
    else:
        subscription = start_subscription(
            store,
            customer_id,
            lines,
            trial_days=store.hidden[f"trial:{session_id}"],
            metadata=store.hidden[f"subscription_metadata:{session_id}"],
            payment_method=payment_method,
            cancel_at_period_end=False,
            context=context,
        )
        session.update(subscription=subscription["id"], invoice=subscription["latest_invoice"])
    session.update(
        status="complete",
        payment_status="paid" if session["amount_total"] else "no_payment_required",
        customer=customer_id,
        customer_details=part("checkout.session", "customer_details", email=email,
                              tax_exempt="none", address=None),
        url=None,
    )  # fmt: skip
    store.emit("checkout.session.completed", session, context)
    return session


def _customer(store: Store, email: str) -> JSONObject:
    return put(
        blank("customer"),
        id=new_id("cus_", 14),
        balance=0,
        created=store.now(),
        delinquent=False,
        email=email,
        invoice_prefix=new_id("", 8).upper(),
        invoice_settings=part("customer", "invoice_settings"),
        next_invoice_sequence=1,
        tax_exempt="none",
    )


def _intent(
    store: Store,
    session: JSONObject,
    customer_id: str | None,
    payment_method: str,
    context: RequestContext,
) -> JSONObject:
    intent_id = new_id("pi_")
    intent = store.add(
        put(
            blank("payment_intent"),
            id=intent_id,
            amount=session["amount_total"],
            amount_capturable=0,
            amount_details={"tip": {}},
            amount_received=0,
            capture_method="automatic",
            client_secret=f"{intent_id}_secret_{new_id('', 25)}",
            confirmation_method="automatic",
            created=store.now(),
            currency=session["currency"],
            customer=customer_id,
            metadata=dict(store.hidden[f"intent_metadata:{session['id']}"]),
            payment_method=payment_method,
            payment_method_options={},
            payment_method_types=["card"],
            status="requires_confirmation",
        )
    )
    store.emit("payment_intent.created", intent, context)
    return intent


def create_portal_session(store: Store, params: Params) -> JSONObject:
    params.allow("customer", "return_url", "configuration", "locale", "flow_data")
    customer = store.get("customer", params.required("customer"), "customer")
    return store.add(
        put(
            blank("billing_portal.session"),
            id=new_id("bps_"),
            configuration=params.text("configuration") or "bpc_default",
            created=store.now(),
            customer=customer["id"],
            locale=params.text("locale"),
            return_url=params.text("return_url"),
            url=f"https://billing.stripe.com/p/session/test_{new_id('', 40)}",
        )
    )
