"""JSON for both doors: numbers parsed as Decimal, Decimals written as exact JSON numbers.

DRF's encoder turns a Decimal into a float; we never let money pass through a float, so
``Decimal("1917.6000")`` is written ``1917.6`` and ``Decimal("165.0000")`` is written ``165``.
"""

from __future__ import annotations

import json
from decimal import Decimal

from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer

_encode_string = json.encoder.encode_basestring


def format_decimal(value: Decimal) -> str:
    if value == 0:
        return "0"
    text = format(value.normalize(), "f")
    return text


def dumps(data) -> str:
    parts: list[str] = []
    _write(data, parts.append)
    return "".join(parts)


def _write(value, emit) -> None:
    if value is None:
        emit("null")
    elif value is True:
        emit("true")
    elif value is False:
        emit("false")
    elif isinstance(value, str):
        emit(_encode_string(value))
    elif isinstance(value, Decimal):
        emit(format_decimal(value))
    elif isinstance(value, int):
        emit(str(value))
    elif isinstance(value, float):
        emit(json.dumps(value))
    elif isinstance(value, dict):
        emit("{")
        for index, (key, item) in enumerate(value.items()):
            if index:
                emit(",")
            emit(_encode_string(str(key)))
            emit(":")
            _write(item, emit)
        emit("}")
    elif isinstance(value, list | tuple):
        emit("[")
        for index, item in enumerate(value):
            if index:
                emit(",")
            _write(item, emit)
        emit("]")
    elif hasattr(value, "isoformat"):
        emit(_encode_string(value.isoformat()))
    else:
        raise TypeError(f"cannot write {type(value).__name__} as JSON")


class DecimalJSONRenderer(BaseRenderer):
    media_type = "application/json"
    format = "json"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if data is None:
            return b""
        return dumps(data).encode("utf-8")


class DecimalJSONParser(BaseParser):
    """JSON numbers with a fraction or exponent become Decimal, never float."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return json.loads(stream.read().decode("utf-8"), parse_float=Decimal, parse_constant=_reject_constant)
        except (ValueError, UnicodeDecodeError) as error:
            raise ParseError(f"JSON parse error - {error}") from error


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a number")
