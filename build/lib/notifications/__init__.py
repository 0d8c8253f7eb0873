"""Customer e-mails through an outbox: written in the business transaction, sent by Celery after commit.

A leaf app: it never imports ``sales``. Callers hand it the template name, a plain context and
the recipients; it renders, stores the row (one per logical send, by unique key), and the worker
sends it with retries. Every attempt is kept.
"""
