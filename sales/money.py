"""Money: Decimal only, rounded half-up to cents here and nowhere else.

Magento rounds with PHP's ``round(x, 2)``: half away from zero. For the amounts an invoice
splits proportionally it also carries the rounding remainder from one row to the next
(``Framework/Math/Calculator::deltaRound``), so a set of rows rounds to the right total.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

# The quantity rule lives in a module the inventory (which never imports sales) can share.
from inventory.quantity import QTY_MAX, QTY_PRECISION  # noqa: F401 - re-exported

ZERO = Decimal("0")
CENT = Decimal("0.01")
AMOUNT_PRECISION = Decimal("0.0001")  # a money column is Magento's DECIMAL(20,4)
AMOUNT_BOUND = Decimal(10) ** 16  # ... so it holds less than 1e16 either sign

Amount = Decimal | int | str | None  # what as_decimal reads: a stored amount (null: zero) or a parsed one


def as_decimal(value: Amount) -> Decimal:
    """A stored or parsed amount as Decimal; null counts as zero. Floats are refused."""
    if value is None:
        return ZERO
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool | float):
        raise TypeError(f"money must not be {type(value).__name__}: {value!r}")
    return Decimal(value)


def amount_fits(amount: Decimal) -> bool:
    """A money column holds it as it is: finite, under 1e16 either sign, at most 4 decimals."""
    # The magnitude first: quantizing 1e999999 to 4 places would overflow the decimal context.
    return amount.is_finite() and abs(amount) < AMOUNT_BOUND and amount == amount.quantize(AMOUNT_PRECISION)


def round_price(amount: Amount) -> Decimal:
    """Half-up (away from zero) to cents: Magento's ``PriceCurrency::round``."""
    return as_decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def decimal_text(value: Decimal) -> str:
    """A stored number without the column's trailing zeros or an exponent: ``1917.6``, ``165``, ``0``
    (never ``-0``). JSON numbers and the quantities documents print."""
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def is_zero(amount: Amount) -> bool:
    return abs(as_decimal(amount)) < Decimal("0.0001")


class DeltaRounder:
    """Rounds a stream of amounts to cents, carrying each remainder into the next amount.

    One rounder per invoice, with one running delta per key (``regular``, ``base``,
    ``including``, ``including_base``). A key is shared by every collector, so the carry flows
    row by row through subtotal, discount and tax in the order they are computed.
    """

    def __init__(self) -> None:
        self._deltas: dict[str, Decimal] = {}

    def round(self, amount: Decimal, key: str = "regular", *, negative: bool = False) -> Decimal:
        amount = as_decimal(amount)
        if amount == ZERO:
            return ZERO  # zero neither rounds nor disturbs the carry
        delta = self._deltas.get(key, ZERO)
        if negative:  # discounts are passed positive but carried against the other amounts
            delta = -delta
        carried = amount + delta
        rounded = round_price(carried)
        remainder = carried - rounded
        self._deltas[key] = -remainder if negative else remainder
        return rounded


CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CAD": "CA$", "AUD": "A$", "CHF": "CHF "}


def format_price(amount: Amount, currency_code: str) -> str:
    """An amount as people read it in history comments: ``$1,917.60``."""
    symbol = CURRENCY_SYMBOLS.get(currency_code, f"{currency_code} ")
    rounded = round_price(amount)
    sign = "-" if rounded < 0 else ""
    return f"{sign}{symbol}{abs(rounded):,.2f}"
