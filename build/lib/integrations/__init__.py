"""API tokens (admin, integration), their ACL scopes and sign-in lockout, Idempotency-Key records, and the
DRF authentication and view mixin that use them. A leaf app: it never imports ``sales``."""
