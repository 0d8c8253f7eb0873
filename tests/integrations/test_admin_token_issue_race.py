"""Two staff members issuing integration tokens for the same user at the same moment: each is taken to
the token they were shown (change log, the link on the page showing it), not to whichever of the user's
tokens is newest.

Real concurrency on PostgreSQL: the first issue runs in a thread with its own connection and keeps its
admin transaction open until the second, on the main thread's connection, has committed.
"""

from __future__ import annotations

import re
import threading

import pytest
from django.contrib.admin.models import ADDITION, LogEntry
from django.db import connections
from django.test import Client

from integrations import admin as integrations_admin
from integrations.models import AccessToken, token_hash_of
from tests.factories import StaffUserFactory, UserFactory
from tests.integrations.test_admin_token_shown_once import shown_token

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ADD_URL = "/admin/integrations/accesstoken/add/"
ADDED_LINK = re.compile(r'href="/admin/integrations/accesstoken/(\d+)/change/"')


def issue(client: Client, integration_user) -> tuple[str, int]:
    """Issue a token for ``integration_user`` in the admin: the raw token shown and the pk the page links to."""
    response = client.post(
        ADD_URL,
        {"user": integration_user.pk, "name": "ERP", "acl_resources": ["Magento_Sales::sales_invoice"]},
        follow=True,
    )
    assert response.status_code == 200, response.content
    return shown_token(response), int(ADDED_LINK.search(response.content.decode()).group(1))


def staff_client(django_user_model, username: str) -> tuple[Client, object]:
    staff = StaffUserFactory(username=username, superuser=True)
    client = Client()
    client.force_login(staff)
    return client, staff


def test_each_of_two_staff_issuing_at_once_is_taken_to_the_token_they_were_shown(django_user_model, monkeypatch):
    # given two staff members about to issue a token for the same integration user, the first one's
    # admin transaction held open (after its token is written) until the second one's has committed
    erp = UserFactory(username="erp", password=None)
    (alice_client, alice), (bob_client, bob) = (
        staff_client(django_user_model, "alice"),
        staff_client(django_user_model, "bob"),
    )
    first_written, second_committed = threading.Event(), threading.Event()
    create = integrations_admin.integration_token_create

    def create_then_wait_for_the_other(**kwargs):
        raw_token = create(**kwargs)
        if not first_written.is_set():
            first_written.set()
            assert second_committed.wait(timeout=20)
        return raw_token

    monkeypatch.setattr(integrations_admin, "integration_token_create", create_then_wait_for_the_other)
    results: dict[str, tuple[str, int]] = {}

    def alice_issues():
        try:
            results["alice"] = issue(alice_client, erp)
        finally:
            connections.close_all()  # this thread's own connection

    # when alice issues, and bob issues and commits while alice's transaction is still open
    alice_thread = threading.Thread(target=alice_issues)
    alice_thread.start()
    assert first_written.wait(timeout=20)
    results["bob"] = issue(bob_client, erp)
    second_committed.set()
    alice_thread.join(timeout=30)

    # then each one's change-log entry and the page's link name the token that one was shown
    assert set(results) == {"alice", "bob"}
    for staff, (raw_token, linked_pk) in ((alice, results["alice"]), (bob, results["bob"])):
        shown_pk = AccessToken.objects.get(token_hash=token_hash_of(raw_token)).pk
        logged = LogEntry.objects.get(user=staff, action_flag=ADDITION)
        assert (int(logged.object_id), linked_pk) == (shown_pk, shown_pk), staff.username
    assert AccessToken.objects.filter(user=erp).count() == 2
