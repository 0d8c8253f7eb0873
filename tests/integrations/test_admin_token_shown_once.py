"""An integration token issued in the admin is shown once, on the page answering the issue: never kept in
a cookie (the messages cookie is signed, not encrypted), the session, a message or a redirect URL."""

from __future__ import annotations

import re

import pytest
from django.contrib.messages import get_messages

from integrations.models import AccessToken, token_hash_of
from tests.factories import StaffUserFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "issue-Passw0rd!"
ADD_URL = "/admin/integrations/accesstoken/add/"
LIST_URL = "/admin/integrations/accesstoken/"
SHOWN_TOKEN = re.compile(r'id="issued-token"[^>]*\bvalue="([^"]+)"')


def shown_token(response) -> str:
    """The raw token on the page answering an issue."""
    return SHOWN_TOKEN.search(response.content.decode()).group(1)


@pytest.fixture
def clerk(client, django_user_model):
    """A staff member who may issue tokens for invoice reading, and nothing more."""
    StaffUserFactory(
        username="clerk",
        password=PASSWORD,
        permissions=["integrations.add_accesstoken", "integrations.view_accesstoken", "sales.view_invoice"],
    )
    client.login(username="clerk", password=PASSWORD)
    return client


@pytest.fixture
def erp(django_user_model):
    return UserFactory(username="erp-xyz", password=None, permissions=["sales.view_invoice"])


def issue(client, user):
    return client.post(ADD_URL, {"user": user.pk, "name": "ERP-XYZ", "acl_resources": ["Magento_Sales::sales_invoice"]})


def test_an_issued_token_is_shown_once_on_the_answering_page(clerk, erp):
    response = issue(clerk, erp)

    assert response.status_code == 200  # a page, not a redirect: no URL carries it
    raw = shown_token(response)
    page = response.content.decode()
    assert page.count(raw) == 1
    assert token_hash_of(raw) == AccessToken.objects.get(user=erp).token_hash
    assert "Copy it now: it will not be shown again." in page
    assert f'href="{LIST_URL}"' in page  # the way back
    assert "no-store" in response["Cache-Control"]  # no browser cache keeps the page


def test_an_issued_token_is_kept_in_no_cookie_session_or_message(clerk, erp):
    response = issue(clerk, erp)

    cookies = {
        **{name: morsel.value for name, morsel in clerk.cookies.items()},
        **{name: morsel.value for name, morsel in response.cookies.items()},
    }
    assert not cookies.get("messages")  # nothing left for a later page, not even signed and compressed
    raw = shown_token(response)
    assert not any(raw in value for value in cookies.values())
    assert not any(raw in str(message) for message in get_messages(response.wsgi_request))
    assert not any(raw in str(value) for value in clerk.session.values())


def test_an_issued_token_is_not_shown_again_on_the_next_pages(clerk, erp):
    raw = shown_token(issue(clerk, erp))
    token = AccessToken.objects.get(user=erp)

    for url in (LIST_URL, f"{LIST_URL}{token.pk}/change/", ADD_URL):
        page = clerk.get(url)
        assert page.status_code == 200, url
        assert raw not in page.content.decode(), url


def test_the_token_shown_opens_the_api(clerk, erp, api_client):
    raw = shown_token(issue(clerk, erp))

    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    assert api_client.get("/api2/invoice").status_code == 200
