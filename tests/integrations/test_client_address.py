"""The client's address: X-Forwarded-For is believed only as far as ``TRUSTED_PROXY_COUNT`` proxies wrote it."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from integrations.client_address import client_address

PEER = "10.0.0.2"  # the connection's peer: the client itself, or the nearest proxy


def request_from(forwarded_for: str | None = None):
    extra = {} if forwarded_for is None else {"HTTP_X_FORWARDED_FOR": forwarded_for}
    return RequestFactory().get("/", REMOTE_ADDR=PEER, **extra)


def test_with_no_trusted_proxy_the_header_is_ignored_and_the_peer_is_the_client(settings):
    settings.TRUSTED_PROXY_COUNT = 0

    assert client_address(request_from("198.51.100.1")) == PEER
    assert client_address(request_from()) == PEER


@pytest.mark.parametrize(
    ("trusted", "forwarded_for", "client"),
    [
        (1, "198.51.100.1, 203.0.113.7", "203.0.113.7"),  # the proxy appended the client; the first entry is a spoof
        (2, "198.51.100.1, 203.0.113.7, 192.0.2.10", "203.0.113.7"),  # a CDN, then a load balancer
        (1, "2001:db8::1", "2001:db8::1"),
        (2, "203.0.113.7", PEER),  # fewer entries than proxies: the request did not come through them all
        (1, "", PEER),
        (1, "unknown", PEER),  # not an address: nothing to vouch for
        (1, "198.51.100.1, 203.0.113.7:443", PEER),
    ],
    ids=["one proxy", "two proxies", "IPv6", "header too short", "empty header", "not an address", "with a port"],
)
def test_with_n_trusted_proxies_the_nth_entry_from_the_right_is_the_client(settings, trusted, forwarded_for, client):
    settings.TRUSTED_PROXY_COUNT = trusted

    assert client_address(request_from(forwarded_for)) == client
