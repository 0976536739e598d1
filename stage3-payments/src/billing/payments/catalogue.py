"""What can be bought, at which price: on the server, and nowhere else.

A client names a product; the amount and currency sent to Stripe come from here. A price
taken from the request would let anyone buy a thousand credits for one cent.
"""

from dataclasses import dataclass
from enum import StrEnum


class Product(StrEnum):
    CREDITS_100 = "credits_100"
    CREDITS_500 = "credits_500"
    CREDITS_2000 = "credits_2000"


@dataclass(frozen=True)
class Price:
    amount: int  # in the currency's minor unit: cents
    currency: str
    credits: int


PRICES: dict[Product, Price] = {
    Product.CREDITS_100: Price(amount=1_000, currency="eur", credits=100),
    Product.CREDITS_500: Price(amount=4_500, currency="eur", credits=500),
    Product.CREDITS_2000: Price(amount=16_000, currency="eur", credits=2_000),
}
