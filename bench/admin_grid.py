"""Time the admin's Sales > Invoices grid (``/admin/sales/invoice/``) on the bench database.

Run from the repository root after ``python -m bench.seed_invoices`` (or ``manage.py seed_demo``):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/counterfoil_bench \\
    .venv/bin/python -m bench.admin_grid [--requests 30] [--warmup 3] [--report /tmp/admin_grid.md]

What it does:

1. sets up Django in this process with ``config.settings.local`` and ``DJANGO_DEBUG=0`` (no query
   log, no debug middleware; it checks that no debug toolbar or profiler is installed), and logs
   the superuser ``bench-admin`` in with Django's test ``Client`` (created if missing);
2. per case: ``--warmup`` untimed requests, then ``--requests`` timed ones (wall time around
   ``client.get``, the streamed body read included), reported as p50 / p95 / max;
3. replays each case once under ``CaptureQueriesContext`` with every query timed: the number of
   queries, the slowest one, and checks on the SQL: every ``COUNT(`` is over a ``LIMIT 10001``
   subquery (no full count), and the case's filter, search or sort is in the page query;
4. for a case over the bar (or all with ``--explain``) runs ``EXPLAIN (ANALYZE, BUFFERS)`` of its
   slowest query.

Exits 1 when a case's p95 is over ``--limit-ms`` (300; the CSV export is reported in rows/s and not
held to it), a query counts more than 10,001 rows, a response is not 200, or a case's condition is
missing from its SQL. Refuses any database whose name does not contain ``bench``. Replaces its section
of ``bench/RESULTS.md`` (machine, table, the plans of slow cases) unless ``--no-results`` or ``--only``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from bench.benchdb import bench_database_url
from bench.results import write_section

REPO = Path(__file__).resolve().parent.parent
GRID = "/admin/sales/invoice/"
RESULTS_SECTION = "Admin Sales > Invoices grid (admin_grid.py)"
BENCH_USERNAME = "bench-admin"
BENCH_PASSWORD = "bench-admin-Passw0rd!"  # a local superuser of a throwaway database
COUNT_CAP = 10_001  # NoFullCountPaginator.CAP + 1
DEBUG_APPS = ("debug_toolbar", "silk", "django_extensions", "nplusone", "querycount")


@dataclass
class Case:
    name: str
    params: dict
    expect: str = ""  # a regular expression the page query (or the export query) must match
    export: bool = False  # a CSV download: streamed to the end, reported in rows/s
    latencies_ms: list[float] = field(default_factory=list)
    queries: int = 0
    sql_ms: float = 0.0
    slowest_ms: float = 0.0
    slowest: tuple[str, tuple] | None = None
    timings: list[tuple[float, str]] = field(default_factory=list)  # (ms, SQL) of each query of the replay
    rows: int = 0
    bytes: int = 0
    problems: list[str] = field(default_factory=list)
    plan: str = ""

    @property
    def path(self) -> str:
        return f"{GRID}?{urlencode(self.params)}" if self.params else GRID

    def p50(self) -> float:
        return statistics.median(self.latencies_ms)

    def p95(self) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[max(0, -(-95 * len(ordered) // 100) - 1)]  # nearest rank

    def max(self) -> float:
        return max(self.latencies_ms)


def column_index(name: str) -> int:
    """Django's ``o`` parameter counts the grid's list_display columns, the action checkbox first."""
    from sales.admin.invoice_grid import DEFAULT_COLUMNS

    return 1 + [column for column, _label in DEFAULT_COLUMNS].index(name)


def sample_values() -> dict:
    """Search words and an invoice number taken from the data, so the cases fit any seed."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT max(entity_id) FROM sales_invoice_grid")
        (last,) = cursor.fetchone()
        if not last:
            sys.exit("admin_grid: the grid is empty; seed the database first (python -m bench.seed_invoices)")
        cursor.execute(
            "SELECT increment_id FROM sales_invoice_grid WHERE entity_id <= %s ORDER BY entity_id DESC LIMIT 1",
            [last // 2],
        )
        (increment_id,) = cursor.fetchone()
        # The most frequent customer e-mail and last name, and the rarest order number: from a sample.
        cursor.execute(
            "SELECT customer_email, count(*) FROM sales_invoice_grid TABLESAMPLE SYSTEM (5) REPEATABLE (1)"
            " GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1"
        )
        (email, _count) = cursor.fetchone()
        cursor.execute(
            "SELECT order_increment_id, count(*) FROM sales_invoice_grid TABLESAMPLE SYSTEM (5) REPEATABLE (1)"
            " GROUP BY 1 ORDER BY 2, 1 LIMIT 1"
        )
        (order_number, _count) = cursor.fetchone()
    return {"increment_id": increment_id, "email": email, "order_number": order_number}


def cases() -> list[Case]:
    values = sample_values()
    month = {"created_at__from": "2025-06-01", "created_at__to": "2025-06-30"}
    return [
        Case("plain, first page", {}, r'FROM "sales_invoice_grid" ORDER BY .* LIMIT 50$'),
        Case("page 50", {"p": 50}, r"OFFSET 2450"),
        Case("status = Paid", {"state__exact": 2}, r'"sales_invoice_grid"."state" = 2'),
        Case("invoice date, one month", month, r'"sales_invoice_grid"."created_at" >= '),
        Case(
            "order date, one month",
            {"order_created_at__from": "2024-06-01", "order_created_at__to": "2024-06-30"},
            r'"sales_invoice_grid"."order_created_at" >= ',
        ),
        Case(
            "grand total (base) 100-200",
            {"base_grand_total__from": "100", "base_grand_total__to": "200"},
            r'"sales_invoice_grid"."base_grand_total" >= ',
        ),
        Case("payment method = checkmo", {"payment_method": "checkmo"}, r'"sales_invoice_grid"."payment_method" = '),
        Case("e-mail failed", {"email": "failed"}, r'"notifications_emailoutbox"'),
        Case("e-mail sent", {"email": "sent"}, r'"sales_invoice"."email_sent" = 1'),
        Case("search: exact invoice #", {"q": values["increment_id"]}, r'"keywords"(::text)? LIKE '),
        Case("search: common last name", {"q": "smith"}, r'"keywords"(::text)? LIKE '),
        Case("search: rare word (an order #)", {"q": values["order_number"]}, r'"keywords"(::text)? LIKE '),
        Case("search: word found nowhere", {"q": "zyzzyva"}, r'"keywords"(::text)? LIKE '),
        Case("search: e-mail address", {"q": values["email"]}, r'"keywords"(::text)? LIKE '),
        # No SQL check: a search may ignore words under 3 letters, as Magento's full-text index does.
        Case("search: 2-letter word", {"q": "mi"}),
        Case("search: 2-letter word found nowhere", {"q": "qz"}),
        Case(
            "sort: Grand Total (Base) desc",
            {"o": f"-{column_index('grand_total_base')}"},
            r'ORDER BY "sales_invoice_grid"."base_grand_total" DESC',
        ),
        Case(
            "sort: Bill-to Name",
            {"o": str(column_index("billing_name"))},
            r'ORDER BY "sales_invoice_grid"."billing_name" ASC',
        ),
        Case("sort: Status", {"o": str(column_index("status"))}, r'ORDER BY "sales_invoice_grid"."state" ASC'),
        Case("status = Paid + search", {"state__exact": 2, "q": "smith"}, r'"sales_invoice_grid"."state" = 2'),
        Case(
            "CSV export, 5 days (~10k rows)",
            {"created_at__from": "2025-03-01", "created_at__to": "2025-03-05", "_export": "csv"},
            r'"sales_invoice_grid"."created_at" >= ',
            export=True,
        ),
    ]


def request(client, case: Case) -> tuple[float, int, bytes]:
    """One GET, the body read to the end (a streamed export included): (ms, status, body)."""
    started = time.perf_counter()
    response = client.get(case.path)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return (time.perf_counter() - started) * 1000, response.status_code, body


def time_case(client, case: Case, *, warmup: int, requests: int) -> None:
    for _ in range(warmup):
        request(client, case)
    for _ in range(requests):
        ms, status, body = request(client, case)
        if status != 200:
            case.problems.append(f"HTTP {status}")
            return
        case.latencies_ms.append(ms)
        case.bytes = len(body)
    if case.export:
        case.rows = body.count(b"\n") - 1  # the header line


def capture_case(client, case: Case) -> None:
    """One more request with every query captured and timed; the checks on its SQL."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings: list[tuple[float, str, tuple]] = []

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            timings.append(((time.perf_counter() - started) * 1000, sql, params))

    with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(timed):
        _ms, status, _body = request(client, case)
    if status != 200:
        case.problems.append(f"HTTP {status}")
    case.queries = len(captured.captured_queries)
    case.sql_ms = sum(ms for ms, _sql, _params in timings)
    slowest = max(timings, key=lambda timing: timing[0])
    case.timings = [(ms, sql) for ms, sql, _params in timings]
    case.slowest_ms, case.slowest = slowest[0], (slowest[1], slowest[2])
    statements = [query["sql"] for query in captured.captured_queries]
    for sql in statements:
        if re.search(r"\bCOUNT\(", sql, re.IGNORECASE) and not re.search(rf"\bLIMIT {COUNT_CAP}\b", sql):
            case.problems.append(f"a COUNT not capped at {COUNT_CAP:,} rows: {sql[:300]}")
    if case.expect and not any(re.search(case.expect, sql) for sql in statements):
        case.problems.append(f"no query matches {case.expect!r}: the filter, search or sort was not applied")


def explain(case: Case) -> None:
    from django.db import connection

    sql, params = case.slowest
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        case.plan = "\n".join(line for (line,) in cursor.fetchall())


def machine() -> list[tuple[str, str]]:
    from django.db import connection

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory = next(
        (line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")), "0"
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        (version,) = cursor.fetchone()
        settings = []
        for name in ("shared_buffers", "work_mem", "effective_cache_size", "jit", "max_parallel_workers_per_gather"):
            cursor.execute(f"SHOW {name}")
            settings.append(f"{name}={cursor.fetchone()[0]}")
        cursor.execute(
            "SELECT count(*), pg_size_pretty(pg_total_relation_size('sales_invoice_grid')) FROM sales_invoice_grid"
        )
        rows, size = cursor.fetchone()
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        commit = "?"
    return [
        ("date", datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")),
        ("CPU", f"{cpu}, {os.cpu_count()} cores"),
        ("memory", f"{int(memory) / 1024 / 1024:.1f} GiB"),
        ("load average before", " ".join(f"{value:.2f}" for value in os.getloadavg())),
        ("PostgreSQL", f"{version.split(' on ')[0]}; {', '.join(settings)}"),
        ("grid", f"{rows:,} rows, {size} with indexes"),
        ("code", f"HEAD {commit} (working tree)"),
    ]


def query_list(case: Case) -> str:
    return "\n".join(
        f"{ms:8.1f}  {re.sub(r'^SELECT .+? FROM', 'SELECT ... FROM', sql, count=1)[:400]}" for ms, sql in case.timings
    )


def table(all_cases: list[Case], limit_ms: float) -> str:
    lines = [
        "| case | query string | p50 ms | p95 ms | max ms | queries | SQL ms | slowest query ms |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for case in all_cases:
        if not case.latencies_ms:
            lines.append(f"| {case.name} | `{case.path.removeprefix(GRID)}` | - | - | - | {case.queries} | - | - |")
            continue
        p95 = f"**{case.p95():.1f}**" if case.p95() > limit_ms and not case.export else f"{case.p95():.1f}"
        name = case.name
        if case.export:
            name += f" ({case.rows:,} rows, {case.rows / (case.p50() / 1000):,.0f} rows/s, {case.bytes:,} bytes)"
        lines.append(
            f"| {name} | `{case.path.removeprefix(GRID) or '(none)'}` | {case.p50():.1f} | {p95} | {case.max():.1f}"
            f" | {case.queries} | {case.sql_ms:.1f} | {case.slowest_ms:.1f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=30, help="timed requests per case (default 30)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests first (default 3)")
    parser.add_argument("--export-requests", type=int, default=5, help="timed CSV downloads (default 5)")
    parser.add_argument("--limit-ms", type=float, default=300.0, help="p95 bar per case (default 300)")
    parser.add_argument("--only", help="run only the cases whose name contains this text")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN every case's slowest query, not only slow ones")
    parser.add_argument("--report", help="also write the report (machine, table, plans) to this file")
    parser.add_argument("--no-results", action="store_true", help="do not write its section of bench/RESULTS.md")
    args = parser.parse_args(argv)
    if args.requests < 1 or args.warmup < 0 or args.export_requests < 1:
        parser.error("--requests >= 1, --export-requests >= 1 and --warmup >= 0")

    os.environ["DATABASE_URL"] = bench_database_url(script="admin_grid")
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    os.environ["DJANGO_DEBUG"] = "0"  # no query log per request; CaptureQueriesContext turns it on for its pass
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    installed = [name for name in (*settings.INSTALLED_APPS, *settings.MIDDLEWARE) if name.split(".")[0] in DEBUG_APPS]
    if settings.DEBUG or installed:
        sys.exit(f"admin_grid: debug overhead present (DEBUG={settings.DEBUG}, {installed}); not a fair timing")

    user, _created = get_user_model().objects.get_or_create(
        username=BENCH_USERNAME, defaults={"is_staff": True, "is_superuser": True}
    )
    user.set_password(BENCH_PASSWORD)
    user.is_staff = user.is_superuser = True
    user.save()
    client = Client()
    if not client.login(username=BENCH_USERNAME, password=BENCH_PASSWORD):
        sys.exit("admin_grid: could not log the bench superuser in")

    about = machine()
    for name, value in about:
        print(f"{name}: {value}")
    all_cases = [case for case in cases() if not args.only or args.only in case.name]
    for case in all_cases:
        requests = args.export_requests if case.export else args.requests
        time_case(client, case, warmup=min(args.warmup, 1) if case.export else args.warmup, requests=requests)
        capture_case(client, case)
        slow = not case.export and case.latencies_ms and case.p95() > args.limit_ms
        if slow:
            case.problems.append(f"p95 {case.p95():.1f} ms > {args.limit_ms:.0f} ms")
        if (slow or args.explain) and case.slowest:
            explain(case)
        summary = (
            f"p50 {case.p50():.1f}  p95 {case.p95():.1f}  max {case.max():.1f} ms" if case.latencies_ms else "no timing"
        )
        print(f"  {case.name:<34} {summary}  {case.queries} queries  {'; '.join(case.problems)}", flush=True)

    report = table(all_cases, args.limit_ms)
    plans = "\n\n".join(
        f"### {case.name}\n\nQueries (ms, select list shortened):\n\n```\n{query_list(case)}\n```\n\n"
        f"The slowest, {case.slowest_ms:.1f} ms, params `{case.slowest[1]!r}`:\n\n```\n{case.plan}\n```"
        for case in all_cases
        if case.plan
    )
    print()
    print(report)
    if plans:
        print()
        print(plans)
    header = "\n".join(f"- {name}: {value}" for name, value in about)
    if args.report:
        Path(args.report).write_text(f"{header}\n\n{report}\n\n{plans}\n")
    failed = [case for case in all_cases if case.problems]
    if not args.no_results and not args.only:  # a partial run does not replace the whole grid's figures
        verdict = f"Target, p95 <= {args.limit_ms:.0f} ms in every case (the CSV export excepted): " + (
            f"**MISSED** by {', '.join(case.name for case in failed)}" if failed else "met"
        )
        body = f"{header}\n\n{report}\n\n{verdict}\n\n{plans}\n"
        write_section(RESULTS_SECTION, body.replace("\n### ", "\n#### "))
    if failed:
        print(f"\nFAILED: {', '.join(case.name for case in failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
