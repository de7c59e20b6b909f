"""Idempotency-Key under real concurrency: two identical requests at the same moment,
and a request whose process is killed right after its commit."""

import json
import os
import signal
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from banking.idempotency.models import IdempotentRequest
from banking.payments.models import Payment
from banking.testing import run_together
from portals.api.tests.conftest import Api, sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrency]


@pytest.fixture
def second(bank, account):
    from banking.approvals.actions import approve_request
    from banking.deposits.actions import request_account_opening
    from banking.payments.tests.factories import fresh

    opened = request_account_opening(actor=bank.maker, customer=account.customer, product="SB")
    approve_request(actor=bank.checker, request_id=opened.opening_request_id)
    return fresh(opened)


def body(account, second):
    return {"from_account": account.number, "rail": "internal", "amount": "99.00", "to_account": second.number}


def test_two_identical_requests_at_once_make_one_payment(user, account, second):
    token = sign_in(Client(), user)["access"]

    def send():
        return Api(Client(), token).post("/api/v1/payments/", body(account, second),
                                         headers={"Idempotency-Key": "together"})

    results, errors = run_together(send, send)
    assert errors == []
    statuses = sorted(r.status_code for r in results)
    assert statuses in ([201, 201], [201, 409]), [r.content for r in results]
    if statuses == [201, 201]:
        assert sum(r.get("Idempotent-Replayed") == "true" for r in results) == 1
        assert results[0].json() == results[1].json()
    else:
        conflict = next(r for r in results if r.status_code == 409)
        assert conflict.json()["code"] == "request_in_progress"
    assert Payment.objects.filter(debit_account=account).count() == 1


def test_a_request_killed_after_its_commit_is_replayed_not_sent_twice(user, account, second):
    token = sign_in(Client(), user)["access"]
    db = settings.DATABASES["default"]
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{connection.settings_dict['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "CBS_TOKEN": token, "CBS_KEY": "killed",
           "CBS_BODY": json.dumps(body(account, second)), "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    child = subprocess.run([sys.executable, "-m", "portals.api.tests.kill_after_commit"], env=env,
                           cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=120)
    assert child.returncode == -signal.SIGKILL, child.stdout + child.stderr
    assert Payment.objects.filter(debit_account=account).count() == 1
    assert IdempotentRequest.objects.filter(key="killed").count() == 1
    retry = Api(Client(), token).post("/api/v1/payments/", body(account, second), headers={"Idempotency-Key": "killed"})
    assert retry.status_code == 201
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json()["id"] == Payment.objects.get(debit_account=account).pk
    assert Payment.objects.filter(debit_account=account).count() == 1


def test_a_kept_answer_older_than_a_day_is_forgotten(api, account, second):
    first = api.post("/api/v1/payments/", body(account, second), headers={"Idempotency-Key": "old"})
    assert first.status_code == 201
    IdempotentRequest.objects.filter(key="old").update(created_at=first_created_minus_a_day())
    again = api.post("/api/v1/payments/", {**body(account, second), "amount": "1.00"},
                     headers={"Idempotency-Key": "old"})
    assert again.status_code == 201, again.content
    assert "Idempotent-Replayed" not in again
    assert Payment.objects.filter(debit_account=account).count() == 2


def first_created_minus_a_day():
    from django.utils import timezone

    return timezone.now() - settings.CBS_IDEMPOTENCY_TTL - timezone.timedelta(minutes=1)


def test_the_hourly_job_purges_expired_answers(api, account, second):
    from banking.idempotency.tasks import purge_expired

    api.post("/api/v1/payments/", body(account, second), headers={"Idempotency-Key": "fresh"})
    api.post("/api/v1/payments/", {**body(account, second), "amount": "2.00"}, headers={"Idempotency-Key": "stale"})
    IdempotentRequest.objects.filter(key="stale").update(created_at=first_created_minus_a_day())
    assert purge_expired.func(timestamp=0) == 1
    assert list(IdempotentRequest.objects.values_list("key", flat=True)) == ["fresh"]
