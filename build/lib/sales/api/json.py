"""JSON for both doors: numbers parsed as Decimal, Decimals written as exact JSON numbers.

DRF's encoder turns a Decimal into a float; we never let money pass through a float, so
``Decimal("1917.6000")`` is written ``1917.6`` and ``Decimal("165.0000")`` is written ``165``.

``dumps`` writes with simplejson's C encoder, which writes a Decimal as ``str(value)``: exact, and
already Magento's form for the amounts the representations hand it (``magento_decimal``, PostgreSQL's
trim_scale), and embeds a ``simplejson.RawJSON`` document (one PostgreSQL wrote) as it is. When any
number came out in another form (``1917.6000``, ``1E+2``, ``-0``), the document is written
again by ``_write``, the plain writer that formats every Decimal with ``format_decimal``.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal

import simplejson
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer

from sales.money import decimal_text

_encode_string = json.encoder.encode_basestring


format_decimal = decimal_text  # Magento writes amounts as JSON numbers: 1917.6, 165, 0


def _default(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


_fast_encoder = simplejson.JSONEncoder(
    ensure_ascii=False,
    separators=(",", ":"),
    use_decimal=True,
    namedtuple_as_object=False,
    tuple_as_array=True,
    default=_default,
)
# A number that str(Decimal) wrote in a form Magento does not: trailing zeros in its fraction, an exponent
# (str() writes "E+" or "E-"), minus zero, NaN or Infinity. Searched in the whole text, strings included, so
# a string holding such text ("v1.50", "E-mail") only sends the document to the plain writer, which is exact.
# Each branch starts with a literal: the search is a fast scan (0.3 ms for a 95 kB page, where a search for
# number tokens after ":" "," or "[" took 3 ms).
_NOT_MAGENTOS_NUMBER = re.compile(r"\.\d*0(?!\d)|E[-+]|-0(?![.\d])|NaN|Infinity")


def dumps(data) -> str:
    text = _fast_encoder.encode(data)
    if _NOT_MAGENTOS_NUMBER.search(text) is None:
        return text
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
    elif isinstance(value, simplejson.RawJSON):
        emit(value.encoded_json)  # a document the database wrote, already in Magento's form
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
