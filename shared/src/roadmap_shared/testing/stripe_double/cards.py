"""Stripe's test payment methods: what each one does when a payment is confirmed."""

from dataclasses import dataclass


@dataclass(frozen=True)
class TestCard:
    brand: str
    last4: str
    # None: the payment succeeds. Otherwise Stripe's decline: code, decline_code, message.
    decline: tuple[str, str, str] | None = None
    requires_authentication: bool = False


_DECLINED = "Your card was declined."

TEST_CARDS = {
    "pm_card_visa": TestCard("visa", "4242"),
    "pm_card_mastercard": TestCard("mastercard", "4444"),
    "pm_card_chargeDeclined": TestCard(
        "visa", "0002", ("card_declined", "generic_decline", _DECLINED)
    ),
    "pm_card_chargeDeclinedInsufficientFunds": TestCard(
        "visa",
        "9995",
        ("card_declined", "insufficient_funds", "Your card has insufficient funds."),
    ),
    "pm_card_chargeDeclinedExpiredCard": TestCard(
        "visa", "0069", ("expired_card", "expired_card", "Your card has expired.")
    ),
    "pm_card_authenticationRequired": TestCard("visa", "3155", requires_authentication=True),
}
