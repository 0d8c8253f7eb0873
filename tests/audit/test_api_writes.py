"""Every write made with a token, on both doors, leaves an audit entry: the token's user and kind, the route's
action, the object, and the outcome from the answer's status."""

import pytest
from django.contrib.contenttypes.models import ContentType
from rest_framework.test import APIClient

from audit.models import AuditAction, AuditChannel, AuditEntry, AuditOutcome, AuditTokenKind
from integrations.services import integration_token_create
from inventory.models import Source, Stock, StockSourceLink
from payments.gateways.sandbox import SandboxGateway
from sales.api.throttling import spent_budgets
from sales.models import Invoice, InvoiceState, Order
from sales.services import CaptureCase, invoice_order
from tests.conftest import load_seed_order
from tests.factories import OrderEntityFactory, OrderFactory
from tests.helpers import V1, parse, post_json
from tests.payments.conftest import sandbox_ledger  # noqa: F401 - a fresh sandbox per test

pytestmark = pytest.mark.django_db


def the_entry() -> AuditEntry:
    [entry] = AuditEntry.objects.all()
    return entry


def about(entry: AuditEntry, model, pk) -> bool:
    return entry.content_type == ContentType.objects.get_for_model(model) and entry.object_id == str(pk)


@pytest.fixture
def order(import_order):
    return import_order(load_seed_order("000"))


@pytest.fixture
def erp(staff_user, default_store):
    """An integration token named ERP-XYZ acting as the staff user, on /api2."""
    client = APIClient()
    token = integration_token_create(user=staff_user, name="ERP-XYZ", acl_resources=["Magento_Sales::invoice"])
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


# -- /V1 ---------------------------------------------------------------------------------------------------


def test_v1_invoice_create_with_an_admin_token_records_the_new_invoice(v1, staff_user, order):
    response = post_json(v1, f"{V1}/order/{order.pk}/invoice", {"capture": False})

    entry = the_entry()
    assert response.status_code == 200
    assert (entry.channel, entry.token_kind, entry.token_name) == (AuditChannel.API_V1, AuditTokenKind.ADMIN, "")
    assert (entry.action, entry.outcome, entry.http_status) == (AuditAction.INVOICE_CREATE, AuditOutcome.SUCCEEDED, 200)
    assert entry.actor == staff_user and entry.actor_username == "integration-admin"
    assert about(entry, Invoice, parse(response)) and entry.client_address == "127.0.0.1"
    assert entry.detail == f"POST {V1}/order/{order.pk}/invoice"
    assert entry.how == "/V1 API, admin token"


@pytest.mark.parametrize(
    ("operation", "action", "capture_case"),
    [
        ("capture", AuditAction.INVOICE_CAPTURE, CaptureCase.NOT_CAPTURE),
        ("cancel", AuditAction.INVOICE_CANCEL, CaptureCase.NOT_CAPTURE),
        ("emails", AuditAction.INVOICE_EMAIL_RESEND, CaptureCase.OFFLINE),
    ],
)
def test_v1_invoice_operations_record_their_action_on_the_invoice(v1, order, operation, action, capture_case):
    invoice = invoice_order(order_id=order.pk, capture_case=capture_case)

    assert post_json(v1, f"{V1}/invoices/{invoice.pk}/{operation}").status_code == 200

    entry = the_entry()
    assert (entry.action, entry.outcome, entry.http_status) == (action, AuditOutcome.SUCCEEDED, 200)
    assert about(entry, Invoice, invoice.pk)


def test_v1_a_refused_void_is_recorded_as_refused_with_its_status_and_message(v1, order):
    invoice = invoice_order(order_id=order.pk)  # paid offline: nothing to void

    assert post_json(v1, f"{V1}/invoices/{invoice.pk}/void").status_code == 400

    entry = the_entry()
    assert (entry.action, entry.outcome, entry.http_status) == (AuditAction.INVOICE_VOID, AuditOutcome.REFUSED, 400)
    assert entry.error_message == "The void action is not available." and about(entry, Invoice, invoice.pk)


@pytest.mark.django_db(transaction=True)
def test_v1_a_declined_capture_is_recorded_as_failed_and_outlives_the_rollback(v1):
    order = OrderFactory(seed_001=True, gateway_paid=True, sandbox_outcome="decline")
    invoice = invoice_order(order_id=order.pk, capture_case=CaptureCase.NOT_CAPTURE)

    assert post_json(v1, f"{V1}/invoices/{invoice.pk}/capture").status_code == 400

    assert Invoice.objects.get(pk=invoice.pk).state == InvoiceState.OPEN
    entry = the_entry()
    assert (entry.action, entry.outcome, entry.http_status) == (AuditAction.INVOICE_CAPTURE, AuditOutcome.FAILED, 400)
    assert "declined" in entry.error_message


@pytest.mark.django_db(transaction=True)
def test_v1_an_unexpected_gateway_error_answered_500_is_recorded_as_failed(v1, monkeypatch):
    # the gateway adapter breaks in a way nobody planned for (the edge: a third party's client library)
    order = OrderFactory(seed_001=True, gateway_paid=True)
    invoice = invoice_order(order_id=order.pk, capture_case=CaptureCase.NOT_CAPTURE)
    monkeypatch.setattr(SandboxGateway, "capture", lambda self, request: 1 / 0)
    v1.raise_request_exception = False

    assert post_json(v1, f"{V1}/invoices/{invoice.pk}/capture").status_code == 500

    entry = the_entry()
    assert (entry.action, entry.outcome, entry.http_status) == (AuditAction.INVOICE_CAPTURE, AuditOutcome.FAILED, 500)
    assert entry.error_message == "ZeroDivisionError: division by zero" and about(entry, Invoice, invoice.pk)


def test_v1_comments_on_an_order_and_an_invoice_are_recorded(v1, order):
    invoice = invoice_order(order_id=order.pk)

    post_json(v1, f"{V1}/orders/{order.pk}/comments", {"statusHistory": {"comment": "Called the customer"}})
    post_json(v1, f"{V1}/invoices/comments", {"entity": {"parent_id": invoice.pk, "comment": "Paid by cheque"}})

    on_order, on_invoice = AuditEntry.objects.order_by("id")
    assert on_order.action == AuditAction.ORDER_COMMENT_ADD and about(on_order, Order, order.pk)
    assert on_invoice.action == AuditAction.INVOICE_COMMENT_ADD and about(on_invoice, Invoice, invoice.pk)


def test_v1_order_import_records_the_order_it_stored(v1, default_store):
    response = post_json(v1, f"{V1}/orders", {"entity": OrderEntityFactory()})

    entry = the_entry()
    stored = parse(response)
    assert (entry.action, entry.outcome) == (AuditAction.ORDER_IMPORT, AuditOutcome.SUCCEEDED)
    assert about(entry, Order, stored["entity_id"]) and entry.object_repr == f"#{stored['increment_id']}"


def test_v1_source_items_save_records_what_it_set(v1):
    source, _ = Source.objects.get_or_create(source_code="default", defaults={"name": "Default Source"})
    stock, _ = Stock.objects.get_or_create(stock_id=1, defaults={"name": "Default Stock"})
    StockSourceLink.objects.get_or_create(stock=stock, source=source, defaults={"priority": 1})
    items = [{"sku": "24-MB01", "source_code": "default", "quantity": 7, "status": 1}]

    assert post_json(v1, f"{V1}/inventory/source-items", {"sourceItems": items}).status_code == 200

    entry = the_entry()
    assert (entry.action, entry.outcome) == (AuditAction.SOURCE_ITEMS_SAVE, AuditOutcome.SUCCEEDED)
    assert entry.detail == "1 source item(s): 24-MB01@default=7"


def test_reads_and_replayed_writes_record_nothing(v1, order):
    invoice = invoice_order(order_id=order.pk, capture_case=CaptureCase.NOT_CAPTURE)
    v1.get(f"{V1}/invoices/{invoice.pk}")
    assert not AuditEntry.objects.exists()

    for _ in range(2):
        v1.post(f"{V1}/invoices/{invoice.pk}/capture", HTTP_IDEMPOTENCY_KEY="capture-1")

    assert the_entry().action == AuditAction.INVOICE_CAPTURE  # the replay did nothing again, and says nothing


def test_a_write_without_a_valid_token_is_not_an_audited_staff_action(api_client, order):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")

    assert post_json(api_client, f"{V1}/order/{order.pk}/invoice", {}).status_code == 401

    assert not AuditEntry.objects.exists()


# -- /api2 -------------------------------------------------------------------------------------------------


def test_api2_invoice_create_with_an_integration_token_records_its_name_and_the_invoice(erp, staff_user, order):
    response = post_json(erp, "/api2/invoice/create", {"order_id": order.pk})

    assert response.status_code == 201
    invoice = Invoice.objects.get(order=order)
    entry = the_entry()
    assert (entry.channel, entry.token_kind, entry.token_name) == (AuditChannel.API2, "integration", "ERP-XYZ")
    assert (entry.action, entry.outcome, entry.http_status) == (AuditAction.INVOICE_CREATE, AuditOutcome.SUCCEEDED, 201)
    assert entry.actor == staff_user
    assert about(entry, Invoice, invoice.pk) and entry.object_repr == f"#{invoice.increment_id}"
    assert entry.how == "/api2 API, integration token ERP-XYZ"


def test_api2_a_refused_create_is_recorded_against_the_order_named_in_the_body(erp, order):
    invoice_order(order_id=order.pk)

    assert post_json(erp, "/api2/invoice/create", {"order_id": order.pk}).status_code == 400

    entry = the_entry()
    assert (entry.action, entry.outcome, entry.http_status) == (AuditAction.INVOICE_CREATE, AuditOutcome.REFUSED, 400)
    assert about(entry, Order, order.pk) and entry.error_message


def test_api2_email_records_the_invoice(v1, order):
    invoice = invoice_order(order_id=order.pk)

    assert post_json(v1, "/api2/invoice/email", {"invoice_id": invoice.pk}).status_code == 202

    entry = the_entry()
    assert (entry.channel, entry.action, entry.outcome) == (
        AuditChannel.API2,
        AuditAction.INVOICE_EMAIL_RESEND,
        AuditOutcome.SUCCEEDED,
    )
    assert about(entry, Invoice, invoice.pk)


def test_a_refused_write_is_recorded_but_a_throttled_one_costs_no_insert(v1, order, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "audit"}}
    spent_budgets.clear()
    settings.API_THROTTLE_RATE_USER = "1/min"
    invoice = invoice_order(order_id=order.pk)  # paid offline: a void is refused

    answers = [post_json(v1, f"{V1}/invoices/{invoice.pk}/void").status_code for _ in range(3)]

    spent_budgets.clear()
    assert answers == [400, 429, 429]
    assert the_entry().outcome == AuditOutcome.REFUSED
