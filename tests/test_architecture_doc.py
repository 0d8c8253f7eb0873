"""docs/architecture.md stays true: what it names exists, every module it should name is named, and the
import rule it states holds (with today's exceptions listed here, each with its reason)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MAP = REPO / "docs" / "architecture.md"
APPS = ("sales", "payments", "inventory", "notifications", "integrations", "audit", "config")
LEAF_APPS = ("payments", "inventory", "notifications", "integrations", "audit")
FILE_SUFFIXES = (".py", ".md", ".toml", ".json", ".html", ".txt", ".sql", ".example")

# Edges from a leaf app to sales that exist today, by (file, edge): why each is tolerated. When one goes, delete
# it here and its sentence in docs/architecture.md's "Where the code breaks or bends the rule today".
KNOWN_EDGES_TO_SALES: dict[tuple[str, str], str] = {}  # (file, edge) -> why it is allowed; none today


def _map_text() -> str:
    """The map without its fenced blocks (the diagrams), where paths are drawn rather than named."""
    return re.sub(r"^```.*?^```", "", MAP.read_text(), flags=re.MULTILINE | re.DOTALL)


def _named() -> set[str]:
    return set(re.findall(r"`([^`\n]+)`", _map_text()))


def _is_path(name: str) -> bool:
    return "/" in name or name.startswith(".") or name.endswith(FILE_SUFFIXES)


def _is_reference(name: str) -> bool:
    """A path or a dotted Python name of the project, not a URL, a placeholder, code or a setting."""
    if name.startswith("/") or any(char in name for char in " <>{}*()=,\"'[]"):
        return False
    if "::" in name:
        return name.split("::")[0].endswith(".py")
    return _is_path(name) or name.split(".")[0] in APPS


def _module_file(dotted: str) -> Path | None:
    path = REPO.joinpath(*dotted.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _top_level_names(module: Path) -> set[str]:
    names = set()
    for node in ast.parse(module.read_text()).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(target.id for target in node.targets if isinstance(target, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return names


def _missing(name: str) -> str | None:
    """Why ``name`` names nothing in the repository, or None when it does."""
    if "::" in name:
        path, test = name.split("::", 1)
        file = REPO / path
        if not file.is_file():
            return f"no file {path}"
        defined = {node.name for node in ast.walk(ast.parse(file.read_text())) if isinstance(node, ast.FunctionDef)}
        return None if test in defined else f"no function {test} in {path}"
    if _is_path(name):
        target = REPO / name
        exists = target.is_dir() if name.endswith("/") else target.exists()
        return None if exists else f"no {'directory' if name.endswith('/') else 'file'} {name}"
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        module = _module_file(".".join(parts[:cut]))
        if module is None and REPO.joinpath(*parts[:cut]).is_dir() and cut == len(parts):
            return None  # a package without __init__.py
        if module is not None:
            rest = parts[cut:]
            if rest and rest[0] not in _top_level_names(module):
                return f"no {rest[0]} in {module.relative_to(REPO)}"
            return None
    return f"no module {name}"


def test_every_path_and_module_the_architecture_map_names_exists():
    missing = {name: why for name in sorted(_named()) if _is_reference(name) and (why := _missing(name))}
    assert not missing, f"docs/architecture.md names what the repository does not have: {missing}"


def test_the_architecture_map_names_every_module_of_the_apps():
    named = {name for name in _named() if _is_path(name)}
    modules = [
        path.relative_to(REPO).as_posix()
        for app in APPS
        for path in sorted((REPO / app).rglob("*.py"))
        if "migrations" not in path.parts and path.name not in ("__init__.py", "apps.py")
    ]
    unnamed = [module for module in modules if module not in named]
    assert not unnamed, f"modules docs/architecture.md does not place on the map: {unnamed}"


def _edges_to_sales(path: Path) -> set[str]:
    """Every way a module reaches into sales: an import, or a model looked up by app label at run time."""
    edges = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            edges.update(f"import {a.name}" for a in node.names if a.name.split(".")[0] == "sales")
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "sales":
            edges.add(f"from {node.module} import ...")
        elif isinstance(node, ast.Call):
            function = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            arguments = [arg.value for arg in node.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str)]
            reaches = function in ("get_model", "import_module", "__import__") and arguments
            if reaches and arguments[0].split(".")[0] == "sales":
                edges.add(ast.unparse(node))
    return edges


def test_leaf_apps_import_nothing_from_sales():
    found = {
        (path.relative_to(REPO).as_posix(), edge)
        for app in LEAF_APPS
        for path in (REPO / app).rglob("*.py")
        for edge in _edges_to_sales(path)
    }
    new = sorted(found - set(KNOWN_EDGES_TO_SALES))
    gone = sorted(set(KNOWN_EDGES_TO_SALES) - found)
    assert not new, f"a leaf app reaches into sales: {new}; call it from sales instead, or pass plain values"
    assert not gone, f"edges fixed: delete them from KNOWN_EDGES_TO_SALES and docs/architecture.md: {gone}"


def _imported_modules(path: Path) -> set[str]:
    """The absolute modules a file imports, ``from a import b`` counted as ``a`` and ``a.b``."""
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


def test_the_sales_core_imports_none_of_its_doors():
    doors = ("sales.api", "sales.admin")
    core = [
        path
        for path in (REPO / "sales").rglob("*.py")
        if path.parent.relative_to(REPO).parts[:2] not in (("sales", "api"), ("sales", "admin"))
    ]
    imports = sorted(
        (path.relative_to(REPO).as_posix(), module)
        for path in core
        for module in _imported_modules(path)
        if module in doors or module.startswith(tuple(f"{door}." for door in doors))
    )
    assert not imports, f"the sales core imports a door: {imports}"
