"""Administrators keep the daily limits per product and rail; each change is audited."""

import pytest
from django.urls import reverse

from banking.audit.models import AuditEvent
from banking.testing import make_user
from banking.users.roles import Role

from ..models import ChannelLimit

pytestmark = pytest.mark.django_db


def test_an_administrator_changes_a_daily_limit_and_it_is_audited(client, bank):
    admin = make_user(Role.ADMINISTRATOR)
    limit = ChannelLimit.objects.filter(rail="IMPS").first()
    client.force_login(admin)
    url = reverse("admin:payments_channellimit_change", args=[limit.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"product": limit.product_id, "rail": "IMPS", "daily_limit": 2_00_000_00})
    assert response.status_code == 302
    limit.refresh_from_db()
    assert limit.daily_limit == 2_00_000_00
    event = AuditEvent.objects.get(action="payments.channellimit_changed")
    assert event.after == {"daily_limit": 2_00_000_00} and event.before == {"daily_limit": 5_00_000_00}


def test_a_teller_cannot_change_limits(client, bank):
    client.force_login(bank.maker)
    limit = ChannelLimit.objects.first()
    assert client.get(reverse("admin:payments_channellimit_change", args=[limit.pk])).status_code == 302
