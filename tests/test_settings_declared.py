"""Every setting the code reads is declared once, in config/settings, and read as ``settings.X``.

A default repeated at the read (``getattr(settings, "X", 5)``) drifts from the declared one and hides a setting
that is declared nowhere; these scans of the source keep both out.
"""

from __future__ import annotations

import ast
from pathlib import Path

from django.conf import settings as django_settings

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("sales", "payments", "notifications", "inventory", "integrations", "audit", "config", "bench")
SETTINGS_PACKAGE = REPO / "config" / "settings"


def source_files() -> list[Path]:
    files = [path for package in PACKAGES for path in sorted((REPO / package).rglob("*.py"))]
    return [path for path in files if SETTINGS_PACKAGE not in path.parents]


def settings_names(tree: ast.AST) -> set[str]:
    """The names ``django.conf.settings`` is bound to in a module (``from django.conf import settings [as x]``)."""
    return {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "django.conf"
        for alias in node.names
        if alias.name == "settings"
    }


def getattr_calls_on_settings(tree: ast.AST, names: set[str]) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "getattr"
        and node.args
        and isinstance(node.args[0], ast.Name)
        and node.args[0].id in names
    ]


def settings_read(tree: ast.AST) -> set[str]:
    """The upper-case settings a module reads: ``settings.X`` and ``getattr(settings, "X")``."""
    names = settings_names(tree)
    read = {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.ctx, ast.Load)
        and isinstance(node.value, ast.Name)
        and node.value.id in names
    }
    for call in getattr_calls_on_settings(tree, names):
        if len(call.args) > 1 and isinstance(call.args[1], ast.Constant) and isinstance(call.args[1].value, str):
            read.add(call.args[1].value)
    return {name for name in read if name.isupper()}


def parsed_sources() -> list[tuple[str, ast.AST]]:
    """Each app module's path (from the repository root) and syntax tree."""
    return [
        (path.relative_to(REPO).as_posix(), ast.parse(path.read_text(), filename=str(path))) for path in source_files()
    ]


def test_the_scans_see_the_apps_and_how_they_read_settings():
    files = {path.relative_to(REPO).as_posix() for path in source_files()}
    tree = ast.parse("from django.conf import settings as s\nx = s.ONE, getattr(s, 'TWO'), s.lower\ns.THREE = 3")

    assert {"sales/locking.py", "notifications/tasks.py", "bench/seed_invoices.py"} <= files
    assert "config/settings/base.py" not in files
    assert settings_read(tree) == {"ONE", "TWO"}
    assert len(getattr_calls_on_settings(ast.parse("getattr(s, 'X', 1)"), {"s"})) == 1


def test_no_code_reads_a_setting_with_a_default_of_its_own():
    offenders = [
        f"{name}:{call.lineno}"
        for name, tree in parsed_sources()
        for call in getattr_calls_on_settings(tree, settings_names(tree))
        if len(call.args) > 2 or call.keywords
    ]

    assert offenders == [], "declare the setting in config/settings and read it as settings.X"


def test_every_setting_the_code_reads_is_declared():
    declared = set(dir(django_settings))
    undeclared = {
        f"{setting} ({name})"
        for name, tree in parsed_sources()
        for setting in settings_read(tree)
        if setting not in declared
    }

    assert undeclared == set(), "declare these in config/settings"
