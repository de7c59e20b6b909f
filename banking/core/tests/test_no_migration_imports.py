"""Migrations are the database's history: runtime code never imports one. A
migration keeps the code it ran when it was written, so what the bank runs today
must live in the app's modules, free to change without rewriting history."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
RUNTIME = ["banking", "portals", "config", "bench"]
# Django's migration machinery (the loader, the recorder) is not a migration: the
# readiness check reads it to compare the code's migrations with the database's.
FRAMEWORK = "django.db.migrations"


def _runtime_modules():
    for top in RUNTIME:
        for path in sorted((ROOT / top).rglob("*.py")):
            parts = path.relative_to(ROOT).parts
            if "migrations" in parts or "tests" in parts:
                continue
            yield path


def _imported_names(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name in {"import_module", "__import__", "import_string"} and isinstance(node.args[0].value, str):
                yield node.args[0].value


def test_no_runtime_module_imports_a_migration():
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in _runtime_modules()
        for name in _imported_names(ast.parse(path.read_text(), str(path)))
        if ".migrations" in name and not name.startswith(FRAMEWORK)
    ]
    assert offenders == []
