"""Redis, shared by Celery (the broker, and the periodic tasks on beat) and Django's cache."""

from celery.schedules import crontab

from .environment import env, env_bool, env_int

REDIS_URL = env("REDIS_URL", "redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_ACKS_LATE = True
# E-mail tasks take ms: 4 reserved keep a process busy (bench/RESULTS.md); acks late: a dead worker's are redelivered.
CELERY_WORKER_PREFETCH_MULTIPLIER = 4
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Celery's Django fix-up closes the database connection before and after every task unless this is set (it reads
# the key with the namespace, as app.conf.get("CELERY_DB_REUSE_MAX")); config/celery_app.py closes it instead when
# CONN_MAX_AGE or a failed CONN_HEALTH_CHECKS says so, as Django does per request. Large: the fix-up never recycles.
CELERY_DB_REUSE_MAX = 1_000_000_000

# Periodic tasks, run by celery beat.
CELERY_BEAT_SCHEDULE = {
    "sweep-email-outbox": {
        "task": "notifications.tasks.outbox_sweep",
        "schedule": float(env_int("EMAIL_SWEEP_EVERY_SECONDS", 60)),
    },
    # Magento's inventory_cleanup_reservations cron (InventoryReservations/etc/crontab.xml): daily at 00:00.
    "inventory-cleanup-reservations": {
        "task": "inventory.tasks.reservations_cleanup",
        "schedule": crontab(minute=0, hour=0),
    },
    "purge-idempotency-keys": {
        "task": "integrations.tasks.idempotency_keys_purge",
        "schedule": crontab(minute=17),  # hourly
    },
}

# Django's cache: shared across web workers through Redis when REDIS_URL is set (throttling counters, ...); per
# process otherwise.
CACHES = (
    {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    if env("REDIS_URL")
    else {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
)
