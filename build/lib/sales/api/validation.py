"""Input no text column can store: a NUL character (PostgreSQL refuses ``\\x00`` in text).

Both doors look for it here before any query runs, and each refuses it as bad input (400) in its own
error shape, naming where it was found, rather than letting the database answer a 500.
"""

from __future__ import annotations

from integrations.idempotency import HEADER as IDEMPOTENCY_KEY_HEADER

NUL = "\x00"


def holds_nul_character(text: str) -> bool:
    return NUL in text


def nul_character_path(value, path: str = "") -> str | None:
    """Where ``value`` (JSON-like) holds a string with a NUL character, as ``entity.items[0].sku``;
    a name holding one counts too. None if nowhere."""
    if isinstance(value, str):
        return path if holds_nul_character(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            name = f"{path}.{key}" if path else str(key)
            if holds_nul_character(str(key)):
                return name
            found = nul_character_path(item, name)
            if found is not None:
                return found
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = nul_character_path(item, f"{path}[{index}]" if path else f"[{index}]")
            if found is not None:
                return found
    return None


def request_nul_character_path(view) -> str | None:
    """The name of the view's path parameter or query parameter that holds a NUL character, if any; on a
    method whose ``Idempotency-Key`` is stored (``IdempotencyKeyMixin``), that header's too."""
    for name, value in view.kwargs.items():
        if isinstance(value, str) and holds_nul_character(value):
            return name
    request = view.request
    for name, values in request.query_params.lists():
        if holds_nul_character(name) or any(holds_nul_character(value) for value in values):
            return name
    stores_key = request.method in getattr(view, "idempotent_methods", ())
    if stores_key and holds_nul_character(request.headers.get(IDEMPOTENCY_KEY_HEADER, "")):
        return IDEMPOTENCY_KEY_HEADER
    return None
