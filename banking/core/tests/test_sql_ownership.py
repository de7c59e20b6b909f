"""No app's SQL reaches another app's tables (DESIGN §1): another app's data is
reached by calling that app's action or function. Every table an app's .sql file
names, read or written, is one of that app's own."""

import re
from pathlib import Path

from django.apps import apps

BANKING = Path(__file__).resolve().parents[2]
COMMENT = re.compile(r"--[^\n]*")
WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _owners():
    """Every table the project's models make, with the label of the app that owns it."""
    return {model._meta.db_table: model._meta.app_label for model in apps.get_models(include_auto_created=True)}


def _app_of(sql_file):
    folder = sql_file.parent.parent
    return next(config.label for config in apps.get_app_configs() if Path(config.path) == folder)


def tables_named(sql_file, owners):
    code = COMMENT.sub("", sql_file.read_text())
    return {word.lower() for word in WORD.findall(code)} & owners.keys()


def test_the_scan_sees_the_tables_a_file_uses():
    owners = _owners()
    assert {"ledger_journalentry", "ledger_posting", "ledger_ledgeraccount"} <= tables_named(
        BANKING / "ledger" / "sql" / "post_entry.sql", owners)
    assert {"ledger_ledgeraccount", "ledger_hold"} <= tables_named(BANKING / "ledger" / "sql" / "account_rules.sql",
                                                                   owners)


def test_no_app_sql_names_another_apps_table():
    owners = _owners()
    files = sorted(BANKING.glob("*/sql/*.sql"))
    assert files
    strangers = {
        f"{path.relative_to(BANKING.parent)}: {table} ({owners[table]})"
        for path in files
        for table in tables_named(path, owners)
        if owners[table] != _app_of(path)
    }
    assert not strangers
