"""Notifications: a leaf app for customer e-mail.

Empty for now; the e-mail outbox, rendering by template name, the Celery tasks and the
sweeper land with the e-mail issue.
"""
