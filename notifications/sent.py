"""What a sent e-mail marks outside the outbox, as the apps that keep such a mark subscribe it.

notifications never names another app's models. An app that records a mail going out on a row of its own
subscribes from its ``AppConfig.ready()`` (sales: an invoice's ``email_sent`` once its "New Invoice" mail is out):
``on_email_sent(kind, set_on_invoice={"email_sent": 1})``. The task sets those columns of the e-mail's invoice
within its own "sent" bookkeeping and on the same claim: in its one statement on PostgreSQL, in its transaction
elsewhere, so the mark is written exactly when the outbox row is recorded sent, and never for a claim lost.
"""

from __future__ import annotations

_invoice_columns: dict[str, dict[str, object]] = {}


def on_email_sent(kind: str, *, set_on_invoice: dict[str, object]) -> None:
    """Once an e-mail of ``kind`` about an invoice is recorded sent, set these columns of that invoice."""
    _invoice_columns[kind] = dict(set_on_invoice)


def invoice_columns_when_sent(kind: str, invoice_id: int | None) -> dict[str, object]:
    """The invoice columns the sending of an e-mail of ``kind`` sets: none for a mail about no invoice."""
    return _invoice_columns.get(kind, {}) if invoice_id is not None else {}
