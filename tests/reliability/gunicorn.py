"""A real gunicorn serving ``config.wsgi:application`` for tests that kill its worker.

The server runs as a deployment's web process does: ``config.settings.production`` (with a throw-away
secret key), one sync worker, reached over plain HTTP on a free local port with the
``X-Forwarded-Proto: https`` header a TLS-terminating proxy adds (so the production SSL redirect lets the
request through), pytest-django's test database, Celery eager and the in-memory mail backend (no broker
or SMTP server needed; the outbox row is still written in the invoice's transaction). The master runs in
its own session so ``stop()`` can SIGKILL whatever is left of the group; its output goes to a log file
that failures print.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from django.core.management.utils import get_random_secret_key

from tests.notifications.realworker import free_port, wait_until

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 30.0  # seconds for the master and a worker to come up and answer
STOP_TIMEOUT = 10.0  # seconds for a graceful stop before the group is killed
LOG_TAIL = 12_000  # characters of the log printed with a failure
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}  # what the TLS-terminating proxy sends
# Variables a developer's shell may hold that would change what the server runs: production's defaults apply.
UNSET = ("GUNICORN_CMD_ARGS", "WEB_CONCURRENCY", "DJANGO_DEBUG", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS")


def server_env(*, database_url: str, **overrides: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in UNSET}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=get_random_secret_key(),
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=database_url,
        REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),  # production requires it
        CELERY_TASK_ALWAYS_EAGER="1",
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        PYTHONUNBUFFERED="1",
        **overrides,
    )
    return env


def children_of(pid: int) -> list[int]:
    """Live child processes of ``pid``, read from /proc (no psutil)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ")".
        state, ppid = stat.rpartition(")")[2].split()[:2]
        if int(ppid) == pid and state != "Z":
            found.append(int(entry.name))
    return sorted(found)


def has_control_socket() -> bool:
    from gunicorn.config import KNOWN_SETTINGS

    return any(setting.name == "control_socket_disable" for setting in KNOWN_SETTINGS)


class GunicornServer:
    """``gunicorn config.wsgi:application`` with one sync worker (or ``workers``) on a free port."""

    def __init__(self, *, env: dict[str, str], log_path: Path, timeout_seconds: int = 60, workers: int = 1):
        self.env = env
        self.log_path = log_path
        self.port = free_port()
        self.argv = [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(workers),
            "--worker-class",
            "sync",
            # The master's own watchdog must not fire first: the test is the one killing the worker.
            "--timeout",
            str(timeout_seconds),
            "--graceful-timeout",
            "5",
            "--access-logfile",
            "-",
            "--error-logfile",
            "-",
            "--log-level",
            "info",
        ]
        if has_control_socket():
            # gunicorn >= 25.1 opens ~/.gunicorn/gunicorn.ctl by default, one path for every server of the user.
            self.argv.append("--no-control-socket")
        self.process: subprocess.Popen | None = None
        self._log = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> GunicornServer:
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            self.argv, cwd=REPO, env=self.env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        return self

    def workers(self) -> list[int]:
        return children_of(self.process.pid) if self.running else []

    def wait_worker(self, *, other_than: int | None = None) -> int:
        """The pid of the (new) worker, once it answers HTTP."""

        def new_worker() -> int | None:
            if not self.running:
                raise AssertionError(f"gunicorn exited (code {self.process.returncode})\n{self.describe()}")
            fresh = [pid for pid in self.workers() if pid != other_than]
            return fresh[0] if len(fresh) == 1 else None

        pid = wait_until(new_worker, timeout=START_TIMEOUT, what="a gunicorn worker", diagnostics=self.describe)
        wait_until(self.answers, timeout=START_TIMEOUT, what="gunicorn to answer HTTP", diagnostics=self.describe)
        return pid

    def answers(self) -> bool:
        """Any HTTP answer (an unauthenticated request is refused) means a worker is serving."""
        request = urllib.request.Request(f"{self.url}/rest/default/V1/orders", headers=PROXY_HEADERS)
        try:
            with urllib.request.urlopen(request, timeout=2):
                return True
        except urllib.error.HTTPError:
            return True
        except (OSError, http.client.HTTPException):
            return False

    def stop(self) -> None:
        """Graceful stop (SIGTERM to the master), then SIGKILL whatever is left of its process group."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(STOP_TIMEOUT)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(STOP_TIMEOUT)
        if self._log is not None:
            self._log.close()
            self._log = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def describe(self) -> str:
        text = self.log()
        tail = text if len(text) <= LOG_TAIL else f"...\n{text[-LOG_TAIL:]}"
        return f"--- gunicorn log ({self.log_path}) ---\n{tail}"
