"""The ledger's refusals, as this service answers them: the stage's problem details, with
the reason machine-readable in `reason` (the same word the payment stores)."""

from roadmap_shared.errors import Conflict, ProblemError, UnprocessableContent

# The reasons a customer can cause, and what to tell them. Any other reason (a bad id, an
# unknown account) is this service's bug, not the customer's: logged and answered 500.
_EXPLANATIONS: dict[str, tuple[type[ProblemError], str]] = {
    "insufficient_funds": (Conflict, "The wallet does not hold enough money for this payment"),
    "limit_exceeded": (UnprocessableContent, "The payment would take a balance past its limit"),
    "currency_mismatch": (UnprocessableContent, "The wallets hold different currencies"),
    "expired": (Conflict, "The payment's reservation expired before it was approved"),
    "rejected_by_review": (Conflict, "The payment was rejected on review"),
}
# How this service ended a payment, answered to a retry of its request as a refusal is.
_ENDINGS: dict[str, tuple[type[ProblemError], str]] = {
    "abandoned": (
        Conflict,
        "The payment was not carried out in time and was cancelled; nothing moved. "
        "Send it again with a new Idempotency-Key",
    ),
    "voided": (Conflict, "The payment's reservation was cancelled; nothing moved"),
    "not_in_ledger": (Conflict, "The payment was cancelled; nothing moved"),
}


def reason_word(ledger_reason: str) -> str:
    """`INSUFFICIENT_FUNDS` -> `insufficient_funds`."""
    return ledger_reason.lower()


def is_customers_doing(reason: str) -> bool:
    return reason in _EXPLANATIONS


def refusal(reason: str) -> ProblemError:
    kind, detail = _EXPLANATIONS.get(reason) or _ENDINGS[reason]
    return kind(detail, extra={"reason": reason})
