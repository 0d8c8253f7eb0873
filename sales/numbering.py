"""Increment ids per store: ``prefix`` + the next value zero-padded to 9 digits + ``suffix``.

PostgreSQL counts with one native sequence per (entity type, store): ``nextval`` is atomic,
never waits for another transaction and is never rolled back, so numbers are unique and
race-free, with gaps after a failed save, as in Magento. SQLite serialises writers, so a
counter column updated in the invoice's own transaction is race-free there too.
"""

from __future__ import annotations

from typing import Any

from django.db import connections

PAD = 9
ENTITY_TYPES = ("order", "invoice")


def sequence_name(entity_type: str, store_id: int) -> str:
    return f"sales_sequence_{entity_type}_{int(store_id)}"


def default_prefix(store_id: int) -> str:
    """Stores 0 and 1 number from ``000000001``; later stores are prefixed with their id."""
    return "" if store_id in (0, 1) else str(store_id)


def native_sequence_create(*, entity_type: str, store_id: int, using: str = "default") -> None:
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE SEQUENCE IF NOT EXISTS "{sequence_name(entity_type, store_id)}" START 1')


def sequences_create(*, store_id: int, using: str = "default", sequence_model: Any = None) -> None:
    """Create the order and invoice numbering of a new store view (idempotent); ``sequence_model`` is a
    migration's historical SalesSequence."""
    if sequence_model is None:
        from sales.models import SalesSequence as sequence_model
    for entity_type in ENTITY_TYPES:
        sequence_model.objects.using(using).get_or_create(
            entity_type=entity_type, store_id=store_id, defaults={"prefix": default_prefix(store_id)}
        )
        native_sequence_create(entity_type=entity_type, store_id=store_id, using=using)


def format_increment_id(*, prefix: str, suffix: str, value: int) -> str:
    return f"{prefix}{value:0{PAD}d}{suffix}"


def next_increment_id(*, entity_type: str, store_id: int, using: str = "default") -> str:
    """The next number of a store's sequence, in one query."""
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT prefix, suffix, start_value, step, nextval(%s) FROM sales_salessequence"
                " WHERE entity_type = %s AND store_id = %s",
                [sequence_name(entity_type, store_id), entity_type, store_id],
            )
        else:
            cursor.execute(
                "UPDATE sales_salessequence SET last_value = last_value + 1"
                " WHERE entity_type = %s AND store_id = %s"
                " RETURNING prefix, suffix, start_value, step, last_value",
                [entity_type, store_id],
            )
        row = cursor.fetchone()
    if row is None:
        raise LookupError(f"no {entity_type} sequence for store {store_id}")
    prefix, suffix, start_value, step, counter = row
    return format_increment_id(prefix=prefix, suffix=suffix, value=start_value + (counter - 1) * step)
