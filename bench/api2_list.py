"""Time the ``/api2/invoice`` list and lookup under gunicorn, over loopback, on the bench database.

Run from the repository root after ``python -m bench.seed_invoices``:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/counterfoil_bench \\
    .venv/bin/python -m bench.api2_list [--requests 200] [--warmup 20] [--report bench/last_run.md]

What it does, in a bounded time (about a minute at 100k invoices):

1. sets up Django in this process with the production settings (a throwaway secret key,
   ``SECURE_SSL_REDIRECT=0``, ``DJANGO_DEBUG=0``) on the bench database, and creates a staff
   superuser ``bench-staff`` and an admin token for it (revoked at the end);
2. starts ``gunicorn config.wsgi:application`` with 2 sync workers on 127.0.0.1 and a free port;
3. for each scenario sends ``--warmup`` then ``--requests`` sequential GETs with ``http.client``
   (a new connection each, as the sync worker closes it), at most ``--budget`` seconds of them,
   and reports median, p95 and requests/s;
4. replays each scenario in this process with Django's test client to split the server time
   into SQL and Python (query count, SQL ms), and captures ``EXPLAIN (ANALYZE, BUFFERS)`` of
   every query the list scenarios run;
5. stops gunicorn (always, in a ``finally``);
6. replaces its section of ``bench/RESULTS.md`` with the machine and the table (the plans go to
   ``--report`` only; ``--no-results`` leaves RESULTS.md alone). No target is held here: the
   issue's /api2 figures at 1 and 8 clients are ``http_bench.py``'s.

Only the standard library is used for the HTTP client. Refuses any database whose name does not
contain ``bench``.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import json
import os
import platform
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.benchdb import bench_database_url
from bench.results import write_section

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
RESULTS_SECTION = "/api2/invoice, one client, every list scenario (api2_list.py)"
BENCH_USERNAME = "bench-staff"
FILTER_MONTH = ("2025-06-01", "2025-06-30")
STARTUP_TIMEOUT_SECONDS = 30
REQUEST_TIMEOUT_SECONDS = 30
PROFILE_ROUNDS = 15  # in-process replays per scenario for the SQL/Python split


@dataclass
class Scenario:
    name: str
    path: str
    explain: bool = True  # capture the plans of its queries
    latencies_ms: list[float] = field(default_factory=list)
    wall_seconds: float = 0.0
    response_bytes: int = 0
    queries: int = 0
    server_ms: float = 0.0
    sql_ms: float = 0.0
    plans: list[tuple[str, str]] = field(default_factory=list)

    def median(self) -> float:
        return statistics.median(self.latencies_ms)

    def p95(self) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[max(0, -(-95 * len(ordered) // 100) - 1)]  # nearest rank

    def per_second(self) -> float:
        return len(self.latencies_ms) / self.wall_seconds if self.wall_seconds else 0.0


def server_environment(url: str) -> dict[str, str]:
    """What gunicorn and this process both run with: production settings, loopback, no HTTPS redirect."""
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": f"{HOST},localhost,testserver",
        "SECURE_SSL_REDIRECT": "0",
        "DJANGO_DEBUG": "0",
        "DATABASE_URL": url,
        "REDIS_URL": "redis://127.0.0.1:6379/13",  # production requires it: the throttles' counters
        "CELERY_TASK_ALWAYS_EAGER": "1",  # reads queue nothing; never wait on a broker
        # The throttles run, as in production, with limits the timed requests never reach.
        "API_THROTTLE_RATE_USER": "100000000/min",
        "API_THROTTLE_RATE_ANON": "100000000/min",
        "API_THROTTLE_RATE_TOKEN": "100000000/min",
    }


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def get(port: int, path: str, token: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT_SECONDS)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}", "Accept": "application/json"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def start_gunicorn(port: int, env: dict[str, str], log) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        "--workers",
        "2",
        "--bind",
        f"{HOST}:{port}",
        "--chdir",
        str(REPO),
        "--log-level",
        "warning",
        "--timeout",
        "60",
    ]
    return subprocess.Popen(
        command, cwd=REPO, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def wait_until_serving(process: subprocess.Popen, port: int, token: str) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            status, _ = get(port, "/api2/invoice?limit=1", token)
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within {STARTUP_TIMEOUT_SECONDS} s")


def stop_gunicorn(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)  # the master stops its workers gracefully
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def time_scenario(scenario: Scenario, port: int, token: str, *, warmup: int, requests: int, budget: float) -> None:
    """``warmup`` then ``requests`` GETs; stops early (keeping what it has) once ``budget`` seconds are spent."""
    for _ in range(warmup):
        status, body = get(port, scenario.path, token)
        if status != 200:
            raise RuntimeError(f"{scenario.name}: {scenario.path} answered {status}: {body[:300]!r}")
    started = time.perf_counter()
    for _ in range(requests):
        before = time.perf_counter()
        status, body = get(port, scenario.path, token)
        scenario.latencies_ms.append((time.perf_counter() - before) * 1000)
        if status != 200:
            raise RuntimeError(f"{scenario.name}: {scenario.path} answered {status}: {body[:300]!r}")
        if time.perf_counter() - started > budget:
            break
    scenario.wall_seconds = time.perf_counter() - started
    scenario.response_bytes = len(body)


def profile_scenario(scenario: Scenario, token: str, *, explain: bool) -> None:
    """Replay in this process: server time, SQL time and query count; then EXPLAIN ANALYZE the queries."""
    from django.db import connection
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    totals, sql_totals = [], []
    captured: list[tuple[str, object, float]] = []

    def record(execute, sql, params, many, context):
        before = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            captured.append((sql, params, (time.perf_counter() - before) * 1000))

    for _ in range(PROFILE_ROUNDS):
        captured.clear()
        with connection.execute_wrapper(record):
            before = time.perf_counter()
            response = client.get(scenario.path)
            totals.append((time.perf_counter() - before) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{scenario.name}: in-process replay answered {response.status_code}")
        sql_totals.append(sum(duration for _, _, duration in captured))
    scenario.queries = len(captured)
    scenario.server_ms = statistics.median(totals)
    scenario.sql_ms = statistics.median(sql_totals)
    if not (explain and scenario.explain):
        return
    with connection.cursor() as cursor:
        for sql, params, _ in captured:
            if "integrations_accesstoken" in sql:
                continue  # authentication: one indexed lookup, the same for every scenario
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            text = cursor.mogrify(sql, params) if hasattr(cursor, "mogrify") else sql
            scenario.plans.append((text.decode() if isinstance(text, bytes) else text, plan))


def machine() -> dict[str, str]:
    import django
    from django.db import connection

    def run(*command: str) -> str:
        try:
            return subprocess.run(command, capture_output=True, text=True, timeout=10).stdout.strip()
        except OSError:
            return "?"

    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        (pg_version,) = cursor.fetchone()
        cursor.execute("SHOW shared_buffers")
        (shared_buffers,) = cursor.fetchone()
        cursor.execute("SHOW work_mem")
        (work_mem,) = cursor.fetchone()
        cursor.execute("SELECT max(name) FROM django_migrations WHERE app = 'sales'")
        (migration,) = cursor.fetchone()
    import gunicorn

    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "code": f"{run('git', '-C', str(REPO), 'rev-parse', '--short', 'HEAD')}, bench database at sales {migration}",
        "load average before the run": " ".join(f"{load:.2f}" for load in os.getloadavg()),
        "nproc": run("nproc"),
        "cpu": cpu,
        "memory": run("free", "-h"),
        "kernel": platform.release(),
        "postgresql": pg_version,
        "postgresql settings": f"shared_buffers={shared_buffers}, work_mem={work_mem}",
        "python": platform.python_version(),
        "django": django.get_version(),
        "gunicorn": gunicorn.__version__,
    }


def dataset() -> dict[str, object]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), min(id), max(id), min(created_at), max(created_at) FROM sales_invoice")
        count, min_id, max_id, first, last = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM sales_invoiceitem")
        (rows,) = cursor.fetchone()
        cursor.execute("SELECT count(*), min(id) FROM sales_order")
        orders, first_order = cursor.fetchone()
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('sales_invoice'))")
        (size,) = cursor.fetchone()
    return {
        "invoices": count,
        "min_id": min_id,
        "max_id": max_id,
        "first": first,
        "last": last,
        "invoice_rows": rows,
        "orders": orders,
        "first_order": first_order,
        "size": size,
    }


def staff_token() -> tuple[str, object]:
    from django.contrib.auth import get_user_model

    from integrations.models import AccessToken, token_hash_of
    from integrations.services import admin_token_create

    password = secrets.token_urlsafe(24)
    user_model = get_user_model()
    user, _ = user_model.objects.get_or_create(username=BENCH_USERNAME, defaults={"email": "bench@example.com"})
    user.is_staff = user.is_superuser = True  # every ACL resource, as the other benches' users
    user.is_active = True
    user.set_password(password)
    user.save()
    raw = admin_token_create(username=BENCH_USERNAME, password=password)
    return raw, AccessToken.objects.get(token_hash=token_hash_of(raw))


def report(scenarios: list[Scenario], info: dict, data: dict, args, *, plans: bool = True) -> str:
    lines = ["# /api2/invoice benchmark run", ""] if plans else []
    lines += [
        f"- {key}: {value}" if "\n" not in str(value) else f"- {key}:\n\n```\n{value}\n```\n"
        for key, value in info.items()
    ]
    lines += [
        f"- dataset: {data['invoices']} invoices ({data['invoice_rows']} invoice rows, {data['orders']} orders), "
        f"created {data['first']:%Y-%m-%d} .. {data['last']:%Y-%m-%d}; sales_invoice + indexes {data['size']}",
        f"- client: {args.requests} sequential requests per scenario after {args.warmup} warm-up, "
        "http.client over loopback, new connection per request; gunicorn 2 sync workers",
        "",
        "| scenario | path | n | median ms | p95 ms | req/s | bytes | queries | server ms (in-process) | SQL ms |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in scenarios:
        lines.append(
            f"| {s.name} | `{s.path}` | {len(s.latencies_ms)} | {s.median():.1f} | {s.p95():.1f} | "
            f"{s.per_second():.0f} | {s.response_bytes} | {s.queries} | {s.server_ms:.1f} | {s.sql_ms:.1f} |"
        )
    for s in scenarios:
        if not s.plans or not plans:
            continue
        lines += ["", f"## Plans: {s.name} (`{s.path}`)"]
        for sql, plan in s.plans:
            lines += ["", "```sql", sql, "```", "", "```", plan, "```"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="timed requests per scenario (default 200)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed requests first (default 20)")
    parser.add_argument(
        "--budget", type=float, default=60, help="seconds of timed requests per scenario at most (default 60)"
    )
    parser.add_argument("--report", type=Path, help="also write the full report (table and plans) to this file")
    parser.add_argument("--no-explain", action="store_true", help="skip EXPLAIN ANALYZE of the queries")
    parser.add_argument("--no-results", action="store_true", help="do not write its section of bench/RESULTS.md")
    args = parser.parse_args(argv)
    if args.requests < 1 or args.warmup < 0:
        parser.error("--requests >= 1 and --warmup >= 0")

    env = server_environment(bench_database_url(script="api2_list"))
    os.environ.update(env)
    import django

    django.setup()

    data = dataset()
    if not data["invoices"] or not data["orders"]:
        sys.exit("api2_list: the bench database has no invoices; run python -m bench.seed_invoices first")
    info = machine()
    token, token_row = staff_token()
    port = free_port()
    started = time.monotonic()
    with tempfile.TemporaryFile(mode="w+") as log:
        process = start_gunicorn(port, env, log)
        try:
            wait_until_serving(process, port, token)
            print(f"gunicorn pid {process.pid} on {HOST}:{port}, {data['invoices']} invoices", flush=True)
            _, body = get(port, "/api2/invoice?page=1&limit=50&include_pagination=1", token)
            total = json.loads(body)["pagination"]["total"]
            deep_page = max(1, total // 50 - 1)
            middle_id = (data["min_id"] + data["max_id"]) // 2
            scenarios = [
                Scenario("first page", "/api2/invoice?page=1&limit=50"),
                Scenario("deep page", f"/api2/invoice?page={deep_page}&limit=50"),
                Scenario("first page + pagination", "/api2/invoice?page=1&limit=50&include_pagination=1"),
                Scenario(
                    "filtered (paid, one month)",
                    f"/api2/invoice?state=2&created_from={FILTER_MONTH[0]}&created_to={FILTER_MONTH[1]}&limit=50",
                ),
                Scenario("sort=grand_total", "/api2/invoice?sort=grand_total&limit=50"),
                Scenario("sort=grand_total, deep page", f"/api2/invoice?sort=grand_total&page={deep_page}&limit=50"),
                Scenario("lookup by id", f"/api2/invoice?id={middle_id}"),
                Scenario("baseline /V1 order status", f"/rest/V1/orders/{data['first_order']}/statuses", False),
            ]
            for scenario in scenarios:
                time_scenario(scenario, port, token, warmup=args.warmup, requests=args.requests, budget=args.budget)
                print(
                    f"  {scenario.name:28} median {scenario.median():7.1f} ms  p95 {scenario.p95():7.1f} ms  "
                    f"{scenario.per_second():6.0f} req/s  (n={len(scenario.latencies_ms)}, "
                    f"{scenario.response_bytes} bytes)",
                    flush=True,
                )
        finally:
            stop_gunicorn(process)
            if process.returncode not in (0, None, -signal.SIGTERM):
                log.seek(0)
                print(f"gunicorn exited {process.returncode}; its log:\n{log.read()[-4000:]}", file=sys.stderr)
    print(f"gunicorn stopped; HTTP part {time.monotonic() - started:.0f} s", flush=True)

    try:
        for scenario in scenarios:
            profile_scenario(scenario, token, explain=not args.no_explain)
            print(
                f"  in-process {scenario.name:28} {scenario.queries} queries, server {scenario.server_ms:6.1f} ms, "
                f"SQL {scenario.sql_ms:6.1f} ms",
                flush=True,
            )
    finally:
        from integrations.services import access_token_revoke

        access_token_revoke(token=token_row)

    text = report(scenarios, info, data, args)
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(text)
        print(f"report written to {args.report}")
    print()
    print(text)
    if not args.no_results:  # the table; the plans only in --report
        write_section(RESULTS_SECTION, report(scenarios, info, data, args, plans=False))


if __name__ == "__main__":
    main()
