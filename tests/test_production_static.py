"""The production web process serves its own static files: after `collectstatic`, the admin's CSS and the
Swagger UI files /api/docs/ refers to answer 200 from the WSGI app, as gunicorn runs it (no file server beside).

The production settings run in a subprocess (they differ from the test run's), with collectstatic writing to a
temporary STATIC_ROOT; the requests go through `config.wsgi.application` with the proxy's X-Forwarded-Proto.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from django.core.management.utils import get_random_secret_key

REPO_ROOT = Path(__file__).resolve().parent.parent

# Runs in the subprocess: collectstatic into argv[1], then GET each path of argv[2:] through the WSGI app, and
# the /static/ files the /api/docs/ page refers to; prints {path: status}.
SERVE_STATIC = """
import io, json, re, sys
import django
from django.test.utils import override_settings

static_root, paths = sys.argv[1], sys.argv[2:]
django.setup()
with override_settings(STATIC_ROOT=static_root):
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application

    call_command("collectstatic", "--noinput", verbosity=0)
    application = get_wsgi_application()

    def get(path):
        environ = {
            "REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80", "HTTP_HOST": "127.0.0.1", "HTTP_X_FORWARDED_PROTO": "https",
            "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr,
            "wsgi.version": (1, 0), "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False,
        }
        status = []
        body = b"".join(application(environ, lambda s, headers, exc_info=None: status.append(s)))
        return int(status[0].split()[0]), body.decode("utf-8", "replace")

    docs_status, docs = get("/api/docs/")
    docs_assets = sorted(set(re.findall(r'"(/static/[^"]+)"', docs)))
    statuses = {"/api/docs/": docs_status, "docs_assets": docs_assets}
    statuses.update((path, get(path)[0]) for path in paths + docs_assets)
    print(json.dumps(statuses))
"""


def serve_static_in_production(tmp_path: Path, *paths: str) -> dict:
    environ = {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": get_random_secret_key(),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        # Required by the production settings; serving a file connects to neither.
        "DATABASE_URL": "postgres://counterfoil@db.internal:5432/counterfoil",
        "REDIS_URL": "redis://redis.internal:6379/0",
    }
    result = subprocess.run(
        [sys.executable, "-c", SERVE_STATIC, str(tmp_path / "staticfiles"), *paths],
        cwd=REPO_ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_production_web_process_serves_the_admin_and_swagger_ui_static_files_after_collectstatic(tmp_path):
    statuses = serve_static_in_production(
        tmp_path, "/static/admin/css/base.css", "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css"
    )

    assert statuses["/static/admin/css/base.css"] == 200
    assert statuses["/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css"] == 200
    assert statuses["/api/docs/"] == 200
    # The page refers to the hashed names collectstatic wrote (cacheable for ever), and each one is served.
    assets = statuses["docs_assets"]
    assert any(re.search(r"/swagger-ui-bundle\.[0-9a-f]{12}\.js$", asset) for asset in assets), assets
    assert {asset: statuses[asset] for asset in assets} == dict.fromkeys(assets, 200)
