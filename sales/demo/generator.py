"""Random but realistic Magento 2 orders, for demo data, benchmarks and property tests.

``demo_order_entity(rng)`` returns the ``entity`` of a ``POST /V1/orders`` payload that
``order_import`` accepts: 1-5 lines of simple, virtual, downloadable, configurable, fixed-bundle
and dynamic-bundle products, odd prices in cents, optional discounts, tax and discount tax
compensation, shipping with its own tax and discount, in one currency or with a different base
currency. Header totals are derived from the rows, so they add up exactly in both currencies.

Every amount is a ``Decimal`` with two places. The result depends only on the numbers the ``rng``
returns; it calls nothing but ``randint``, ``choice``, ``random`` and ``sample``, so a seeded
``random.Random`` and Hypothesis' ``st.randoms()`` both work.
"""

from __future__ import annotations

import datetime
import random
from decimal import Decimal

from sales.money import round_price

ZERO = Decimal("0.00")  # two places, like every amount here
ONE = Decimal("1")
HUNDRED = Decimal("100")

# Kinds of order line. Repeats weight the draw towards the common ones.
SIMPLE = "simple"
VIRTUAL = "virtual"
DOWNLOADABLE = "downloadable"
CONFIGURABLE = "configurable"
FIXED_BUNDLE = "fixed_bundle"
DYNAMIC_BUNDLE = "dynamic_bundle"
LINE_KINDS = (SIMPLE, VIRTUAL, DOWNLOADABLE, CONFIGURABLE, FIXED_BUNDLE, DYNAMIC_BUNDLE)
_KIND_DRAW = (SIMPLE, SIMPLE, SIMPLE, VIRTUAL, DOWNLOADABLE, CONFIGURABLE, CONFIGURABLE, FIXED_BUNDLE, DYNAMIC_BUNDLE)

PAYMENT_METHODS = ("checkmo", "banktransfer", "cashondelivery", "purchaseorder")
SHIPPING_METHOD = "flatrate_flatrate"
SHIPPING_DESCRIPTION = "Flat Rate - Fixed"

# base_to_order_rate for EUR orders of a USD store (4 places, like the rate column).
EUR_RATES = (Decimal("0.9137"), Decimal("0.8762"), Decimal("0.9421"), Decimal("0.9003"), Decimal("1.0846"))
TAX_RATES = (
    Decimal("5"),
    Decimal("7.25"),
    Decimal("8.25"),
    Decimal("10"),
    Decimal("19"),
    Decimal("20"),
    Decimal("21"),
    Decimal("25"),
)
DISCOUNT_PERCENTS = (5, 10, 15, 20, 25, 33, 50, 100)
COUPONS = (
    ("SUMMER10", "Summer sale"),
    ("WELCOME", "Welcome discount"),
    ("H20", "20% off hoodies"),
    ("FREESHIP", "Free shipping weekend"),
)

# (firstname, lastname, email, street lines, city, region, region_code, postcode, country_id, telephone)
CUSTOMERS = (
    (
        "Veronica",
        "Costello",
        "roni_cost@example.com",
        ["6146 Honey Bluff Parkway"],
        "Calder",
        "Michigan",
        "MI",
        "49628-7978",
        "US",
        "(555) 229-3326",
    ),
    (
        "John",
        "Smith",
        "john.smith@example.com",
        ["1 Infinite Loop", "Building 4"],
        "Austin",
        "Texas",
        "TX",
        "78701",
        "US",
        "512-555-0199",
    ),
    (
        "Jürgen",
        "Müller",
        "juergen.mueller@example.de",
        ["Friedrichstraße 123"],
        "Berlin",
        "Berlin",
        "BER",
        "10117",
        "DE",
        "+49 30 1234567",
    ),
    (
        "Zoë",
        "Dubois-Lefèvre",
        "zoe.dubois@example.fr",
        ["12 rue de l'Église", "Bâtiment B"],
        "Lyon",
        "Rhône",
        None,
        "69002",
        "FR",
        "+33 4 78 00 00 00",
    ),
    (
        "Siobhán",
        "O'Connor",
        "siobhan.oconnor@example.ie",
        ["7 Grafton Street"],
        "Dublin",
        "Dublin",
        None,
        "D02 XY45",
        "IE",
        "+353 1 555 0100",
    ),
    (
        "Иван",
        "Петров",
        "ivan.petrov@example.ru",
        ["ул. Тверская, д. 7, кв. 12"],
        "Москва",
        "Москва",
        None,
        "125009",
        "RU",
        "+7 495 555-01-23",
    ),
    (
        "Светлана",
        "Кузнецова",
        "svetlana.k@example.ru",
        ["Невский проспект, 28"],
        "Санкт-Петербург",
        "Санкт-Петербург",
        None,
        "191186",
        "RU",
        "+7 812 555-44-33",
    ),
    (
        "محمد",
        "العلي",
        "m.alali@example.ae",
        ["شارع الشيخ زايد، برج ١٢"],
        "دبي",
        "دبي",
        None,
        "00000",
        "AE",
        "+971 4 555 0123",
    ),
    (
        "فاطمة",
        "الزهراء",
        "fatima.z@example.eg",
        ["١٥ شارع التحرير"],
        "القاهرة",
        "القاهرة",
        None,
        "11511",
        "EG",
        "+20 2 5550 1234",
    ),
    (
        "太郎",
        "山田",
        "taro.yamada@example.jp",
        ["千代田区丸の内1-1-1"],
        "東京",
        "東京都",
        None,
        "100-0005",
        "JP",
        "+81 3-5555-0101",
    ),
    (
        "芳",
        "王",
        "wang.fang@example.cn",
        ["朝阳区建国路88号"],
        "北京",
        "北京市",
        None,
        "100022",
        "CN",
        "+86 10 5555 0188",
    ),
    (
        "민준",
        "김",
        "minjun.kim@example.kr",
        ["강남구 테헤란로 152"],
        "서울",
        "서울특별시",
        None,
        "06236",
        "KR",
        "+82 2-555-0147",
    ),
    (
        "José",
        "García Núñez",
        "jose.garcia@example.es",
        ["Calle Mayor 5, 3º izq."],
        "Madrid",
        "Madrid",
        "M",
        "28013",
        "ES",
        "+34 91 555 01 01",
    ),
)

# Catalog: (sku, name, product_id).
SIMPLES = (
    ("24-MB01", "Joust Duffle Bag", 1),
    ("24-MB04", "Strive Shoulder Pack", 2),
    ("24-UG06", "Affirm Water Bottle", 19),
    ("24-WG02", "Didi Sport Watch", 36),
    ("24-MG04", "Aim Analog Watch", 40),
    ("24-UG01", "Quest Lumaflex™ Band", 21),
    ("WSH12-29-Red", "Erika Running Short-29-Red", 1889),
)
VIRTUALS = (
    ("SVC-INSTALL", "Installation service", 3001),
    ("WARR-2Y", "Extended warranty, 2 years", 3002),
    ("GIFT-WRAP", "Gift wrapping", 3003),
)
DOWNLOADABLES = (
    ("240-LV08", "Advanced Pilates & Yoga (Strength)", 49),
    ("240-LV06", "Yoga Adventure", 47),
    ("240-LV09", "Solo Power Circuit", 50),
)
CONFIGURABLES = (
    ("MH01", "Chaz Kangeroo Hoodie", 67),
    ("WJ12", "Olivia 1/4 Zip Light Jacket", 1236),
    ("MT07", "Argus All-Weather Tank", 670),
    ("WS03", "Iris Workout Top", 1428),
)
SIZES = ("XS", "S", "M", "L", "XL")
COLORS = ("Black", "Blue", "Gray", "Orange", "Purple", "Red")
BUNDLES = (
    ("24-WG080", "Sprite Yoga Companion Kit", 51),
    ("24-BNDL-RUN", "Runner's Starter Set", 5101),
    ("24-BNDL-GYM", "Home Gym Essentials", 5102),
)
SELECTIONS = (
    ("24-WG082-blue", "Sprite Stasis Ball 65 cm", 29, "Sprite Stasis Ball"),
    ("24-WG084", "Sprite Foam Yoga Brick", 21, "Sprite Foam Yoga Brick"),
    ("24-WG086", "Sprite Yoga Strap 8 foot", 34, "Sprite Yoga Strap"),
    ("24-WG088", "Sprite Foam Roller", 22, "Sprite Foam Roller"),
    ("24-UG04", "Zing Jump Rope", 23, "Jump Rope"),
    ("24-UG02", "Pursuit Lumaflex™ Tone Band", 24, "Tone Band"),
)


def cents(value: int) -> Decimal:
    """An integer number of cents as a two-place Decimal (``1999`` -> ``19.99``)."""
    return Decimal(value).scaleb(-2)


def demo_price(rng: random.Random) -> Decimal:
    """A unit price between 0.01 and 500.00, biased towards the awkward ones."""
    style = rng.randint(1, 6)
    if style == 1:
        value = rng.randint(1, 99)  # 0.07, 0.99
    elif style == 2:
        value = rng.randint(0, 99) * 100 + 99  # 19.99
    elif style == 3:
        value = rng.choice((333, 667, 1000, 1333, 3333, 6667, 10001, 33333))  # thirds and near-round
    elif style == 4:
        value = rng.randint(1, 500) * 100 - rng.choice((0, 1, 5, 49, 51))  # 45.00, 44.95, 44.51
    else:
        value = rng.randint(1, 50000)
    return cents(max(1, min(value, 50000)))


def demo_discount(rng: random.Random, amount: Decimal) -> Decimal:
    """A discount of at most ``amount``: a percentage of it (up to all), or any number of cents."""
    if amount <= ZERO:
        return ZERO
    if rng.random() < 0.6:
        return round_price(amount * rng.choice(DISCOUNT_PERCENTS) / HUNDRED)
    return cents(rng.randint(1, int(amount * 100)))


class _Context:
    """What every line of one order shares: currency rate, tax rate, discount habits."""

    def __init__(self, rng: random.Random, rate: Decimal, tax_rate: Decimal, discount_chance: float):
        self.rng = rng
        self.rate = rate
        self.tax_rate = tax_rate
        self.discount_chance = discount_chance
        self.next_item_id = 1

    def item_id(self) -> int:
        item_id = self.next_item_id
        self.next_item_id += 1
        return item_id

    def base(self, amount: Decimal) -> Decimal:
        """The base-currency twin of an order-currency amount."""
        return amount if self.rate == ONE else round_price(amount / self.rate)

    def discount(self, amount: Decimal) -> Decimal:
        """Maybe a discount on a row (as likely as this order's discount habit)."""
        if self.rng.random() >= self.discount_chance:
            return ZERO
        return demo_discount(self.rng, amount)

    def tax(self, taxable: Decimal) -> Decimal:
        return round_price(taxable * self.tax_rate / HUNDRED) if self.tax_rate else ZERO

    def compensation(self, discount: Decimal, tax: Decimal) -> Decimal:
        """The tax hidden in a discount (prices incl. tax): small, on discounted taxed rows only."""
        if discount <= ZERO or tax <= ZERO or self.rng.random() >= 0.5:
            return ZERO
        return round_price(discount * self.tax_rate / (HUNDRED + self.tax_rate))


def _money(
    ctx: _Context,
    qty: int,
    price: Decimal,
    row_total: Decimal,
    discount: Decimal = ZERO,
    tax: Decimal = ZERO,
    compensation: Decimal = ZERO,
) -> dict[str, Decimal]:
    """Money fields of a row in both currencies; incl-tax amounts are sums so they add up."""
    fields = {}
    for prefix, convert in (("", lambda amount: amount), ("base_", ctx.base)):
        row_total_incl_tax = convert(row_total) + convert(tax) + convert(compensation)
        fields.update(
            {
                f"{prefix}price": convert(price),
                f"{prefix}original_price": convert(price),
                f"{prefix}row_total": convert(row_total),
                f"{prefix}discount_amount": convert(discount),
                f"{prefix}tax_amount": convert(tax),
                f"{prefix}discount_tax_compensation_amount": convert(compensation),
                f"{prefix}price_incl_tax": round_price(row_total_incl_tax / qty),
                f"{prefix}row_total_incl_tax": row_total_incl_tax,
            }
        )
    return fields


def _unpriced_money() -> dict:
    """A dummy row of a line priced on its parent: zeros, no incl-tax amounts (as Magento stores it)."""
    return {
        key: ZERO
        for name in (
            "price",
            "original_price",
            "row_total",
            "discount_amount",
            "tax_amount",
            "discount_tax_compensation_amount",
        )
        for key in (name, f"base_{name}")
    }


def _priced_money(ctx: _Context, qty: int, price: Decimal, *, taxable: bool = True) -> dict:
    row_total = price * qty
    discount = ctx.discount(row_total)
    tax = ctx.tax(row_total - discount) if taxable else ZERO
    compensation = ctx.compensation(discount, tax)
    fields = _money(ctx, qty, price, row_total, discount, tax, compensation)
    fields["tax_percent"] = ctx.tax_rate if tax else ZERO
    fields["discount_percent"] = round_price(discount * HUNDRED / row_total) if discount else ZERO
    return fields


def _row(
    ctx: _Context,
    *,
    sku: str,
    name: str,
    product_id: int,
    product_type: str,
    qty: int,
    is_virtual: bool,
    money: dict,
    parent_id: int | None = None,
    options: dict | None = None,
    cost: bool = False,
) -> dict:
    row = {
        "item_id": ctx.item_id(),
        "sku": sku,
        "name": name,
        "product_id": product_id,
        "product_type": product_type,
        "qty_ordered": Decimal(qty),
        "is_virtual": int(is_virtual),
        **money,
    }
    if parent_id is not None:
        row["parent_item_id"] = parent_id
    if options:
        row["product_options"] = options
    if not is_virtual:
        row["weight"] = Decimal(ctx.rng.randint(1, 40)).scaleb(-1)
        row["row_weight"] = row["weight"] * qty
    if cost and ctx.rng.random() < 0.5:
        row["base_cost"] = round_price(ctx.base(row["price"]) * ctx.rng.randint(40, 70) / HUNDRED)
    return row


def _standalone(ctx: _Context, kind: str) -> tuple[list[dict], list[dict]]:
    catalog = {SIMPLE: SIMPLES, VIRTUAL: VIRTUALS, DOWNLOADABLE: DOWNLOADABLES}[kind]
    sku, name, product_id = ctx.rng.choice(catalog)
    qty = ctx.rng.randint(1, 5)
    # Services are sometimes tax exempt.
    taxable = kind != VIRTUAL or ctx.rng.random() < 0.5
    row = _row(
        ctx,
        sku=sku,
        name=name,
        product_id=product_id,
        product_type=kind,
        qty=qty,
        is_virtual=kind != SIMPLE,
        money=_priced_money(ctx, qty, demo_price(ctx.rng), taxable=taxable),
        cost=True,
    )
    return [row], [row]


def _configurable(ctx: _Context) -> tuple[list[dict], list[dict]]:
    sku, name, product_id = ctx.rng.choice(CONFIGURABLES)
    size, color = ctx.rng.choice(SIZES), ctx.rng.choice(COLORS)
    child_sku, child_name = f"{sku}-{size}-{color}", f"{name}-{size}-{color}"
    qty = ctx.rng.randint(1, 5)
    options = {"attributes_info": [{"label": "Size", "value": size}, {"label": "Color", "value": color}]}
    parent = _row(
        ctx,
        sku=child_sku,
        name=name,
        product_id=product_id,
        product_type=CONFIGURABLE,
        qty=qty,
        is_virtual=False,
        money=_priced_money(ctx, qty, demo_price(ctx.rng)),
        options=options,
    )
    child = _row(
        ctx,
        sku=child_sku,
        name=child_name,
        product_id=product_id + ctx.rng.randint(1, 60),
        product_type=SIMPLE,
        qty=qty,
        is_virtual=False,
        money=_unpriced_money(),
        parent_id=parent["item_id"],
    )
    return [parent, child], [parent]


def _selections(ctx: _Context) -> list[tuple[tuple, int, int]]:
    """1-3 bundle selections: (catalog entry, selection qty per bundle, option id)."""
    chosen = ctx.rng.sample(SELECTIONS, ctx.rng.randint(1, 3))
    return [(entry, ctx.rng.randint(1, 3), option_id) for option_id, entry in enumerate(chosen, start=1)]


def _fixed_bundle(ctx: _Context) -> tuple[list[dict], list[dict]]:
    sku, name, product_id = ctx.rng.choice(BUNDLES)
    qty = ctx.rng.randint(1, 5)
    selections = _selections(ctx)
    bundle_sku = "-".join([sku, *(entry[0] for entry, _n, _o in selections)])
    options = {"product_calculations": 1, "shipment_type": 0}
    parent = _row(
        ctx,
        sku=bundle_sku,
        name=name,
        product_id=product_id,
        product_type="bundle",
        qty=qty,
        is_virtual=False,
        money=_priced_money(ctx, qty, demo_price(ctx.rng)),
        options=options,
    )
    rows, priced = [parent], [parent]
    for (child_sku, child_name, child_product_id, label), selection_qty, option_id in selections:
        attributes = {"qty": selection_qty, "option_label": label, "option_id": option_id}
        rows.append(
            _row(
                ctx,
                sku=child_sku,
                name=child_name,
                product_id=child_product_id,
                product_type=SIMPLE,
                qty=qty * selection_qty,
                is_virtual=False,
                money=_unpriced_money(),
                parent_id=parent["item_id"],
                options={"bundle_selection_attributes": attributes},
            )
        )
    return rows, priced


def _dynamic_bundle(ctx: _Context) -> tuple[list[dict], list[dict]]:
    sku, name, product_id = ctx.rng.choice(BUNDLES)
    qty = ctx.rng.randint(1, 5)
    selections = _selections(ctx)
    bundle_sku = "-".join([sku, *(entry[0] for entry, _n, _o in selections)])
    parent_id = ctx.item_id()
    children = []
    for (child_sku, child_name, child_product_id, label), selection_qty, option_id in selections:
        child_qty = qty * selection_qty
        price = demo_price(ctx.rng)
        attributes = {"qty": selection_qty, "option_label": label, "option_id": option_id}
        children.append(
            _row(
                ctx,
                sku=child_sku,
                name=child_name,
                product_id=child_product_id,
                product_type=SIMPLE,
                qty=child_qty,
                is_virtual=False,
                money=_priced_money(ctx, child_qty, price),
                parent_id=parent_id,
                options={"bundle_selection_attributes": attributes},
                cost=True,
            )
        )
    # The parent shows the bundle's price; the children carry the money (the parent is a dummy row).
    selection_qtys = [selection_qty for _entry, selection_qty, _option in selections]
    price = sum((child["price"] * n for child, n in zip(children, selection_qtys, strict=True)), ZERO)
    parent = {
        "item_id": parent_id,
        "sku": bundle_sku,
        "name": name,
        "product_id": product_id,
        "product_type": "bundle",
        "qty_ordered": Decimal(qty),
        "is_virtual": 0,
        **_money(ctx, qty, price, price * qty),
        "product_options": {"product_calculations": 0, "shipment_type": 0},
    }
    return [parent, *children], children


_LINE_BUILDERS = {
    SIMPLE: lambda ctx: _standalone(ctx, SIMPLE),
    VIRTUAL: lambda ctx: _standalone(ctx, VIRTUAL),
    DOWNLOADABLE: lambda ctx: _standalone(ctx, DOWNLOADABLE),
    CONFIGURABLE: _configurable,
    FIXED_BUNDLE: _fixed_bundle,
    DYNAMIC_BUNDLE: _dynamic_bundle,
}


def _address(customer: tuple) -> dict:
    firstname, lastname, email, street, city, region, region_code, postcode, country_id, telephone = customer
    address = {
        "firstname": firstname,
        "lastname": lastname,
        "street": list(street),
        "city": city,
        "region": region,
        "postcode": postcode,
        "country_id": country_id,
        "telephone": telephone,
        "email": email,
    }
    if region_code:
        address["region_code"] = region_code
    return address


def _created_at(rng: random.Random, created_at: datetime.datetime | None) -> str:
    if created_at is None:
        start = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
        created_at = start + datetime.timedelta(seconds=rng.randint(0, 366 * 24 * 3600 - 1))
    elif created_at.tzinfo is not None:
        created_at = created_at.astimezone(datetime.UTC)
    return created_at.strftime("%Y-%m-%d %H:%M:%S")


def _sum(rows: list[dict], key: str) -> Decimal:
    return sum((row[key] for row in rows), ZERO)


def demo_order_entity(
    rng: random.Random,
    *,
    increment_id: str | None = None,
    created_at: datetime.datetime | None = None,
) -> dict:
    """A random Magento order entity (the dict inside ``{"entity": ...}``) that ``order_import`` accepts.

    ``increment_id`` None leaves numbering to the store's sequence; ``created_at`` None draws a
    moment of 2024 from ``rng`` (naive datetimes are taken as UTC).
    """
    rate = ONE if rng.random() < 0.65 else rng.choice(EUR_RATES)
    tax_rate = ZERO if rng.random() < 0.35 else rng.choice(TAX_RATES)
    ctx = _Context(rng, rate, tax_rate, discount_chance=rng.choice((0.0, 0.3, 0.6, 1.0)))

    items: list[dict] = []
    priced: list[dict] = []
    for _ in range(rng.randint(1, 5)):
        rows, money_rows = _LINE_BUILDERS[rng.choice(_KIND_DRAW)](ctx)
        items.extend(rows)
        priced.extend(money_rows)
    is_virtual = all(row["is_virtual"] for row in items)

    # Shipping: a flat rate per order or per unit, with its own tax, discount and compensation.
    shipping = shipping_tax = shipping_discount = shipping_compensation = ZERO
    if not is_virtual and rng.random() < 0.8:
        if rng.random() < 0.5:
            units = sum(int(row["qty_ordered"]) for row in items if "parent_item_id" not in row)
            shipping = cents(rng.choice((500, 499, 333, 125))) * units
        else:
            shipping = rng.choice((cents(500), cents(799), cents(999), cents(1234), cents(99), demo_price(rng)))
        if rng.random() < 0.4:
            shipping_discount = shipping if rng.random() < 0.25 else demo_discount(rng, shipping)  # free or some
        if rng.random() < 0.6:
            shipping_tax = ctx.tax(shipping - shipping_discount)
            shipping_compensation = ctx.compensation(shipping_discount, shipping_tax)

    customer = rng.choice(CUSTOMERS)
    shipping_customer = customer if rng.random() < 0.8 else rng.choice(CUSTOMERS)
    is_guest = rng.random() < 0.3
    method = rng.choice(PAYMENT_METHODS)

    entity: dict = {
        "customer_email": customer[2],
        "customer_firstname": customer[0],
        "customer_lastname": customer[1],
        "customer_is_guest": int(is_guest),
        "customer_group_id": 0 if is_guest else 1,
        "base_currency_code": "USD",
        "global_currency_code": "USD",
        "order_currency_code": "USD" if rate == ONE else "EUR",
        "store_currency_code": "USD",
        "base_to_global_rate": ONE,
        "base_to_order_rate": rate,
        "store_to_base_rate": ZERO,
        "store_to_order_rate": ZERO,
        "created_at": _created_at(rng, created_at),
    }
    if increment_id is not None:
        entity["increment_id"] = increment_id
    if not is_guest:
        entity["customer_id"] = rng.randint(1, 9999)

    item_discounts = _sum(priced, "discount_amount")
    if item_discounts or shipping_discount:
        code, description = rng.choice(COUPONS)
        entity.update({"coupon_code": code, "discount_description": description, "applied_rule_ids": "1"})

    for prefix, convert in (("", lambda amount: amount), ("base_", ctx.base)):
        subtotal = _sum(priced, f"{prefix}row_total")
        ship, ship_tax = convert(shipping), convert(shipping_tax)
        ship_discount, ship_compensation = convert(shipping_discount), convert(shipping_compensation)
        discount = -(_sum(priced, f"{prefix}discount_amount") + ship_discount)
        tax = _sum(priced, f"{prefix}tax_amount") + ship_tax
        compensation = _sum(priced, f"{prefix}discount_tax_compensation_amount")
        entity.update(
            {
                f"{prefix}subtotal": subtotal,
                f"{prefix}subtotal_incl_tax": _sum(priced, f"{prefix}row_total_incl_tax"),
                f"{prefix}discount_amount": discount,
                f"{prefix}tax_amount": tax,
                f"{prefix}discount_tax_compensation_amount": compensation,
                f"{prefix}shipping_amount": ship,
                f"{prefix}shipping_tax_amount": ship_tax,
                f"{prefix}shipping_discount_amount": ship_discount,
                f"{prefix}shipping_incl_tax": ship + ship_tax + ship_compensation,
                f"{prefix}grand_total": subtotal + ship + discount + tax + compensation + ship_compensation,
            }
        )
    entity["shipping_discount_tax_compensation_amount"] = shipping_compensation
    entity["base_shipping_discount_tax_compensation_amnt"] = ctx.base(shipping_compensation)

    entity["items"] = items
    entity["billing_address"] = _address(customer)
    entity["payment"] = {"method": method, "additional_information": []}
    if method == "purchaseorder":
        entity["payment"]["po_number"] = f"PO-{rng.randint(10000, 99999)}"
    if not is_virtual:
        entity["shipping_description"] = SHIPPING_DESCRIPTION
        entity["extension_attributes"] = {
            "shipping_assignments": [{"shipping": {"address": _address(shipping_customer), "method": SHIPPING_METHOD}}]
        }
    return entity
