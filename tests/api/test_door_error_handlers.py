"""Each door's exception handler is its own ``errors.exception_handler``: the 429 of a request past its rate limit
included, in the door's envelope (``sales.api.throttling`` only counts)."""

from __future__ import annotations

import pytest
from rest_framework import exceptions

from sales.api import throttling
from sales.api.api2 import errors as api2_errors
from sales.api.v1 import errors as v1_errors


@pytest.mark.parametrize(
    ("handler", "body"),
    [
        (v1_errors.exception_handler, {"message": "Too Many Requests"}),
        (api2_errors.exception_handler, {"error": "Too many requests"}),
    ],
)
def test_each_doors_errors_module_renders_its_429_with_retry_after(handler, body):
    response = handler(exceptions.Throttled(wait=2.2), {"view": None, "request": None})
    assert (response.status_code, response.data, response["Retry-After"]) == (429, body, "3")


def test_the_rate_limits_module_renders_no_door_envelope():
    assert not {"v1_exception_handler", "api2_exception_handler"} & set(vars(throttling))
