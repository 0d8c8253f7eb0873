"""Real processes for the end-to-end e-mail tests: a dedicated Redis, a controllable SMTP server, Celery.

Everything here runs for real: ``redis-server`` on its own free port (no persistence, so a restart loses
every queued message, as a crashed Redis would), aiosmtpd in this process on a free port, and
``celery worker`` / ``celery beat`` as child processes of this one, reading their settings from the
environment the way a deployment does. Each child runs in its own session (process group) so a test can
SIGKILL a whole worker, pool children included, and its output goes to a log file that failures print.

The Celery children run ``config.settings.production``, as a deployment's worker and beat do (the test
settings force eager Celery and the in-memory mail backend; the local ones quiet the outbox's INFO lines,
which these tests read), with a throw-away secret key, the real SMTP backend pointed at the local server,
pytest-django's test database and short e-mail timings (``WORKER_TIMINGS``).
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

REPO = Path(__file__).resolve().parents[2]

# The outbox's timings, short enough for a test: retries after 1 s, 2 s, 4 s...; a sweep every 2 s that
# re-enqueues rows 1 s overdue and releases rows held in ``sending`` for more than 3 s.
WORKER_TIMINGS = {
    "EMAIL_RETRY_BASE_SECONDS": "1",
    "EMAIL_SWEEP_EVERY_SECONDS": "2",
    "EMAIL_SWEEP_GRACE_SECONDS": "1",
    "EMAIL_SENDING_TIMEOUT_SECONDS": "3",
    "EMAIL_TIMEOUT": "5",
}
START_TIMEOUT = 30.0  # seconds for a worker, beat or redis-server to come up
STOP_TIMEOUT = 10.0  # seconds for a warm shutdown before the process group is killed
LOG_TAIL = 12_000  # characters of each log printed with a failure


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(predicate: Callable[[], object], *, timeout: float, what: str, diagnostics=None, interval=0.1):
    """Poll ``predicate`` until it returns something truthy (returned) or ``timeout`` seconds pass (AssertionError)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            detail = f"\n{diagnostics()}" if diagnostics is not None else ""
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}{detail}")
        time.sleep(interval)


# -- Redis -----------------------------------------------------------------------------------------------


class RedisServer:
    """``redis-server`` on a fixed port that a test can stop and start again; nothing survives a restart."""

    def __init__(self, port: int, log_path: Path):
        self.port = port
        self.log_path = log_path
        self._process: subprocess.Popen | None = None
        self._log = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self):
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=1, socket_timeout=2)

    def ping(self) -> bool:
        try:
            with self.client() as client:
                return bool(client.ping())
        except Exception:  # noqa: BLE001 - not up (yet)
            return False

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> RedisServer:
        assert not self.running, "redis-server is already running"
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self._process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--protected-mode",
                "no",
                "--dir",
                str(self.log_path.parent),
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until(
            lambda: self.ping() or self._process.poll() is not None,
            timeout=START_TIMEOUT,
            what=f"redis-server on port {self.port}",
        )
        assert self._process.poll() is None, f"redis-server exited:\n{self.log()}"
        return self

    def stop(self) -> None:
        """Stop the server (SIGTERM; with ``--save ""`` it writes nothing, so its data is gone)."""
        if self._process is not None:
            if self._process.poll() is None:
                self._process.terminate()
                try:
                    self._process.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait(STOP_TIMEOUT)
            self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def log(self) -> str:
        return _tail(self.log_path)


# -- SMTP ------------------------------------------------------------------------------------------------


@dataclass
class Received:
    """One message the server accepted (it answered 250 to the end of DATA)."""

    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    peer: tuple = ()  # the client's (host, port): which SMTP connection carried the message

    @property
    def message(self) -> email.message.EmailMessage:
        return email.message_from_bytes(self.content, policy=email.policy.default)

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])

    def text(self) -> str:
        return self.message.get_body(preferencelist=("plain",)).get_content()


class StallingHandler:
    """aiosmtpd handler that records what it accepts and can hold a conversation at RCPT TO.

    ``stall_next_rcpt()`` makes the next conversation wait, after MAIL FROM and before answering its RCPT
    TO, until ``release`` is set: the message has not been accepted, so a client that dies there has sent
    nothing. ``stalled`` is set when a conversation starts waiting, ``abandoned`` when its client hangs up
    while it waits.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self.received: list[Received] = []
        self.mail_commands = 0  # MAIL FROM seen: one per conversation that got that far
        self._stalls_left = 0
        self.stalled = threading.Event()
        self.abandoned = threading.Event()
        self.release = threading.Event()

    def reset(self) -> None:
        self.release.set()  # let go of any conversation still waiting from an earlier test
        with self._lock:
            self.received = []
            self.mail_commands = 0
            self._stalls_left = 0
        self.stalled = threading.Event()
        self.abandoned = threading.Event()
        self.release = threading.Event()

    def stall_next_rcpt(self) -> None:
        with self._lock:
            self._stalls_left += 1

    def _take_stall(self) -> bool:
        with self._lock:
            if self._stalls_left:
                self._stalls_left -= 1
                return True
            return False

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802 - aiosmtpd's name
        with self._lock:
            self.mail_commands += 1
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's name
        if self._take_stall():
            stalled, abandoned, release = self.stalled, self.abandoned, self.release
            stalled.set()
            try:
                while not release.is_set():
                    await asyncio.sleep(0.02)
            except asyncio.CancelledError:  # aiosmtpd cancels the session when its client goes away
                abandoned.set()
                raise
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        with self._lock:
            self.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content), tuple(session.peer))
            )
        return "250 Message accepted for delivery"


class SmtpServer:
    """The local SMTP server on a fixed port: ``stop()`` makes connections refused, ``start()`` brings it back."""

    def __init__(self, port: int):
        self.port = port
        self.handler = StallingHandler()
        self._controller = None

    @property
    def up(self) -> bool:
        return self._controller is not None

    @property
    def received(self) -> list[Received]:
        with self.handler._lock:
            return list(self.handler.received)

    def start(self) -> SmtpServer:
        from aiosmtpd.controller import Controller

        if self._controller is None:
            controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
            controller.start()
            self._controller = controller
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self.handler.release.set()
            self._controller.stop()
            self._controller = None

    def describe(self) -> str:
        mails = [(m.rcpt_tos, m.message_id, str(m.message["Subject"])) for m in self.received]
        return f"SMTP :{self.port} up={self.up} MAIL commands={self.handler.mail_commands} accepted={mails}"


# -- Celery processes ------------------------------------------------------------------------------------


def database_url(settings_dict: dict) -> str:
    """A DATABASE_URL for the database this test process is using (pytest-django's test database)."""
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{credentials}{host}:{port}/{quote(settings_dict['NAME'], safe='')}"


def celery_env(*, database: str, redis_url: str, smtp_port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY="real-worker-tests-only-" + uuid.uuid4().hex,
        DJANGO_ALLOWED_HOSTS="localhost",
        CELERY_TASK_ALWAYS_EAGER="0",
        DATABASE_URL=database,
        REDIS_URL=redis_url,
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_port),
        EMAIL_USE_TLS="0",
        EMAIL_HOST_USER="",
        EMAIL_HOST_PASSWORD="",
        DJANGO_DEBUG="0",
        PYTHONUNBUFFERED="1",
        **WORKER_TIMINGS,
    )
    return env


SWEEP_DONE = re.compile(r"Task notifications\.tasks\.outbox_sweep\[[^\]]+\] succeeded")


class CeleryProcess:
    """``celery -A config <args>`` in its own process group, output to ``log_path``."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_path: Path, ready: str):
        self.name = name
        self.argv = [sys.executable, "-m", "celery", "-A", "config", *args]
        self.env = env
        self.log_path = log_path
        self.ready = re.compile(ready)
        self.process: subprocess.Popen | None = None
        self._log = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> CeleryProcess:
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()/kill()
        self.process = subprocess.Popen(
            self.argv, cwd=REPO, env=self.env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        return self

    def wait_ready(self) -> CeleryProcess:
        self.wait_for_log(self.ready, timeout=START_TIMEOUT, what=f"{self.name} to be ready")
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def count(self, pattern: re.Pattern | str) -> int:
        return len(re.findall(pattern, self.log()))

    def wait_for_log(self, pattern: re.Pattern | str, *, timeout: float, what: str, count: int = 1) -> None:
        def seen() -> bool:
            if self.count(pattern) >= count:
                return True
            if not self.running:
                raise AssertionError(f"{self.name} exited (code {self.process.returncode}) while waiting for {what}")
            return False

        wait_until(seen, timeout=timeout, what=f"{what} in the {self.name} log", diagnostics=self.describe)

    def kill(self) -> None:
        """SIGKILL the whole process group (main process and pool children): no shutdown code runs."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(STOP_TIMEOUT)
        self._close_log()

    def stop(self) -> None:
        """Warm shutdown (SIGTERM to the main process), then SIGKILL whatever is left of the group."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(STOP_TIMEOUT)
        self.kill()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def describe(self) -> str:
        return f"--- {self.name} log ({self.log_path}) ---\n{_tail(self.log_path)}"


class Rig:
    """What one test runs against: the dedicated Redis, the SMTP server, and its worker(s) and beat."""

    def __init__(self, *, redis: RedisServer, smtp: SmtpServer, database: str, log_dir: Path):
        self.redis = redis
        self.smtp = smtp
        self.database = database
        self.log_dir = log_dir
        self.workers: list[CeleryProcess] = []
        self.beat: CeleryProcess | None = None
        self.enqueue_failures: list[str] = []  # this process's on-commit publishes that failed (EnqueueFailures)

    @property
    def env(self) -> dict[str, str]:
        return celery_env(database=self.database, redis_url=self.redis.url, smtp_port=self.smtp.port)

    @property
    def worker(self) -> CeleryProcess:
        """The worker started last."""
        return self.workers[-1]

    def new_worker(self, pool: str = "prefork") -> CeleryProcess:
        """One more worker with one pool process (``pool="threads"``: one thread, not the main one)."""
        number = len(self.workers) + 1
        worker = CeleryProcess(
            f"worker {number}",
            [
                "worker",
                "--loglevel=INFO",
                "--concurrency=1",
                f"--pool={pool}",
                "-Q",
                "celery",
                "-n",
                f"w{number}-{uuid.uuid4().hex[:8]}@%h",
                "--without-mingle",
                "--without-gossip",
                "--without-heartbeat",
            ],
            self.env,
            self.log_dir / f"worker-{number}.log",
            ready=r"@\S+ ready\.",
        )
        self.workers.append(worker)
        return worker.start()

    def new_beat(self) -> CeleryProcess:
        assert self.beat is None, "one beat per test"
        self.beat = CeleryProcess(
            "beat",
            ["beat", "--loglevel=INFO", "--schedule", str(self.log_dir / "celerybeat-schedule")],
            self.env,
            self.log_dir / "beat.log",
            ready=r"beat: Starting",
        )
        return self.beat.start()

    def start(self) -> Rig:
        """A worker and beat, started together, both ready."""
        worker, beat = self.new_worker(), self.new_beat()
        worker.wait_ready()
        beat.wait_ready()
        return self

    def wait_sweeps(self, count: int = 2, timeout: float = 30.0) -> None:
        """Wait until the current worker has finished ``count`` more sweeps than it has now."""
        worker = self.worker
        worker.wait_for_log(
            SWEEP_DONE, timeout=timeout, what=f"{count} more sweeps", count=worker.count(SWEEP_DONE) + count
        )

    def stop(self) -> None:
        for process in [*self.workers, *([self.beat] if self.beat else [])]:
            try:
                process.stop()
            except Exception:  # noqa: BLE001 - keep stopping the others
                process.kill()

    def diagnostics(self) -> str:
        parts = [self.smtp.describe(), f"redis {self.redis.url} running={self.redis.running}"]
        parts += [process.describe() for process in self.workers]
        if self.beat is not None:
            parts.append(self.beat.describe())
        return "\n".join(parts)


def _tail(path: Path) -> str:
    if not path.exists():
        return "(no log)"
    text = path.read_text(errors="replace")
    return text if len(text) <= LOG_TAIL else f"...\n{text[-LOG_TAIL:]}"


# -- the test process's Celery app -----------------------------------------------------------------------


def _drop_producer_pool(app) -> None:
    """Close and forget this process's broker connections, so the next publish connects to ``broker_url``.

    kombu keeps its pools in a process-wide registry keyed by the broker URL: closing the app's pool without
    clearing that registry would hand the same closed pool to the next test ("Acquire on closed pool").
    """
    from kombu import pools

    pools.reset()
    app._pool = None
    amqp = app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


class EnqueueFailures(logging.Handler):
    """Collects this process's "could not enqueue" warnings: the on-commit publish that did not reach Redis."""

    LOGGER = "counterfoil.notifications"

    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("could not enqueue"):
            self.messages.append(message)

    def __enter__(self) -> EnqueueFailures:
        logging.getLogger(self.LOGGER).addHandler(self)
        return self

    def __exit__(self, *exc) -> None:
        logging.getLogger(self.LOGGER).removeHandler(self)


class PublishTo:
    """Make this process's Celery app publish to ``broker_url`` for real (not eagerly); ``restore()`` undoes it."""

    def __init__(self, broker_url: str):
        from config.celery_app import app

        self.app = app
        self.saved = {name: app.conf[name] for name in ("task_always_eager", "broker_url", "broker_write_url")}
        _drop_producer_pool(app)
        app.conf.task_always_eager = False
        app.conf.broker_url = broker_url
        app.conf.broker_write_url = None

    def restore(self) -> None:
        _drop_producer_pool(self.app)
        for name, value in self.saved.items():
            self.app.conf[name] = value
