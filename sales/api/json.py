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
import sys
from array import array
from decimal import Decimal
from itertools import accumulate

import simplejson
from django.conf import settings
from rest_framework import exceptions
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


# Far deeper than any document either door takes (a seed order nests 8 levels), and shallow enough that nothing
# that walks a body recursively runs out of stack. Magento's limit is PHP json_decode's 512.
MAX_NESTING = 64
LONE_SURROGATE = "a string holds a lone surrogate (\\ud800 to \\udfff), which is not a character"
TOO_DEEP = f"nested deeper than {MAX_NESTING} levels"
# Python reads integers of at most this many digits from text; a JSON number is held to the same bound, since
# turning 1e999999 into an integer (an id, a count) takes a worker 40 s.
MAX_NUMBER_DIGITS = sys.get_int_max_str_digits()
NUMBER_TOO_LONG = f"a number has more than {MAX_NUMBER_DIGITS} digits before or after its point"
# A string's text, escapes included: its brackets do not nest. Unrolled, so a long string is one fast scan.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")
_BRACKET_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")  # +1 opening, -1 (a signed byte) closing
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


class RequestBodyTooLarge(exceptions.APIException):
    """A body longer than ``DATA_UPLOAD_MAX_MEMORY_SIZE`` bytes, refused unread; each door words the 413."""

    status_code = 413
    default_code = "request_body_too_large"

    def __init__(self, limit: int):
        super().__init__(f"The request body is larger than the limit of {limit} bytes.")
        self.limit = limit


class BodyRefused(exceptions.ParseError):
    """JSON that parses but that no door can take; ``reason`` says why."""

    def __init__(self, reason: str):
        super().__init__(f"JSON parse error - {reason}")
        self.reason = reason


class DecimalJSONParser(BaseParser):
    """JSON numbers with a fraction or exponent become Decimal, never float.

    The body is read only up to Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (which bounds the admin's forms too):
    a longer one is refused before a byte of it is parsed. Nesting past ``MAX_NESTING`` and lone surrogates,
    which no column can store, are decoding errors.
    """

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        raw = read_within_limit(stream, (parser_context or {}).get("request"))
        try:
            text = raw.decode("utf-8")  # a surrogate written in UTF-8 (CESU) is not UTF-8: refused here
        except UnicodeDecodeError as error:
            raise ParseError(f"JSON parse error - {error}") from error
        if _nested_deeper_than(text, MAX_NESTING):
            raise BodyRefused(TOO_DEEP)  # before json.loads, whose recursion would run out of stack
        try:
            data = json.loads(text, parse_float=_decimal, parse_constant=_reject_constant)
        except ValueError as error:
            raise ParseError(f"JSON parse error - {error}") from error
        if _SURROGATE_ESCAPE.search(text) and _holds_lone_surrogate(data):  # a pair escape is one character
            raise BodyRefused(LONE_SURROGATE)
        return data


def read_within_limit(stream, request) -> bytes:
    """The body, read only when it is within ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (None: no limit, as in Django).
    Refused on its Content-Length first; without one (chunked) the read stops one byte past the limit."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is None:
        return stream.read()
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
    except ValueError:
        declared = 0
    if declared > limit:
        raise RequestBodyTooLarge(limit)
    raw = stream.read(limit + 1)
    if len(raw) > limit:
        raise RequestBodyTooLarge(limit)
    return raw


def _nested_deeper_than(text: str, limit: int) -> bool:
    """Whether the document nests arrays and objects more than ``limit`` deep: the highest running count of its
    brackets, strings left out. Counted in C (regex, translate, accumulate), never by recursion; a document with
    no more containers than ``limit`` is not even counted. 2.5 MB of brackets take ~0.3 s on 2 cores."""
    if text.count("[") + text.count("{") <= limit:
        return False
    brackets = _NOT_A_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(array("b", brackets.encode("ascii").translate(_BRACKET_STEPS))), default=0) > limit


def _holds_lone_surrogate(value) -> bool:
    if isinstance(value, str):
        return _SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(_holds_lone_surrogate(key) or _holds_lone_surrogate(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_holds_lone_surrogate(item) for item in value)
    return False


def _decimal(text: str) -> Decimal:
    number = Decimal(text)
    if number and abs(number.adjusted()) > MAX_NUMBER_DIGITS:
        raise BodyRefused(NUMBER_TOO_LONG)  # not a ValueError: json.loads lets it through as it is
    return number


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a number")
