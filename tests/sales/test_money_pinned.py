"""sales/money.py's rules a mutation run found unpinned (issue 18, item 6): each test fails when its rule's code
is mutated. Magento's sources: Framework/Pricing/PriceCurrencyInterface (round, format), Framework/Math/Calculator
(deltaRound), the DECIMAL(20,4) money columns."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sales.money import DeltaRounder, amount_fits, as_decimal, format_price, is_zero


def test_a_float_is_refused_with_its_type_and_value_named():
    with pytest.raises(TypeError, match=r"^money must not be float: 0\.1$"):
        as_decimal(0.1)
    with pytest.raises(TypeError, match=r"^money must not be bool: True$"):
        as_decimal(True)


def test_a_stored_string_or_integer_amount_reads_as_its_decimal():
    assert as_decimal("1917.60") == Decimal("1917.60")
    assert as_decimal(3) == Decimal(3)


@pytest.mark.parametrize(
    ("amount", "fits"),
    [
        (Decimal("9999999999999999.9999"), True),
        (Decimal("-9999999999999999.9999"), True),
        (Decimal("1E16"), False),
        (Decimal("-1E16"), False),
        (Decimal("1.0001"), True),
        (Decimal("1.00001"), False),
        (Decimal("Infinity"), False),
        (Decimal("NaN"), False),
    ],
)
def test_a_money_column_holds_under_1e16_either_sign_with_at_most_4_decimals(amount, fits):
    assert amount_fits(amount) is fits


def test_a_ten_thousandth_is_not_zero():
    # Magento's "abs(x) < .0001" checks: the smallest amount a money column holds counts
    assert not is_zero(Decimal("0.0001"))
    assert is_zero(Decimal("0.00009"))
    assert is_zero(None)


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (Decimal("-5"), "USD", "-$5.00"),
        (Decimal("-0.004"), "USD", "$0.00"),  # rounds to zero: no sign
        (Decimal("0"), "EUR", "€0.00"),
        (Decimal("1917.6"), "SEK", "SEK 1,917.60"),  # a currency without a symbol: its code
    ],
)
def test_a_price_reads_with_its_sign_before_the_symbol_and_an_unknown_currency_by_its_code(amount, currency, text):
    assert format_price(amount, currency) == text


def test_the_delta_rounders_default_key_is_regular():
    rounder = DeltaRounder()
    assert rounder.round(Decimal("0.005")) == Decimal("0.01")  # carry -0.005 on 'regular'
    assert rounder.round(Decimal("0.005"), "regular") == Decimal("0.00")
