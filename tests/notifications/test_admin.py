"""Staff see each invoice's e-mail status and every attempt, and can resend."""

import pytest
from django.utils import timezone

from notifications.models import EmailAttempt, EmailOutbox
from notifications.tasks import email_send

pytestmark = pytest.mark.django_db


def test_the_invoices_list_shows_each_invoices_email_status_and_attempts(admin_client, smtp, queued_invoice):
    sent_invoice, sent_row = queued_invoice()
    email_send(sent_row.pk)
    waiting_invoice, _row = queued_invoice()

    page = admin_client.get("/admin/sales/invoice/").content.decode()

    assert "Sent (1 attempt)" in page
    assert "Pending (0 attempts)" in page


def test_the_invoice_page_lists_every_attempt_with_its_error(admin_client, queued_invoice):
    invoice, row = queued_invoice()
    now = timezone.now()
    refused = "ConnectionRefusedError: [Errno 111]"
    EmailAttempt.objects.create(
        email=row, number=1, started_at=now, finished_at=now, outcome=EmailAttempt.Outcome.RETRY, error=refused
    )

    page = admin_client.get(f"/admin/sales/invoice/{invoice.pk}/change/").content.decode()

    assert "Failed, will retry: ConnectionRefusedError: [Errno 111]" in page
    assert "Send Email" in page


def test_the_resend_action_queues_one_mail_per_selected_invoice(admin_client, queued_invoice):
    first, _ = queued_invoice()
    second, _ = queued_invoice()

    admin_client.post(
        "/admin/sales/invoice/", {"action": "resend_invoice_email", "_selected_action": [first.pk, second.pk]}
    )

    assert EmailOutbox.objects.filter(invoice__in=[first, second]).count() == 4  # the two from notify, two resends


def test_the_send_email_button_queues_the_mail(admin_client, queued_invoice):
    invoice, _ = queued_invoice()

    response = admin_client.post(f"/admin/sales/invoice/{invoice.pk}/send-email/", follow=True)

    assert "You sent the message." in response.content.decode()
    assert EmailOutbox.objects.filter(invoice=invoice).count() == 2
