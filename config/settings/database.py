"""The database, and how long a write waits for it or tries again."""

import dj_database_url

from .environment import BASE_DIR, env, env_bool, env_int


def database_config(url: str) -> dj_database_url.DBConfig:
    """One DATABASES entry from a DATABASE_URL; PostgreSQL keeps health-checked persistent connections,
    and uses session state (prepared statements, server-side cursors) only where the deploy keeps it."""
    config = dj_database_url.parse(url)
    if config["ENGINE"] == "django.db.backends.postgresql":
        config["ENGINE"] = "config.db.postgresql"  # Django's, with a health check that costs no round trip
        config["CONN_MAX_AGE"] = 60
        config["CONN_HEALTH_CHECKS"] = True
        # On only when each connection is one server session (PostgreSQL reached directly, or a pooler in session
        # mode): a pooler in transaction mode (PgBouncer's usual one) hands each transaction any server session,
        # where another client's prepared statement answers under the same name and a cursor is not found.
        if env_bool("DATABASE_SESSION_FEATURES", False):
            # Parameters bound by the server, and a statement prepared on its 5th run on a connection: PostgreSQL
            # then skips parsing and planning it (an invoice's read: 0.32 ms -> 0.12 ms).
            config.setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=5)
        else:
            config["DISABLE_SERVER_SIDE_CURSORS"] = True  # .iterator() reads the result client-side instead
    # Services own their transactions (one per business operation), never the request.
    config["ATOMIC_REQUESTS"] = False
    return config


DATABASES = {"default": database_config(env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Longest wait for another request's lock on an order before answering 409 (PostgreSQL).
ORDER_LOCK_TIMEOUT_SECONDS = env_int("ORDER_LOCK_TIMEOUT_SECONDS", 5)

# Serialization failures and deadlocks: how many times a write service runs before answering 409.
DATABASE_RETRY_ATTEMPTS = env_int("DATABASE_RETRY_ATTEMPTS", 3)
