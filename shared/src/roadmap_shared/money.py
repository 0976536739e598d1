"""Money: integer amounts in a currency's minor unit (cents), never floats.

Floats cannot hold 0.10 exactly, so sums drift and comparisons lie. Integers of minor units
are exact for adding and multiplying by quantities. Only percentages (tax, discounts)
produce fractions, and those are computed in `Decimal` and rounded once, explicitly.
"""

from decimal import ROUND_HALF_UP, Decimal

# ISO 4217 currencies a shop may sell in, with the number of digits after the decimal point.
CURRENCY_EXPONENTS = {"EUR": 2, "USD": 2, "GBP": 2, "CHF": 2, "SEK": 2, "JPY": 0}

BASIS_POINTS = 10_000  # 100 % = 10,000 basis points


def percentage(amount: int, basis_points: int) -> int:
    """`basis_points` / 10,000 of `amount`, rounded half up to a whole minor unit.

    Half up (0.5 -> 1) is the commercial rounding tax authorities expect on an invoice;
    half even (banker's rounding) would turn 2.5 cents into 2 and surprise an accountant.
    """
    exact = Decimal(amount) * Decimal(basis_points) / Decimal(BASIS_POINTS)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def format_amount(amount: int, currency: str) -> str:
    """`1999, "EUR"` -> `"19.99 EUR"`, for emails and logs (clients format for themselves)."""
    exponent = CURRENCY_EXPONENTS[currency]
    major = Decimal(amount).scaleb(-exponent)
    return f"{major:.{exponent}f} {currency}"
