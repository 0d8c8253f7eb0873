"""One home per error: every code a sales module raises with is a member of ``sales.errors.ErrorCode``."""

from __future__ import annotations

import ast
from pathlib import Path

import sales
from sales import errors
from sales.errors import DomainError, ErrorCode

SALES = Path(sales.__file__).parent
CODES = {code.value for code in ErrorCode}


def subclasses(cls: type) -> list[type]:
    return [sub for direct in cls.__subclasses__() for sub in (direct, *subclasses(direct))]


def test_every_domain_error_class_carries_a_code_of_the_one_list():
    classes = (DomainError, *subclasses(DomainError))
    assert [(cls.__name__, cls.code) for cls in classes if cls.code not in CODES] == []


def test_every_code_a_sales_module_raises_with_is_named_in_the_one_list():
    """``code="..."`` written anywhere in sales/ names a member of ErrorCode (the list the doors map from); a
    Django form's ValidationError codes are the form's own."""
    unknown = []
    for source in SALES.rglob("*.py"):
        for call in ast.walk(ast.parse(source.read_text(), filename=str(source))):
            if not isinstance(call, ast.Call) or ast.unparse(call.func).endswith("ValidationError"):
                continue
            codes = [kw.value.value for kw in call.keywords if kw.arg == "code" and isinstance(kw.value, ast.Constant)]
            unknown += [f"{source.relative_to(SALES)}:{call.lineno} {code!r}" for code in codes if code not in CODES]
    assert unknown == []


def test_every_invoice_refusal_reason_has_magentos_message():
    reasons = [
        ErrorCode.NOT_PART_OF_ORDER,
        ErrorCode.QTY_OVER_UNINVOICED,
        ErrorCode.WITHOUT_PRODUCTS,
        ErrorCode.ORDER_STATUS_REFUSES,
        ErrorCode.NOTHING_TO_INVOICE,
    ]
    assert sorted(errors.INVOICE_REFUSALS) == sorted(reasons)
    assert errors.INVOICE_REFUSALS[ErrorCode.NOTHING_TO_INVOICE] == "The order does not allow an invoice to be created."


def test_the_doors_and_the_admin_take_no_invoice_message_or_reason_from_the_service():
    """The invoice's messages and reasons live in sales.errors; a door importing them from the service would make
    two homes again."""
    importers = []
    for source in [*SALES.joinpath("api").rglob("*.py"), *SALES.joinpath("admin").rglob("*.py")]:
        for node in ast.walk(ast.parse(source.read_text(), filename=str(source))):
            if isinstance(node, ast.ImportFrom) and node.module == "sales.services.invoice_order":
                names = [alias.name for alias in node.names if alias.name.isupper()]
                if names:
                    importers.append(f"{source.relative_to(SALES)}: {node.module} {names}")
    assert importers == []
