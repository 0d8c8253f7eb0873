"""Orders, invoices and their rows, with Magento's field names.

Money columns are ``DECIMAL(20,4)`` like Magento's; quantities ``DECIMAL(12,4)``. Most money
columns are nullable as in Magento: a null is "not set" and the /V1 door omits it, which is how
Magento's JSON tells a dummy row (no row totals) from a row that costs nothing.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import DEFAULT_DB_ALIAS, models
from django.db.models import F, Q

from sales.money import ZERO, as_decimal


def MoneyField(**kwargs: Any) -> models.DecimalField:  # noqa: N802 - reads as a field type
    kwargs.setdefault("null", True)
    kwargs.setdefault("blank", True)
    return models.DecimalField(max_digits=20, decimal_places=4, **kwargs)


def QtyField(**kwargs: Any) -> models.DecimalField:  # noqa: N802
    kwargs.setdefault("default", Decimal("0"))
    return models.DecimalField(max_digits=12, decimal_places=4, **kwargs)


def RateField(**kwargs: Any) -> models.DecimalField:  # noqa: N802
    kwargs.setdefault("null", True)
    kwargs.setdefault("blank", True)
    return models.DecimalField(max_digits=20, decimal_places=4, **kwargs)


def concrete_field(model: type[models.Model], name: str) -> models.Field:
    """``model``'s field ``name`` that is a column of its table: what raw SQL and one-statement writes name."""
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field) or not field.concrete:
        raise FieldDoesNotExist(f"{model._meta.label} has no column {name!r}")
    return field


def column_of(field: models.Field) -> str:
    """A concrete field's column name (a field without a column of its own, such as a relation's, has None)."""
    if field.column is None:
        raise FieldDoesNotExist(f"{field} has no column")
    return field.column


class Store(models.Model):
    """A store view. Store 0 is the admin scope (``/rest/all/``), store 1 is ``default``."""

    ADMIN_ID = 0
    DEFAULT_ID = 1

    id = models.PositiveIntegerField(primary_key=True)
    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=255)
    frontend_name = models.CharField(max_length=255, blank=True, help_text="Name shown to customers.")
    base_currency_code = models.CharField(max_length=3, default="USD")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        adding = self._state.adding
        super().save(*args, **kwargs)
        if adding:
            # Every store view gets its own order and invoice number sequences (Magento's
            # store_add observer); stores other than 0 and 1 are prefixed with their id.
            from sales.numbering import sequences_create

            sequences_create(store_id=self.id, using=kwargs.get("using") or self._state.db or DEFAULT_DB_ALIAS)


class SalesSequence(models.Model):
    """Numbering profile per entity type and store (Magento's sales_sequence_meta + profile).

    On PostgreSQL the counter is a native sequence (non-transactional, never blocks a
    concurrent invoice, may leave gaps like Magento's auto-increment tables). On SQLite,
    where writers are serialised anyway, ``last_value`` is the counter.
    """

    class EntityType(models.TextChoices):
        ORDER = "order", "Order"
        INVOICE = "invoice", "Invoice"

    entity_type = models.CharField(max_length=32, choices=EntityType.choices)
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="sequences")
    prefix = models.CharField(max_length=32, blank=True)
    suffix = models.CharField(max_length=32, blank=True)
    start_value = models.PositiveBigIntegerField(default=1)
    step = models.PositiveIntegerField(default=1)
    last_value = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["entity_type", "store"], name="sales_sequence_entity_store_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.entity_type}@{self.store_id}"


class OrderState(models.TextChoices):
    NEW = "new", "New"
    PENDING_PAYMENT = "pending_payment", "Pending Payment"
    PROCESSING = "processing", "Processing"
    COMPLETE = "complete", "Complete"
    CLOSED = "closed", "Closed"
    CANCELED = "canceled", "Canceled"
    HOLDED = "holded", "On Hold"
    PAYMENT_REVIEW = "payment_review", "Payment Review"


class OrderStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PENDING_PAYMENT = "pending_payment", "Pending Payment"
    PROCESSING = "processing", "Processing"
    FRAUD = "fraud", "Suspected Fraud"
    COMPLETE = "complete", "Complete"
    CLOSED = "closed", "Closed"
    CANCELED = "canceled", "Canceled"
    HOLDED = "holded", "On Hold"
    PAYMENT_REVIEW = "payment_review", "Payment Review"


# Magento's default status of each state, and the statuses each state may carry.
DEFAULT_STATUS = {
    OrderState.NEW: OrderStatus.PENDING,
    OrderState.PENDING_PAYMENT: OrderStatus.PENDING_PAYMENT,
    OrderState.PROCESSING: OrderStatus.PROCESSING,
    OrderState.COMPLETE: OrderStatus.COMPLETE,
    OrderState.CLOSED: OrderStatus.CLOSED,
    OrderState.CANCELED: OrderStatus.CANCELED,
    OrderState.HOLDED: OrderStatus.HOLDED,
    OrderState.PAYMENT_REVIEW: OrderStatus.PAYMENT_REVIEW,
}
STATE_STATUSES: dict[str, set[OrderStatus]] = {  # by the state an order stores
    state: {status} | ({OrderStatus.FRAUD} if state in (OrderState.PROCESSING, OrderState.PAYMENT_REVIEW) else set())
    for state, status in DEFAULT_STATUS.items()
}


class ProductType(models.TextChoices):
    SIMPLE = "simple", "Simple"
    VIRTUAL = "virtual", "Virtual"
    DOWNLOADABLE = "downloadable", "Downloadable"
    CONFIGURABLE = "configurable", "Configurable"
    BUNDLE = "bundle", "Bundle"
    GROUPED = "grouped", "Grouped"


# product_options.product_calculations: who carries a composite line's money.
CALCULATE_CHILD = 0
CALCULATE_PARENT = 1
# product_options.shipment_type of a bundle: 1 ships its children separately.
SHIPMENT_SEPARATELY = 1


class Order(models.Model):
    """Magento's sales_order: header, every total with its base twin, and the bookkeeping."""

    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="orders")
    increment_id = models.CharField(max_length=50)
    state = models.CharField(max_length=32, choices=OrderState.choices, default=OrderState.NEW)
    status = models.CharField(max_length=32, choices=OrderStatus.choices, default=OrderStatus.PENDING)
    hold_before_state = models.CharField(max_length=32, blank=True, null=True)
    hold_before_status = models.CharField(max_length=32, blank=True, null=True)
    store_name = models.CharField(max_length=255, blank=True, null=True)
    is_virtual = models.BooleanField(default=False)
    protect_code = models.CharField(max_length=255, blank=True, null=True)
    ext_order_id = models.CharField(max_length=255, blank=True, null=True)
    quote_id = models.PositiveBigIntegerField(null=True, blank=True)
    remote_ip = models.CharField(max_length=45, blank=True, null=True)

    customer_id = models.PositiveBigIntegerField(null=True, blank=True)
    customer_email = models.EmailField(max_length=128, blank=True, null=True)
    customer_firstname = models.CharField(max_length=128, blank=True, null=True)
    customer_middlename = models.CharField(max_length=128, blank=True, null=True)
    customer_lastname = models.CharField(max_length=128, blank=True, null=True)
    customer_prefix = models.CharField(max_length=32, blank=True, null=True)
    customer_suffix = models.CharField(max_length=32, blank=True, null=True)
    customer_group_id = models.PositiveIntegerField(null=True, blank=True)
    customer_is_guest = models.BooleanField(default=False)
    customer_note = models.TextField(blank=True, null=True)
    customer_note_notify = models.BooleanField(default=True)
    customer_taxvat = models.CharField(max_length=32, blank=True, null=True)
    customer_dob = models.DateTimeField(null=True, blank=True)
    customer_gender = models.PositiveSmallIntegerField(null=True, blank=True)

    base_currency_code = models.CharField(max_length=3, default="USD")
    global_currency_code = models.CharField(max_length=3, default="USD")
    order_currency_code = models.CharField(max_length=3, default="USD")
    store_currency_code = models.CharField(max_length=3, default="USD")
    base_to_global_rate = RateField(default=Decimal("1"))
    base_to_order_rate = RateField(default=Decimal("1"))
    store_to_base_rate = RateField(default=Decimal("0"))
    store_to_order_rate = RateField(default=Decimal("0"))

    coupon_code = models.CharField(max_length=255, blank=True, null=True)
    applied_rule_ids = models.CharField(max_length=128, blank=True, null=True)
    discount_description = models.CharField(max_length=255, blank=True, null=True)
    shipping_method = models.CharField(max_length=120, blank=True, null=True)
    shipping_description = models.CharField(max_length=255, blank=True, null=True)
    weight = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    total_qty_ordered = QtyField(null=True, blank=True, default=None)
    total_item_count = models.PositiveIntegerField(default=0)
    can_ship_partially = models.BooleanField(null=True, blank=True)
    email_sent = models.PositiveSmallIntegerField(null=True, blank=True)
    send_email = models.PositiveSmallIntegerField(null=True, blank=True)

    # Totals as ordered (order currency) and their base-currency twins.
    grand_total = MoneyField(default=ZERO)
    base_grand_total = MoneyField(default=ZERO)
    subtotal = MoneyField(default=ZERO)
    base_subtotal = MoneyField(default=ZERO)
    subtotal_incl_tax = MoneyField()
    base_subtotal_incl_tax = MoneyField()
    discount_amount = MoneyField(default=ZERO)  # negative, like Magento's
    base_discount_amount = MoneyField(default=ZERO)
    tax_amount = MoneyField(default=ZERO)  # includes shipping tax
    base_tax_amount = MoneyField(default=ZERO)
    discount_tax_compensation_amount = MoneyField()  # items only; shipping's is kept apart
    base_discount_tax_compensation_amount = MoneyField()
    shipping_amount = MoneyField(default=ZERO)
    base_shipping_amount = MoneyField(default=ZERO)
    shipping_incl_tax = MoneyField()
    base_shipping_incl_tax = MoneyField()
    shipping_tax_amount = MoneyField()
    base_shipping_tax_amount = MoneyField()
    shipping_discount_amount = MoneyField()  # positive, like Magento's
    base_shipping_discount_amount = MoneyField()
    shipping_discount_tax_compensation_amount = MoneyField()
    base_shipping_discount_tax_compensation_amnt = MoneyField()  # (sic) Magento's column name

    # What invoices have taken so far.
    total_invoiced = MoneyField()
    base_total_invoiced = MoneyField()
    subtotal_invoiced = MoneyField()
    base_subtotal_invoiced = MoneyField()
    discount_invoiced = MoneyField()  # accumulates the negative invoice discounts
    base_discount_invoiced = MoneyField()
    tax_invoiced = MoneyField()
    base_tax_invoiced = MoneyField()
    discount_tax_compensation_invoiced = MoneyField()
    base_discount_tax_compensation_invoiced = MoneyField()
    shipping_invoiced = MoneyField()
    base_shipping_invoiced = MoneyField()
    base_total_invoiced_cost = MoneyField()

    # Payments and reversals.
    total_paid = MoneyField()
    base_total_paid = MoneyField()
    total_refunded = MoneyField()
    base_total_refunded = MoneyField()
    total_canceled = MoneyField()
    base_total_canceled = MoneyField()

    billing_address = models.OneToOneField(
        "OrderAddress", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    shipping_address = models.OneToOneField(
        "OrderAddress", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    created_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["increment_id", "store"], name="sales_order_increment_store_uniq"),
            models.CheckConstraint(condition=Q(state__in=OrderState.values), name="sales_order_state_valid"),
        ]
        indexes = [models.Index(fields=["state"], name="sales_order_state_idx")]

    def __str__(self) -> str:
        return f"#{self.increment_id}"

    @property
    def entity_id(self) -> int:
        return self.pk

    @property
    def total_due(self) -> Decimal:
        return max(as_decimal(self.grand_total) - as_decimal(self.total_paid), ZERO)

    @property
    def base_total_due(self) -> Decimal:
        return max(as_decimal(self.base_grand_total) - as_decimal(self.base_total_paid), ZERO)


class OrderAddress(models.Model):
    class AddressType(models.TextChoices):
        BILLING = "billing", "Billing"
        SHIPPING = "shipping", "Shipping"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="addresses")
    address_type = models.CharField(max_length=16, choices=AddressType.choices)
    customer_address_id = models.PositiveBigIntegerField(null=True, blank=True)
    customer_id = models.PositiveBigIntegerField(null=True, blank=True)
    prefix = models.CharField(max_length=40, blank=True, null=True)
    firstname = models.CharField(max_length=255)
    middlename = models.CharField(max_length=255, blank=True, null=True)
    lastname = models.CharField(max_length=255)
    suffix = models.CharField(max_length=40, blank=True, null=True)
    company = models.CharField(max_length=255, blank=True, null=True)
    street = models.TextField(help_text="One line per street line, as Magento stores it.")
    city = models.CharField(max_length=255)
    region = models.CharField(max_length=255, blank=True, null=True)
    region_code = models.CharField(max_length=32, blank=True, null=True)
    region_id = models.PositiveIntegerField(null=True, blank=True)
    postcode = models.CharField(max_length=255, blank=True, null=True)
    country_id = models.CharField(max_length=2)
    telephone = models.CharField(max_length=255, blank=True, null=True)
    email = models.EmailField(max_length=255, blank=True, null=True)
    vat_id = models.CharField(max_length=255, blank=True, null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["order", "address_type"], name="sales_order_address_type_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.firstname} {self.lastname}, {self.city}"

    @property
    def street_lines(self) -> list[str]:
        return [line for line in self.street.split("\n") if line]

    @property
    def name(self) -> str:
        return " ".join(part for part in (self.firstname, self.lastname) if part)


class OrderItem(models.Model):
    """A row of an order: a simple line, or a composite parent and its children."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    parent_item = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, related_name="children")
    store_id = models.PositiveIntegerField(null=True, blank=True)
    quote_item_id = models.PositiveBigIntegerField(null=True, blank=True)
    product_id = models.PositiveBigIntegerField(null=True, blank=True)
    product_type = models.CharField(max_length=32, choices=ProductType.choices)
    product_options = models.JSONField(default=dict, blank=True)
    sku = models.CharField(max_length=255)
    name = models.CharField(max_length=255, blank=True, null=True)
    description = models.TextField(blank=True, null=True)
    weight = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    row_weight = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    is_virtual = models.BooleanField(default=False)
    is_qty_decimal = models.BooleanField(default=False)
    no_discount = models.BooleanField(default=False)
    locked_do_invoice = models.BooleanField(null=True, blank=True)
    locked_do_ship = models.BooleanField(null=True, blank=True)
    free_shipping = models.BooleanField(default=False)

    qty_ordered = QtyField()
    qty_invoiced = QtyField()
    qty_canceled = QtyField()
    qty_refunded = QtyField()
    qty_shipped = QtyField()
    qty_backordered = QtyField(null=True, blank=True, default=None)

    base_cost = MoneyField()
    price = MoneyField(default=ZERO)
    base_price = MoneyField(default=ZERO)
    original_price = MoneyField()
    base_original_price = MoneyField()
    price_incl_tax = MoneyField()
    base_price_incl_tax = MoneyField()
    row_total = MoneyField(default=ZERO)
    base_row_total = MoneyField(default=ZERO)
    row_total_incl_tax = MoneyField()
    base_row_total_incl_tax = MoneyField()
    tax_percent = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    tax_amount = MoneyField(default=ZERO)
    base_tax_amount = MoneyField(default=ZERO)
    discount_percent = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    discount_amount = MoneyField(default=ZERO)  # positive on items
    base_discount_amount = MoneyField(default=ZERO)
    discount_tax_compensation_amount = MoneyField()
    base_discount_tax_compensation_amount = MoneyField()

    row_invoiced = MoneyField(default=ZERO)
    base_row_invoiced = MoneyField(default=ZERO)
    tax_invoiced = MoneyField(default=ZERO)
    base_tax_invoiced = MoneyField(default=ZERO)
    discount_invoiced = MoneyField(default=ZERO)
    base_discount_invoiced = MoneyField(default=ZERO)
    discount_tax_compensation_invoiced = MoneyField(default=ZERO)
    base_discount_tax_compensation_invoiced = MoneyField(default=ZERO)
    amount_refunded = MoneyField(default=ZERO)
    base_amount_refunded = MoneyField(default=ZERO)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(qty_ordered__gt=0), name="sales_order_item_qty_ordered_positive"),
            models.CheckConstraint(
                condition=Q(qty_invoiced__gte=0)
                & Q(qty_canceled__gte=0)
                & Q(qty_refunded__gte=0)
                & Q(qty_shipped__gte=0),
                name="sales_order_item_qty_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(qty_invoiced__lte=F("qty_ordered")),
                name="sales_order_item_qty_invoiced_lte_ordered",
            ),
            models.CheckConstraint(
                condition=Q(qty_shipped__lte=F("qty_ordered")),
                name="sales_order_item_qty_shipped_lte_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku} x {self.qty_ordered}"

    @property
    def item_id(self) -> int:
        return self.pk


class OrderStatusHistory(models.Model):
    """A comment in the order's history (Magento's sales_order_status_history)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="status_histories")
    comment = models.TextField(blank=True, null=True)
    status = models.CharField(max_length=32, blank=True, null=True)
    is_customer_notified = models.BooleanField(null=True, blank=True)
    is_visible_on_front = models.BooleanField(default=False)
    entity_name = models.CharField(max_length=32, blank=True, null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "order status history"

    def __str__(self) -> str:
        return (self.comment or "")[:60]

    @property
    def entity_id(self) -> int:
        return self.pk


class InvoiceState(models.IntegerChoices):
    OPEN = 1, "Pending"
    PAID = 2, "Paid"
    CANCELED = 3, "Canceled"


class Invoice(models.Model):
    """Magento's sales_invoice: every field of InvoiceInterface, plus what we keep for e-mail."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="invoices")
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="invoices")
    increment_id = models.CharField(max_length=50)
    state = models.PositiveSmallIntegerField(choices=InvoiceState.choices, null=True, blank=True)
    customer_id = models.PositiveBigIntegerField(null=True, blank=True)
    billing_address = models.ForeignKey(
        OrderAddress, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    shipping_address = models.ForeignKey(
        OrderAddress, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    is_used_for_refund = models.PositiveSmallIntegerField(null=True, blank=True)
    can_void_flag = models.PositiveSmallIntegerField(null=True, blank=True)
    email_sent = models.PositiveSmallIntegerField(null=True, blank=True)  # null: not sent (yet)
    send_email = models.PositiveSmallIntegerField(null=True, blank=True)  # 1: an e-mail is wanted
    transaction_id = models.CharField(max_length=255, null=True, blank=True)
    customer_note = models.TextField(null=True, blank=True)
    customer_note_notify = models.BooleanField(null=True, blank=True)
    discount_description = models.CharField(max_length=255, null=True, blank=True)

    global_currency_code = models.CharField(max_length=3, null=True, blank=True)
    base_currency_code = models.CharField(max_length=3, null=True, blank=True)
    store_currency_code = models.CharField(max_length=3, null=True, blank=True)
    order_currency_code = models.CharField(max_length=3, null=True, blank=True)
    store_to_base_rate = RateField()
    store_to_order_rate = RateField()
    base_to_global_rate = RateField()
    base_to_order_rate = RateField()

    total_qty = QtyField(null=True, blank=True)
    grand_total = MoneyField()
    base_grand_total = MoneyField()
    subtotal = MoneyField()
    base_subtotal = MoneyField()
    subtotal_incl_tax = MoneyField()
    base_subtotal_incl_tax = MoneyField()
    discount_amount = MoneyField()
    base_discount_amount = MoneyField()
    tax_amount = MoneyField()
    base_tax_amount = MoneyField()
    discount_tax_compensation_amount = MoneyField()
    base_discount_tax_compensation_amount = MoneyField()
    shipping_amount = MoneyField()
    base_shipping_amount = MoneyField()
    shipping_incl_tax = MoneyField()
    base_shipping_incl_tax = MoneyField()
    shipping_tax_amount = MoneyField()
    base_shipping_tax_amount = MoneyField()
    shipping_discount_tax_compensation_amount = MoneyField()
    base_shipping_discount_tax_compensation_amnt = MoneyField()  # (sic)
    base_cost = MoneyField()
    base_total_refunded = MoneyField()

    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        # Magento's ACL resources for invoice operations (view is Django's view_invoice).
        permissions = [
            ("invoice_order", "Create invoices (Magento_Sales::invoice)"),
            ("capture_invoice", "Capture invoices (Magento_Sales::capture)"),
            ("void_invoice", "Void invoices"),
            ("cancel_invoice", "Cancel invoices (Magento_Sales::cancel)"),
            ("email_invoice", "Send invoice e-mails (Magento_Sales::emails)"),
            ("comment_invoice", "Comment on invoices (Magento_Sales::comment)"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["increment_id", "store"], name="sales_invoice_increment_store_uniq"),
        ]
        indexes = [
            models.Index(fields=["state"], name="sales_invoice_state_idx"),
            # Lists sort by (field, id): a page deep in the table is read straight from one of these.
            models.Index(fields=["created_at", "id"], name="sales_invoice_created_id_idx"),
            models.Index(fields=["updated_at", "id"], name="sales_invoice_updated_id_idx"),
            models.Index(fields=["grand_total", "id"], name="sales_invoice_grand_id_idx"),
            models.Index(fields=["increment_id", "id"], name="sales_invoice_incr_id_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.increment_id}"

    @property
    def entity_id(self) -> int:
        return self.pk

    @property
    def state_label(self) -> str:
        return InvoiceState(self.state).label if self.state in InvoiceState.values else "Unknown State"


class InvoiceItem(models.Model):
    """A row of an invoice; ``parent`` is the invoice (Magento's parent_id)."""

    parent = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="items")
    order_item = models.ForeignKey(OrderItem, on_delete=models.PROTECT, related_name="invoice_items")
    product_id = models.PositiveBigIntegerField(null=True, blank=True)
    sku = models.CharField(max_length=255, null=True, blank=True)
    name = models.CharField(max_length=255, null=True, blank=True)
    description = models.TextField(null=True, blank=True)
    additional_data = models.TextField(null=True, blank=True)
    qty = QtyField()

    base_cost = MoneyField()
    price = MoneyField()
    base_price = MoneyField()
    price_incl_tax = MoneyField()
    base_price_incl_tax = MoneyField()
    row_total = MoneyField()
    base_row_total = MoneyField()
    row_total_incl_tax = MoneyField()
    base_row_total_incl_tax = MoneyField()
    tax_amount = MoneyField()
    base_tax_amount = MoneyField()
    discount_amount = MoneyField()
    base_discount_amount = MoneyField()
    discount_tax_compensation_amount = MoneyField()
    base_discount_tax_compensation_amount = MoneyField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(qty__gt=0), name="sales_invoice_item_qty_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} x {self.qty}"

    @property
    def entity_id(self) -> int:
        return self.pk


class InvoiceComment(models.Model):
    parent = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="comments")
    comment = models.TextField()
    is_customer_notified = models.BooleanField(null=True, blank=True)
    is_visible_on_front = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.comment[:60]

    @property
    def entity_id(self) -> int:
        return self.pk


class InvoiceGrid(models.Model):
    """Magento's sales_invoice_grid: one flat row per invoice for Sales > Invoices.

    The grid filters, sorts and searches a million invoices without joining five tables per
    row. Rows are written only by ``sales.grid`` (``invoice_grid_write``, ``invoice_grid_refresh``), in
    the transaction that changes the invoice. ``keywords`` is the lowercased text of Magento's full-text columns;
    on PostgreSQL a trigram GIN index serves its ``LIKE '%word%'`` (migration 0008).
    """

    invoice = models.OneToOneField(
        Invoice, on_delete=models.CASCADE, primary_key=True, related_name="grid_row", db_column="entity_id"
    )
    increment_id = models.CharField("Invoice", max_length=50)
    state = models.PositiveSmallIntegerField("Status", choices=InvoiceState.choices, null=True, blank=True)
    store = models.ForeignKey(
        Store, on_delete=models.PROTECT, related_name="+", verbose_name="Purchased From", db_index=False
    )  # the (store, invoice) index serves it
    store_name = models.CharField(max_length=255, blank=True, null=True)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="+")
    order_increment_id = models.CharField("Order #", max_length=50)
    order_created_at = models.DateTimeField("Order Date", null=True, blank=True)
    customer_name = models.CharField(max_length=255, blank=True, null=True)
    customer_email = models.CharField("Email", max_length=128, blank=True, null=True)
    customer_group_id = models.PositiveIntegerField(null=True, blank=True)
    payment_method = models.CharField(max_length=128, blank=True, null=True)
    billing_name = models.CharField("Bill-to Name", max_length=255, blank=True, null=True)
    billing_address = models.CharField(max_length=1024, blank=True, null=True)
    shipping_address = models.CharField(max_length=1024, blank=True, null=True)
    shipping_information = models.CharField(max_length=255, blank=True, null=True)
    subtotal = MoneyField()  # base currency, as Magento's grid
    shipping_and_handling = MoneyField(verbose_name="Shipping and Handling")  # base currency
    grand_total = MoneyField(verbose_name="Grand Total (Purchased)")
    base_grand_total = MoneyField(verbose_name="Grand Total (Base)")
    global_currency_code = models.CharField(max_length=3, null=True, blank=True)
    base_currency_code = models.CharField(max_length=3, null=True, blank=True)
    store_currency_code = models.CharField(max_length=3, null=True, blank=True)
    order_currency_code = models.CharField(max_length=3, null=True, blank=True)
    created_at = models.DateTimeField("Invoice Date")
    updated_at = models.DateTimeField()
    keywords = models.TextField(default="")

    class Meta:
        db_table = "sales_invoice_grid"
        verbose_name = "invoice"
        ordering = ["-pk"]
        # Every sortable column with the row id after it: the first page of any sort, and any
        # filter on the column, is read straight from an index.
        indexes = [
            models.Index(fields=[field, "invoice"], name=f"sales_igrid_{short}_idx")
            for field, short in (
                ("increment_id", "incr"),
                ("created_at", "created"),
                ("order_increment_id", "order_no"),
                ("order_created_at", "ordered"),
                ("billing_name", "billname"),
                ("state", "state"),
                ("base_grand_total", "base_grand"),
                ("grand_total", "grand"),
                ("store", "store"),
                ("payment_method", "method"),
                ("subtotal", "subtotal"),
                ("shipping_and_handling", "shipping"),
            )
        ]

    def __str__(self) -> str:
        return f"#{self.increment_id}"

    @property
    def state_label(self) -> str:
        return InvoiceState(self.state).label if self.state in InvoiceState.values else "Unknown State"
