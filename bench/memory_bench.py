"""Memory (RSS) of a web worker and of a Celery worker over many invoices.

Run from the repository root (no Django set-up needed; this script does it):

    .venv/bin/python -m bench.memory_bench web    [--requests 100000] [--budget 900]
    .venv/bin/python -m bench.memory_bench celery [--emails 20000]    [--budget 900]

``web``: one ``gunicorn config.wsgi:application`` sync worker (as ``tests/reliability/gunicorn.py``
starts it: ``config.settings.production``, throw-away secret key, ``DJANGO_ALLOWED_HOSTS=127.0.0.1``,
the ``X-Forwarded-Proto: https`` header a TLS proxy adds; throttle rates raised out of the way) on
the seeded ``counterfoil_bench`` database (``DATABASE_URL``; a name without ``bench`` is refused),
read only: 9 in 10 requests ``GET /rest/default/V1/invoices/{random id}``, 1 in 10 ``GET
/api2/invoice?page={random}&limit=50``, with a superuser's admin token (created, revoked at the end),
from ``--clients`` client threads. The worker's VmRSS (``/proc/<pid>/status``) is read every
``--sample-every`` requests.

``celery``: the set-up of ``bench/email_bench.py`` (database ``counterfoil_bench_mail``, a dedicated
``redis-server``, a counting aiosmtpd server, one ``celery -A config worker --pool=prefork
--concurrency=2``), sending its outbox rows over and over (reset to pending between rounds) until
``--emails`` e-mails went out; VmRSS of the main process and of each pool process after every round.

Growth = (last sample - sample after ``--warmup``) / sample after warm-up, per process.
``--budget`` seconds stops a part early (what was reached is reported, with growth per 10,000).
Each part replaces its section of ``bench/RESULTS.md`` (``--no-results`` to leave it alone) and exits 1
when a process grew 10 % or more, or fewer than 100,000 invoices were reached (issue 9's bar).
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench import email_bench
from bench.benchdb import bench_database_url
from bench.email_bench import REPO, children_of, free_port, rss_kb
from bench.results import machine_text, write_section

WEB_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/counterfoil_bench"
HOST = "127.0.0.1"
USERNAME = "bench-memory-admin"
HIGH_RATE = "100000000/min"
TARGET_GROWTH, TARGET_INVOICES = 10.0, 100_000  # issue 9: growth under 10 % over 100,000 invoices


def growths(samples: list[tuple[int, list[int]]], warmup: int) -> list[float]:
    """Growth in % per process: last sample over the first sample at or after ``warmup``."""
    base = next((values for done, values in samples if done >= warmup), samples[0][1])
    return [100 * (after - before) / before for before, after in zip(base, samples[-1][1], strict=True) if before]


def report(
    part: str, about: str, samples, warmup: int, names: list[str], invoices: int, table: str, summary: str, args
) -> int:
    """Print the verdict, write the part's section of RESULTS.md; 0 when every process grew less than 10 %
    over at least 100,000 invoices (rendered by the web worker, e-mailed by the Celery worker)."""
    grown = growths(samples, warmup)
    short = invoices < TARGET_INVOICES
    met = bool(grown) and max(grown) < TARGET_GROWTH and not short
    verdict = (
        f"Target, growth < {TARGET_GROWTH:.0f} % over {TARGET_INVOICES:,} invoices, every process: "
        + ", ".join(f"{name} {value:+.2f} %" for name, value in zip(names, grown, strict=True))
        + (f" (only {invoices:,} invoices)" if short else "")
        + f": {'met' if met else '**MISSED**'}"
    )
    print(verdict, flush=True)
    if not args.no_results:
        write_section(
            f"Worker memory: {part} (memory_bench.py {part})", f"{about}\n- {summary}\n\n{table}\n\n{verdict}"
        )
    return 0 if met else 1


def growth_table(
    samples: list[tuple[int, list[int]]],
    warmup: int,
    names: list[str],
    unit: str,
    extra: tuple[str, dict[int, int]] | None = None,
) -> str:
    """Markdown: the samples (MB) per process, and growth since the first sample at or after ``warmup``."""
    base_index = next((i for i, (done, _) in enumerate(samples) if done >= warmup), 0)
    base = samples[base_index]
    extra_head, extra_sep = (f" {extra[0]} |", "---:|") if extra else ("", "")
    lines = [
        f"| {unit} |{extra_head} " + " | ".join(f"{name} RSS MB" for name in names) + " |",
        "|---:|" + extra_sep + "---:|" * len(names),
    ]
    for done, values in samples:
        extra_cell = f" {extra[1].get(done, 0):,} |" if extra else ""
        lines.append(f"| {done:,} |{extra_cell} " + " | ".join(f"{v / 1024:.1f}" for v in values) + " |")
    last = samples[-1]
    span = max(last[0] - base[0], 1)
    for index, name in enumerate(names):
        before, after = base[1][index], last[1][index]
        if before:
            lines.append(
                f"\n{name}: {before / 1024:.1f} MB after {base[0]:,} {unit} -> {after / 1024:.1f} MB after"
                f" {last[0]:,}: growth {100 * (after - before) / before:+.2f} %"
                f" ({(after - before) / 1024 * 10_000 / span:+.2f} MB per 10,000 {unit})"
            )
    return "\n".join(lines)


# -- web -------------------------------------------------------------------------------------------------


def web_env(url: str) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": HOST,
        "DJANGO_DEBUG": "0",
        "DATABASE_URL": url,
        "REDIS_URL": "redis://127.0.0.1:6379/13",  # production requires it: the throttles' counters
        "CELERY_TASK_ALWAYS_EAGER": "1",  # reads queue nothing
        "API_THROTTLE_RATE_USER": HIGH_RATE,
        "API_THROTTLE_RATE_ANON": HIGH_RATE,
        "API_THROTTLE_RATE_TOKEN": HIGH_RATE,
    }


def admin_token() -> tuple[str, object]:
    from django.contrib.auth import get_user_model

    from integrations.models import AccessToken, token_hash_of
    from integrations.services import admin_token_create

    password = secrets.token_urlsafe(24)
    user, _ = get_user_model().objects.get_or_create(username=USERNAME, defaults={"email": "bench@example.com"})
    user.is_staff = user.is_superuser = user.is_active = True
    user.set_password(password)
    user.save()
    raw = admin_token_create(username=USERNAME, password=password)
    return raw, AccessToken.objects.get(token_hash=token_hash_of(raw))


def get(port: int, path: str, token: str) -> int:
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request(
            "GET",
            path,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json", "X-Forwarded-Proto": "https"},
        )
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def run_web(args) -> int:
    about = machine_text()  # before the run: the load average is the machine's, not the run's
    url = bench_database_url(WEB_DATABASE_URL, "memory_bench")
    env = web_env(url)
    os.environ.update(env)
    import django

    django.setup()
    from django.db import connection

    from sales.models import Invoice

    # Ids of invoices that exist, spread over the table: the HTTP bench's creation runs leave gaps in the
    # id sequence, and a 404 is not the read being measured.
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM sales_invoice TABLESAMPLE SYSTEM (5) LIMIT 100000")
        invoice_ids = [row[0] for row in cursor.fetchall()]
    pages = max(Invoice.objects.count() // 50, 1)
    token, token_row = admin_token()
    port = free_port()
    log_path = Path(tempfile.mkdtemp(prefix="memory-bench-")) / "gunicorn.log"
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        "1",
        "--worker-class",
        "sync",
        "--timeout",
        "60",
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(
        command,
        cwd=REPO,
        env={**os.environ, **env},
        stdout=open(log_path, "ab"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if get(port, "/rest/default/V1/invoices/1", token) == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"gunicorn did not serve:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.2)
        (worker,) = children_of(process.pid)
        print(f"gunicorn worker pid {worker} on :{port}; {pages * 50:,} invoices; log {log_path}", flush=True)
        lock = threading.Lock()
        state = {"done": 0, "errors": 0, "stop": False, "invoices": 0}
        invoices_at = {0: 0}
        samples: list[tuple[int, list[int]]] = [(0, [rss_kb(worker)])]
        started = time.monotonic()
        window = [started, 0]

        def client(seed: int) -> None:
            rng = random.Random(seed)
            while not state["stop"]:
                if rng.random() < 0.1:
                    path, invoices = f"/api2/invoice?page={rng.randint(1, pages)}&limit=50", 50
                else:
                    path, invoices = f"/rest/default/V1/invoices/{rng.choice(invoice_ids)}", 1
                status = get(port, path, token)
                with lock:
                    state["done"] += 1
                    state["invoices"] += invoices
                    done = state["done"]
                    if status != 200:
                        state["errors"] += 1
                    if done % args.sample_every == 0:
                        now = time.monotonic()
                        samples.append((done, [rss_kb(worker)]))
                        invoices_at[done] = state["invoices"]
                        rate = (done - window[1]) / (now - window[0])
                        window[:] = [now, done]
                        print(
                            f"  {done:,} requests ({state['invoices']:,} invoices), worker RSS"
                            f" {samples[-1][1][0] / 1024:.1f} MB, {rate:.0f} req/s, {state['errors']} non-200",
                            flush=True,
                        )
                    if done >= args.requests or now_over(started, args.budget):
                        state["stop"] = True

        threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if children_of(process.pid) != [worker]:
            print("WARNING: the gunicorn worker was replaced during the run", flush=True)
        summary = (
            f"web: {state['done']:,} requests ({state['invoices']:,} invoices rendered) in"
            f" {time.monotonic() - started:.0f} s, {state['errors']} non-200; samples every"
            f" {args.sample_every:,}; one gunicorn sync worker, {args.clients} client threads, 9 in 10"
            " requests GET /V1/invoices/{id}, 1 in 10 an /api2 page of 50"
        )
        table = growth_table(samples, args.warmup, ["gunicorn worker"], "requests", ("invoices", invoices_at))
        print(f"\n{summary}\n\n{table}", flush=True)
        names = ["gunicorn worker"]
        failed = report("web", about, samples, args.warmup, names, state["invoices"], table, summary, args)
        return failed or (1 if state["errors"] else 0)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        from integrations.services import access_token_revoke

        access_token_revoke(token=token_row)


def now_over(started: float, budget: float) -> bool:
    return bool(budget) and time.monotonic() - started > budget


# -- celery ----------------------------------------------------------------------------------------------


def run_celery(args) -> int:
    about = machine_text()
    url = bench_database_url(email_bench.DEFAULT_DATABASE_URL, "memory_bench")
    email_bench.ensure_database(url)
    workdir = Path(tempfile.mkdtemp(prefix="memory-bench-celery-"))
    redis = email_bench.Redis(workdir).start()
    smtp = email_bench.Smtp().start()
    worker = None
    try:
        email_bench.setup_django(url, redis.url)
        email_ids = email_bench.seed(args.round, 100)
        redis.client().flushdb()  # the service's on-commit publishes: each round publishes its own
        env = email_bench.celery_env(database_url=url, redis_url=redis.url, smtp_port=smtp.port)
        worker = email_bench.Worker("prefork", args.concurrency, env, workdir / "worker.log").start()
        pids = worker.pids()
        names = ["worker main"] + [f"pool process {n}" for n in range(1, len(pids))]
        print(f"celery worker pids {pids}; {len(email_ids)} e-mails per round; logs in {workdir}", flush=True)
        samples: list[tuple[int, list[int]]] = [(0, [rss_kb(pid) for pid in pids])]
        done = 0
        started = time.monotonic()
        while done < args.emails and not now_over(started, args.budget):
            ids = email_ids[: min(len(email_ids), args.emails - done)]
            result = email_bench.run_once(ids, redis, smtp, timeout=600)
            done += result["emails"]
            if result["problems"]:
                print(f"  PROBLEMS: {result['problems']}", flush=True)
            samples.append((done, [rss_kb(pid) for pid in pids]))
            print(
                f"  {done:,} e-mails, RSS MB {[round(v / 1024, 1) for v in samples[-1][1]]}, {result['rate']:.0f}/s",
                flush=True,
            )
        if worker.pids() != pids:
            print(f"WARNING: pool processes changed: {pids} -> {worker.pids()}", flush=True)
        summary = (
            f"celery: {done:,} e-mails (one per invoice) in {time.monotonic() - started:.0f} s;"
            f" `celery -A config worker --pool=prefork --concurrency={args.concurrency}`, rounds of"
            f" {len(email_ids):,} outbox rows to an aiosmtpd server, RSS after each round"
        )
        table = growth_table(samples, args.warmup, names, "e-mails")
        print(f"\n{summary}\n\n{table}", flush=True)
        return report("celery", about, samples, args.warmup, names, done, table, summary, args)
    finally:
        if worker is not None:
            worker.stop()
        smtp.stop()
        redis.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parts = parser.add_subparsers(dest="part", required=True)
    web = parts.add_parser("web", help="a gunicorn sync worker reading invoices")
    web.add_argument("--requests", type=int, default=100_000, help="requests in all (default 100000)")
    web.add_argument("--clients", type=int, default=2, help="client threads (default 2)")
    web.add_argument("--sample-every", type=int, default=5_000, help="RSS sample every N requests (default 5000)")
    web.add_argument("--warmup", type=int, default=1_000, help="growth counted from this many requests (1000)")
    web.add_argument("--budget", type=float, default=0, help="stop after this many seconds (default: none)")
    celery = parts.add_parser("celery", help="a Celery worker sending invoice e-mails")
    celery.add_argument("--emails", type=int, default=100_000, help="e-mails in all (default 100000)")
    celery.add_argument("--round", type=int, default=1_000, help="e-mails (outbox rows) per round (default 1000)")
    celery.add_argument("--concurrency", type=int, default=2, help="prefork pool processes (default 2)")
    celery.add_argument("--warmup", type=int, default=1_000, help="growth counted from this many e-mails (1000)")
    celery.add_argument("--budget", type=float, default=0, help="stop after this many seconds (default: none)")
    for part in (web, celery):
        part.add_argument("--no-results", action="store_true", help="do not write its section of bench/RESULTS.md")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally: stop the children
    return run_web(args) if args.part == "web" else run_celery(args)


if __name__ == "__main__":
    sys.exit(main())
