"""What the owners are told, in plain text. Each message has a fixed Message-ID per
event it reports, so a job that runs twice sends the same message, not a second one."""

from email.message import EmailMessage

from billing.models import Organization, Payment
from roadmap_shared.mail import compose


def _money(amount: int, currency: str) -> str:
    # Every currency of our price list has two decimals (cents).
    return f"{amount / 100:.2f} {currency.upper()}"


def payment_receipt(
    payment: Payment, organization: Organization, *, owners: list[str], sender: str
) -> EmailMessage:
    body = "\n".join(
        [
            f"Payment #{payment.id} for {organization.name} has been received.",
            "",
            f"  {payment.credits_granted} credits ({payment.product})",
            f"  Paid  {_money(payment.amount_captured, payment.currency)}",
            "",
            "The credits are on the organisation's account.",
        ]
    )
    return compose(
        sender=sender,
        to=owners,
        subject=f"Receipt for payment #{payment.id}",
        message_id=f"payment-{payment.id}-receipt",
        body=body,
    )


def payment_failed(
    payment: Payment, organization: Organization, *, owners: list[str], sender: str
) -> EmailMessage:
    body = (
        f"Payment #{payment.id} for {organization.name} "
        f"({_money(payment.amount, payment.currency)}) did not go through: the card or bank "
        "refused it. Nothing was charged; try again with another payment method."
    )
    return compose(
        sender=sender,
        to=owners,
        subject=f"Payment #{payment.id} failed",
        message_id=f"payment-{payment.id}-failed",
        body=body,
    )


def dispute_opened(
    payment: Payment | None,
    organization: Organization,
    *,
    dispute_id: str,
    owners: list[str],
    sender: str,
) -> EmailMessage:
    paid = f"payment #{payment.id}" if payment is not None else "a payment"
    body = (
        f"The cardholder has disputed {paid} of {organization.name} with their bank "
        f"(Stripe dispute {dispute_id}). Until it is resolved, the organisation has the free "
        "plan's limits. Answer the dispute with evidence from the Stripe dashboard before "
        "its deadline."
    )
    return compose(
        sender=sender,
        to=owners,
        subject=f"A payment of {organization.name} is disputed",
        message_id=f"dispute-{dispute_id}",
        body=body,
    )
