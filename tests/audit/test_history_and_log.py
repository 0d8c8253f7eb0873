"""The audit trail in the admin: an object's History lists its entries, and the audit log page filters them
and lets nobody add, change or delete one."""

import datetime
import html
import re
from urllib.parse import quote

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from audit.models import AuditAction, AuditChannel, AuditEntry, AuditOutcome
from audit.services import audit_record
from sales.models import Invoice, Order
from sales.services import CaptureCase
from tests.factories import InvoiceFactory, StaffUserFactory, add_permissions

pytestmark = pytest.mark.django_db

LOG = "/admin/audit/auditentry/"


@pytest.fixture
def clerk(client, db):
    client.force_login(StaffUserFactory(superuser=True, username="clerk"))
    return client


@pytest.fixture
def pending_invoice(db):
    return InvoiceFactory(order__configurable=True, capture_case=CaptureCase.NOT_CAPTURE)


def history_rows(page: str) -> list[list[str]]:
    table = re.search(r'id="audit-history".*?<tbody>(.*?)</tbody>', page, flags=re.DOTALL).group(1)
    cells = r"<t[hd][^>]*>(.*?)</t[hd]>"
    return [
        [html.unescape(" ".join(re.sub(r"<[^>]+>", " ", cell).split())) for cell in re.findall(cells, row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", table, flags=re.DOTALL)
    ]


def test_the_invoice_history_lists_its_entries_newest_first_with_who_how_action_and_outcome(clerk, pending_invoice):
    clerk.post(f"/admin/sales/invoice/{pending_invoice.pk}/send-email/")
    clerk.post(f"/admin/sales/invoice/{pending_invoice.pk}/capture/")
    clerk.post(f"/admin/sales/invoice/{pending_invoice.pk}/capture/")  # refused: already paid

    page = clerk.get(f"/admin/sales/invoice/{pending_invoice.pk}/history/").content.decode()

    rows = history_rows(page)
    number = f"#{pending_invoice.increment_id}"
    assert [row[1:6] for row in rows] == [
        [
            "clerk",
            "Admin from 127.0.0.1",
            "Capture invoice",
            number,
            f'Refused: The transaction "{Invoice.objects.get(pk=pending_invoice.pk).transaction_id or ""}" cannot be '
            "captured yet.",
        ],
        ["clerk", "Admin from 127.0.0.1", "Capture invoice", number, "Succeeded"],
        ["clerk", "Admin from 127.0.0.1", "Send invoice e-mail", number, "Succeeded"],
    ]
    assert "doesn’t have a change history" not in page


def test_the_order_history_lists_the_entries_of_the_order_and_of_its_invoices(clerk, pending_invoice):
    order = pending_invoice.order
    audit_record(
        action=AuditAction.ORDER_COMMENT_ADD,
        channel=AuditChannel.API_V1,
        outcome=AuditOutcome.SUCCEEDED,
        model=Order,
        object_id=order.pk,
        token_kind="admin",
    )
    clerk.post(f"/admin/sales/invoice/{pending_invoice.pk}/cancel/")
    audit_record(
        action=AuditAction.ORDER_COMMENT_ADD,
        channel=AuditChannel.API_V1,
        outcome=AuditOutcome.SUCCEEDED,
        model=Order,
        object_id=order.pk + 1000,
    )  # another order's: not listed

    page = clerk.get(f"/admin/sales/order/{order.pk}/history/").content.decode()

    actions = [row[3] for row in history_rows(page)]
    assert actions == ["Cancel invoice", "Add order comment"]
    assert "/V1 API, admin token" in page


def test_an_object_without_entries_keeps_djangos_empty_history_message(clerk, pending_invoice):
    page = clerk.get(f"/admin/sales/invoice/{pending_invoice.pk}/history/").content.decode()

    assert 'id="audit-history"' not in page
    assert "doesn’t have a change history" in page


# -- the log page --------------------------------------------------------------------------------------


@pytest.fixture
def entries(pending_invoice):
    erp = StaffUserFactory(username="erp", is_staff=False)
    common = {"model": Invoice, "object_id": pending_invoice.pk, "object_repr": f"#{pending_invoice.increment_id}"}
    audit_record(
        action=AuditAction.INVOICE_CAPTURE,
        channel=AuditChannel.ADMIN,
        outcome=AuditOutcome.FAILED,
        error_message="Card declined",
        **common,
    )
    audit_record(
        action=AuditAction.INVOICE_VOID,
        channel=AuditChannel.API2,
        outcome=AuditOutcome.SUCCEEDED,
        actor=erp,
        token_kind="integration",
        token_name="ERP-XYZ",
        http_status=200,
        **common,
    )
    old = audit_record(
        action=AuditAction.ORDER_IMPORT,
        channel=AuditChannel.API_V1,
        outcome=AuditOutcome.REFUSED,
        actor=erp,
        token_kind="admin",
        http_status=400,
        object_repr="#000000999",
    )
    AuditEntry.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=40))
    return pending_invoice


def listed(client, query: str = "") -> list[str]:
    page = client.get(f"{LOG}?{query}").content.decode()
    return re.findall(r'<td class="field-action">(.*?)</td>', page)


@pytest.mark.parametrize(
    ("query", "actions"),
    [
        ("", ["Void invoice", "Capture invoice", "Import order"]),
        ("action__exact=invoice_void", ["Void invoice"]),
        ("outcome__exact=failed", ["Capture invoice"]),
        ("channel__exact=api_v1", ["Import order"]),
        ("token_kind__exact=integration", ["Void invoice"]),
        ("created_at__gte={today}", ["Void invoice", "Capture invoice"]),
        ("q=000000999", ["Import order"]),
        ("q=ERP-XYZ", ["Void invoice"]),
    ],
)
def test_the_log_page_lists_entries_newest_first_and_filters_them(clerk, entries, query, actions):
    midnight = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    query = query.format(today=quote(str(midnight)))  # as the sidebar's "Today" link writes it, zone included
    assert listed(clerk, query) == actions


def test_the_log_page_links_each_object_to_its_page_in_a_fixed_number_of_queries(
    clerk, entries, django_assert_max_num_queries
):
    with django_assert_max_num_queries(8):  # session, user, the page's count and rows, the actor filter's users
        page = clerk.get(LOG).content.decode()

    assert f'<a href="/admin/sales/invoice/{entries.pk}/change/">#{entries.increment_id}</a>' in page
    assert "#000000999" in page  # no object id: its text, unlinked


def test_the_log_page_filters_by_actor_through_its_sidebar(clerk, entries, django_user_model):
    erp = django_user_model.objects.get(username="erp")
    page = clerk.get(LOG).content.decode()

    assert f"?actor__id__exact={erp.pk}" in page
    assert listed(clerk, f"actor__id__exact={erp.pk}") == ["Void invoice", "Import order"]


def test_the_log_page_allows_no_add_change_or_delete_even_to_a_superuser(clerk, entries):
    entry = AuditEntry.objects.order_by("id").first()

    assert clerk.get(f"{LOG}add/").status_code == 403
    assert clerk.post(f"{LOG}{entry.pk}/change/", {"outcome": "succeeded"}).status_code == 403
    assert clerk.post(f"{LOG}{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    clerk.post(LOG, {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"})
    assert AuditEntry.objects.get(pk=entry.pk).outcome == AuditOutcome.FAILED
    assert AuditEntry.objects.count() == 3
    page = clerk.get(LOG).content.decode()
    assert "delete_selected" not in page and f"{LOG}add/" not in page


def test_the_log_page_needs_the_view_permission(client, entries):
    staff = StaffUserFactory()
    client.force_login(staff)
    assert client.get(LOG).status_code == 403

    add_permissions(staff, "audit.view_auditentry")

    assert client.get(LOG).status_code == 200
    assert not Permission.objects.filter(content_type__app_label="audit").exclude(codename="view_auditentry").exists()
