"""Claiming an Idempotency-Key runs as banking/idempotency/sql/claim.sql writes it."""

from pathlib import Path

import pytest

from banking.core.tests.sql_files import installed_and_file_definitions

SQL = Path(__file__).resolve().parents[1] / "sql"

pytestmark = pytest.mark.django_db


def test_the_installed_claim_function_is_the_file():
    installed, from_file = installed_and_file_definitions("cbs_claim_idempotency_key", SQL / "claim.sql")
    assert installed == from_file
