"""factory-boy factories of the test data: orders are stored THROUGH the import service, so totals always add up.

As django-oscar builds its OrderFactory through its OrderCreator, ``OrderFactory`` never writes a model: its
declarations make a ``POST /V1/orders`` entity (``OrderEntityFactory``, whose header totals are summed from its
rows) and ``_create`` hands it to ``sales.services.order_import``; invoices come from ``invoice_order``. A test
that needs a broken order builds the entity and breaks it.

    OrderFactory()                                   one simple row, 5.00 shipping, paid by check
    OrderFactory(bundle=True, taxed=True)            a dynamic bundle, every priced row taxed (the shapes
                                                     bundle, configurable and virtual pick the rows: one at a time)
    OrderFactory(lines=[line("A", 2, "10.00")])      rows of one's own (``line`` is one row)
    OrderFactory(gateway_paid=True)                  the sandbox gateway, which records an authorization
    OrderFactory(invoiced=True)                      then invoiced offline (``invoiced__capture_case=...``)
    InvoiceFactory(order__discounted=True)           an invoice of such an order
    OrderFactory(seed_001=True)                      seed 001's rows and amounts (1,917.60), as a factory order
    OrderFactory(lines=numbered_lines(40))           an order of 40 rows (the query budgets' sizes)
    StaffUserFactory(groups=["Sales viewer"])        staff (``permissions=["sales.view_invoice"]`` also works)
    UserFactory(password=None)                       an account that is not staff, here one with no password
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import factory
from django.contrib.auth.models import Group, Permission

from sales.models import Invoice, Order, Store
from sales.services import CaptureCase, InvoiceLineRequest, invoice_order, order_import
from tests.helpers import PASSWORD

CENT = Decimal("0.01")
ZERO = Decimal(0)
MONEY = ("price", "row_total", "tax_amount", "discount_amount")
ADDRESS = {
    "firstname": "Ada",
    "lastname": "Lovelace",
    "street": ["12 Analytical Row"],
    "city": "London",
    "postcode": "EC1A 1AA",
    "country_id": "GB",
    "telephone": "020 7946 0000",
}
VIRTUAL_TYPES = ("virtual", "downloadable")


def D(value) -> Decimal:  # noqa: N802 - reads as a literal
    return Decimal(str(value))


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, ROUND_HALF_UP)


def line(
    sku: str,
    qty=1,
    price="10.00",
    *,
    product_type: str = "simple",
    tax=None,
    discount=None,
    row_total=None,
    dummy: bool = False,
    parent: str | None = None,
    **fields,
) -> dict:
    """One order row. ``tax`` / ``discount`` left out follow the order's ``tax_rate`` / ``discount_rate``;
    a ``dummy`` row carries no money in the header totals (a configurable's child, a dynamic bundle's
    parent); ``parent`` is the sku of the row it belongs to."""
    row = {
        "sku": sku,
        "name": f"Product {sku}",
        "product_type": product_type,
        "qty_ordered": D(qty),
        "price": D(price),
        "row_total": D(row_total) if row_total is not None else D(price) * D(qty),
        "tax_amount": None if tax is None else D(tax),
        "discount_amount": None if discount is None else D(discount),
        "_dummy": dummy,
        "_parent": parent,
    }
    if product_type in VIRTUAL_TYPES:
        row["is_virtual"] = 1
    row.update(fields)
    return row


def simple_lines() -> list[dict]:
    return [line("24-MB01", 2, "34.00")]


def bundle_lines() -> list[dict]:
    """A dynamic bundle of 2: a dummy parent, the children carry the money (A 1 per bundle, B 3 per bundle)."""
    return [
        line("DYN", 2, "25.00", product_type="bundle", dummy=True, product_options={"product_calculations": 0}),
        line("DYN-A", 2, "10.00", parent="DYN", product_options={"bundle_selection_attributes": {"qty": 1}}),
        line("DYN-B", 6, "5.00", parent="DYN", product_options={"bundle_selection_attributes": {"qty": 3}}),
    ]


def configurable_lines() -> list[dict]:
    """A configurable of 2 at 20.00 (the parent carries the money) and its dummy simple child."""
    return [line("CONF", 2, "20.00", product_type="configurable"), line("CONF-S", 2, 0, dummy=True, parent="CONF")]


def virtual_lines() -> list[dict]:
    return [line("240-LV06", 1, "22.00", product_type="downloadable")]


def seed_001_lines() -> list[dict]:
    """Seed 001's rows (Magento's REST tutorial order #000000004): 20 backpacks at 36.00, 40 at 32.00 and a
    downloadable at 22.00; with the ``seed_001`` trait's 300.00 shipping and 20 % discount the order's grand total
    is 1,917.60, as the seed's."""
    return [
        line("24-WB03", 20, "36.00"),
        line("24-WB01", 40, "32.00"),
        line("240-LV06", 1, "22.00", product_type="downloadable"),
    ]


def numbered_lines(count: int, qty=1) -> list[dict]:
    """``count`` simple rows ``LINE-1`` ... of ``qty`` units each, row n priced n.25 (the query budget tests' orders,
    whose size is what they vary)."""
    return [
        line(f"LINE-{number}", qty, D(number) + D("0.25"), name=f"Line {number}", product_id=1000 + number)
        for number in range(1, count + 1)
    ]


SHAPES = {
    "simple": simple_lines,
    "bundle": bundle_lines,
    "configurable": configurable_lines,
    "virtual": virtual_lines,
    "seed_001": seed_001_lines,
}


def _priced_rows(lines: list[dict], tax_rate: Decimal, discount_rate: Decimal) -> list[dict]:
    """The payload's rows: item ids and parents by position, tax and discount filled in, no private keys."""
    items, ids = [], {}
    for position, raw in enumerate(lines, start=1):
        item = {key: value for key, value in raw.items() if not key.startswith("_")}
        item["item_id"] = ids[raw["sku"]] = position
        if raw["_parent"] is not None:
            item["parent_item_id"] = ids[raw["_parent"]]
        priced = not raw["_dummy"]
        if item["discount_amount"] is None:
            item["discount_amount"] = cents(item["row_total"] * discount_rate / 100) if priced else ZERO
        if item["tax_amount"] is None:
            taxable = item["row_total"] - item["discount_amount"]
            item["tax_amount"] = cents(taxable * tax_rate / 100) if priced else ZERO
        items.append(item)
    return items


def _totals(items: list[dict], lines: list[dict], *, shipping, shipping_tax, shipping_discount, base) -> dict:
    """The header's store and base totals, summed from the priced rows as the import service checks them."""
    totals = {}
    priced = [item for item, raw in zip(items, lines, strict=True) if not raw["_dummy"]]
    for prefix in ("", "base_"):
        money = (lambda amount: amount) if not prefix else base

        def rows(name: str, prefix=prefix) -> Decimal:
            return sum((item[f"{prefix}{name}"] for item in priced), ZERO)

        ship, ship_tax, ship_discount = money(shipping), money(shipping_tax), money(shipping_discount)
        subtotal, discount = rows("row_total"), -(rows("discount_amount") + ship_discount)
        tax = rows("tax_amount") + ship_tax
        totals |= {
            f"{prefix}subtotal": subtotal,
            f"{prefix}subtotal_incl_tax": subtotal + rows("tax_amount"),
            f"{prefix}shipping_amount": ship,
            f"{prefix}shipping_tax_amount": ship_tax,
            f"{prefix}shipping_incl_tax": ship + ship_tax,
            f"{prefix}shipping_discount_amount": ship_discount,
            f"{prefix}discount_amount": discount,
            f"{prefix}tax_amount": tax,
            f"{prefix}grand_total": subtotal + ship + discount + tax,
        }
    return totals


class OrderEntityFactory(factory.DictFactory):
    """A valid ``POST /V1/orders`` entity (a dict): header totals add up from the priced rows.

    ``base_factor`` makes a EUR order on a USD base: each base amount is the store amount times the factor,
    rounded to cents on its own (so base remainders differ from store ones).
    """

    customer_email = factory.Sequence(lambda n: f"customer{n}@example.com")
    customer_firstname = "Ada"
    customer_lastname = "Lovelace"
    base_currency_code = "USD"
    global_currency_code = "USD"
    store_currency_code = "USD"
    order_currency_code = factory.LazyAttribute(lambda o: "USD" if o.base_factor is None else "EUR")
    base_to_global_rate = Decimal(1)
    base_to_order_rate = factory.LazyAttribute(
        lambda o: Decimal(1) if o.base_factor is None else (1 / D(o.base_factor)).quantize(D("0.0001"))
    )
    store_to_base_rate = ZERO
    store_to_order_rate = ZERO
    billing_address = factory.LazyFunction(lambda: dict(ADDRESS))
    payment = factory.LazyAttribute(
        lambda o: (
            {"method": o.payment_method}
            | ({"additional_information": {"sandbox_outcome": o.sandbox_outcome}} if o.sandbox_outcome else {})
        )
    )

    class Params:
        shape = "simple"  # which rows: a key of SHAPES
        lines = factory.LazyAttribute(lambda o: SHAPES[o.shape]())
        shipping = D("5.00")
        shipping_tax = None  # None: shipping taxed at tax_rate
        shipping_discount = ZERO
        tax_rate = ZERO  # percent of each priced row after its discount
        discount_rate = ZERO  # percent of each priced row
        base_factor = None
        payment_method = "checkmo"
        sandbox_outcome = None  # the sandbox gateway's answer to captures ("decline", "timeout", ...)
        shipping_method = "flatrate_flatrate"

        bundle = factory.Trait(shape="bundle")
        configurable = factory.Trait(shape="configurable")
        virtual = factory.Trait(shape="virtual", shipping=ZERO)
        discounted = factory.Trait(discount_rate=D(20))
        taxed = factory.Trait(tax_rate=D("8.25"))
        gateway_paid = factory.Trait(payment_method="sandbox")
        seed_001 = factory.Trait(shape="seed_001", shipping=D("300.00"), discount_rate=D(20))

    @classmethod
    def _adjust_kwargs(cls, **kwargs):
        """Turn the parameters (rows, shipping, rates) into the payload's items, totals and shipping."""
        lines = kwargs["lines"]
        factor = kwargs["base_factor"]

        def base(amount: Decimal) -> Decimal:
            return amount if factor is None else cents(amount * D(factor))

        items = _priced_rows(lines, D(kwargs["tax_rate"]), D(kwargs["discount_rate"]))
        for item in items:
            for name in MONEY:
                item.setdefault(f"base_{name}", base(item[name]))
        shipping = D(kwargs["shipping"])
        shipping_tax = kwargs["shipping_tax"]
        shipping_tax = cents(shipping * D(kwargs["tax_rate"]) / 100) if shipping_tax is None else D(shipping_tax)
        totals = _totals(
            items,
            lines,
            shipping=shipping,
            shipping_tax=shipping_tax,
            shipping_discount=D(kwargs["shipping_discount"]),
            base=base,
        )
        entity = {**totals, **kwargs, "items": items}
        if not all(item.get("is_virtual") for item in items):
            entity.setdefault(
                "extension_attributes",
                {
                    "shipping_assignments": [
                        {"shipping": {"address": dict(ADDRESS), "method": kwargs["shipping_method"]}}
                    ]
                },
            )
        return entity


class OrderFactory(OrderEntityFactory):
    """An order stored by the import service from ``OrderEntityFactory``'s entity; ``invoiced=True`` invoices it."""

    class Meta:
        model = Order

    increment_id = None  # the store's next number

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        raise TypeError("OrderFactory only creates (through the import service); OrderEntityFactory builds entities")

    @classmethod
    def _create(cls, model_class, *args, **entity):
        store, _ = Store.objects.get_or_create(
            id=Store.DEFAULT_ID, defaults={"code": "default", "name": "Default Store View"}
        )
        return order_import(entity=entity, store_id=entity.pop("store_id", store.pk))

    @factory.post_generation
    def invoiced(order, create, extracted, **kwargs):  # noqa: N805 - factory-boy passes the object first
        """``invoiced=True``: one invoice of everything through ``invoice_order`` (its kwargs after ``invoiced__``)."""
        if create and extracted:
            invoice_order(order_id=order.pk, **kwargs)
            order.refresh_from_db()


def invoice_lines(order: Order, lines) -> list[InvoiceLineRequest]:
    """``[(sku, qty), ...]`` as the service's line requests for ``order``."""
    by_sku = {row.sku: row.pk for row in order.items.all()}
    return [InvoiceLineRequest(by_sku[sku], D(qty)) for sku, qty in lines]


class InvoiceFactory(factory.Factory):
    """An invoice made by ``invoice_order`` for an ``OrderFactory`` order (``order__taxed=True`` and so on)."""

    class Meta:
        model = Invoice

    order = factory.SubFactory(OrderFactory)
    capture_case = CaptureCase.OFFLINE
    lines = ()  # (sku, qty) pairs; none: everything left to invoice
    notify = False

    @classmethod
    def _create(cls, model_class, *args, order, lines, **kwargs):
        created = invoice_order(order_id=order.pk, items=invoice_lines(order, lines), **kwargs)
        return Invoice.objects.get(pk=created.pk)


class UserFactory(factory.django.DjangoModelFactory):
    """An account that is not staff (a shopper, an integration's user) signing in with ``tests.helpers.PASSWORD``;
    ``password=None`` gives it none that works; ``inactive=True`` a deactivated one; ``groups`` by name,
    ``permissions`` as ``"app_label.codename"``; ``superuser=True`` for Magento's "All" role."""

    class Meta:
        model = "auth.User"
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user-{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.django.Password(PASSWORD)
    is_staff = False

    class Params:
        superuser = factory.Trait(is_superuser=True)
        inactive = factory.Trait(is_active=False)

    @factory.post_generation
    def groups(user, create, extracted, **kwargs):  # noqa: N805 - factory-boy passes the object first
        if create and extracted:
            found = list(Group.objects.filter(name__in=extracted))
            assert len(found) == len(set(extracted)), f"no such group among {extracted}"
            user.groups.add(*found)

    @factory.post_generation
    def permissions(user, create, extracted, **kwargs):  # noqa: N805 - factory-boy passes the object first
        if create and extracted:
            add_permissions(user, *extracted)


class StaffUserFactory(UserFactory):
    """A staff user, who may sign in to the admin and ask for an admin token (``UserFactory``'s parameters)."""

    username = factory.Sequence(lambda n: f"staff-{n}")
    is_staff = True


def add_permissions(user, *names: str) -> None:
    """Grant ``"app_label.codename"`` permissions; Django caches permissions per instance, so read the user anew."""
    for name in names:
        app_label, codename = name.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


def superuser_token() -> str:
    """An admin token of a new superuser (Magento's "All" role): every route's resource is allowed."""
    from integrations.services import admin_token_create

    return admin_token_create(username=StaffUserFactory(superuser=True).username, password=PASSWORD)


def staff_client(client, *groups: str, permissions=()):
    """``client`` signed in to the admin as a new ``StaffUserFactory`` user of these groups and permissions."""
    user = StaffUserFactory(groups=groups, permissions=permissions)
    assert client.login(username=user.username, password=PASSWORD)
    return client
