"""A real PgBouncer in transaction pool mode, in front of the local PostgreSQL, for tests.

It pools one database (pytest-django's test database) with two server connections that every client shares,
handed out in turn (``server_round_robin``): two consecutive transactions of one client run in different
server sessions, as they may at any time under load in production. That is the pooler most Django deploys
reach PostgreSQL through; what a session keeps (a prepared statement, a cursor) is not there next time.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from pathlib import Path

import psycopg

from tests.notifications.realworker import free_port, wait_until

SERVER_CONNECTIONS = 2
START_TIMEOUT = 10.0  # seconds for PgBouncer to accept connections
STOP_TIMEOUT = 5.0


def pgbouncer_path() -> str | None:
    """``PGBOUNCER_PATH``, else pgbouncer on PATH or where Debian installs it (/usr/sbin, off a user's PATH);
    None unless it is an executable."""
    path = os.environ.get("PGBOUNCER_PATH") or shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin")
    return path if path and os.access(path, os.X_OK) else None


class PgBouncer:
    """``pgbouncer`` on a free local port, pooling ``database`` on ``host:port`` as ``user`` (trusted locally)."""

    def __init__(self, *, database: str, host: str, port: int, user: str, workdir: Path):
        self.database = database
        self.port = free_port()
        self.config_path = workdir / "pgbouncer.ini"
        self.log_path = workdir / "pgbouncer.log"
        # PgBouncer refuses to run as root; as root (a CI container) it drops to nobody once it has read this.
        run_as = "user = nobody\n" if os.geteuid() == 0 else ""
        self.config_path.write_text(
            "[databases]\n"
            f"{database} = host={host} port={port} dbname={database} user={user}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.port}\nunix_socket_dir =\n"
            "auth_type = any\n"  # clients log in as anyone; PgBouncer connects as the user above
            "pool_mode = transaction\n"
            f"default_pool_size = {SERVER_CONNECTIONS}\nmin_pool_size = 0\nreserve_pool_size = 0\n"
            "server_round_robin = 1\n"
            "max_client_conn = 200\n"
            f"{run_as}"
        )
        self.process: subprocess.Popen | None = None
        self._log = None

    @property
    def url(self) -> str:
        """The DATABASE_URL an app behind the pooler is given."""
        return f"postgres://pooled@127.0.0.1:{self.port}/{self.database}"

    def start(self) -> PgBouncer:
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [pgbouncer_path(), str(self.config_path)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until(self.answers, timeout=START_TIMEOUT, what="PgBouncer to accept connections", diagnostics=self.log)
        self.open_every_server_connection()
        return self

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(self.url.replace("postgres://", "postgresql://"), autocommit=True, connect_timeout=2)

    def answers(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"pgbouncer exited (code {self.process.returncode})\n{self.log()}")
        try:
            with self.connect() as probe:
                probe.execute("SELECT 1")
        except psycopg.OperationalError:
            return False
        return True

    def open_every_server_connection(self) -> None:
        """As many clients as the pool has server connections, each inside a transaction at once: the pool
        opens them all, so round robin has a second session to hand out from the first transaction on."""
        clients = [self.connect() for _ in range(SERVER_CONNECTIONS)]
        try:
            sessions = set()
            for client in clients:
                client.execute("BEGIN")
                sessions.add(client.execute("SELECT pg_backend_pid()").fetchone()[0])
            assert len(sessions) == SERVER_CONNECTIONS, sessions
            for client in clients:
                client.execute("COMMIT")  # a client leaving inside a transaction would cost its server connection
        finally:
            for client in clients:
                client.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # PgBouncer's immediate shutdown
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(STOP_TIMEOUT)
        if self._log is not None:
            self._log.close()
            self._log = None

    def log(self) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return f"--- pgbouncer log ({self.log_path}) ---\n{text[-8000:]}"
