"""Refunds (never more than captured minus already refunded, as Stripe refuses) and
disputes."""

from roadmap_shared.testing.stripe_double.errors import StripeError, invalid
from roadmap_shared.testing.stripe_double.params import Params
from roadmap_shared.testing.stripe_double.payments import balance_transaction, format_money
from roadmap_shared.testing.stripe_double.store import RequestContext, Store, new_id, paginate
from roadmap_shared.testing.stripe_double.templates import JSONObject, blank, part, put

REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
DISPUTE_REASONS = ("fraudulent", "duplicate", "product_not_received", "general")
DISPUTE_OUTCOMES = ("won", "lost")


def refundable_charge(store: Store, params: Params) -> JSONObject:
    if params.has("charge"):
        return store.get("charge", params.required("charge"), "charge")
    intent_id = params.text("payment_intent")
    if intent_id is None:
        raise invalid(
            "One of the following params should be provided for this request: "
            "payment_intent or charge.",
            code="parameter_missing",
        )
    intent = store.get("payment_intent", intent_id, "payment_intent")
    charge = store.find("charge", intent["latest_charge"] or "")
    if charge is None or charge["status"] != "succeeded":
        raise StripeError(
            400,
            f"This PaymentIntent ({intent_id}) does not have a successful charge to refund.",
            param="payment_intent",
        )
    return charge


def create_refund(store: Store, params: Params, context: RequestContext) -> JSONObject:
    params.allow("charge", "payment_intent", "amount", "reason", "metadata")
    amount = params.integer("amount", minimum=1)
    reason = params.choice("reason", REFUND_REASONS)
    charge = refundable_charge(store, params)
    if charge["disputed"]:
        raise StripeError(
            400,
            f"Charge {charge['id']} has been charged back; cannot issue a refund.",
            code="charge_disputed",
        )
    remaining = charge["amount_captured"] - charge["amount_refunded"]
    if remaining <= 0:
        raise StripeError(
            400,
            f"Charge {charge['id']} has already been refunded.",
            code="charge_already_refunded",
        )
    amount = remaining if amount is None else amount
    if amount > remaining:
        money = charge["currency"]
        raise StripeError(
            400,
            f"Refund amount ({format_money(amount, money)}) is greater than unrefunded amount "
            f"on charge ({format_money(remaining, money)})",
            param="amount",
        )
    refund_id = new_id("re_")
    txn = balance_transaction(
        store,
        amount=-amount,
        currency=charge["currency"],
        source=refund_id,
        kind="refund",
        description="REFUND FOR CHARGE",
    )
    refund = store.add(
        put(
            blank("refund"),
            id=refund_id,
            amount=amount,
            balance_transaction=txn["id"],
            charge=charge["id"],
            created=store.now(),
            currency=charge["currency"],
            destination_details=part(
                "refund",
                "destination_details",
                card=part("refund", "destination_details.card", type="refund"),
                type="card",
            ),
            metadata=params.metadata(),
            payment_intent=charge["payment_intent"],
            reason=reason,
            status="succeeded",
            customer=charge["customer"],
            payment_method=charge["payment_method"],
        )
    )
    _apply(charge, refund, amount)
    store.emit("refund.created", refund, context)
    store.emit("charge.refunded", charge, context)
    return refund


def _apply(charge: JSONObject, refund: JSONObject, amount: int) -> None:
    charge["amount_refunded"] += amount
    charge["refunded"] = charge["amount_refunded"] >= charge["amount_captured"]
    refunds = charge["refunds"]["data"]
    refunds[:] = [item for item in refunds if item["id"] != refund["id"]]
    if refund["status"] != "failed":
        refunds.insert(0, refund)


def fail_refund(store: Store, refund_id: str, context: RequestContext) -> JSONObject:
    """The bank returned the refund: the money is back in the balance, the charge
    refundable again."""
    refund = store.get("refund", refund_id)
    if refund["status"] == "failed":
        return refund
    refund["status"] = "failed"
    charge = store.get("charge", refund["charge"])
    _apply(charge, refund, -refund["amount"])
    balance_transaction(
        store,
        amount=refund["amount"],
        currency=refund["currency"],
        source=refund_id,
        kind="refund_failure",
        description="REFUND FAILURE",
    )
    store.emit("refund.updated", refund, context)
    store.emit("refund.failed", refund, context)
    return refund


def list_refunds(store: Store, params: Params) -> JSONObject:
    params.allow("charge", "payment_intent", "limit", "starting_after")
    found = store.all("refund")
    for key in ("charge", "payment_intent"):
        if params.has(key):
            found = [refund for refund in found if refund[key] == params.text(key)]
    return paginate(
        found, "/v1/refunds", params.integer("limit", minimum=1), params.text("starting_after")
    )


def open_dispute(
    store: Store, charge_id: str, reason: str, amount: int | None, context: RequestContext
) -> JSONObject:
    charge = store.get("charge", charge_id)
    if reason not in DISPUTE_REASONS:
        raise ValueError(f"a dispute's reason is one of {DISPUTE_REASONS}")
    disputed = charge["amount_captured"] if amount is None else amount
    dispute_id = new_id("dp_")
    txn = balance_transaction(
        store,
        amount=-disputed,
        currency=charge["currency"],
        source=dispute_id,
        kind="adjustment",
        description=f"Chargeback withdrawal for {charge_id}",
    )
    now = store.now()
    card = charge["payment_method_details"]["card"]
    dispute = store.add(
        put(
            blank("dispute"),
            id=dispute_id,
            amount=disputed,
            balance_transactions=[txn],
            charge=charge_id,
            created=now,
            currency=charge["currency"],
            evidence=part("dispute", "evidence", enhanced_evidence={}),
            evidence_details=part(
                "dispute",
                "evidence_details",
                due_by=now + 7 * 86400,
                has_evidence=False,
                past_due=False,
                submission_count=0,
                enhanced_eligibility={},
            ),
            is_charge_refundable=False,
            payment_intent=charge["payment_intent"],
            payment_method_details=part(
                "dispute",
                "payment_method_details",
                card=part(
                    "dispute",
                    "payment_method_details.card",
                    brand=card["brand"],
                    case_type="chargeback",
                    network_reason_code="10.4",
                    network=card["network"],
                ),
                type="card",
            ),
            reason=reason,
            status="needs_response",
            enhanced_eligibility_types=[],
        )
    )
    charge["disputed"] = True
    store.emit("charge.dispute.created", dispute, context)
    return dispute


def close_dispute(
    store: Store, dispute_id: str, outcome: str, context: RequestContext
) -> JSONObject:
    """The card network decides. Won: the withdrawn amount comes back (a second balance
    transaction); lost: it stays withdrawn. Either way the dispute is final."""
    dispute = store.get("dispute", dispute_id)
    if outcome not in DISPUTE_OUTCOMES:
        raise ValueError(f"a dispute ends {' or '.join(DISPUTE_OUTCOMES)}")
    if dispute["status"] in DISPUTE_OUTCOMES:
        raise ValueError(f"dispute {dispute_id} is already {dispute['status']}")
    if outcome == "won":
        reinstated = balance_transaction(
            store,
            amount=dispute["amount"],
            currency=dispute["currency"],
            source=dispute_id,
            kind="adjustment",
            description=f"Chargeback reversal for {dispute['charge']}",
        )
        dispute["balance_transactions"] = [*dispute["balance_transactions"], reinstated]
    dispute["status"] = outcome
    store.emit("charge.dispute.closed", dispute, context)
    return dispute
