"""One home per error: every exception the payments app defines is in ``payments.exceptions``."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import payments


def test_every_payments_exception_is_defined_in_payments_exceptions():
    modules = [
        importlib.import_module(info.name)
        for info in pkgutil.walk_packages(payments.__path__, "payments.")
        if ".migrations" not in info.name
    ]
    elsewhere = [
        f"{module.__name__}.{name}"
        for module in modules
        for name, value in vars(module).items()
        if inspect.isclass(value)
        and issubclass(value, BaseException)
        and value.__module__ == module.__name__
        and module.__name__ != "payments.exceptions"
    ]
    assert elsewhere == []
