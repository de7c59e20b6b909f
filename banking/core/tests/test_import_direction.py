"""Imports run one way, portals → banking (DESIGN §1): the bank's domain knows
nothing of the screens that show it, so no module under banking/ (its tests
included) imports a portal, directly or by name. The benchmarks (bench/) may
import anything, and nothing the bank runs imports them."""

import ast
from pathlib import Path

BANKING = Path(__file__).resolve().parents[2]
ROOT = BANKING.parent


def _imported_names(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name in {"import_module", "__import__", "import_string"} and isinstance(node.args[0].value, str):
                yield node.args[0].value


def _importers_of(package, *tops):
    return [
        f"{path.relative_to(ROOT)} imports {name}"
        for top in tops
        for path in sorted((ROOT / top).rglob("*.py"))
        for name in _imported_names(ast.parse(path.read_text(), str(path)))
        if name == package or name.startswith(f"{package}.")
    ]


def test_no_module_of_the_domain_imports_a_portal():
    assert _importers_of("portals", "banking") == []


def test_nothing_the_bank_runs_imports_a_benchmark():
    assert _importers_of("bench", "banking", "portals", "config") == []
