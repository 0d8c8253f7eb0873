"""Invoice creation and reads over HTTP (gunicorn + PostgreSQL) at 1,000,000 invoices, beside their baselines.

Run from the repository root after ``python -m bench.seed_invoices --invoices 1000000``:

    .venv/bin/python -m bench.http_bench [--repeats 3] [--pgbench-seconds 20] [--read-seconds 4]

In one run, against ``counterfoil_bench`` (any database without ``bench`` in its name is refused):

1. migrates the bench database; imports a pool of one-line orders for pgbench once (kept, reused)
   and fresh one-line orders for the HTTP creation runs (each invoiced once), through
   ``sales.services.order_import``; creates the superuser ``bench-http`` and an admin token;
2. starts ``gunicorn config.wsgi:application --workers 2 --threads 4`` (gthread: keep-alive, so a
   client thread keeps its connection) with ``config.settings.production``, Redis cache (its own
   db) for the throttles, set far above the load, Celery not eager (nothing is queued: no e-mail
   is asked for), the locmem mail backend;
3. invoice creation: ``POST /rest/default/V1/order/{id}/invoice {"capture": true}`` with 1, 8 and 32
   client threads (``http.client``, one keep-alive connection per thread), then the same writes as one
   raw-SQL transaction (``bench/sql_baseline.sql``) with ``pgbench -c C -j C -T S``, in pgbench's default
   simple protocol (the target's baseline) and again with ``-M prepared`` (reported, no target: the app
   prepares its statements too, see ``config/settings/database.py``);
4. reads with 1 and 8 clients: ``GET /api/health`` (the trivial DRF endpoint), one invoice
   (``/V1/invoices/{id}``, random ids of invoices that exist), the ``/V1`` search-criteria list (first
   page, and filtered by order), ``/api2/invoice`` first page, and a page a million rows deep two ways: by its
   ``cursor`` (the keyset paging the API offers for deep pages; the target's figure) and by
   ``page=N`` (OFFSET, reported beside it: no index can skip a million rows in 50 ms);
5. every measurement ``--repeats`` times; prints the median over the runs of each figure (rate,
   p50, p95), the ratios against the targets (``MISSED`` when one is missed, and the exit code is 1;
   ``make bench`` still runs the other benchmarks) and replaces the section ``HTTP: invoice creation and
   reads at 1,000,000 invoices`` of ``bench/RESULTS.md`` (``--no-results`` to leave it alone).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from bench.api2_list import dataset, free_port, machine
from bench.benchdb import bench_database_url
from bench.results import write_section

REPO = Path(__file__).resolve().parent.parent

HOST = "127.0.0.1"
USERNAME = "bench-http"
POOL_EMAIL = "pgbench-pool@bench.invalid"
HTTP_EMAIL = "http-bench@bench.invalid"
REDIS_URL = "redis://127.0.0.1:6379/13"  # a db of its own: the throttles' counters
GUNICORN_WORKERS, GUNICORN_THREADS = 2, 4
SECTION = "## HTTP: invoice creation and reads at 1,000,000 invoices"
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}  # what the TLS-terminating proxy adds
CREATE_CLIENTS = (1, 8, 32)
READ_CLIENTS = (1, 8)
CREATION_TARGET = 0.20  # HTTP invoices/s over pgbench transactions/s
DETAIL_TARGET = 0.40  # GET one invoice/s over GET /api/health/s
API2_P95_TARGET_MS = 50.0

ADDRESS = {
    "firstname": "Roni",
    "lastname": "Cost",
    "street": ["6146 Honey Bluff Parkway"],
    "city": "Calder",
    "postcode": "49628-7978",
    "country_id": "US",
}


def one_line_order(email: str) -> dict:
    """The README's order: one simple row, shipping, checkmo (an offline method)."""
    return {
        "customer_email": email,
        "base_currency_code": "USD",
        "order_currency_code": "USD",
        "subtotal": 44,
        "shipping_amount": 5,
        "discount_amount": 0,
        "tax_amount": 0,
        "grand_total": 49,
        "items": [
            {
                "sku": "WS12-M-Orange",
                "name": "Radiant Tee",
                "product_type": "simple",
                "qty_ordered": 2,
                "price": 22,
                "row_total": 44,
            }
        ],
        "billing_address": ADDRESS,
        "payment": {"method": "checkmo"},
        "extension_attributes": {
            "shipping_assignments": [{"shipping": {"method": "flatrate_flatrate", "address": ADDRESS}}]
        },
    }


def server_environment(url: str) -> dict[str, str]:
    rate = "100000000/min"
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": f"{HOST},testserver",
        "SECURE_SSL_REDIRECT": "0",
        "DJANGO_DEBUG": "0",
        "DATABASE_URL": url,
        "REDIS_URL": REDIS_URL,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "API_THROTTLE_RATE_USER": rate,
        "API_THROTTLE_RATE_ANON": rate,
        "API_THROTTLE_RATE_TOKEN": rate,
        "SIGN_IN_MAX_FAILURES": "1000000",
        "ADMIN_TOKEN_LIFETIME_HOURS": "24",
        "PYTHONUNBUFFERED": "1",
    }


# -- data ------------------------------------------------------------------------------------------


def import_orders(count: int, email: str, store_id: int) -> list[int]:
    from sales.services import order_import

    started = time.monotonic()
    ids = [order_import(entity=one_line_order(email), store_id=store_id).pk for _ in range(count)]
    print(f"  imported {count} orders ({email}) in {time.monotonic() - started:.1f} s", flush=True)
    return ids


def pgbench_pool(size: int, store_id: int) -> tuple[int, int]:
    """Consecutive ids of the pool's one-line orders (imported on the first run, then reused)."""
    from sales.models import Order

    ids = list(Order.objects.filter(customer_email=POOL_EMAIL).order_by("pk").values_list("pk", flat=True))
    if len(ids) < size or ids[-1] - ids[0] + 1 != len(ids):
        if ids:
            sys.exit(
                f"http_bench: the pgbench pool ({POOL_EMAIL}) is not {size} consecutive orders; "
                "reseed the bench database (seed_invoices.py --reset)"
            )
        ids = import_orders(size, POOL_EMAIL, store_id)
        if ids[-1] - ids[0] + 1 != len(ids):
            sys.exit("http_bench: another process imported orders meanwhile; the pool is not consecutive")
    return ids[0], ids[-1]


def pgbench_cleanup(pool: tuple[int, int]) -> int:
    """Delete the invoices pgbench wrote for the pool (keeps the bench database at its seeded size)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM sales_invoice WHERE order_id BETWEEN %s AND %s", pool)
        ids = [row[0] for row in cursor.fetchall()]
        if ids:
            cursor.execute("DELETE FROM sales_invoice_grid WHERE entity_id = ANY(%s)", [ids])
            cursor.execute("DELETE FROM sales_invoiceitem WHERE parent_id = ANY(%s)", [ids])
            cursor.execute("DELETE FROM sales_invoice WHERE id = ANY(%s)", [ids])
    return len(ids)


def existing_invoice_ids(count: int = 100_000) -> list[int]:
    """Ids of invoices that exist, spread over the table (its pages sampled at random): the creation runs
    leave gaps in the id sequence, and a 404 is not the read being measured."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM sales_invoice TABLESAMPLE SYSTEM (5) LIMIT %s", [count])
        return [row[0] for row in cursor.fetchall()]


CHURNED_TABLES = (
    "sales_invoice",
    "sales_invoiceitem",
    "sales_invoice_grid",
    "sales_order",
    "sales_orderitem",
    "payments_payment",
)


def vacuum_churned_tables() -> None:
    """VACUUM what the creation runs wrote and deleted (~100,000 rows a repeat), so the reads that follow
    meet the seeded tables rather than dead rows, and autovacuum does not start in the middle of them."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {', '.join(CHURNED_TABLES)}")


def admin_token() -> str:
    from django.contrib.auth import get_user_model

    from integrations.services import admin_token_create

    password = secrets.token_urlsafe(24)
    user_model = get_user_model()
    user, _ = user_model.objects.get_or_create(username=USERNAME, defaults={"email": "bench-http@example.com"})
    user.is_staff = user.is_superuser = user.is_active = True
    user.set_password(password)
    user.save()
    return admin_token_create(username=USERNAME, password=password)


# -- HTTP load -------------------------------------------------------------------------------------


@dataclass
class Run:
    latencies_ms: list[float] = field(default_factory=list)
    wall_seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return len(self.latencies_ms) / self.wall_seconds if self.wall_seconds else 0.0

    def percentile(self, p: int) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[max(0, -(-p * len(ordered) // 100) - 1)] if ordered else float("nan")


class Client:
    """One keep-alive connection (gthread keeps it open), reopened when the server closes it."""

    def __init__(self, port: int, token: str):
        self.port = port
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json", **PROXY_HEADERS}
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        headers = dict(self.headers)
        if body is not None:
            headers["Content-Type"] = "application/json"
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(HOST, self.port, timeout=60)
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    self.close()
                return response.status, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt or method != "GET":
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def load(port: int, token: str, clients: int, next_request, *, seconds: float | None = None) -> Run:
    """``clients`` threads send ``next_request()`` (method, path, body, expected status) until it returns None
    or ``seconds`` pass; one warm-up request per thread first, untimed."""
    run = Run()
    lock = threading.Lock()
    warmed_up = threading.Barrier(clients + 1)
    go = threading.Event()  # set once the deadline is known
    deadline: list[float] = [0.0]

    def worker():
        client = Client(port, token)
        try:
            warm = next_request(warmup=True)
            if warm:
                client.request(*warm[:3])
            warmed_up.wait()
            go.wait()
            while True:
                if seconds is not None and time.perf_counter() > deadline[0]:
                    return
                item = next_request(warmup=False)
                if item is None:
                    return
                method, path, body, expected = item
                before = time.perf_counter()
                status, data = client.request(method, path, body)
                elapsed = (time.perf_counter() - before) * 1000
                with lock:
                    if status == expected:
                        run.latencies_ms.append(elapsed)
                    else:
                        run.errors.append(f"{method} {path} -> {status} {data[:200]!r}")
        finally:
            client.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    warmed_up.wait()
    started = time.perf_counter()
    deadline[0] = started + (seconds or 0)
    go.set()
    for thread in threads:
        thread.join()
    run.wall_seconds = time.perf_counter() - started
    if run.errors:
        print(f"    {len(run.errors)} errors, first: {run.errors[0]}", flush=True)
    return run


def creation_count(clients: int, per_client: int) -> int:
    """Invoices in one creation run: ``per_client`` each, at least 60 (a p95 needs a few dozen)."""
    return max(60, clients * per_client)


def creation_requests(order_ids: list[int]):
    pending = list(order_ids)
    lock = threading.Lock()
    body = json.dumps({"capture": True}).encode()

    def next_request(*, warmup: bool):
        if warmup:
            return ("GET", "/api/health", None, 200)
        with lock:
            if not pending:
                return None
            order_id = pending.pop()
        return ("POST", f"/rest/default/V1/order/{order_id}/invoice", body, 200)

    return next_request


def next_cursor(port: int, token: str, path: str) -> str:
    """The ``next_cursor`` a page answers: where the page after it starts (fetched once, untimed)."""
    client = Client(port, token)
    try:
        status, data = client.request("GET", path)
    finally:
        client.close()
    if status != 200:
        raise RuntimeError(f"GET {path} -> {status} {data[:200]!r}")
    return json.loads(data)["next_cursor"]


def read_requests(path_of):
    def next_request(*, warmup: bool):
        return ("GET", path_of(), None, 200)

    return next_request


# -- pgbench ---------------------------------------------------------------------------------------


def pgbench(url: str, clients: int, seconds: int, pool: tuple[int, int], store_id: int, *, mode: str = "simple") -> Run:
    """pgbench's protocol ``mode``: ``simple`` (its default: each statement sent as text, parsed and planned
    every time) or ``prepared`` (parsed and planned once per connection, as the app's own statements are)."""
    parts = urlsplit(url)
    with tempfile.TemporaryDirectory(prefix="http_bench_pgbench_") as directory:
        command = [
            "pgbench",
            "-n",
            "-M",
            mode,
            "-f",
            str(REPO / "bench" / "sql_baseline.sql"),
            "-c",
            str(clients),
            "-j",
            str(clients),
            "-T",
            str(seconds),
            "-D",
            f"pool_min={pool[0]}",
            "-D",
            f"pool_max={pool[1]}",
            "-D",
            f"store={store_id}",
            "-l",
            f"--log-prefix={directory}/tx",
            "-h",
            parts.hostname or HOST,
            "-p",
            str(parts.port or 5432),
            "-U",
            parts.username or "postgres",
            parts.path.lstrip("/"),
        ]
        env = {**os.environ, **({"PGPASSWORD": parts.password} if parts.password else {})}
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=seconds + 120)
        if done.returncode != 0:
            raise RuntimeError(f"pgbench failed ({done.returncode}): {done.stderr[-2000:]}")
        match = re.search(r"tps = ([\d.]+) \(without initial connection time\)", done.stdout)
        failed = re.search(r"number of failed transactions: (\d+)", done.stdout)
        run = Run()
        for log in Path(directory).glob("tx*"):
            for line in log.read_text().splitlines():
                fields = line.split()
                if len(fields) >= 3 and fields[2].isdigit():
                    run.latencies_ms.append(int(fields[2]) / 1000)
        # The rate is pgbench's own tps; wall_seconds is derived so that Run.rate returns it.
        tps = float(match.group(1)) if match else 0.0
        run.wall_seconds = len(run.latencies_ms) / tps if tps else 0.0
        if failed and int(failed.group(1)):
            run.errors.append(f"{failed.group(1)} failed transactions")
        return run


# -- gunicorn --------------------------------------------------------------------------------------


def start_gunicorn(port: int, env: dict[str, str], log) -> subprocess.Popen:
    from gunicorn.config import KNOWN_SETTINGS

    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        "--workers",
        str(GUNICORN_WORKERS),
        "--threads",
        str(GUNICORN_THREADS),
        "--worker-class",
        "gthread",
        "--bind",
        f"{HOST}:{port}",
        "--chdir",
        str(REPO),
        "--log-level",
        "warning",
        "--timeout",
        "60",
        "--keep-alive",
        "30",
        "--backlog",
        "256",
    ]
    if any(setting.name == "control_socket_disable" for setting in KNOWN_SETTINGS):
        command.append("--no-control-socket")
    environ = {
        name: value
        for name, value in os.environ.items()
        if name not in ("GUNICORN_CMD_ARGS", "WEB_CONCURRENCY", "SECURE_HSTS_SECONDS")
    }
    return subprocess.Popen(
        command, cwd=REPO, env={**environ, **env}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def wait_until_serving(process: subprocess.Popen, port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            conn.request("GET", "/api/health", headers=PROXY_HEADERS)
            if conn.getresponse().status == 200:
                conn.close()
                return
            conn.close()
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer within 30 s")


def stop_gunicorn(process: subprocess.Popen) -> None:
    import signal

    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


# -- report ----------------------------------------------------------------------------------------


@dataclass
class Figure:
    name: str
    clients: int
    runs: list[Run]
    kind: str = "http"  # or "pgbench"

    def median_of(self, value) -> float:
        return statistics.median(value(run) for run in self.runs)

    @property
    def rate(self) -> float:
        return self.median_of(lambda run: run.rate)

    @property
    def p50(self) -> float:
        return self.median_of(lambda run: run.percentile(50))

    @property
    def p95(self) -> float:
        return self.median_of(lambda run: run.percentile(95))

    @property
    def requests(self) -> int:
        return sum(len(run.latencies_ms) for run in self.runs)

    @property
    def errors(self) -> int:
        return sum(len(run.errors) for run in self.runs)


def table(figures: list[Figure]) -> list[str]:
    lines = [
        "| measurement | clients | rate /s | p50 ms | p95 ms | rates of the runs | requests (all runs) | errors |",
        "|---|---:|---:|---:|---:|---|---:|---:|",
    ]
    for figure in figures:
        rates = ", ".join(f"{run.rate:.1f}" for run in figure.runs)
        lines.append(
            f"| {figure.name} | {figure.clients} | {figure.rate:.1f} | {figure.p50:.1f} | {figure.p95:.1f} | "
            f"{rates} | {figure.requests} | {figure.errors} |"
        )
    return lines


def verdicts(figures: dict[tuple[str, int], Figure]) -> list[tuple[str, str, bool]]:
    checks = []
    for clients in CREATE_CLIENTS:
        http_fig, sql_fig = figures[("create", clients)], figures[("pgbench", clients)]
        ratio = http_fig.rate / sql_fig.rate if sql_fig.rate else 0.0
        checks.append(
            (
                f"invoice creation, {clients} client(s): "
                f"HTTP {http_fig.rate:.1f}/s over raw SQL {sql_fig.rate:.1f} tps",
                f"{ratio:.3f} (target >= {CREATION_TARGET:.2f})",
                ratio >= CREATION_TARGET,
            )
        )
    for clients in CREATE_CLIENTS:  # no target: the same writes with every statement prepared, for scale
        http_fig, prepared_fig = figures[("create", clients)], figures[("pgbench_prepared", clients)]
        ratio = http_fig.rate / prepared_fig.rate if prepared_fig.rate else 0.0
        checks.append(
            (
                f"(no target) invoice creation, {clients} client(s): HTTP over pgbench -M prepared "
                f"{prepared_fig.rate:.1f} tps",
                f"{ratio:.3f}",
                True,
            )
        )
    for clients in READ_CLIENTS:
        detail, health = figures[("detail", clients)], figures[("health", clients)]
        ratio = detail.rate / health.rate if health.rate else 0.0
        checks.append(
            (
                f"GET one invoice, {clients} client(s): {detail.rate:.1f}/s over /api/health {health.rate:.1f}/s",
                f"{ratio:.3f} (target >= {DETAIL_TARGET:.2f})",
                ratio >= DETAIL_TARGET,
            )
        )
    # The deep page's target is held by the cursor; page=N (OFFSET) is reported in the table only.
    for key, label in (("api2_first", "first page"), ("api2_cursor", "deep page (cursor)")):
        for clients in READ_CLIENTS:
            p95 = figures[(key, clients)].p95
            checks.append(
                (
                    f"/api2 list {label}, {clients} client(s): p95",
                    f"{p95:.1f} ms (target <= {API2_P95_TARGET_MS:.0f} ms)",
                    p95 <= API2_P95_TARGET_MS,
                )
            )
    return checks


def section(info: dict, data: dict, figures: list[Figure], checks, args, paths: dict[str, str]) -> str:
    lines = [SECTION, ""]
    lines.append(f"`bench/http_bench.py` (run by `make bench`), {info['date']}. Machine and versions:")
    lines.append("")
    for key in (
        "cpu",
        "nproc",
        "kernel",
        "postgresql",
        "postgresql settings",
        "python",
        "django",
        "gunicorn",
        "code",
        "load average before the run",
    ):
        lines.append(f"- {key}: {info.get(key, '?')}")
    lines.append(f"- memory: {info.get('memory', '?').splitlines()[1].split()[1] if info.get('memory') else '?'} RAM")
    lines.append(
        f"- data: {data['invoices']:,} invoices (ids {data['min_id']:,}-{data['max_id']:,}), "
        f"{data['orders']:,} orders, sales_invoice {data['size']}"
    )
    lines += [
        f"- server: gunicorn `--workers {GUNICORN_WORKERS} --threads {GUNICORN_THREADS}` (gthread, keep-alive), "
        "`config.settings.production`, Redis cache (throttles on, limits far above the load), no Celery worker "
        "(nothing queued); client: Python threads with `http.client`, one keep-alive connection each, "
        "on the same 2 cores as gunicorn and PostgreSQL",
        f"- method: each measurement {args.repeats} times; each figure is the median over the runs of that "
        f"run's rate, p50 and p95. Creation: {args.create_requests} invoices per client per run, at least 60 "
        f"(each order invoiced once), pgbench `-T {args.pgbench_seconds}` on `bench/sql_baseline.sql` "
        f"(p50/p95 from its per-transaction log); reads: {args.read_seconds} s per run after one warm-up "
        "request per client",
        "",
        "Paths:",
        "",
    ]
    lines += [f"- {name}: `{path}`" for name, path in paths.items()]
    lines += ["", *table(figures), "", "Targets (each a ratio within this run):", ""]
    lines += ["| check | figure | |", "|---|---|---|"]
    lines += [f"| {what} | {value} | {'met' if ok else '**MISSED**'} |" for what, value, ok in checks]
    lines.append("")
    return "\n".join(lines)


# -- main ------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pgbench-seconds", type=int, default=20)
    parser.add_argument("--read-seconds", type=float, default=4.0)
    parser.add_argument("--create-requests", type=int, default=12, help="invoices per client per run")
    parser.add_argument("--pool", type=int, default=2000, help="one-line orders pgbench picks from")
    parser.add_argument("--no-results", action="store_true", help="do not write bench/RESULTS.md")
    args = parser.parse_args(argv)

    url = bench_database_url(script="http_bench")
    env = server_environment(url)
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from sales.models import Store

    info = machine()
    print(f"http_bench on {connection.settings_dict['NAME']}; load average {info['load average before the run']}")
    call_command("migrate", verbosity=0, interactive=False)
    store_id = Store.objects.get(code="default").pk
    data = dataset()
    print(f"  {data['invoices']:,} invoices, ids {data['min_id']}-{data['max_id']}", flush=True)
    pool = pgbench_pool(args.pool, store_id)
    per_run = sum(creation_count(clients, args.create_requests) for clients in CREATE_CLIENTS)
    fresh = import_orders(per_run * args.repeats, HTTP_EMAIL, store_id)
    token = admin_token()
    connection.close()

    rng = random.Random(2026)
    invoice_ids = existing_invoice_ids()
    busy_order = data["first_order"]
    deep_page = max(1, data["invoices"] // 50 - 1)
    paths = {
        "health": "/api/health",
        "detail": "/rest/default/V1/invoices/{random id}",
        "v1_list": "/rest/default/V1/invoices?searchCriteria[pageSize]=20&searchCriteria[currentPage]=1",
        "v1_filtered": (
            "/rest/default/V1/invoices?searchCriteria[filter_groups][0][filters][0][field]=order_id"
            f"&searchCriteria[filter_groups][0][filters][0][value]={busy_order}"
            "&searchCriteria[pageSize]=20&searchCriteria[currentPage]=1"
        ),
        "api2_first": "/api2/invoice?limit=50",
        "api2_cursor": f"/api2/invoice?limit=50&cursor={{next_cursor of page {deep_page - 1}}}",
        "api2_deep": f"/api2/invoice?limit=50&page={deep_page}",
    }
    labels = {
        "create": "POST /V1/order/{id}/invoice (capture)",
        "pgbench": "raw SQL transaction (pgbench, simple protocol)",
        "pgbench_prepared": "raw SQL transaction (pgbench -M prepared)",
        "health": "GET /api/health",
        "detail": "GET /V1/invoices/{id}",
        "v1_list": "GET /V1/invoices searchCriteria",
        "v1_filtered": "GET /V1/invoices filtered by order_id",
        "api2_first": "GET /api2/invoice first page",
        "api2_cursor": f"GET /api2/invoice page {deep_page:,} by cursor",
        "api2_deep": f"GET /api2/invoice page {deep_page:,} by OFFSET",
    }
    results: dict[tuple[str, int], list[Run]] = {}

    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="http_bench_gunicorn_", suffix=".log", delete=False)  # noqa: SIM115
    server = start_gunicorn(port, env, log)
    try:
        wait_until_serving(server, port)
        print(f"  gunicorn on :{port} (log {log.name})", flush=True)
        deep_cursor = next_cursor(port, token, f"/api2/invoice?limit=50&page={deep_page - 1}")
        cursor_path = f"/api2/invoice?limit=50&cursor={deep_cursor}"
        for repeat in range(args.repeats):
            print(f"run {repeat + 1}/{args.repeats}", flush=True)
            for clients in CREATE_CLIENTS:
                batch = [fresh.pop() for _ in range(creation_count(clients, args.create_requests))]
                run = load(port, token, clients, creation_requests(batch))
                results.setdefault(("create", clients), []).append(run)
                print(
                    f"  create  c={clients:<2} {run.rate:8.1f}/s p50 {run.percentile(50):7.1f} ms "
                    f"p95 {run.percentile(95):7.1f} ms",
                    flush=True,
                )
            for key, mode in (("pgbench", "simple"), ("pgbench_prepared", "prepared")):
                for clients in CREATE_CLIENTS:
                    run = pgbench(url, clients, args.pgbench_seconds, pool, store_id, mode=mode)
                    results.setdefault((key, clients), []).append(run)
                    removed = pgbench_cleanup(pool)
                    print(
                        f"  pgbench -M {mode:<8} c={clients:<2} {run.rate:8.1f}/s p50 {run.percentile(50):7.1f} ms "
                        f"p95 {run.percentile(95):7.1f} ms ({removed} invoices removed)",
                        flush=True,
                    )
            vacuum_churned_tables()
            connection.close()
            for key in ("health", "detail", "v1_list", "v1_filtered", "api2_first", "api2_cursor", "api2_deep"):
                for clients in READ_CLIENTS:
                    if key == "detail":
                        lock = threading.Lock()

                        def path_of(lock=lock):
                            with lock:
                                return f"/rest/default/V1/invoices/{rng.choice(invoice_ids)}"
                    else:

                        def path_of(path=cursor_path if key == "api2_cursor" else paths[key]):
                            return path

                    run = load(port, token, clients, read_requests(path_of), seconds=args.read_seconds)
                    results.setdefault((key, clients), []).append(run)
                    print(
                        f"  {key:<11} c={clients:<2} {run.rate:8.1f}/s p50 {run.percentile(50):7.1f} ms "
                        f"p95 {run.percentile(95):7.1f} ms",
                        flush=True,
                    )
    finally:
        stop_gunicorn(server)
        log.close()

    figures = {key: Figure(f"{labels[key[0]]}", key[1], runs) for key, runs in results.items()}
    ordered = [figures[key] for key in results]
    checks = verdicts(figures)
    print()
    print("\n".join(table(ordered)))
    print()
    for what, value, ok in checks:
        print(f"{'ok    ' if ok else 'MISSED'}  {what}: {value}")
    if not args.no_results:
        write_section(SECTION[3:], section(info, data, ordered, checks, args, paths).split("\n", 1)[1])
    return 0 if all(ok for _what, _value, ok in checks) else 1  # make bench runs the others, then fails


if __name__ == "__main__":
    sys.exit(main())
