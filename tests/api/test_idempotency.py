"""``Idempotency-Key`` on the writing doors of /V1 and /api2 (issue 8).

A repeat of a request with the same key replays the first answer and writes nothing; the key on a
different request is 422; a repeat while the first still runs is 409 with ``Retry-After: 1``; no key
behaves as before; a 5xx frees the key so the retry runs; keys expire and are purged.
"""

from __future__ import annotations

import hashlib
import json
import threading
import urllib.error
import urllib.request
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from integrations import tasks
from integrations.idempotency import canonical_body
from integrations.models import IdempotencyKey
from integrations.services import admin_token_create
from notifications.models import EmailOutbox
from payments.gateways.sandbox import LEDGER
from payments.models import Payment, Transaction
from sales.api.json import dumps
from sales.models import Invoice, InvoiceComment, InvoiceState, OrderItem, OrderStatusHistory
from sales.services import CaptureCase, InvoiceLineRequest, invoice_order
from tests.conftest import load_seed_order
from tests.factories import OrderFactory, StaffUserFactory, UserFactory
from tests.helpers import PASSWORD, V1, parse, post_json

REPLAYED = "Idempotent-Replayed"
V1_REUSED = {"message": "Idempotency-Key is already used for a different request."}
V1_IN_PROGRESS = {"message": "A request with this Idempotency-Key is still being processed. Retry later."}
V1_INVALID = {"message": "The Idempotency-Key header must be 1 to 255 characters."}
API2_REUSED = {"error": "Idempotency-Key is already used for a different request"}
API2_IN_PROGRESS = {"error": "A request with this Idempotency-Key is in progress"}
API2_INVALID = {"error": "Invalid Idempotency-Key: expected 1 to 255 characters"}


def client_with(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def fingerprint(method: str, path: str, body) -> str:
    """What the layer computes for a request: sha256 of method, full path and canonical body."""
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), canonical_body(dumps(body).encode())):
        digest.update(part)
        digest.update(b"\n")
    return digest.hexdigest()


def in_progress(principal: str, key: str, method: str, path: str, body) -> IdempotencyKey:
    """A key taken by a first request that is still running."""
    now = timezone.now()
    return IdempotencyKey.objects.create(
        principal=principal,
        key=key,
        request_method=method,
        request_path=path,
        request_fingerprint=fingerprint(method, path, body),
        state=IdempotencyKey.State.IN_PROGRESS,
        created_at=now,
        started_at=now,
        expires_at=now + timedelta(hours=24),
    )


@pytest.fixture(autouse=True)
def sandbox_ledger():
    LEDGER.reset()
    yield LEDGER
    LEDGER.reset()


@pytest.fixture
def order(import_order):
    """Seed 001 paid by bank transfer (offline): 20 + 40 backpacks and a download; partial invoices possible."""
    return import_order(load_seed_order("001"), increment_id=None)


@pytest.fixture
def sandbox_order(default_store):
    return OrderFactory(seed_001=True, gateway_paid=True, sandbox_outcome="approve")


@pytest.fixture
def principal(staff_user) -> str:
    return f"user:{staff_user.pk}"


def one_backpack(order) -> list[dict]:
    row = OrderItem.objects.get(order=order, sku="24-WB03")
    return [{"order_item_id": row.pk, "qty": 1}]


def pending_invoice(order) -> Invoice:
    return invoice_order(order_id=order.pk, capture_case=CaptureCase.NOT_CAPTURE)


# -- /V1 POST order/{id}/invoice -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_v1_a_repeat_replays_the_first_answer_and_invoices_once(v1, order):
    url, body = f"{V1}/order/{order.pk}/invoice", {"capture": True, "items": one_backpack(order)}

    first = post_json(v1, url, body, key="invoice-1")
    repeat = post_json(v1, url, body, key="invoice-1")

    assert first.status_code == 200, first.content
    assert REPLAYED not in first
    assert (repeat.status_code, repeat.content, repeat["Content-Type"]) == (200, first.content, first["Content-Type"])
    assert repeat[REPLAYED] == "true"
    assert list(Invoice.objects.values_list("pk", flat=True)) == [parse(first)]
    record = IdempotencyKey.objects.get()
    assert (record.state, record.response_status, record.request_method) == ("completed", 200, "POST")


@pytest.mark.django_db
def test_v1_a_repeat_with_reordered_keys_and_spacing_is_the_same_request(v1, order):
    url = f"{V1}/order/{order.pk}/invoice"
    first = post_json(v1, url, {"capture": True, "items": one_backpack(order)}, key="k")
    row = one_backpack(order)[0]
    reordered = f'{{ "items": [ {{"qty": 1.0, "order_item_id": {row["order_item_id"]}}} ], "capture": true }}'

    repeat = v1.post(url, reordered, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k")

    assert (repeat.status_code, repeat.content, repeat[REPLAYED]) == (200, first.content, "true")
    assert Invoice.objects.count() == 1


@pytest.mark.django_db
def test_v1_the_same_key_with_another_body_is_422_and_writes_nothing(v1, order):
    url = f"{V1}/order/{order.pk}/invoice"
    assert post_json(v1, url, {"capture": True, "items": one_backpack(order)}, key="k").status_code == 200

    response = post_json(v1, url, {"capture": False, "items": one_backpack(order)}, key="k")

    assert (response.status_code, parse(response)) == (422, V1_REUSED)
    assert Invoice.objects.count() == 1


@pytest.mark.django_db
def test_v1_the_same_key_on_another_order_is_422(v1, order, import_order):
    other = import_order(load_seed_order("001"), increment_id=None)
    assert post_json(v1, f"{V1}/order/{order.pk}/invoice", {"capture": True}, key="k").status_code == 200

    response = post_json(v1, f"{V1}/order/{other.pk}/invoice", {"capture": True}, key="k")

    assert (response.status_code, parse(response)) == (422, V1_REUSED)
    assert not Invoice.objects.filter(order=other).exists()


@pytest.mark.django_db
def test_v1_a_repeat_while_the_first_is_in_progress_is_409_retry_after_1(v1, order, principal):
    url, body = f"{V1}/order/{order.pk}/invoice", {"capture": True}
    in_progress(principal, "k", "POST", url, body)

    response = post_json(v1, url, body, key="k")

    assert (response.status_code, parse(response)) == (409, V1_IN_PROGRESS)
    assert response["Retry-After"] == "1"
    assert not Invoice.objects.exists()
    assert IdempotencyKey.objects.get().state == "in_progress"  # the first run's key is left alone


@pytest.mark.django_db
def test_v1_another_body_while_the_first_is_in_progress_is_422(v1, order, principal):
    url = f"{V1}/order/{order.pk}/invoice"
    in_progress(principal, "k", "POST", url, {"capture": True})

    response = post_json(v1, url, {"capture": False}, key="k")

    assert (response.status_code, parse(response)) == (422, V1_REUSED)


@pytest.mark.django_db
def test_v1_without_a_key_two_requests_make_two_invoices_as_before(v1, order):
    url, body = f"{V1}/order/{order.pk}/invoice", {"capture": True, "items": one_backpack(order)}

    first, second = post_json(v1, url, body), post_json(v1, url, body)

    assert (first.status_code, second.status_code) == (200, 200)
    assert parse(first) != parse(second)
    assert Invoice.objects.filter(order=order).count() == 2
    assert not IdempotencyKey.objects.exists()


@pytest.mark.django_db
def test_v1_after_a_5xx_the_key_is_freed_and_the_retry_runs(v1, order, monkeypatch):
    import sales.api.v1.views as v1_views

    real_invoice_order, calls = v1_views.invoice_order, []

    def fails_once(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            raise RuntimeError("the database went away")
        return real_invoice_order(**kwargs)

    monkeypatch.setattr(v1_views, "invoice_order", fails_once)
    url, body = f"{V1}/order/{order.pk}/invoice", {"capture": True}

    failed = post_json(v1, url, body, key="k")
    assert failed.status_code == 500
    assert not IdempotencyKey.objects.exists()

    retried = post_json(v1, url, body, key="k")

    assert retried.status_code == 200 and REPLAYED not in retried
    assert len(calls) == 2 and Invoice.objects.count() == 1
    assert post_json(v1, url, body, key="k")[REPLAYED] == "true"


@pytest.mark.django_db
def test_v1_a_4xx_answer_is_stored_and_replayed(v1, order):
    url, body = f"{V1}/order/{order.pk}/invoice", {"capture": True, "items": [{"order_item_id": 999999, "qty": 1}]}
    first = post_json(v1, url, body, key="k")
    assert first.status_code == 400, first.content

    repeat = post_json(v1, url, body, key="k")

    assert (repeat.status_code, repeat.content, repeat[REPLAYED]) == (400, first.content, "true")


@pytest.mark.django_db
def test_keys_belong_to_their_caller(v1, order, django_user_model):
    StaffUserFactory(username="second-admin", superuser=True)
    other = client_with(admin_token_create(username="second-admin", password=PASSWORD))
    url, body = f"{V1}/order/{order.pk}/invoice", {"capture": True, "items": one_backpack(order)}

    mine, theirs = post_json(v1, url, body, key="shared"), post_json(other, url, body, key="shared")

    assert (mine.status_code, theirs.status_code) == (200, 200)
    assert REPLAYED not in theirs
    assert Invoice.objects.count() == 2


@pytest.mark.django_db
def test_an_admins_key_outlives_the_token_it_came_with(v1, order, staff_user):
    url, body = f"{V1}/order/{order.pk}/invoice", {"capture": True}
    first = post_json(v1, url, body, key="k")
    relogged = client_with(admin_token_create(username=staff_user.username, password=PASSWORD))

    repeat = post_json(relogged, url, body, key="k")

    assert (repeat.status_code, repeat.content, repeat[REPLAYED]) == (200, first.content, "true")


@pytest.mark.django_db
def test_the_quoted_form_of_the_draft_is_the_same_key(v1, order):
    url, body = f"{V1}/order/{order.pk}/invoice", {"capture": True}
    first = post_json(v1, url, body, key="abc-123")

    repeat = post_json(v1, url, body, key='"abc-123"')

    assert (repeat.content, repeat[REPLAYED]) == (first.content, "true")


@pytest.mark.django_db
def test_a_refused_request_takes_no_key(api_client, default_store, order):
    response = post_json(api_client, f"{V1}/order/{order.pk}/invoice", {"capture": True}, key="k")

    assert response.status_code == 401
    assert not IdempotencyKey.objects.exists()


@pytest.mark.django_db
def test_reads_ignore_the_header(v1, order):
    # A route whose POST takes keys: its GET must neither validate (an empty key is a 400 on POST) nor store one.
    response = v1.get(f"{V1}/orders/{order.pk}/comments", HTTP_IDEMPOTENCY_KEY="")

    assert response.status_code == 200
    assert not IdempotencyKey.objects.exists()


# -- /V1 capture, void, cancel, e-mails, comments -----------------------------------------------------------------


@pytest.mark.django_db
def test_v1_a_repeated_capture_replays_true_and_captures_once(v1, sandbox_order, sandbox_ledger):
    invoice = pending_invoice(sandbox_order)
    url = f"{V1}/invoices/{invoice.pk}/capture"

    first, repeat = post_json(v1, url, key="capture-1"), post_json(v1, url, key="capture-1")

    assert (first.status_code, parse(first)) == (200, True)
    assert (repeat.status_code, parse(repeat), repeat[REPLAYED]) == (200, True, "true")
    assert Transaction.objects.filter(order_id=sandbox_order.pk, txn_type="capture").count() == 1
    assert sandbox_ledger.movements["capture"] == 1


@pytest.mark.django_db
def test_v1_a_repeated_void_replays_true_and_voids_once(v1, sandbox_order, sandbox_ledger):
    invoice = invoice_order(order_id=sandbox_order.pk, capture_case=CaptureCase.ONLINE)
    url = f"{V1}/invoices/{invoice.pk}/void"

    first, repeat = post_json(v1, url, key="void-1"), post_json(v1, url, key="void-1")

    assert (first.status_code, parse(first)) == (200, True)
    # a second void would be refused (400): the 200 is the first answer, replayed
    assert (repeat.status_code, parse(repeat), repeat[REPLAYED]) == (200, True, "true")
    assert Transaction.objects.filter(order_id=sandbox_order.pk, txn_type="void").count() == 1
    assert sandbox_ledger.movements["void"] == 1


@pytest.mark.django_db
def test_v1_a_repeated_cancel_replays_true(v1, order):
    invoice = pending_invoice(order)
    url = f"{V1}/invoices/{invoice.pk}/cancel"

    first, repeat = post_json(v1, url, key="cancel-1"), post_json(v1, url, key="cancel-1")

    assert (first.status_code, repeat.status_code, repeat[REPLAYED]) == (200, 200, "true")
    invoice.refresh_from_db()
    assert invoice.state == InvoiceState.CANCELED
    assert post_json(v1, url).status_code == 400  # without the key: a real second cancel, refused


@pytest.mark.django_db
def test_v1_a_repeated_e_mail_queues_one_mail(v1, order):
    invoice = invoice_order(order_id=order.pk)
    url = f"{V1}/invoices/{invoice.pk}/emails"

    first, repeat = post_json(v1, url, key="mail-1"), post_json(v1, url, key="mail-1")

    assert (parse(first), parse(repeat), repeat[REPLAYED]) == (True, True, "true")
    assert EmailOutbox.objects.filter(invoice=invoice).count() == 1


@pytest.mark.django_db
def test_v1_an_e_mail_retried_after_a_5xx_is_still_one_mail(v1, order, monkeypatch):
    """The outbox's own key check stays behind the layer: a first run that queued and then failed."""
    import sales.api.v1.views as v1_views

    invoice = invoice_order(order_id=order.pk)
    real_send = v1_views.invoice_email_send

    def queues_then_fails(**kwargs):
        real_send(**kwargs)
        raise RuntimeError("the answer was lost")

    monkeypatch.setattr(v1_views, "invoice_email_send", queues_then_fails)
    assert post_json(v1, f"{V1}/invoices/{invoice.pk}/emails", key="mail-1").status_code == 500
    monkeypatch.setattr(v1_views, "invoice_email_send", real_send)

    retried = post_json(v1, f"{V1}/invoices/{invoice.pk}/emails", key="mail-1")

    assert (retried.status_code, parse(retried)) == (200, True)
    assert EmailOutbox.objects.filter(invoice=invoice).count() == 1


@pytest.mark.django_db
def test_v1_a_repeated_invoice_comment_is_added_once(v1, order):
    invoice = invoice_order(order_id=order.pk)
    body = {"entity": {"parent_id": invoice.pk, "comment": "Paid by cheque"}}

    first = post_json(v1, f"{V1}/invoices/comments", body, key="comment-1")
    repeat = post_json(v1, f"{V1}/invoices/comments", body, key="comment-1")

    assert (repeat.content, repeat[REPLAYED]) == (first.content, "true")
    assert InvoiceComment.objects.filter(parent=invoice, comment="Paid by cheque").count() == 1


@pytest.mark.django_db
def test_v1_a_repeated_order_comment_is_added_once(v1, order):
    body = {"statusHistory": {"comment": "Called the customer"}}

    for _ in range(2):
        assert post_json(v1, f"{V1}/orders/{order.pk}/comments", body, key="note-1").status_code == 200

    assert OrderStatusHistory.objects.filter(order=order, comment="Called the customer").count() == 1


# -- key validation ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "   ", '""', "k" * 256], ids=["empty", "blank", "empty-quoted", "256-chars"])
def test_an_empty_or_too_long_key_is_400_on_both_doors(v1, order, key):
    on_v1 = post_json(v1, f"{V1}/order/{order.pk}/invoice", {"capture": True}, key=key)
    on_api2 = post_json(v1, "/api2/invoice/create", {"order_id": order.pk}, key=key)

    assert (on_v1.status_code, parse(on_v1)) == (400, V1_INVALID)
    assert (on_api2.status_code, parse(on_api2)) == (400, API2_INVALID)
    assert not Invoice.objects.exists() and not IdempotencyKey.objects.exists()


@pytest.mark.django_db
def test_a_key_of_255_characters_is_accepted(v1, order):
    url, body = f"{V1}/order/{order.pk}/invoice", {"capture": True}

    first, repeat = post_json(v1, url, body, key="k" * 255), post_json(v1, url, body, key="k" * 255)

    assert (first.status_code, repeat[REPLAYED]) == (200, "true")


# -- /api2 ------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_api2_a_repeated_create_replays_201_and_invoices_once(v1, order):
    body = {"order_id": order.pk, "items": [{"sku": "24-WB03", "qty": 1}], "capture": "offline"}

    first = post_json(v1, "/api2/invoice/create", body, key="create-1")
    repeat = post_json(v1, "/api2/invoice/create", body, key="create-1")

    assert first.status_code == 201, first.content
    assert (repeat.status_code, repeat.content, repeat[REPLAYED]) == (201, first.content, "true")
    assert repeat["Content-Type"] == first["Content-Type"]
    assert Invoice.objects.count() == 1


@pytest.mark.django_db
def test_api2_the_same_key_with_another_body_is_422(v1, order):
    assert post_json(v1, "/api2/invoice/create", {"order_id": order.pk}, key="k").status_code == 201

    response = post_json(v1, "/api2/invoice/create", {"order_id": order.pk, "comment": "again"}, key="k")

    assert (response.status_code, parse(response)) == (422, API2_REUSED)
    assert Invoice.objects.count() == 1


@pytest.mark.django_db
def test_api2_a_repeat_while_the_first_is_in_progress_is_409_retry_after_1(v1, order, principal):
    body = {"order_id": order.pk}
    in_progress(principal, "k", "POST", "/api2/invoice/create", body)

    response = post_json(v1, "/api2/invoice/create", body, key="k")

    assert (response.status_code, parse(response)) == (409, API2_IN_PROGRESS)
    assert response["Retry-After"] == "1"
    assert not Invoice.objects.exists()


@pytest.mark.django_db
def test_api2_without_a_key_two_creates_make_two_invoices_as_before(v1, order):
    body = {"order_id": order.pk, "items": [{"sku": "24-WB03", "qty": 1}]}

    first, second = post_json(v1, "/api2/invoice/create", body), post_json(v1, "/api2/invoice/create", body)

    assert (first.status_code, second.status_code) == (201, 201)
    assert Invoice.objects.filter(order=order).count() == 2


@pytest.mark.django_db
def test_api2_after_a_payment_gateway_error_the_retry_runs(v1):
    order = OrderFactory(seed_001=True, gateway_paid=True, sandbox_outcome="decline")
    body = {"order_id": order.pk, "capture": "online"}

    failed = post_json(v1, "/api2/invoice/create", body, key="k")
    assert (failed.status_code, parse(failed)) == (500, {"error": "Payment gateway error"})
    assert not IdempotencyKey.objects.exists() and not Invoice.objects.exists()
    Payment.objects.filter(order=order).update(additional_information={"sandbox_outcome": "approve"})

    retried = post_json(v1, "/api2/invoice/create", body, key="k")

    assert retried.status_code == 201, retried.content
    assert REPLAYED not in retried and Invoice.objects.count() == 1


@pytest.mark.django_db
def test_api2_a_repeated_e_mail_replays_202_and_queues_one_mail(v1, order):
    invoice = invoice_order(order_id=order.pk)
    body = {"invoice_id": invoice.pk, "comment": "Resend requested by integration."}

    first = post_json(v1, "/api2/invoice/email", body, key="mail-1")
    repeat = post_json(v1, "/api2/invoice/email", body, key="mail-1")

    assert (first.status_code, parse(first)) == (202, {"invoice_id": invoice.pk, "queued": True})
    assert (repeat.status_code, repeat.content, repeat[REPLAYED]) == (202, first.content, "true")
    assert EmailOutbox.objects.filter(invoice=invoice).count() == 1
    assert InvoiceComment.objects.filter(parent=invoice, comment=body["comment"]).count() == 1


@pytest.mark.django_db
def test_api2_an_integration_tokens_keys_are_its_own(order, django_user_model):
    from integrations.services import integration_token_create

    erp = UserFactory(username="erp", password=None, superuser=True)
    erp_client = client_with(integration_token_create(user=erp, name="ERP", acl_resources=["Magento_Sales::invoice"]))
    body = {"order_id": order.pk, "items": [{"sku": "24-WB03", "qty": 1}]}

    assert post_json(erp_client, "/api2/invoice/create", body, key="k").status_code == 201

    token_pk = erp.access_tokens.get().pk
    assert IdempotencyKey.objects.get().principal == f"integration:{token_pk}"


# -- expiry and purge -------------------------------------------------------------------------------------------


def stored_key(key: str, *, expires_in: timedelta) -> IdempotencyKey:
    now = timezone.now()
    return IdempotencyKey.objects.create(
        principal="user:1",
        key=key,
        request_method="POST",
        request_path="/api2/invoice/create",
        request_fingerprint="0" * 64,
        state=IdempotencyKey.State.COMPLETED,
        response_status=201,
        response_body="{}",
        response_content_type="application/json",
        expires_at=now + expires_in,
    )


@pytest.mark.django_db
def test_keys_live_the_configured_ttl(v1, order, settings):
    settings.IDEMPOTENCY_KEY_TTL_HOURS = 48

    post_json(v1, f"{V1}/order/{order.pk}/invoice", {"capture": True}, key="k")

    record = IdempotencyKey.objects.get()
    assert record.expires_at - record.created_at == timedelta(hours=48)


@pytest.mark.django_db
def test_keys_live_24_hours_by_default(v1, order):
    post_json(v1, f"{V1}/order/{order.pk}/invoice", {"capture": True}, key="k")

    record = IdempotencyKey.objects.get()
    assert record.expires_at - record.created_at == timedelta(hours=24)


@pytest.mark.django_db
def test_the_periodic_task_purges_expired_keys_only():
    stored_key("old", expires_in=-timedelta(seconds=1))
    stored_key("fresh", expires_in=timedelta(hours=1))

    assert tasks.idempotency_keys_purge.delay().get() == 1

    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["fresh"]


@pytest.mark.django_db
def test_the_management_command_purges_expired_keys(capsys):
    stored_key("old", expires_in=-timedelta(minutes=5))

    call_command("idempotency_keys_purge")

    assert "Purged 1 expired idempotency key(s)." in capsys.readouterr().out
    assert not IdempotencyKey.objects.exists()


@pytest.mark.django_db
def test_a_key_past_its_expiry_but_not_yet_purged_is_a_new_key(v1, order):
    url, body = f"{V1}/order/{order.pk}/invoice", {"capture": True, "items": one_backpack(order)}
    post_json(v1, url, body, key="k")
    IdempotencyKey.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    again = post_json(v1, url, body, key="k")

    assert again.status_code == 200 and REPLAYED not in again
    assert Invoice.objects.count() == 2


@pytest.mark.django_db
def test_a_key_left_in_progress_by_a_dead_request_is_taken_over(v1, order, principal, settings):
    settings.IDEMPOTENCY_KEY_STALE_SECONDS = 300
    url, body = f"{V1}/order/{order.pk}/invoice", {"capture": True}
    stale = in_progress(principal, "k", "POST", url, body)
    IdempotencyKey.objects.filter(pk=stale.pk).update(started_at=timezone.now() - timedelta(seconds=301))

    response = post_json(v1, url, body, key="k")

    assert response.status_code == 200, response.content
    assert IdempotencyKey.objects.get().state == "completed"
    assert Invoice.objects.count() == 1


# -- queries ----------------------------------------------------------------------------------------------------


def count_queries(call) -> tuple[object, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = call()
    return response, [query["sql"] for query in queries.captured_queries]


@pytest.mark.django_db
def test_without_the_header_the_layer_runs_no_query(v1, order):
    response, queries = count_queries(lambda: post_json(v1, f"{V1}/order/{order.pk}/invoice", {"capture": True}))

    assert response.status_code == 200
    assert not [sql for sql in queries if "idempotencykey" in sql.lower()]


@pytest.mark.django_db
def test_the_header_adds_four_queries_and_a_replay_runs_six(v1, import_order, settings):
    """First run: SAVEPOINT, INSERT, RELEASE (the test's transaction makes atomic() a savepoint) + UPDATE;
    in production, outside a transaction, that is INSERT + UPDATE. A replay: token 1 + SAVEPOINT, INSERT
    (refused), ROLLBACK TO SAVEPOINT, RELEASE + SELECT 1; the view does not run."""
    settings.API_TOKEN_CACHE_SECONDS = 0  # every request reads its token: the counts compare like with like
    first_order, second_order = (import_order(load_seed_order("001"), increment_id=None) for _ in range(2))

    plain, plain_queries = count_queries(lambda: post_json(v1, "/api2/invoice/create", {"order_id": first_order.pk}))
    keyed, keyed_queries = count_queries(
        lambda: post_json(v1, "/api2/invoice/create", {"order_id": second_order.pk}, key="k")
    )
    replay, replay_queries = count_queries(
        lambda: post_json(v1, "/api2/invoice/create", {"order_id": second_order.pk}, key="k")
    )

    assert (plain.status_code, keyed.status_code, replay.status_code) == (201, 201, 201)
    assert len(keyed_queries) - len(plain_queries) == 4, keyed_queries
    assert len(replay_queries) <= 6, replay_queries


# -- two identical requests at once (PostgreSQL) ------------------------------------------------------------------


def http_post(url: str, token: str, body, key: str) -> tuple[int, bytes, dict]:
    request = urllib.request.Request(
        url,
        data=dumps(body).encode("utf-8"),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Idempotency-Key": key},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


def all_at_once(count: int, send) -> list[tuple[int, bytes, dict]]:
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = send()
        except BaseException as error:  # noqa: BLE001 - reported below
            results[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a request never came back"
    assert not [result for result in results if isinstance(result, BaseException)], results
    return results


def assert_one_ran_and_the_others_replayed_or_waited(results, success: int, in_progress_body: dict):
    """Exactly one request ran; each other one got its answer replayed, or 409 while it ran."""
    ran = [result for result in results if result[0] == success and REPLAYED not in result[2]]
    assert len(ran) == 1, results
    for status, content, headers in [result for result in results if result is not ran[0]]:
        if status == 409:
            assert json.loads(content) == in_progress_body and headers.get("Retry-After") == "1", results
        else:
            assert (status, content, headers.get(REPLAYED)) == (success, ran[0][1], "true"), results


@pytest.fixture
def live_token(default_store, django_user_model) -> str:
    StaffUserFactory(username="idempotency-admin", superuser=True)
    return admin_token_create(username="idempotency-admin", password=PASSWORD)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("count", [2, 6])
def test_v1_identical_requests_at_once_make_one_invoice(live_server, live_token, import_order, count):
    order = import_order(load_seed_order("001"), increment_id=None)
    row = OrderItem.objects.get(order=order, sku="24-WB03")
    body = {"capture": True, "items": [{"order_item_id": row.pk, "qty": 1}]}  # without a key each would invoice
    url = f"{live_server.url}{V1}/order/{order.pk}/invoice"

    results = all_at_once(count, lambda: http_post(url, live_token, body, "race-1"))

    assert_one_ran_and_the_others_replayed_or_waited(results, 200, V1_IN_PROGRESS)
    assert Invoice.objects.filter(order=order).count() == 1
    assert IdempotencyKey.objects.get().state == "completed"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_api2_two_identical_creates_at_once_make_one_invoice(live_server, live_token, import_order):
    order = import_order(load_seed_order("001"), increment_id=None)
    body = {"order_id": order.pk, "items": [{"sku": "24-WB03", "qty": 1}], "capture": "offline"}
    url = f"{live_server.url}/api2/invoice/create"

    results = all_at_once(2, lambda: http_post(url, live_token, body, "race-2"))

    assert_one_ran_and_the_others_replayed_or_waited(results, 201, API2_IN_PROGRESS)
    assert Invoice.objects.filter(order=order).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_api2_two_identical_resends_at_once_queue_one_mail(live_server, live_token, import_order):
    order = import_order(load_seed_order("001"), increment_id=None)
    invoice = invoice_order(
        order_id=order.pk,
        items=[InvoiceLineRequest(order_item_id=OrderItem.objects.get(order=order, sku="24-WB03").pk, qty=Decimal(1))],
    )
    url = f"{live_server.url}/api2/invoice/email"

    results = all_at_once(2, lambda: http_post(url, live_token, {"invoice_id": invoice.pk}, "race-3"))

    assert_one_ran_and_the_others_replayed_or_waited(results, 202, API2_IN_PROGRESS)
    assert EmailOutbox.objects.filter(invoice=invoice, kind="invoice_new").count() == 1
