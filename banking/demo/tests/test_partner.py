import io
import re

import pytest
from django.core.management import call_command

from banking.demo.partners import PARTNER_NAME
from banking.partners.models import ApiKey, KeyStatus, Partner


def seed():
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_the_first_seed_prints_a_working_partner_key_once_and_a_second_seed_adds_none(client):
    first, second = seed(), seed()
    tokens = re.findall(r"^\s+(pk_\w+\.\S+)$", first, flags=re.MULTILINE)
    assert len(tokens) == 1
    assert "Partner API key" not in second
    partner = Partner.objects.get(name=PARTNER_NAME)
    assert ApiKey.objects.filter(partner=partner).get().status == KeyStatus.ACTIVE

    answer = client.get("/api/v1/partner/accounts/", HTTP_AUTHORIZATION=f"Api-Key {tokens[0]}",
                        REMOTE_ADDR="127.0.0.1")
    assert answer.status_code == 200
    numbers = [account["number"] for account in answer.json()["results"]]
    assert numbers == [partner.payout_account.number]
    wrong = client.get("/api/v1/partner/accounts/", HTTP_AUTHORIZATION=f"Api-Key {tokens[0]}x",
                       REMOTE_ADDR="127.0.0.1")
    assert wrong.status_code == 401
