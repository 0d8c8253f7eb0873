"""The client's address, as every per-address rule reads it (rate limits, the admin login's throttle).

``X-Forwarded-For`` is written by whoever sends the request: a client reaching gunicorn directly writes
all of it, and a proxy only appends the address it was reached from. So only the entries the
``TRUSTED_PROXY_COUNT`` proxies in front of the app appended can be believed: with N proxies, the Nth
entry from the right is the address the outermost one saw. With 0 (the default) the header is ignored
and the peer of the connection, ``REMOTE_ADDR``, is the client.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    from django.http import HttpRequest
    from rest_framework.request import Request


def client_address(request: HttpRequest | Request) -> str:
    """The address of the client that sent ``request`` (a Django or DRF request), never one it chose itself.

    ``REMOTE_ADDR`` when no proxy is trusted, when the header has fewer entries than trusted proxies (a
    request that did not come through them all), or when the entry is not an IP address.
    """
    meta = request.META
    remote_addr = meta.get("REMOTE_ADDR", "")
    trusted = settings.TRUSTED_PROXY_COUNT or 0
    if trusted <= 0:
        return remote_addr
    forwarded = [entry.strip() for entry in meta.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if len(forwarded) < trusted:
        return remote_addr
    candidate = forwarded[-trusted]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:  # "unknown", a port, garbage: nothing a trusted proxy vouches for as an address
        return remote_addr
