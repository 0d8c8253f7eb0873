"""The two REST doors: request bodies, DRF and the OpenAPI document, tokens and sign-ins, Magento's ACL,
idempotency keys and rate limits."""

from .environment import env, env_bool, env_int

# Largest request body in bytes (Django's default, 2.5 MB): one knob for the admin's forms and the JSON doors, whose
# parser answers 413 in each door's shape before reading a longer one (sales/api/json.py).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["integrations.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Magento renders amounts as JSON numbers (1917.6), not strings.
    "COERCE_DECIMAL_TO_STRING": False,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

# The OpenAPI 3 document of both doors (/api/schema/, Swagger UI at /api/docs/); see sales/api/schema.py.
SPECTACULAR_SETTINGS = {
    "TITLE": "Counterfoil",
    "VERSION": "0.1.0",
    "DESCRIPTION": (
        "Counterfoil's REST API, two doors over one core.\n\n"
        "- **Magento 2's `/V1`** under `/rest/V1/` and `/rest/{store_code}/V1/`: Magento's routes, field names and "
        'error envelope `{"message", "parameters"}`; money as JSON numbers.\n'
        '- **`/api2/invoice`**: list, look up, create and e-mail invoices; errors `{"error": "..."}`.\n\n'
        "Both take `Authorization: Bearer <token>`: an admin token from `POST /rest/V1/integration/admin/token`, "
        "or (on /api2) an integration token issued in the admin. POSTs that create, capture, void, cancel, comment "
        "or e-mail honour an `Idempotency-Key` header."
    ),
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "sales.api.schema.document_body_limit",  # 413 on every operation that takes a body
    ],
}

# Magento's oauth/access_token_lifetime/admin: hours an admin token stays valid.
ADMIN_TOKEN_LIFETIME_HOURS = env_int("ADMIN_TOKEN_LIFETIME_HOURS", 4)
# Magento's oauth/authentication_lock: failed staff sign-ins per username, the admin login and admin token
# requests counted together, and how long the lock lasts. Beside it, admin login attempts per client address.
SIGN_IN_MAX_FAILURES = env_int("SIGN_IN_MAX_FAILURES", 6)
SIGN_IN_LOCK_SECONDS = env_int("SIGN_IN_LOCK_SECONDS", 1800)
ADMIN_LOGIN_THROTTLE_RATE = env("ADMIN_LOGIN_THROTTLE_RATE", "30/min")
# Idempotency-Key records: kept at least this long, then purged; an in-progress key older than
# IDEMPOTENCY_KEY_STALE_SECONDS belongs to a dead request and is taken over.
IDEMPOTENCY_KEY_TTL_HOURS = env_int("IDEMPOTENCY_KEY_TTL_HOURS", 24)
IDEMPOTENCY_KEY_STALE_SECONDS = env_int("IDEMPOTENCY_KEY_STALE_SECONDS", 300)
# Rate limits per token (its user, or the integration), per address without a token, and for token
# requests; counted in the cache (Redis when REDIS_URL is set: shared by every web worker). 429 + Retry-After.
API_THROTTLE_RATE_USER = env("API_THROTTLE_RATE_USER", "600/min")
API_THROTTLE_RATE_ANON = env("API_THROTTLE_RATE_ANON", "60/min")
API_THROTTLE_RATE_TOKEN = env("API_THROTTLE_RATE_TOKEN", "30/min")
API_THROTTLE_CACHE = "default"  # the CACHES alias that holds the rate-limit counters
# Proxies in front of the app whose X-Forwarded-For entries are believed (integrations/client_address.py): the
# client is the Nth entry from the right. 0: the header is ignored, the connection's peer is the client.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
# Most requests of a rate limit a web process takes from Redis at once (1% of the limit, at least 1) and spends
# without a round trip; a process may hold that many minus one while another is refused. 1: count each request.
API_THROTTLE_LEASE_MAX = env_int("API_THROTTLE_LEASE_MAX", 50)
# Seconds a web process keeps a token it accepted (with its user and permissions): no query while kept. A change
# made elsewhere (revocation in another worker, QuerySet.update) is seen within this; 0 switches it off.
API_TOKEN_CACHE_SECONDS = env_int("API_TOKEN_CACHE_SECONDS", 10)

# Magento's oauth/consumer/enable_integration_as_bearer: integration tokens on /V1 (always on /api2).
INTEGRATION_TOKENS_AS_BEARER = env_bool("INTEGRATION_TOKENS_AS_BEARER", False)
# Magento ACL resources added or re-mapped on top of integrations/acl.py's table: {resource: "app_label.codename"}.
ACL_RESOURCE_PERMISSIONS: dict[str, str] = {}
