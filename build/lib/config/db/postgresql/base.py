"""Django's PostgreSQL backend, with a health check of a reused connection that costs no round trip.

With ``CONN_HEALTH_CHECKS`` Django sends ``SELECT 1`` before the first query of every request that
reuses a connection: a round trip, and work for both processes, on every API call. A connection the
server has closed (restart, ``pg_terminate_backend``, an idle timeout) has told us so on its socket: the
server's goodbye and the end of the stream make it readable. So an idle reused connection whose socket
has nothing to read (``poll``, which unlike ``select`` takes any descriptor number) is taken as usable;
one that has something (that, or a notice) gets Django's real check. So does a connection that is not
idle: a failed transaction (or one left open) says nothing on its socket, yet only a query tells
whether it can serve the next request.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base
from psycopg.pq import TransactionStatus

# What the server's goodbye or a dropped connection raises on the socket.
SERVER_SPOKE = select.POLLIN | select.POLLERR | select.POLLHUP


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        if self.connection is None or self.connection.closed:
            return False
        if self.connection.info.transaction_status != TransactionStatus.IDLE:
            return super().is_usable()
        try:
            socket = select.poll()
            socket.register(self.connection.fileno(), SERVER_SPOKE)
            events = socket.poll(0)
        except (OSError, ValueError):  # the socket is gone
            return False
        return super().is_usable() if events else True
