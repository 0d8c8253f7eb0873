"""Django's PostgreSQL backend, with a health check of a reused connection that costs no round trip.

With ``CONN_HEALTH_CHECKS`` Django sends ``SELECT 1`` before the first query of every request that
reuses a connection: a round trip, and work for both processes, on every API call. A connection the
server has closed (restart, ``pg_terminate_backend``, an idle timeout) has told us so on its socket: the
server's goodbye and the end of the stream make it readable. So a reused connection whose socket has
nothing to read is taken as usable; one that has something (that, or a notice) gets Django's real check.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        if self.connection is None or self.connection.closed:
            return False
        try:
            readable, _, _ = select.select([self.connection.fileno()], [], [], 0)
        except (OSError, ValueError):  # the socket is gone
            return False
        return super().is_usable() if readable else True
