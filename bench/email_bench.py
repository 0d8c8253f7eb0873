"""E-mails per second through a real Celery worker to a local SMTP server.

Run from the repository root (no Django set-up needed; this script does it):

    .venv/bin/python -m bench.email_bench [--emails 2000] [--runs 3] [--pools prefork:2,prefork:4,threads:4]

Everything is real and local, as in ``tests/notifications/realworker.py``:

1. the database ``counterfoil_bench_mail`` (``DATABASE_URL``; a name without ``bench`` is refused)
   is created if missing and migrated; ``seed_demo`` (the bulk path) fills it to ``--emails``
   invoices; every invoice without an e-mail gets one through the service
   ``invoice_email_send`` (rendered, stored in the outbox, untimed);
2. a dedicated ``redis-server`` on a free port (no persistence) is the broker, and an aiosmtpd
   server in this process, on a free port, accepts every message, keeps its arrival time and
   Message-ID and throws the body away;
3. per pool (``prefork:N`` or ``threads:N``) one ``celery -A config worker`` child, production
   settings, SMTP backend pointed at that server, ``--loglevel=info`` like the Procfile;
4. each run puts the outbox rows back to ``pending`` (worker idle, queue empty), then publishes
   one ``email_send`` task per row, as ``notifications.services.enqueue`` does after commit, and
   times from the first publish until the SMTP server has accepted all of them: e-mails/s =
   K / (last accepted - first published). Latency per e-mail = accepted - published (in a burst
   it is mostly time spent waiting in the queue); a paced run (``--paced-rate``) measures it with
   the worker not saturated;
5. checks: every row ``sent`` after one attempt, one attempt row each, and the Message-IDs the
   SMTP server received unique and equal to the outbox's.

The median of ``--runs`` runs is the figure; runs are printed one per line. Each run also prints the
CPU it cost per e-mail (ms) by process: the worker's main process, its pool processes, the PostgreSQL
sessions open at the run's end (a session opened and closed within the run is not seen), redis-server
and this process (the aiosmtpd server and the publisher); and how busy the whole machine was. On a
shared machine the CPU per e-mail moves far less than e-mails/s, and cores x 1000 / (total ms per
e-mail) is the most these processes could reach with the machine to themselves. ``--profile N`` adds
an untimed run with py-spy (``--gil``: CPU, not waits) on the main and a pool process, summarised.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from bench.benchdb import bench_database_url
from bench.results import machine_text, write_section

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/counterfoil_bench_mail"
KEY_PREFIX = "email-bench"  # the Idempotency-Key of the bench's outbox rows
START_TIMEOUT = 60.0
TARGET_POOL, TARGET_RATE = "prefork:2", 200  # the Procfile's worker; issue 9's bar
RESULTS_SECTION = "E-mails per second through the worker (email_bench.py)"
MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*(<[^>\r\n]+>)", re.IGNORECASE | re.MULTILINE)


def ensure_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            print(f"creating database {name}", flush=True)
            conn.execute(f'CREATE DATABASE "{name}"')


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rss_kb(pid: int) -> int:
    """VmRSS of a process in kB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, ppid = stat.rpartition(")")[2].split()[:2]
        if int(ppid) == pid and state != "Z":
            found.append(int(entry.name))
    return sorted(found)


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def machine_busy_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, all cores."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / CLOCK_TICKS, sum(values) / CLOCK_TICKS


def database_sessions() -> list[int]:
    """Backend pids of the sessions on this database other than this process's own."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return [pid for (pid,) in cursor.fetchall()]


class CpuMeter:
    """CPU seconds by process group during one run (sessions opened and closed within it are not seen)."""

    def __init__(self, worker_pids: list[int], redis_pid: int):
        self.worker_pids, self.redis_pid = worker_pids, redis_pid
        self.start = self._sample()

    def _sample(self) -> dict:
        sessions = database_sessions()
        return {
            "worker": {pid: cpu_seconds(pid) for pid in self.worker_pids[:1]},
            "pool": {pid: cpu_seconds(pid) for pid in self.worker_pids[1:]},
            "postgres": {pid: cpu_seconds(pid) for pid in sessions},
            "redis": {self.redis_pid: cpu_seconds(self.redis_pid)},
            "bench": {0: sum(os.times()[:2])},
            "machine": dict(zip(("busy", "total"), machine_busy_seconds(), strict=True)),
        }

    def per_email_ms(self, emails: int) -> dict[str, float]:
        end = self._sample()
        used = {}
        for group in ("worker", "pool", "postgres", "redis", "bench"):
            used[group] = sum(seconds - self.start[group].get(pid, 0.0) for pid, seconds in end[group].items())
        result = {group: seconds * 1000 / max(emails, 1) for group, seconds in used.items()}
        result["ours"] = sum(result.values())
        busy = end["machine"]["busy"] - self.start["machine"]["busy"]
        total = end["machine"]["total"] - self.start["machine"]["total"]
        result["machine_busy_pct"] = 100 * busy / total if total else 0.0
        result["others_ms"] = (busy * 1000 / max(emails, 1)) - result["ours"]  # the rest of the machine, per e-mail
        return result


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


# -- local servers -------------------------------------------------------------------------------------


class Redis:
    def __init__(self, workdir: Path):
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> Redis:
        if shutil.which("redis-server") is None:
            sys.exit("email_bench: needs redis-server on PATH")
        log = open(self.workdir / "redis.log", "ab")  # noqa: SIM115 - lives as long as the server
        self.process = subprocess.Popen(
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
                "--protected-mode",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                if self.client().ping():
                    return self
            except Exception:  # noqa: BLE001 - not up yet
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def client(self):
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


class CountingHandler:
    """Accepts everything; keeps (arrival time, Message-ID) of each message, never the body."""

    def __init__(self):
        self.lock = threading.Lock()
        self.accepted: list[tuple[float, str]] = []

    def reset(self) -> None:
        with self.lock:
            self.accepted = []

    def count(self) -> int:
        return len(self.accepted)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        found = MESSAGE_ID.search(envelope.content)
        with self.lock:
            self.accepted.append((time.monotonic(), found.group(1).decode() if found else ""))
        return "250 Message accepted for delivery"


class Smtp:
    def __init__(self):
        from aiosmtpd.controller import Controller

        self.port = free_port()
        self.handler = CountingHandler()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def start(self) -> Smtp:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


def celery_env(*, database_url: str, redis_url: str, smtp_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "EMAIL_", "DJANGO_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY="email-bench-only-" + secrets.token_urlsafe(40),
        DJANGO_ALLOWED_HOSTS="localhost",
        DJANGO_DEBUG="0",
        CELERY_TASK_ALWAYS_EAGER="0",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_port),
        EMAIL_USE_TLS="0",
        EMAIL_HOST_USER="",
        EMAIL_HOST_PASSWORD="",
        PYTHONUNBUFFERED="1",
    )
    return env


class Worker:
    """``celery -A config worker`` in its own process group."""

    def __init__(self, pool: str, concurrency: int, env: dict[str, str], log_path: Path, loglevel: str = "info"):
        self.pool, self.concurrency, self.env, self.log_path = pool, concurrency, env, log_path
        self.argv = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            f"--loglevel={loglevel}",
            f"--pool={pool}",
            f"--concurrency={concurrency}",
            "-Q",
            "celery",
            "-n",
            f"bench-{secrets.token_hex(4)}@%h",
            "--without-mingle",
            "--without-gossip",
            "--without-heartbeat",
        ]
        self.process: subprocess.Popen | None = None

    def start(self) -> Worker:
        log = open(self.log_path, "ab")  # noqa: SIM115 - lives as long as the worker
        self.process = subprocess.Popen(
            self.argv, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"celery worker exited:\n{self.log_path.read_text()[-4000:]}")
            if re.search(r"@\S+ ready\.", self.log_path.read_text(errors="replace")):
                return self
            time.sleep(0.1)
        raise RuntimeError(f"celery worker not ready:\n{self.log_path.read_text()[-4000:]}")

    def pids(self) -> list[int]:
        """The main process first, then its pool children (prefork)."""
        return [self.process.pid, *children_of(self.process.pid)]

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


# -- data --------------------------------------------------------------------------------------------


def setup_django(database_url: str, redis_url: str) -> None:
    os.environ.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="localhost",
        DJANGO_DEBUG="0",
        CELERY_TASK_ALWAYS_EAGER="0",
    )
    import django

    django.setup()
    import logging

    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command at INFO


def seed(count: int, orders: int) -> list[int]:
    """``count`` invoices (seed_demo's bulk path) each with one queued invoice e-mail (the service). Ids back."""
    from django.core.management import call_command

    from notifications.models import EmailOutbox
    from sales.models import Invoice
    from sales.services.invoice_email import invoice_email_send

    started = time.monotonic()
    call_command("migrate", verbosity=0, interactive=False)
    if Invoice.objects.count() < count:
        call_command("seed_demo", invoices=count, orders=orders, seed=2026, force=True)
    invoice_ids = list(Invoice.objects.order_by("id").values_list("id", flat=True)[:count])
    have = set(
        EmailOutbox.objects.filter(key__contains=":", invoice_id__in=invoice_ids, kind="invoice_new").values_list(
            "invoice_id", flat=True
        )
    )
    missing = [pk for pk in invoice_ids if pk not in have]
    if missing:
        print(f"queueing {len(missing)} invoice e-mails through invoice_email_send ...", flush=True)
        queued_at = time.monotonic()
        for number, pk in enumerate(missing, 1):
            invoice_email_send(invoice_id=pk, key=f"{KEY_PREFIX}-{pk}")
            if number % 1000 == 0:
                print(f"  {number}/{len(missing)} ({number / (time.monotonic() - queued_at):.0f}/s)", flush=True)
        print(f"  queued through the service at {len(missing) / (time.monotonic() - queued_at):.0f}/s", flush=True)
    email_ids = list(
        EmailOutbox.objects.filter(invoice_id__in=invoice_ids, kind="invoice_new")
        .order_by("invoice_id", "id")
        .distinct("invoice_id")
        .values_list("id", flat=True)
    )
    print(
        f"data ready: {len(invoice_ids)} invoices, {len(email_ids)} outbox rows ({time.monotonic() - started:.1f} s)",
        flush=True,
    )
    return email_ids


def reset_rows(email_ids: list[int]) -> dict[int, str]:
    """Put the rows back to pending (as just queued) and forget their attempts; their Message-IDs back."""
    from django.db import transaction
    from django.utils import timezone

    from notifications.models import EmailAttempt, EmailOutbox
    from sales.models import Invoice

    with transaction.atomic():
        EmailAttempt.objects.filter(email_id__in=email_ids).delete()
        rows = EmailOutbox.objects.filter(pk__in=email_ids)
        rows.update(
            status=EmailOutbox.Status.PENDING,
            attempts=0,
            claimed_at=None,
            sent_at=None,
            last_error="",
            next_attempt_at=timezone.now(),
        )
        Invoice.objects.filter(emails__in=email_ids).update(email_sent=None)
    return dict(EmailOutbox.objects.filter(pk__in=email_ids).values_list("pk", "message_id"))


def check_rows(email_ids: list[int], message_ids: dict[int, str], accepted: list[tuple[float, str]]) -> list[str]:
    from django.db.models import Count

    from notifications.models import EmailAttempt, EmailOutbox

    problems = []
    statuses = dict(EmailOutbox.objects.filter(pk__in=email_ids).values_list("status").annotate(n=Count("id")))
    if statuses != {"sent": len(email_ids)}:
        problems.append(f"outbox statuses {statuses}")
    over = EmailOutbox.objects.filter(pk__in=email_ids, attempts__gt=1).count()
    if over:
        problems.append(f"{over} rows took more than one attempt")
    attempts = EmailAttempt.objects.filter(email_id__in=email_ids).count()
    if attempts != len(email_ids):
        problems.append(f"{attempts} attempt rows for {len(email_ids)} e-mails")
    received = [mid for _, mid in accepted]
    if len(set(received)) != len(received):
        problems.append(f"{len(received) - len(set(received))} duplicate Message-IDs at the SMTP server")
    if set(received) != set(message_ids.values()):
        problems.append("Message-IDs at the SMTP server differ from the outbox's")
    return problems


# -- one run -----------------------------------------------------------------------------------------


def publish(email_id: int) -> None:
    from notifications.tasks import email_send

    email_send.delay(email_id)  # what notifications.services.enqueue does after commit


def run_once(
    email_ids,
    redis: Redis,
    smtp: Smtp,
    *,
    timeout: float,
    paced_rate: float | None = None,
    wait_db: bool = True,
    worker: Worker | None = None,
) -> dict:
    from notifications.models import EmailOutbox

    with redis.client() as client:
        client.flushdb()
    message_ids = reset_rows(email_ids)
    email_of = {mid: pk for pk, mid in message_ids.items()}
    smtp.handler.reset()
    meter = CpuMeter(worker.pids(), redis.process.pid) if worker is not None else None
    published: dict[int, float] = {}
    started = time.monotonic()
    for number, pk in enumerate(email_ids):
        if paced_rate:
            delay = started + number / paced_rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        published[pk] = time.monotonic()
        publish(pk)
    publish_seconds = time.monotonic() - started
    deadline = time.monotonic() + timeout
    while smtp.handler.count() < len(email_ids) and time.monotonic() < deadline:
        time.sleep(0.01)
    accepted = list(smtp.handler.accepted)
    last = max((t for t, _ in accepted), default=time.monotonic())
    if wait_db:  # the worker marks the row sent just after the server's 250
        db_deadline = time.monotonic() + 30
        while (
            EmailOutbox.objects.filter(pk__in=email_ids, status="sent").count() < len(email_ids)
            and time.monotonic() < db_deadline
        ):
            time.sleep(0.05)
    cpu = meter.per_email_ms(len(accepted)) if meter is not None else None
    latencies = [(t - published[email_of[mid]]) * 1000 for t, mid in accepted if mid in email_of]
    problems = check_rows(email_ids, message_ids, accepted) if wait_db else []
    if len(accepted) < len(email_ids):
        problems.append(f"only {len(accepted)} of {len(email_ids)} accepted within {timeout:g} s")
    elapsed = last - started
    return {
        "emails": len(accepted),
        "seconds": elapsed,
        "rate": len(accepted) / elapsed if elapsed > 0 else 0.0,
        "publish_seconds": publish_seconds,
        "p50_ms": statistics.median(latencies) if latencies else 0.0,
        "p95_ms": percentile(latencies, 0.95) if latencies else 0.0,
        "problems": problems,
        "cpu": cpu,
    }


def cpu_text(cpu: dict | None) -> str:
    if not cpu:
        return ""
    cores = os.cpu_count() or 1
    return (
        f"\n    CPU ms/e-mail: worker {cpu['worker']:.2f} + pool {cpu['pool']:.2f}, postgres {cpu['postgres']:.2f},"
        f" redis {cpu['redis']:.2f},"
        f" bench (smtp server + publisher) {cpu['bench']:.2f} = {cpu['ours']:.2f}"
        f" (at most {cores * 1000 / cpu['ours']:.0f}/s on {cores} idle cores);"
        f" machine {cpu['machine_busy_pct']:.0f}% busy, other processes {max(cpu['others_ms'], 0):.2f} ms/e-mail"
    )


def parse_pools(text: str) -> list[tuple[str, int]]:
    pools = []
    for item in text.split(","):
        pool, _, concurrency = item.strip().partition(":")
        pools.append((pool, int(concurrency or 2)))
    return pools


def target_verdict(results: list) -> str:
    """Issue 9's bar, on the Procfile's pool (prefork, 2 processes): at least 200 e-mails/s, none lost or doubled."""
    procfile = next((entry for entry in results if entry[0] == TARGET_POOL), None)
    if procfile is None:
        return f"Target, >= {TARGET_RATE} e-mails/s on {TARGET_POOL} (the Procfile's pool): not measured"
    name, median, _rates, runs, paced = procfile
    clean = not any(run["problems"] for run in runs) and not (paced and paced["problems"])
    met = median >= TARGET_RATE and clean
    return (
        f"Target, >= {TARGET_RATE} e-mails/s on {name} (the Procfile's pool), each sent once: "
        f"{median:.1f}/s{'' if clean else ', with PROBLEMS'}: {'met' if met else '**MISSED**'}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--emails", type=int, default=2000, help="e-mails per run (= invoices seeded; default 2000)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per pool (default 3; the median counts)")
    parser.add_argument(
        "--pools",
        default="prefork:2,prefork:4,threads:4",
        help="comma-separated pool:concurrency (default prefork:2,prefork:4,threads:4)",
    )
    parser.add_argument("--warmup", type=int, default=200, help="untimed e-mails first, per pool (default 200)")
    parser.add_argument(
        "--paced-rate",
        type=float,
        default=50.0,
        help="e-mails/s of the extra paced run measuring latency, 0 to skip (default 50)",
    )
    parser.add_argument("--paced-emails", type=int, default=500, help="e-mails of the paced run (default 500)")
    parser.add_argument("--orders", type=int, default=100, help="orders imported by seed_demo (default 100)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds a run may take (default 600)")
    parser.add_argument(
        "--profile",
        type=float,
        default=0.0,
        help="py-spy record a pool process for this many seconds during one extra run",
    )
    parser.add_argument("--no-results", action="store_true", help="do not write its section of bench/RESULTS.md")
    args = parser.parse_args(argv)

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally: stop the children
    url = bench_database_url(DEFAULT_DATABASE_URL, "email_bench")
    ensure_database(url)
    workdir = Path(tempfile.mkdtemp(prefix="email-bench-"))
    redis = Redis(workdir).start()
    smtp = Smtp().start()
    worker = None
    results = []
    try:
        setup_django(url, redis.url)
        about = machine_text()  # before the runs: the load average is the machine's, not ours
        email_ids = seed(args.emails, args.orders)
        redis.client().flushdb()  # the service's on-commit publishes: each run publishes its own
        print(f"redis :{redis.port}, smtp :{smtp.port}, logs in {workdir}", flush=True)
        print(about, flush=True)
        env = celery_env(database_url=url, redis_url=redis.url, smtp_port=smtp.port)
        for pool, concurrency in parse_pools(args.pools):
            name = f"{pool}:{concurrency}"
            worker = Worker(pool, concurrency, env, workdir / f"worker-{pool}-{concurrency}.log").start()
            if args.warmup:
                warm = run_once(email_ids[: args.warmup], redis, smtp, timeout=args.timeout)
                print(f"{name} warm-up: {warm['emails']} e-mails, {warm['rate']:.0f}/s", flush=True)
            runs = []
            for number in range(1, args.runs + 1):
                result = run_once(email_ids, redis, smtp, timeout=args.timeout, worker=worker)
                runs.append(result)
                print(
                    f"{name} run {number}: {result['emails']} e-mails in {result['seconds']:.2f} s ="
                    f" {result['rate']:.1f}/s (published in {result['publish_seconds']:.2f} s);"
                    f" queued->accepted p50 {result['p50_ms']:.0f} ms p95 {result['p95_ms']:.0f} ms;"
                    f" rss kB {[rss_kb(p) for p in worker.pids()]}"
                    f"{'; PROBLEMS: ' + '; '.join(result['problems']) if result['problems'] else '; checks ok'}"
                    f"{cpu_text(result['cpu'])}",
                    flush=True,
                )
            paced = None
            if args.paced_rate:
                paced = run_once(
                    email_ids[: args.paced_emails], redis, smtp, timeout=args.timeout, paced_rate=args.paced_rate
                )
                print(
                    f"{name} paced at {args.paced_rate:g}/s: {paced['emails']} e-mails, queued->accepted"
                    f" p50 {paced['p50_ms']:.1f} ms p95 {paced['p95_ms']:.1f} ms"
                    f"{'; PROBLEMS: ' + '; '.join(paced['problems']) if paced['problems'] else '; checks ok'}",
                    flush=True,
                )
            if args.profile:
                profile(worker, email_ids, redis, smtp, args, workdir, name)
            worker.stop()
            worker = None
            rates = [r["rate"] for r in runs]
            if not runs:
                continue
            results.append((name, statistics.median(rates), rates, runs, paced))
        lines = [
            "| pool | e-mails/run | median e-mails/s | runs (e-mails/s) | burst p95 queued->accepted ms |"
            " paced p50 / p95 ms | checks |",
            "|---|---:|---:|---|---:|---:|---|",
        ]
        for name, median, rates, runs, paced in results:
            ok = "ok" if not any(r["problems"] for r in runs) and not (paced and paced["problems"]) else "PROBLEMS"
            paced_text = f"{paced['p50_ms']:.1f} / {paced['p95_ms']:.1f}" if paced else "-"
            lines.append(
                f"| {name} | {args.emails} | {median:.1f} | {', '.join(f'{r:.1f}' for r in rates)} |"
                f" {statistics.median([r['p95_ms'] for r in runs]):.0f} | {paced_text} | {ok} |"
            )
        print("\n" + "\n".join(lines))
        verdict = target_verdict(results)
        print(verdict)
        if not args.no_results:
            method = (
                f"`bench/email_bench.py`: {args.runs} runs of {args.emails:,} e-mails per pool after "
                f"{args.warmup} warm-up, the median counts; real `celery -A config worker`, a dedicated "
                "redis-server, an aiosmtpd server in the bench process; every run checked: each outbox "
                "row sent once, Message-IDs unique"
            )
            write_section(RESULTS_SECTION, f"{about}\n- {method}\n\n" + "\n".join(lines) + f"\n\n{verdict}")
        return 0 if verdict.endswith(": met") else 1
    finally:
        if worker is not None:
            worker.stop()
        smtp.stop()
        redis.stop()


def profile(worker: Worker, email_ids, redis: Redis, smtp: Smtp, args, workdir: Path, name: str) -> None:
    """py-spy record (if installed) of the worker's main process and first pool process during an extra,
    untimed run; ``--gil`` samples only the thread running Python code, so waits on sockets do not count."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(py_spy).exists():
        print("(py-spy not installed: no profile)")
        return
    pids = worker.pids()
    recorders = []
    for role, target in zip(("main", "pool"), pids, strict=False):
        out = workdir / f"profile-{name.replace(':', '-')}-{role}.txt"
        recorders.append(
            (
                role,
                target,
                out,
                subprocess.Popen(
                    [
                        py_spy,
                        "record",
                        "--pid",
                        str(target),
                        "--duration",
                        str(int(args.profile)),
                        "--format",
                        "raw",
                        "--output",
                        str(out),
                        "--nonblocking",
                        "--gil",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.STDOUT,
                ),
            )
        )
    time.sleep(1.0)
    run_once(email_ids, redis, smtp, timeout=args.timeout)
    for role, target, out, recorder in recorders:
        recorder.wait(args.profile + 30)
        print(f"{name}: py-spy raw profile (GIL held) of the {role} process {target} in {out}", flush=True)
        if out.exists():
            print(profile_summary(out), flush=True)


def profile_summary(path: Path, top: int = 25) -> str:
    """The functions with the most samples in a py-spy raw profile, counting each once per stack; the frames
    under nearly every sample (the worker's start-up and loop) are left out."""
    samples, inclusive = 0, {}
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples += int(count)
        for frame in {frame.split(" (")[0] + " (" + frame.rpartition("/")[2] for frame in stack.split(";")}:
            inclusive[frame] = inclusive.get(frame, 0) + int(count)
    ranked = [item for item in sorted(inclusive.items(), key=lambda item: -item[1]) if item[1] < 0.85 * samples][:top]
    return "\n".join(f"    {100 * n / max(samples, 1):5.1f}%  {frame}" for frame, n in ranked)


if __name__ == "__main__":
    sys.exit(main())
