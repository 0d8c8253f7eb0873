"""The one way the project writes CSV: no text a customer or a client typed can become a formula when
staff open the file in a spreadsheet (OWASP's CSV injection rule)."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from decimal import Decimal

# A spreadsheet runs a cell that starts with one of these as a formula: OWASP's list (= + - @ tab CR LF).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def csv_cell(value: object) -> str | int | Decimal:
    """A cell: text that would start a formula gets a leading ``'``, which spreadsheets read as "this is
    text". Numbers the project computed (Decimal amounts, ints) are written as they are: nobody typed them,
    and a negative amount such as ``-5.00`` must stay a number a spreadsheet sums, not turn into text."""
    if value is None:
        return ""
    if isinstance(value, int | Decimal):
        return value
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


class _Line:
    """csv.writer's file: ``writerow`` hands back the line it wrote, so rows stream one by one."""

    def write(self, line: str) -> str:
        return line


def csv_lines(rows: Iterable[Iterable[object]]) -> Iterator[str]:
    """Each row as one CSV line. Every text cell is quoted, as OWASP asks: a separator inside one (a
    ``,`` or the ``;`` some locales' spreadsheets split on) can never start a new cell with a formula.
    Numbers stay bare, so a spreadsheet still reads them as numbers."""
    writer = csv.writer(_Line(), quoting=csv.QUOTE_NONNUMERIC)
    for row in rows:
        yield writer.writerow([csv_cell(value) for value in row])
