"""The shared test helpers live in tests/helpers.py alone: a module that copies one again fails here."""

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
HOME = TESTS / "helpers.py"
# tests.helpers' names, and the names the copies had before they moved there
HELPER_NAMES = {
    "post_json",
    "post",
    "parse",
    "body_of",
    "answer",
    "send_json",
    "live_post_json",
    "live_answer",
    "bearer",
}
ROUTE_PREFIX = "/rest/default/V1"


def is_fixture(node: ast.FunctionDef) -> bool:
    return any("fixture" in ast.unparse(decorator) for decorator in node.decorator_list)


def copies_in(path: Path, root: Path = TESTS) -> list[str]:
    """``path:line name`` of each module-level helper function or route prefix constant the module defines."""
    found = []
    for node in ast.parse(path.read_text(), filename=str(path)).body:
        if isinstance(node, ast.FunctionDef) and node.name in HELPER_NAMES and not is_fixture(node):
            found.append(f"{path.relative_to(root)}:{node.lineno} def {node.name}")
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and node.value.value == ROUTE_PREFIX:
            found.append(f"{path.relative_to(root)}:{node.lineno} {ast.unparse(node)}")
    return found


def test_no_test_module_defines_its_own_http_helpers_or_route_prefix():
    modules = [path for path in TESTS.rglob("*.py") if path not in (HOME, Path(__file__).resolve())]
    assert len(modules) > 50  # the walk really saw the suite
    assert [copy for path in sorted(modules) for copy in copies_in(path)] == []


def test_the_check_finds_a_copied_helper(tmp_path):
    copied = tmp_path / "test_copy.py"
    copied.write_text('BASE = "/rest/default/V1"\n\n\ndef parse(response):\n    return response\n')
    assert copies_in(copied, root=tmp_path) == ["test_copy.py:1 BASE = '/rest/default/V1'", "test_copy.py:4 def parse"]
