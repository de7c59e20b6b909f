"""The posting engine the database runs is the one in banking/ledger/sql/: a change to
the file comes with a migration that installs it again."""

from pathlib import Path

import pytest

from banking.core.tests.sql_files import installed_and_file_definitions

SQL = Path(__file__).resolve().parents[1] / "sql"

pytestmark = pytest.mark.django_db


def test_the_installed_cbs_post_entry_is_the_file():
    installed, from_file = installed_and_file_definitions("cbs_post_entry", SQL / "post_entry.sql")
    assert installed == from_file


@pytest.mark.parametrize(("function", "file"), [
    ("cbs_account_refusal", "account_rules.sql"),
    ("cbs_refusal_reason", "account_rules.sql"),
    ("cbs_post_batch", "post_batch.sql"),
    ("cbs_balances", "balances.sql"),
])
def test_the_installed_batch_and_rule_functions_are_their_files(function, file):
    installed, from_file = installed_and_file_definitions(function, SQL / file)
    assert installed == from_file
