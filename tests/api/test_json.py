"""The JSON writer: every Decimal as an exact JSON number in Magento's form, whichever path writes it."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sales.api.json import _write, dumps


def plain(value) -> str:
    """The reference: the plain recursive writer, which formats every Decimal with ``format_decimal``."""
    parts: list[str] = []
    _write(value, parts.append)
    return "".join(parts)


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        ("1917.6000", "1917.6"),
        ("1917.6", "1917.6"),
        ("165.0000", "165"),
        ("165", "165"),
        ("100.0000", "100"),
        ("1E+2", "100"),
        ("1.5E+3", "1500"),
        ("0.0000", "0"),
        ("-0.0000", "0"),
        ("-0", "0"),
        ("0E-8", "0"),
        ("0.0100", "0.01"),
        ("-404.4000", "-404.4"),
        ("0.0001", "0.0001"),
        ("1E-7", "0.0000001"),
        ("12345678901234567.89", "12345678901234567.89"),
        ("99999999999999999999.9999", "99999999999999999999.9999"),
    ],
)
def test_a_decimal_is_written_as_magento_writes_it(amount, text):
    assert dumps(Decimal(amount)) == text
    assert dumps({"grand_total": Decimal(amount)}) == f'{{"grand_total":{text}}}'
    assert dumps([Decimal(amount), Decimal(amount)]) == f"[{text},{text}]"


def test_a_document_is_written_compact_with_its_keys_in_order():
    document = {"z": 1, "a": [Decimal("0.10"), None, True, False, 'x"y\\'], "m": {"n": ()}, "b": (1, "2")}

    assert dumps(document) == '{"z":1,"a":[0.1,null,true,false,"x\\"y\\\\"],"m":{"n":[]},"b":[1,"2"]}'


def test_text_keeps_non_ascii_and_escapes_control_characters():
    assert dumps({"name": "Üñí €\n\t\x01"}) == '{"name":"Üñí €\\n\\t\\u0001"}'


def test_text_that_looks_like_an_amount_stays_text():
    document = {"comment": "paid 1.50, then 2E+2, then -0]", "grand_total": Decimal("1.5000")}

    assert dumps(document) == '{"comment":"paid 1.50, then 2E+2, then -0]","grand_total":1.5}'


def test_dates_are_written_as_iso_text_and_other_objects_are_refused():
    assert dumps({"day": datetime.date(2026, 1, 31)}) == '{"day":"2026-01-31"}'
    with pytest.raises(TypeError):
        dumps({"what": object()})


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.text(max_size=12)
    | st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-(10**16), max_value=10**16)
    # up to 27 significant digits: format_decimal's normalize() rounds to the context's 28 (money has 20)
    | st.integers(0, 8).flatmap(
        lambda places: st.decimals(
            allow_nan=False, allow_infinity=False, places=places, min_value=-(10**19), max_value=10**19
        )
    )
    | st.sampled_from([Decimal("1E+2"), Decimal("-0.0000"), Decimal("0E-8"), Decimal("1.5E+3")]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_the_fast_path_writes_what_the_plain_writer_writes(value):
    text = dumps(value)

    assert text == plain(value)
    assert json.loads(text, parse_float=Decimal) == json.loads(plain(value), parse_float=Decimal)
