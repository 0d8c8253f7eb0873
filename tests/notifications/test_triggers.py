"""What asks for an invoice e-mail, through HTTP: /V1 notify, /V1 .../emails, /api2, invoice comments.

pytest-django wraps each test in a transaction, so on-commit callbacks (the enqueue) run only inside
``django_capture_on_commit_callbacks``; the few ``transaction=True`` tests commit for real.
"""

from __future__ import annotations

import logging

import pytest
from django.db import transaction

from notifications import services as notification_services
from notifications import tasks
from notifications.models import EmailOutbox
from sales.models import Invoice, InvoiceComment
from sales.services import invoice_order
from tests.helpers import V1, parse, post_json

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_celery")]

Status = EmailOutbox.Status


def v1_invoice(v1, order, **body) -> Invoice:
    response = post_json(v1, f"{V1}/order/{order.pk}/invoice", body)
    assert response.status_code == 200, response.content
    return Invoice.objects.get(pk=parse(response))


def rows(invoice: Invoice, kind: str | None = None) -> list[EmailOutbox]:
    found = EmailOutbox.objects.filter(invoice=invoice).order_by("id")
    return list(found.filter(kind=kind) if kind else found)


@pytest.fixture
def sent_invoice(seed_order):
    """An invoice whose creation mail is already out (``email_sent = 1``)."""
    invoice = invoice_order(order_id=seed_order().pk, notify=True)
    EmailOutbox.objects.filter(invoice=invoice).update(status=Status.SENT)
    Invoice.objects.filter(pk=invoice.pk).update(email_sent=1)
    invoice.refresh_from_db()
    return invoice


# -- /V1 creation with notify ---------------------------------------------------------------------------


def test_v1_notify_true_queues_one_invoice_new_and_sends_it_only_on_commit(
    v1, seed_order, smtp, django_capture_on_commit_callbacks
):
    order = seed_order()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        invoice = v1_invoice(v1, order, notify=True)

    [row] = rows(invoice)
    assert (row.kind, row.status, row.attempts) == ("invoice_new", Status.PENDING, 0)
    assert row.recipients == ["roni_cost@example.com"]
    assert row.store_id == order.store_id
    assert smtp.received == []  # nothing leaves before the invoice is committed
    assert (invoice.send_email, invoice.email_sent) == (1, None)
    assert len(callbacks) == 1

    callbacks[0]()

    [received] = smtp.received
    assert received.rcpt_tos == ["roni_cost@example.com"]
    assert received.message["Message-ID"] == row.message_id
    row.refresh_from_db()
    invoice.refresh_from_db()
    assert row.status == Status.SENT
    assert invoice.email_sent == 1


def test_v1_notify_through_the_on_commit_capture_sends_one_mail(
    v1, seed_order, smtp, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invoice = v1_invoice(v1, seed_order(), notify=True)

    assert len(smtp.received) == 1
    assert smtp.received[0].message["Subject"] == "Invoice for your Main Website Store order"
    invoice.refresh_from_db()
    assert invoice.email_sent == 1


def test_v1_without_notify_queues_no_mail(v1, seed_order, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        invoice = v1_invoice(v1, seed_order())
    assert rows(invoice) == []
    assert callbacks == []
    assert invoice.email_sent is None


def test_v1_append_comment_with_notify_mails_the_comment(v1, seed_order):
    invoice = v1_invoice(v1, seed_order(), notify=True, appendComment=True, comment={"comment": "Packed with care."})
    [row] = rows(invoice)
    assert "Packed with care." in row.body_text and "Packed with care." in row.body_html
    assert InvoiceComment.objects.get(parent=invoice).is_customer_notified


def test_v1_comment_without_append_comment_is_not_mailed(v1, seed_order):
    invoice = v1_invoice(v1, seed_order(), notify=True, comment={"comment": "Internal: pallet 7."})
    [row] = rows(invoice)
    assert "pallet 7" not in row.body_text and "pallet 7" not in row.body_html
    assert not InvoiceComment.objects.get(parent=invoice).is_customer_notified


def test_a_rolled_back_invoice_leaves_no_outbox_row_and_enqueues_nothing(
    seed_order, smtp, django_capture_on_commit_callbacks
):
    order = seed_order()
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        invoice_order(order_id=order.pk, notify=True)
        raise RuntimeError("a later step of the same transaction failed")

    assert EmailOutbox.objects.count() == 0
    assert callbacks == []
    assert smtp.received == []


# -- /V1 invoices/{id}/emails ------------------------------------------------------------------------


def test_v1_emails_answers_true_sets_send_email_and_puts_email_sent_back_to_null_until_sent(
    v1, sent_invoice, smtp, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post_json(v1, f"{V1}/invoices/{sent_invoice.pk}/emails")

    assert response.status_code == 200, response.content
    assert parse(response) is True
    sent_invoice.refresh_from_db()
    assert (sent_invoice.send_email, sent_invoice.email_sent) == (1, None)
    resend = rows(sent_invoice)[-1]
    assert (resend.kind, resend.status) == ("invoice_new", Status.PENDING)
    assert resend.subject == "Invoice for your Main Website Store order"

    for callback in callbacks:
        callback()

    assert len(smtp.received) == 1
    sent_invoice.refresh_from_db()
    assert sent_invoice.email_sent == 1


def test_v1_emails_for_an_unknown_invoice_is_404_and_queues_nothing(v1, db):
    response = post_json(v1, f"{V1}/invoices/987654/emails")
    assert response.status_code == 404, response.content
    assert EmailOutbox.objects.count() == 0


def test_v1_emails_same_idempotency_key_twice_queues_one_mail(
    v1, sent_invoice, smtp, django_capture_on_commit_callbacks
):
    before = len(rows(sent_invoice))
    with django_capture_on_commit_callbacks(execute=True):
        first = post_json(v1, f"{V1}/invoices/{sent_invoice.pk}/emails", HTTP_IDEMPOTENCY_KEY="resend-42")
        second = post_json(v1, f"{V1}/invoices/{sent_invoice.pk}/emails", HTTP_IDEMPOTENCY_KEY="resend-42")

    assert (first.status_code, parse(first), second.status_code, parse(second)) == (200, True, 200, True)
    assert len(rows(sent_invoice)) == before + 1
    assert len(smtp.received) == 1


def test_v1_emails_without_idempotency_key_twice_queues_two_mails(
    v1, sent_invoice, smtp, django_capture_on_commit_callbacks
):
    before = len(rows(sent_invoice))
    with django_capture_on_commit_callbacks(execute=True):
        post_json(v1, f"{V1}/invoices/{sent_invoice.pk}/emails")
        post_json(v1, f"{V1}/invoices/{sent_invoice.pk}/emails")

    assert len(rows(sent_invoice)) == before + 2
    assert len(smtp.received) == 2
    assert len({r.message["Message-ID"] for r in smtp.received}) == 2


def test_different_idempotency_keys_queue_different_mails(v1, sent_invoice):
    before = len(rows(sent_invoice))
    post_json(v1, f"{V1}/invoices/{sent_invoice.pk}/emails", HTTP_IDEMPOTENCY_KEY="a")
    post_json(v1, f"{V1}/invoices/{sent_invoice.pk}/emails", HTTP_IDEMPOTENCY_KEY="b")
    assert len(rows(sent_invoice)) == before + 2


def test_one_idempotency_key_on_two_invoices_queues_a_mail_for_each(v1, seed_order):
    # The outbox scopes a key to its invoice; over HTTP a caller's key names one request (issue 8):
    # reused for another invoice it is refused with 422, queuing nothing.
    from sales.services import invoice_email_send

    first = invoice_order(order_id=seed_order().pk)
    second = invoice_order(order_id=seed_order().pk)
    post_json(v1, f"{V1}/invoices/{first.pk}/emails", HTTP_IDEMPOTENCY_KEY="same")
    reused = post_json(v1, f"{V1}/invoices/{second.pk}/emails", HTTP_IDEMPOTENCY_KEY="same")
    assert reused.status_code == 422, reused.content
    assert (len(rows(first)), len(rows(second))) == (1, 0)

    invoice_email_send(invoice_id=second.pk, key="same")
    assert (len(rows(first)), len(rows(second))) == (1, 1)


def test_a_repeated_idempotency_key_after_the_mail_went_out_keeps_email_sent_1(
    v1, sent_invoice, smtp, django_capture_on_commit_callbacks
):
    """A client retrying a resend that already succeeded must not leave the invoice "pending" for ever."""
    with django_capture_on_commit_callbacks(execute=True):
        post_json(v1, f"{V1}/invoices/{sent_invoice.pk}/emails", HTTP_IDEMPOTENCY_KEY="resend-7")
    sent_invoice.refresh_from_db()
    assert sent_invoice.email_sent == 1

    with django_capture_on_commit_callbacks(execute=True):
        repeat = post_json(v1, f"{V1}/invoices/{sent_invoice.pk}/emails", HTTP_IDEMPOTENCY_KEY="resend-7")

    assert (repeat.status_code, parse(repeat)) == (200, True)
    assert len(smtp.received) == 1
    sent_invoice.refresh_from_db()
    assert sent_invoice.email_sent == 1  # the one mail for this key is out


def test_a_long_idempotency_key_is_not_a_server_error(v1, sent_invoice):
    response = post_json(v1, f"{V1}/invoices/{sent_invoice.pk}/emails", HTTP_IDEMPOTENCY_KEY="k" * 255)
    assert response.status_code in (200, 400), response.content
    if response.status_code == 200:
        post_json(v1, f"{V1}/invoices/{sent_invoice.pk}/emails", HTTP_IDEMPOTENCY_KEY="k" * 255)
        assert len(rows(sent_invoice)) == 2  # the creation mail + one resend


# -- /api2 ---------------------------------------------------------------------------------------------


def test_api2_create_with_send_email_true_queues_the_invoice_mail(
    v1, seed_order, smtp, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_json(v1, "/api2/invoice/create", {"order_id": seed_order().pk, "send_email": True})

    assert response.status_code == 201, response.content
    invoice = Invoice.objects.get(pk=parse(response)["invoice"]["entity_id"])
    [row] = rows(invoice)
    assert (row.kind, row.status) == ("invoice_new", Status.SENT)
    assert len(smtp.received) == 1
    invoice.refresh_from_db()
    assert (invoice.send_email, invoice.email_sent) == (1, 1)


def test_api2_create_without_send_email_queues_nothing(v1, seed_order):
    response = post_json(v1, "/api2/invoice/create", {"order_id": seed_order().pk})
    assert response.status_code == 201, response.content
    assert EmailOutbox.objects.count() == 0


@pytest.mark.parametrize("name", ["invoice_id", "id", "increment_id"])
def test_api2_invoice_email_answers_202_and_queues_one_mail(
    v1, sent_invoice, smtp, django_capture_on_commit_callbacks, name
):
    value = sent_invoice.increment_id if name == "increment_id" else sent_invoice.pk
    before = len(rows(sent_invoice))
    with django_capture_on_commit_callbacks(execute=True):
        response = post_json(v1, "/api2/invoice/email", {name: value})

    assert response.status_code == 202, response.content
    assert parse(response) == {"invoice_id": sent_invoice.pk, "queued": True}
    assert len(rows(sent_invoice)) == before + 1
    assert len(smtp.received) == 1


def test_api2_invoice_email_with_a_comment_mails_it_and_records_it_as_notified(v1, sent_invoice):
    response = post_json(v1, "/api2/invoice/email", {"invoice_id": sent_invoice.pk, "comment": "Copy as requested."})
    assert response.status_code == 202, response.content
    resend = rows(sent_invoice)[-1]
    assert "Copy as requested." in resend.body_text
    comment = InvoiceComment.objects.get(parent=sent_invoice, comment="Copy as requested.")
    assert comment.is_customer_notified


def test_api2_invoice_email_same_idempotency_key_twice_queues_one_mail(v1, sent_invoice):
    before = len(rows(sent_invoice))
    for _ in range(2):
        response = post_json(v1, "/api2/invoice/email", {"invoice_id": sent_invoice.pk}, HTTP_IDEMPOTENCY_KEY="api2-1")
        assert response.status_code == 202
    assert len(rows(sent_invoice)) == before + 1


def test_api2_invoice_email_without_a_key_twice_queues_two_mails(v1, sent_invoice):
    before = len(rows(sent_invoice))
    for _ in range(2):
        assert post_json(v1, "/api2/invoice/email", {"invoice_id": sent_invoice.pk}).status_code == 202
    assert len(rows(sent_invoice)) == before + 2


def test_api2_invoice_email_repeated_with_its_key_adds_the_comment_once(v1, sent_invoice):
    """A retried request is the same request: one mail, and one comment in the invoice's history."""
    body = {"invoice_id": sent_invoice.pk, "comment": "Resent at the customer's request."}
    for _ in range(2):
        assert post_json(v1, "/api2/invoice/email", body, HTTP_IDEMPOTENCY_KEY="api2-c").status_code == 202
    assert InvoiceComment.objects.filter(parent=sent_invoice, comment=body["comment"]).count() == 1


def test_api2_invoice_email_for_an_unknown_invoice_queues_nothing(v1, db):
    response = post_json(v1, "/api2/invoice/email", {"invoice_id": 987654})
    assert response.status_code == 404, response.content
    assert EmailOutbox.objects.count() == 0


# -- invoice comments ------------------------------------------------------------------------------------


def test_a_comment_with_is_customer_notified_sends_an_invoice_update(
    v1, sent_invoice, smtp, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_json(
            v1,
            f"{V1}/invoices/comments",
            {
                "entity": {
                    "parent_id": sent_invoice.pk,
                    "comment": "Your refund is on its way.",
                    "is_customer_notified": 1,
                }
            },
        )

    assert response.status_code == 200, response.content
    [update] = rows(sent_invoice, "invoice_update")
    assert update.subject == "Update to your Main Website Store invoice"
    assert update.recipients == ["roni_cost@example.com"]
    assert update.status == Status.SENT
    [received] = smtp.received
    assert received.message["Subject"] == "Update to your Main Website Store invoice"
    assert "Your refund is on its way." in received.text()


@pytest.mark.parametrize("notified", [0, False, None])
def test_a_comment_without_notify_sends_no_mail(v1, sent_invoice, notified):
    entity = {"parent_id": sent_invoice.pk, "comment": "Staff only."}
    if notified is not None:
        entity["is_customer_notified"] = notified
    response = post_json(v1, f"{V1}/invoices/comments", {"entity": entity})
    assert response.status_code == 200, response.content
    assert rows(sent_invoice, "invoice_update") == []


def test_two_notified_comments_send_two_updates(v1, sent_invoice):
    for text in ("First update.", "Second update."):
        entity = {"parent_id": sent_invoice.pk, "comment": text, "is_customer_notified": 1}
        assert post_json(v1, f"{V1}/invoices/comments", {"entity": entity}).status_code == 200
    updates = rows(sent_invoice, "invoice_update")
    assert ["First update." in u.body_text for u in updates] == [True, False]
    assert ["Second update." in u.body_text for u in updates] == [False, True]


# -- a failure to mail never fails the invoice ----------------------------------------------------------


@pytest.fixture
def rendering_breaks(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("template engine exploded")

    monkeypatch.setattr(notification_services, "render_to_string", broken)


def test_a_failure_to_queue_on_v1_creation_still_creates_the_invoice_and_logs_it(
    v1, seed_order, rendering_breaks, caplog
):
    order = seed_order()
    with caplog.at_level(logging.ERROR, logger="counterfoil.sales"):
        response = post_json(v1, f"{V1}/order/{order.pk}/invoice", {"notify": True})

    assert response.status_code == 200, response.content
    invoice = Invoice.objects.get(pk=parse(response))
    assert invoice.order_id == order.pk
    assert EmailOutbox.objects.count() == 0
    [record] = [r for r in caplog.records if r.name == "counterfoil.sales" and r.levelno == logging.ERROR]
    assert record.getMessage() == f"could not queue the e-mail of invoice {invoice.pk}"
    assert "template engine exploded" in str(record.exc_info[1])


def test_a_failure_to_queue_on_api2_creation_still_creates_the_invoice(v1, seed_order, rendering_breaks):
    response = post_json(v1, "/api2/invoice/create", {"order_id": seed_order().pk, "send_email": True})
    assert response.status_code == 201, response.content
    assert Invoice.objects.filter(pk=parse(response)["invoice"]["entity_id"]).exists()
    assert EmailOutbox.objects.count() == 0


def test_a_failure_to_queue_a_comments_mail_still_saves_the_comment(v1, sent_invoice, rendering_breaks):
    """Magento's comment repository saves the comment and only logs a failure of its sender."""
    entity = {"parent_id": sent_invoice.pk, "comment": "Saved anyway.", "is_customer_notified": 1}
    response = post_json(v1, f"{V1}/invoices/comments", {"entity": entity})
    assert response.status_code == 200, response.content
    assert InvoiceComment.objects.filter(parent=sent_invoice, comment="Saved anyway.").exists()


def test_a_broker_down_at_commit_leaves_the_row_pending_for_the_sweeper(
    v1, seed_order, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    def broker_down(email_id):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(tasks.email_send, "delay", broker_down)
    with (
        caplog.at_level(logging.WARNING, logger="counterfoil.notifications"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        invoice = v1_invoice(v1, seed_order(), notify=True)

    [row] = rows(invoice)
    assert (row.status, row.attempts) == (Status.PENDING, 0)
    assert any("the sweeper will send it" in r.getMessage() for r in caplog.records)


@pytest.mark.django_db(transaction=True)
def test_smtp_down_during_a_committed_request_never_fails_the_invoice(v1, seed_order, smtp_down):
    """A real commit: the on-commit send runs inside the request, against a dead SMTP server."""
    order = seed_order()
    response = post_json(v1, f"{V1}/order/{order.pk}/invoice", {"notify": True})

    assert response.status_code == 200, response.content
    invoice = Invoice.objects.get(pk=parse(response))
    [row] = rows(invoice)
    assert (row.status, row.attempts) == (Status.PENDING, 1)
    assert "ConnectionRefusedError" in row.last_error
    assert invoice.email_sent is None


@pytest.mark.django_db(transaction=True)
def test_a_committed_request_with_notify_sends_the_mail_once(v1, seed_order, smtp):
    order = seed_order()
    response = post_json(v1, f"{V1}/order/{order.pk}/invoice", {"notify": True})

    assert response.status_code == 200, response.content
    invoice = Invoice.objects.get(pk=parse(response))
    assert len(smtp.received) == 1
    assert (invoice.send_email, invoice.email_sent) == (1, 1)
    [row] = rows(invoice)
    assert (row.status, row.attempts) == (Status.SENT, 1)
