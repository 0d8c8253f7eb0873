"""``bench/RESULTS.md``, written by the benchmarks themselves: each script owns one ``## `` section.

A run replaces its script's section in place (or appends it), so ``make bench`` leaves a RESULTS.md whose
figures all come from that run, and the sections written by hand (the history, the analyses) stay as
they are. Each section starts with the machine and the versions it was measured on.
"""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "RESULTS.md"


def write_section(title: str, body: str) -> None:
    """Put ``## title`` + ``body`` in RESULTS.md, replacing the section of that title if present."""
    heading = f"## {title}"
    text = f"{heading}\n\n{body.strip()}\n"
    current = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    start = current.find(f"\n{heading}\n")
    if start == -1:
        current = current.rstrip("\n") + "\n\n" + text
    else:
        start += 1
        end = current.find("\n## ", start + len(heading))
        current = current[:start] + text + ("\n" + current[end + 1 :] if end != -1 else "")
    RESULTS.write_text(current)
    print(f"wrote the section {title!r} of {RESULTS.relative_to(REPO)}", flush=True)


def _output(*command: str) -> str:
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=10, check=False).stdout.strip()
    except OSError:
        return "not found"


def machine() -> list[tuple[str, str]]:
    """What the figures were measured on: when, the CPU, memory, load, and the versions that matter."""
    from importlib.metadata import PackageNotFoundError, version

    def installed(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "-"

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory_kb = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
    )
    packages = ("django", "djangorestframework", "gunicorn", "psycopg", "celery", "redis", "simplejson")
    commit = _output("git", "-C", str(REPO), "rev-parse", "--short", "HEAD")
    redis = _output("redis-server", "--version").split(" sha=")[0]
    return [
        ("run", f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, commit {commit}"),
        ("CPU", f"{cpu}, {os.cpu_count()} cores"),
        ("memory", f"{memory_kb / 1024 / 1024:.1f} GiB"),
        ("load average before the run", " ".join(f"{value:.2f}" for value in os.getloadavg())),
        ("PostgreSQL / Redis", f"{_output('psql', '--version')} / {redis}"),
        ("Python", platform.python_version()),
        ("packages", ", ".join(f"{name} {installed(name)}" for name in packages)),
    ]


def machine_text() -> str:
    return "\n".join(f"- {name}: {value}" for name, value in machine())
