from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sales.api.json import dumps, format_decimal
from sales.money import DeltaRounder, as_decimal, round_price


@pytest.mark.parametrize(
    ("amount", "rounded"),
    [
        ("1.005", "1.01"),  # half up, where a float would give 1.00
        ("3.335", "3.34"),  # the worked example's second invoice row
        ("2.675", "2.68"),
        ("-1.005", "-1.01"),  # half away from zero, like PHP's round()
        ("0.004999", "0.00"),
        ("10", "10.00"),
    ],
)
def test_round_price_rounds_half_away_from_zero_to_cents(amount, rounded):
    assert round_price(Decimal(amount)) == Decimal(rounded)


def test_floats_never_touch_money():
    with pytest.raises(TypeError):
        as_decimal(0.1)
    with pytest.raises(TypeError):
        round_price(1.005)


def test_null_amount_counts_as_zero():
    assert as_decimal(None) == Decimal(0)


def test_delta_rounder_carries_the_remainder_into_the_next_amount():
    rounder = DeltaRounder()
    # 3.333.. -> 3.33 (carry +0.00333); 3.3367 -> 3.34 (carry -0.00333); 3.33 -> 3.33 (carry 0)
    thirds = [rounder.round(Decimal(10) / 3) for _ in range(3)]
    assert thirds == [Decimal("3.33"), Decimal("3.34"), Decimal("3.33")]
    assert sum(thirds) == Decimal("10.00")


def test_delta_rounder_keeps_one_carry_per_key():
    rounder = DeltaRounder()
    assert rounder.round(Decimal("0.005"), "regular") == Decimal("0.01")  # carry -0.005 on regular
    assert rounder.round(Decimal("0.005"), "base") == Decimal("0.01")  # base starts clean
    assert rounder.round(Decimal("0.005"), "regular") == Decimal("0.00")  # 0.005 - 0.005


def test_delta_rounder_flips_the_carry_for_negative_amounts():
    rounder = DeltaRounder()
    assert rounder.round(Decimal("0.335")) == Decimal("0.34")  # carry -0.005
    # A discount is passed positive with negative=True: the carry counts against it.
    assert rounder.round(Decimal("0.335"), negative=True) == Decimal("0.34")


def test_zero_neither_rounds_nor_disturbs_the_carry():
    rounder = DeltaRounder()
    rounder.round(Decimal("0.004"))
    assert rounder.round(Decimal(0)) == Decimal(0)
    assert rounder.round(Decimal("0.003")) == Decimal("0.01")  # 0.003 + 0.004 carried


cents = st.integers(min_value=1, max_value=10_000_000).map(lambda n: Decimal(n) / 100)


@given(total=cents, parts=st.integers(min_value=1, max_value=40))
def test_delta_rounded_shares_stay_within_half_a_cent_of_the_exact_total(total, parts):
    rounder = DeltaRounder()
    shares = [rounder.round(total / parts) for _ in range(parts)]
    assert all(share == share.quantize(Decimal("0.01")) for share in shares)
    assert abs(sum(shares) - total) <= Decimal("0.005")


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        ("165.0000", "165"),
        ("1917.6000", "1917.6"),
        ("-404.4000", "-404.4"),
        ("-0.0000", "0"),
        ("0.0100", "0.01"),
        ("100", "100"),
        ("12345678901234567.89", "12345678901234567.89"),
    ],
)
def test_decimals_render_as_exact_json_numbers(amount, text):
    assert format_decimal(Decimal(amount)) == text


def test_json_writer_keeps_decimals_exact_inside_structures():
    assert dumps({"a": [Decimal("0.10"), None, True, 'x"y'], "b": 3}) == '{"a":[0.1,null,true,"x\\"y"],"b":3}'
