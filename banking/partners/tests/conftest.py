import pytest

from .factories import make_partner_bank


@pytest.fixture
def pb(db):
    return make_partner_bank()
