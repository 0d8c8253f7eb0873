"""Settings load from the environment; production refuses to start without its secrets.

Settings modules are imported in a subprocess with a clean environment, so these tests see
exactly what a fresh deploy sees and never disturb the test run's own settings.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key

from config.settings.base import database_config, env_bool

REPO_ROOT = Path(__file__).resolve().parent.parent

PRODUCTION_ENV = {
    "DJANGO_SECRET_KEY": get_random_secret_key(),
    "DJANGO_ALLOWED_HOSTS": "counterfoil.example.com, admin.counterfoil.example.com",
    "DATABASE_URL": "postgres://counterfoil@db.internal:5432/counterfoil",
    "REDIS_URL": "redis://redis.internal:6379/0",
}


def run_python(code: str, **environ: str) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter whose environment holds only PATH and `environ`."""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        env={"PATH": os.environ.get("PATH", ""), **environ},
        capture_output=True,
        text=True,
        timeout=120,
    )


def load_settings(module: str, names: list[str], **environ: str) -> dict:
    code = (
        f"import json, importlib; s = importlib.import_module({module!r}); "
        f"print(json.dumps({{n: getattr(s, n) for n in {names!r}}}, default=str))"
    )
    result = run_python(code, **environ)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_production_settings_refuse_to_load_without_a_secret_key():
    env_without_key = {k: v for k, v in PRODUCTION_ENV.items() if k != "DJANGO_SECRET_KEY"}

    result = run_python("import config.settings.production", **env_without_key)

    assert result.returncode != 0
    assert "ImproperlyConfigured: DJANGO_SECRET_KEY is not set" in result.stderr


def test_production_settings_refuse_to_load_without_allowed_hosts():
    env_without_hosts = {k: v for k, v in PRODUCTION_ENV.items() if k != "DJANGO_ALLOWED_HOSTS"}

    result = run_python("import config.settings.production", **env_without_hosts)

    assert result.returncode != 0
    assert "ImproperlyConfigured: DJANGO_ALLOWED_HOSTS is not set" in result.stderr


def test_production_settings_refuse_to_load_without_a_database_url():
    env_without_database = {k: v for k, v in PRODUCTION_ENV.items() if k != "DATABASE_URL"}

    result = run_python("import config.settings.production", **env_without_database)

    assert result.returncode != 0
    assert "ImproperlyConfigured: DATABASE_URL is not set" in result.stderr


def test_production_settings_refuse_to_load_without_a_redis_url():
    env_without_redis = {k: v for k, v in PRODUCTION_ENV.items() if k != "REDIS_URL"}

    result = run_python("import config.settings.production", **env_without_redis)

    assert result.returncode != 0
    assert "ImproperlyConfigured: REDIS_URL is not set" in result.stderr


def test_production_settings_share_the_rate_limit_counters_through_redis():
    settings = load_settings("config.settings.production", ["CACHES", "CELERY_BROKER_URL"], **PRODUCTION_ENV)

    assert settings["CACHES"]["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert settings["CACHES"]["default"]["LOCATION"] == "redis://redis.internal:6379/0"
    assert settings["CELERY_BROKER_URL"] == "redis://redis.internal:6379/0"


def test_the_request_body_limit_is_djangos_setting_read_from_the_environment():
    name = "DATA_UPLOAD_MAX_MEMORY_SIZE"
    default = load_settings("config.settings.production", [name], **PRODUCTION_ENV)
    raised = load_settings("config.settings.production", [name], **PRODUCTION_ENV, **{name: "10485760"})

    assert (default[name], raised[name]) == (2_621_440, 10_485_760)


def test_production_settings_load_with_secret_key_and_allowed_hosts_and_debug_off():
    settings = load_settings(
        "config.settings.production",
        [
            "DEBUG",
            "ALLOWED_HOSTS",
            "SECURE_SSL_REDIRECT",
            "SESSION_COOKIE_SECURE",
            "CSRF_COOKIE_SECURE",
            "SECURE_HSTS_SECONDS",
            "CELERY_TASK_ALWAYS_EAGER",
            "EMAIL_BACKEND",
        ],
        **PRODUCTION_ENV,
    )

    assert settings == {
        "DEBUG": False,
        "ALLOWED_HOSTS": ["counterfoil.example.com", "admin.counterfoil.example.com"],
        "SECURE_SSL_REDIRECT": True,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "CELERY_TASK_ALWAYS_EAGER": False,
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    }


# The least a deploy sets (README, Production): what `manage.py check --deploy` must pass with.
DEPLOY_ENV = {
    **PRODUCTION_ENV,
    "DATABASE_URL": "postgres://counterfoil:secret@127.0.0.1:5432/counterfoil",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


def check_deploy(**environ: str) -> subprocess.CompletedProcess[str]:
    """`manage.py check --deploy --fail-level WARNING` (every tag) with production settings and `environ` only."""
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO_ROOT,
        env={"PATH": os.environ.get("PATH", ""), "DJANGO_SETTINGS_MODULE": "config.settings.production", **environ},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_check_deploy_with_no_warning():
    result = check_deploy(**DEPLOY_ENV)

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNING" not in output
    assert "(security." not in output
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_settings_silence_no_system_check():
    result = run_python(
        "import json; from django.conf import settings; print(json.dumps(settings.SILENCED_SYSTEM_CHECKS))",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        **DEPLOY_ENV,
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []


@pytest.mark.parametrize(
    ("variable", "value", "check_id"),
    [
        ("DJANGO_DEBUG", "1", "security.W018"),
        ("SECURE_SSL_REDIRECT", "0", "security.W008"),
        ("SECURE_HSTS_SECONDS", "0", "security.W004"),
    ],
)
def test_check_deploy_still_warns_when_a_deploy_turns_a_protection_off(variable, value, check_id):
    result = check_deploy(**{**DEPLOY_ENV, variable: value})

    assert result.returncode != 0
    assert check_id in result.stderr


@pytest.mark.parametrize(
    ("proxies", "client"),
    [({}, "203.0.113.50"), ({"TRUSTED_PROXY_COUNT": "1"}, "198.51.100.1")],
    ids=["by default the header is ignored", "behind one trusted proxy its entry is the client"],
)
def test_production_settings_believe_x_forwarded_for_only_from_trusted_proxies(proxies, client):
    code = (
        "import django; django.setup(); from django.test import RequestFactory; "
        "from sales.api.throttling import AnonymousRateThrottle; "
        "request = RequestFactory().get('/', REMOTE_ADDR='203.0.113.50', HTTP_X_FORWARDED_FOR='198.51.100.1'); "
        "print(AnonymousRateThrottle().get_ident(request))"
    )

    result = run_python(code, DJANGO_SETTINGS_MODULE="config.settings.production", **PRODUCTION_ENV, **proxies)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == client


def test_production_https_hardening_assumes_a_tls_terminating_proxy():
    settings = load_settings(
        "config.settings.production",
        [
            "SECURE_PROXY_SSL_HEADER",
            "SECURE_HSTS_INCLUDE_SUBDOMAINS",
            "SECURE_HSTS_PRELOAD",
            "SECURE_CONTENT_TYPE_NOSNIFF",
            "X_FRAME_OPTIONS",
        ],
        **DEPLOY_ENV,
    )

    assert settings == {
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True,
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
        "X_FRAME_OPTIONS": "DENY",
    }


def test_local_settings_need_no_server_and_no_configuration():
    settings = load_settings(
        "config.settings.local",
        ["DEBUG", "DATABASES", "CELERY_TASK_ALWAYS_EAGER", "EMAIL_BACKEND", "SECRET_KEY"],
    )

    assert settings["DEBUG"] is True
    assert settings["DATABASES"]["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert settings["CELERY_TASK_ALWAYS_EAGER"] is True
    assert settings["EMAIL_BACKEND"] == "django.core.mail.backends.filebased.EmailBackend"
    assert settings["SECRET_KEY"].startswith("local-insecure-")


def test_celery_app_is_counterfoil_and_importable_from_config():
    from config import app
    from config.celery_app import app as celery_app

    assert celery_app.main == "counterfoil"
    assert app is celery_app


def test_postgres_database_url_selects_postgresql_with_persistent_health_checked_connections():
    config = database_config("postgres://counterfoil:secret@db.internal:5433/counterfoil")

    assert config["ENGINE"] == "config.db.postgresql"  # Django's PostgreSQL backend, see config/db/postgresql
    assert (config["HOST"], config["PORT"], config["NAME"]) == ("db.internal", 5433, "counterfoil")
    assert config["CONN_MAX_AGE"] == 60
    assert config["CONN_HEALTH_CHECKS"] is True
    assert config["ATOMIC_REQUESTS"] is False


def test_by_default_postgresql_keeps_no_session_state_so_a_transaction_mode_pooler_is_safe(monkeypatch):
    monkeypatch.delenv("DATABASE_SESSION_FEATURES", raising=False)

    config = database_config("postgres://counterfoil:secret@db.internal:5433/counterfoil")

    assert "server_side_binding" not in config.get("OPTIONS", {})
    assert "prepare_threshold" not in config.get("OPTIONS", {})
    assert config["DISABLE_SERVER_SIDE_CURSORS"] is True


def test_session_features_prepare_statements_and_keep_server_side_cursors_when_the_deploy_says_so(monkeypatch):
    monkeypatch.setenv("DATABASE_SESSION_FEATURES", "1")

    config = database_config("postgres://counterfoil:secret@db.internal:5433/counterfoil")

    assert config["OPTIONS"] == {"server_side_binding": True, "prepare_threshold": 5}
    assert config.get("DISABLE_SERVER_SIDE_CURSORS", False) is False


def test_sqlite_database_url_keeps_per_request_connections():
    config = database_config("sqlite:////tmp/counterfoil.sqlite3")

    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == "/tmp/counterfoil.sqlite3"
    assert config.get("CONN_MAX_AGE", 0) == 0
    assert config["ATOMIC_REQUESTS"] is False


@pytest.mark.parametrize("value", ["maybe", "2", "enabled"])
def test_a_boolean_variable_with_an_unclear_value_is_refused(monkeypatch, value):
    monkeypatch.setenv("DJANGO_DEBUG", value)

    with pytest.raises(ImproperlyConfigured, match="DJANGO_DEBUG"):
        env_bool("DJANGO_DEBUG", False)
