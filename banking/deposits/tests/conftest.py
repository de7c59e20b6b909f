import pytest

from .factories import Bank


@pytest.fixture
def bank(db):
    return Bank()
