"""The quantity rule, in one place: how a quantity as sent becomes a Decimal, and whether a qty column holds it.

Every qty column, sales' and the inventory's, is Magento's ``DECIMAL(12,4)``. This module imports
nothing of the project, so ``sales`` (order import, invoice quantities, ``sales.money``) and
``inventory`` (source items, which may not import ``sales``) share it.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

QTY_MAX_DIGITS = 12
QTY_DECIMAL_PLACES = 4
QTY_PRECISION = Decimal(1).scaleb(-QTY_DECIMAL_PLACES)  # 0.0001
QTY_MAX = Decimal(10) ** (QTY_MAX_DIGITS - QTY_DECIMAL_PLACES) - QTY_PRECISION  # 99999999.9999


def as_number(value: object) -> Decimal | None:
    """A number as sent (an int, a Decimal or a numeric string; PHP's is_numeric) as a finite Decimal, else
    None. Floats and booleans are refused: the doors parse JSON numbers as Decimal, so a float is a bug."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        return None
    try:
        number = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def qty_fits(qty: Decimal) -> bool:
    """A qty column holds it as it is: finite, at most 4 decimals, at most 8 digits before the point
    (either sign; whether a negative quantity makes sense is the caller's rule)."""
    # The magnitude first: quantizing 1e30 to 4 places would overflow the decimal context.
    return qty.is_finite() and abs(qty) <= QTY_MAX and qty == qty.quantize(QTY_PRECISION)
