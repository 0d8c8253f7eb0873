"""Every staff action in the admin leaves an audit entry: who, how, what, when and how it ended."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import Client

from audit.models import AuditAction, AuditChannel, AuditEntry, AuditOutcome
from integrations.models import AccessToken, SignInFailureLog
from notifications.models import EmailOutbox
from payments.gateways.sandbox import SandboxGateway
from sales.models import Invoice, InvoiceComment, InvoiceState, OrderItem
from sales.services import CaptureCase
from tests.factories import InvoiceFactory, OrderFactory, StaffUserFactory
from tests.payments.conftest import sandbox_ledger  # noqa: F401 - a fresh sandbox per test

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user(db):
    return StaffUserFactory(superuser=True, username="clerk")


@pytest.fixture
def clerk(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def paid_invoice(db):
    return InvoiceFactory()


@pytest.fixture
def pending_invoice(db):
    return InvoiceFactory(capture_case=CaptureCase.NOT_CAPTURE)


@pytest.fixture
def online_invoice(db):
    return InvoiceFactory(order__gateway_paid=True, capture_case=CaptureCase.ONLINE)


def the_entry() -> AuditEntry:
    [entry] = AuditEntry.objects.all()
    return entry


def about(entry: AuditEntry, obj) -> bool:
    return entry.content_type == ContentType.objects.get_for_model(type(obj)) and entry.object_id == str(obj.pk)


# -- Capture, Void and Cancel ask first ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "fixture", "words"),
    [
        ("capture", "pending_invoice", "will be recorded as paid offline"),
        ("cancel", "pending_invoice", "No money moves"),
        ("void", "online_invoice", "will be voided at the payment gateway"),
    ],
)
def test_a_get_of_capture_void_or_cancel_shows_a_confirmation_with_the_amount_and_changes_nothing(
    request, clerk, operation, fixture, words
):
    invoice = request.getfixturevalue(fixture)
    state = invoice.state

    response = clerk.get(f"/admin/sales/invoice/{invoice.pk}/{operation}/")

    page = response.content.decode()
    assert response.status_code == 200
    assert f"Are you sure you want to {operation} invoice #{invoice.increment_id}?" in page
    assert words in page and "$" in page  # what will happen, and the amount
    assert 'method="post"' in page and "csrfmiddlewaretoken" in page
    assert f"Yes, {operation} it" in page and "No, take me back" in page
    assert Invoice.objects.get(pk=invoice.pk).state == state
    assert not AuditEntry.objects.exists()


def test_the_invoice_page_links_capture_and_cancel_to_their_confirmation_instead_of_posting(clerk, pending_invoice):
    page = clerk.get(f"/admin/sales/invoice/{pending_invoice.pk}/change/").content.decode()

    for operation in ("capture", "cancel"):
        assert f'<a href="/admin/sales/invoice/{pending_invoice.pk}/{operation}/">' in page
        assert f'action="/admin/sales/invoice/{pending_invoice.pk}/{operation}/"' not in page


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(admin_user, pending_invoice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)

    response = client.post(f"/admin/sales/invoice/{pending_invoice.pk}/capture/")

    assert response.status_code == 403
    assert Invoice.objects.get(pk=pending_invoice.pk).state == InvoiceState.OPEN


def test_the_confirmation_of_an_operation_the_invoice_does_not_allow_says_so_and_shows_no_yes(clerk, paid_invoice):
    response = clerk.get(f"/admin/sales/invoice/{paid_invoice.pk}/void/", follow=True)

    assert "The void action is not available." in response.content.decode()
    assert "Yes, void it" not in response.content.decode()


@pytest.mark.parametrize(
    ("operation", "fixture", "action", "state"),
    [
        ("capture", "pending_invoice", AuditAction.INVOICE_CAPTURE, InvoiceState.PAID),
        ("cancel", "pending_invoice", AuditAction.INVOICE_CANCEL, InvoiceState.CANCELED),
        ("void", "online_invoice", AuditAction.INVOICE_VOID, InvoiceState.CANCELED),
    ],
)
def test_the_confirmed_post_acts_and_records_who_did_what_to_which_invoice(
    request, clerk, admin_user, operation, fixture, action, state
):
    invoice = request.getfixturevalue(fixture)

    clerk.post(f"/admin/sales/invoice/{invoice.pk}/{operation}/")

    assert Invoice.objects.get(pk=invoice.pk).state == state
    entry = the_entry()
    assert (entry.action, entry.outcome, entry.channel) == (action, AuditOutcome.SUCCEEDED, AuditChannel.ADMIN)
    assert (entry.actor, entry.actor_username) == (admin_user, "clerk")
    assert about(entry, invoice) and entry.object_repr == f"#{invoice.increment_id}"
    assert entry.client_address == "127.0.0.1" and entry.http_status is None and entry.error_message == ""


def test_a_refused_operation_is_recorded_as_refused_with_the_services_message(clerk, paid_invoice):
    clerk.post(f"/admin/sales/invoice/{paid_invoice.pk}/void/")

    entry = the_entry()
    assert (entry.action, entry.outcome) == (AuditAction.INVOICE_VOID, AuditOutcome.REFUSED)
    assert entry.error_message == "The void action is not available."


@pytest.mark.django_db(transaction=True)
def test_a_declined_capture_is_recorded_as_failed_and_its_entry_outlives_the_rollback(client, default_store):
    # given a Pending invoice of an order whose gateway declines captures (real transactions: no test wrapper)
    client.force_login(StaffUserFactory(superuser=True))
    invoice = InvoiceFactory(
        order__gateway_paid=True, order__sandbox_outcome="decline", capture_case=CaptureCase.NOT_CAPTURE
    )

    # when staff confirm the capture
    response = client.post(f"/admin/sales/invoice/{invoice.pk}/capture/", follow=True)

    # then the capture was rolled back, and the trail keeps the attempt with the gateway's reason
    assert "Could not save an invoice" in response.content.decode()
    assert Invoice.objects.get(pk=invoice.pk).state == InvoiceState.OPEN
    entry = the_entry()
    assert (entry.action, entry.outcome) == (AuditAction.INVOICE_CAPTURE, AuditOutcome.FAILED)
    assert entry.error_message.startswith("Could not save an invoice") and "declined" in entry.error_message


@pytest.mark.django_db(transaction=True)
def test_an_unexpected_gateway_error_is_recorded_as_failed_before_the_500(client, default_store, monkeypatch):
    client.force_login(StaffUserFactory(superuser=True))
    invoice = InvoiceFactory(order__gateway_paid=True, capture_case=CaptureCase.NOT_CAPTURE)
    monkeypatch.setattr(SandboxGateway, "capture", lambda self, request: 1 / 0)  # the edge: a gateway library
    client.raise_request_exception = False

    assert client.post(f"/admin/sales/invoice/{invoice.pk}/capture/").status_code == 500

    entry = the_entry()
    assert (entry.action, entry.outcome) == (AuditAction.INVOICE_CAPTURE, AuditOutcome.FAILED)
    assert entry.error_message == "ZeroDivisionError: division by zero"


# -- invoice create, e-mail, comments ------------------------------------------------------------------


def test_new_invoice_on_the_order_page_records_the_invoice_it_created(clerk):
    order = OrderFactory(bundle=True)
    data = {f"qty_{item.pk}": str(item.qty_ordered) for item in OrderItem.objects.filter(order=order)}

    clerk.post(f"/admin/sales/order/{order.pk}/invoice/", data)

    invoice = Invoice.objects.get(order=order)
    entry = the_entry()
    assert (entry.action, entry.outcome) == (AuditAction.INVOICE_CREATE, AuditOutcome.SUCCEEDED)
    assert about(entry, invoice) and entry.detail == f"order #{order.increment_id}, Capture Offline"


def test_a_refused_new_invoice_is_recorded_against_the_order(clerk):
    order = OrderFactory()
    data = {f"qty_{item.pk}": "0" for item in OrderItem.objects.filter(order=order)}

    clerk.post(f"/admin/sales/order/{order.pk}/invoice/", data)

    entry = the_entry()
    assert not Invoice.objects.filter(order=order).exists()
    assert (entry.action, entry.outcome) == (AuditAction.INVOICE_CREATE, AuditOutcome.REFUSED)
    assert about(entry, order) and entry.error_message


def test_send_email_button_and_grid_action_record_each_resend(clerk, paid_invoice):
    clerk.post(f"/admin/sales/invoice/{paid_invoice.pk}/send-email/")
    clerk.post("/admin/sales/invoice/", {"action": "resend_invoice_email", "_selected_action": [paid_invoice.pk]})

    assert EmailOutbox.objects.filter(invoice=paid_invoice).exists()
    entries = list(AuditEntry.objects.order_by("id"))
    assert [(e.action, e.outcome, e.detail) for e in entries] == [
        (AuditAction.INVOICE_EMAIL_RESEND, AuditOutcome.SUCCEEDED, ""),
        (AuditAction.INVOICE_EMAIL_RESEND, AuditOutcome.SUCCEEDED, "grid action"),
    ]
    assert all(about(e, paid_invoice) and e.object_repr == f"#{paid_invoice.increment_id}" for e in entries)


def test_an_invoice_comment_is_recorded(clerk, paid_invoice):
    clerk.post(f"/admin/sales/invoice/{paid_invoice.pk}/comment/", {"comment": "Paid by cheque"})

    assert InvoiceComment.objects.filter(parent=paid_invoice, comment="Paid by cheque").exists()
    entry = the_entry()
    assert (entry.action, entry.outcome) == (AuditAction.INVOICE_COMMENT_ADD, AuditOutcome.SUCCEEDED)
    assert about(entry, paid_invoice) and entry.object_repr == f"#{paid_invoice.increment_id}"


# -- integrations: tokens and the lockout --------------------------------------------------------------


def test_issuing_and_revoking_an_integration_token_are_recorded(clerk, admin_user):
    clerk.post(
        "/admin/integrations/accesstoken/add/",
        {"user": admin_user.pk, "name": "ERP", "acl_resources": ["Magento_Sales::sales_invoice"]},
    )
    token = AccessToken.objects.get(name="ERP")
    clerk.post("/admin/integrations/accesstoken/", {"action": "revoke_selected_tokens", "_selected_action": [token.pk]})

    issued, revoked = AuditEntry.objects.order_by("id")
    assert (issued.action, revoked.action) == (AuditAction.TOKEN_ISSUE, AuditAction.TOKEN_REVOKE)
    assert about(issued, token) and about(revoked, token)
    assert issued.detail == "as clerk: Magento_Sales::sales_invoice"
    assert AccessToken.objects.get(pk=token.pk).revoked_at is not None


def test_unlocking_a_username_is_recorded(clerk):
    locked = SignInFailureLog.objects.create(username="erp", failures_count=6)

    clerk.post(
        "/admin/integrations/signinfailurelog/",
        {"action": "unlock_selected_usernames", "_selected_action": [locked.pk], "post": "yes"},
    )

    assert not SignInFailureLog.objects.exists()
    entry = the_entry()
    assert (entry.action, entry.object_repr, entry.detail) == (
        AuditAction.SIGN_IN_UNLOCK,
        "erp: 6 failure(s)",
        "6 failure(s)",
    )


def test_an_entry_keeps_the_username_after_the_user_is_deleted(clerk, admin_user, paid_invoice):
    clerk.post(f"/admin/sales/invoice/{paid_invoice.pk}/send-email/")
    clerk.logout()

    admin_user.delete()

    entry = the_entry()
    assert (entry.actor, entry.actor_username) == (None, "clerk")
