"""E-mail: the SMTP server and the invoice e-mails' outbox (retries, sweeper, connection reuse)."""

from django.core.exceptions import ImproperlyConfigured

from .environment import BASE_DIR, env, env_bool, env_int, env_list

# The server (Django's settings).
EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", str(BASE_DIR / "var" / "mail"))
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Counterfoil <no-reply@localhost>")

# The invoice e-mails' outbox (notifications): copies, retries, the sweeper and the worker's SMTP connection.
INVOICE_EMAIL_COPY_TO = env_list("INVOICE_EMAIL_COPY_TO", [])  # Magento's sales_email/invoice/copy_to (bcc)
EMAIL_MAX_ATTEMPTS = env_int("EMAIL_MAX_ATTEMPTS", 8)
EMAIL_RETRY_BASE_SECONDS = env_int("EMAIL_RETRY_BASE_SECONDS", 30)
EMAIL_RETRY_MAX_SECONDS = env_int("EMAIL_RETRY_MAX_SECONDS", 3600)
# A row in "sending" this long is released by the sweeper; a worker's send is cut off at 0.8 of it, before that.
EMAIL_SENDING_TIMEOUT_SECONDS = env_int("EMAIL_SENDING_TIMEOUT_SECONDS", 300)
if EMAIL_SENDING_TIMEOUT_SECONDS < 1:
    raise ImproperlyConfigured(f"EMAIL_SENDING_TIMEOUT_SECONDS={EMAIL_SENDING_TIMEOUT_SECONDS} must be at least 1.")
EMAIL_SWEEP_GRACE_SECONDS = env_int("EMAIL_SWEEP_GRACE_SECONDS", 30)
EMAIL_SWEEP_BATCH = 500  # most overdue e-mails one sweep queues again
EMAIL_MESSAGE_ID_DOMAIN = "counterfoil.local"  # the right of the @ in each e-mail's Message-ID
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)  # seconds for each SMTP socket wait (connect, a reply, the message)
# A worker keeps its SMTP connection between e-mails: a new one once idle this long (servers drop idle clients,
# commonly after 300 s) or after this many messages (servers cap messages per connection).
EMAIL_CONNECTION_IDLE_SECONDS = env_int("EMAIL_CONNECTION_IDLE_SECONDS", 30)
EMAIL_CONNECTION_MAX_MESSAGES = env_int("EMAIL_CONNECTION_MAX_MESSAGES", 100)
