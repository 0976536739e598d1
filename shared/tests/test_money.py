"""Money is integers of minor units; the one fraction, tax, is rounded half up, once."""

import pytest

from roadmap_shared.money import format_amount, percentage


@pytest.mark.parametrize(
    ("amount", "basis_points", "expected"),
    [
        (10, 2500, 3),  # 2.5 -> 3: half up (half even would give 2)
        (30, 2500, 8),  # 7.5 -> 8
        (14, 2500, 4),  # 3.5 -> 4 (half even would also give 4)
        (2999, 2000, 600),  # 599.8 -> 600
        (1234, 825, 102),  # 101.805 -> 102
        (1, 4999, 0),  # 0.4999 -> 0
        (1, 5000, 1),  # 0.5 -> 1
        (0, 2000, 0),
        (10**15, 2000, 2 * 10**14),  # large totals stay exact: no float in sight
    ],
)
def test_a_percentage_is_rounded_half_up_to_a_whole_minor_unit(
    amount: int, basis_points: int, expected: int
) -> None:
    assert percentage(amount, basis_points) == expected


def test_tax_on_the_total_is_not_the_sum_of_tax_on_each_line() -> None:
    # Three lines of 0.05 at 10 %: per line 0.005 rounds to 0.01 each (0.03 in all);
    # on the total, 0.015 rounds to 0.02. The shop taxes the subtotal, once.
    assert sum(percentage(5, 1000) for _ in range(3)) == 3
    assert percentage(15, 1000) == 2


def test_amounts_are_formatted_with_their_currencys_decimals() -> None:
    assert format_amount(1999, "EUR") == "19.99 EUR"
    assert format_amount(5, "USD") == "0.05 USD"
    assert format_amount(1999, "JPY") == "1999 JPY"
