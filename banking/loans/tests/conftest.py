import pytest

from .factories import LoanBank


@pytest.fixture
def bank(db):
    return LoanBank()
