"""Test data comes from tests/factories.py: a module that makes a user or writes an order by hand fails here.

The check reads each test module's syntax tree (nothing is imported or run) and reports:

- a call of ``create_user`` or ``create_superuser`` on anything: users come from ``UserFactory`` and
  ``StaffUserFactory``, with their groups, permissions and the shared password;
- an order written field by field: a dict display with the key ``qty_ordered`` or ``base_grand_total``, or a call
  with such a keyword argument (``dict(...)``, ``row.update(...)``). Only an order's row carries ``qty_ordered``,
  and ``base_grand_total`` is a header total in the base currency, which no request body or answer checked by key
  needs to spell out; a module that writes either is building an order (or patching a seed into another one);
- a loop over a literal list of header totals that assigns into a mapping
  (``for name in ("subtotal", "base_subtotal"): entity[name] = ...``), the other way seeds were patched.

Reading those fields (``order.grand_total``, ``body["base_grand_total"]``) is not flagged, nor is overwriting one
key of an entity the factory built (``entity["grand_total"] = "1.00"``): that is how a test breaks an order on
purpose; nor is a tutorial seed imported whole (``import_order(load_seed_order("000"), increment_id=None)``): it is
Magento's own payload going through the import service, and the seed tests assert its printed amounts. A module may be
listed in ``ALLOWED`` only with the reason it cannot use the factories.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
HOME = TESTS / "factories.py"
USER_MAKERS = {"create_user", "create_superuser"}
ORDER_KEYS = {"qty_ordered", "base_grand_total"}
HEADER_TOTALS = {
    "subtotal",
    "base_subtotal",
    "grand_total",
    "base_grand_total",
    "shipping_amount",
    "base_shipping_amount",
    "discount_amount",
    "base_discount_amount",
    "tax_amount",
    "base_tax_amount",
}
ALLOWED = {
    "api/v1/test_invoice_documents.py": (
        "stores odd amounts (trailing zeros, -0.0000) straight into an invoice row with a queryset update: the JSON"
        " writer must render what the database may hold, which no service writes"
    ),
}


def _names(node: ast.expr) -> set[str]:
    """The string constants of a literal tuple, list or set."""
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return {elt.value for elt in node.elts if isinstance(elt, ast.Constant) and isinstance(elt.value, str)}
    return set()


def _assigns_into_a_mapping(loop: ast.For) -> bool:
    return any(
        isinstance(target, ast.Subscript)
        for statement in ast.walk(loop)
        if isinstance(statement, ast.Assign | ast.AugAssign)
        for target in (statement.targets if isinstance(statement, ast.Assign) else [statement.target])
    )


def _finding(node: ast.AST) -> str | None:
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Attribute) and node.func.attr in USER_MAKERS:
            return f"{node.func.attr}()"
        written = sorted(keyword.arg for keyword in node.keywords if keyword.arg in ORDER_KEYS)
        if written:
            return f"{ast.unparse(node.func)}({written[0]}=...)"
    if isinstance(node, ast.Dict):
        written = sorted(key.value for key in node.keys if isinstance(key, ast.Constant) and key.value in ORDER_KEYS)
        if written:
            return f'{{"{written[0]}": ...}}'
    if isinstance(node, ast.For) and _names(node.iter) & HEADER_TOTALS and _assigns_into_a_mapping(node):
        return f"for {ast.unparse(node.target)} in {ast.unparse(node.iter)}: ...[...] = ..."
    return None


def hand_made_data_in(path: Path, root: Path = TESTS) -> list[str]:
    """``path:line what`` of each user made or order written by hand in the module."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = [(node.lineno, what) for node in ast.walk(tree) if (what := _finding(node)) is not None]
    return [f"{path.relative_to(root).as_posix()}:{line} {what}" for line, what in sorted(found)]


def test_no_test_module_makes_users_or_orders_by_hand():
    modules = [path for path in TESTS.rglob("*.py") if path not in (HOME, Path(__file__).resolve())]
    assert len(modules) > 50  # the walk really saw the suite

    found = [
        finding
        for path in sorted(modules)
        if path.relative_to(TESTS).as_posix() not in ALLOWED
        for finding in hand_made_data_in(path)
    ]

    assert found == []


def test_each_allowed_module_still_needs_its_exception():
    """An exception no longer used is dropped, so it cannot hide a new hand-built order later."""
    assert all(hand_made_data_in(TESTS / name) for name in ALLOWED)


def test_the_check_finds_users_and_orders_made_by_hand(tmp_path):
    module = tmp_path / "test_by_hand.py"
    module.write_text(
        "def test_it(django_user_model, entity):\n"
        '    django_user_model.objects.create_superuser("root", password="x")\n'
        '    row = {"sku": "A", "qty_ordered": 2, "price": 1}\n'
        "    entity.update(grand_total=9, base_grand_total=9)\n"
        '    for name in ("subtotal", "base_subtotal"):\n'
        "        entity[name] = 5\n"
    )

    assert hand_made_data_in(module, root=tmp_path) == [
        "test_by_hand.py:2 create_superuser()",
        'test_by_hand.py:3 {"qty_ordered": ...}',
        "test_by_hand.py:4 entity.update(base_grand_total=...)",
        "test_by_hand.py:5 for name in ('subtotal', 'base_subtotal'): ...[...] = ...",
    ]


def test_the_check_leaves_reads_and_a_deliberately_broken_entity_alone(tmp_path):
    module = tmp_path / "test_reads.py"
    module.write_text(
        "def test_it(order, body, entity):\n"
        '    assert body["base_grand_total"] == order.base_grand_total\n'
        '    entity["grand_total"] = "1.00"  # a broken order, on purpose\n'
        '    for name in ("subtotal", "grand_total"):\n'
        "        assert getattr(order, name) == body[name]\n"
    )

    assert hand_made_data_in(module, root=tmp_path) == []
