import pytest

from .factories import make_bank


@pytest.fixture
def bank(db):
    return make_bank()
