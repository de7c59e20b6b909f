"""Liveness, readiness and metrics (portals/monitoring.py, banking/core/health.py)."""

import datetime

import pytest
from django.core.cache.backends.redis import RedisCache
from django.db import OperationalError, connection
from django.db.migrations.recorder import MigrationRecorder
from django.urls import reverse
from django.utils import timezone

from banking.core import health
from banking.ledger.models import JournalEntry, Posting
from banking.ledger.tests.helpers import customer_account, transfer

pytestmark = pytest.mark.django_db


def heartbeat(seconds_ago):
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO procrastinate_workers (last_heartbeat) VALUES (now() - %s * interval '1 second')",
                       [seconds_ago])


def readyz(client):
    response = client.get(reverse("portals:readyz"))
    return response.status_code, response.json()["checks"]


class DownRedisCache(RedisCache):
    """A Redis cache whose server does not answer."""

    def set(self, *args, **kwargs):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


def test_healthz_answers_without_asking_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200


def test_ready_when_every_check_passes_and_redis_is_said_to_be_not_configured(client):
    heartbeat(seconds_ago=5)
    status, checks = readyz(client)
    assert status == 200
    assert checks == {"database": "ok", "migrations": "ok", "redis": "not configured", "worker": "ok"}


def test_a_database_that_does_not_answer_is_named(client, monkeypatch):
    heartbeat(seconds_ago=5)

    class Down:
        def cursor(self):
            raise OperationalError("connection to server at 127.0.0.1, port 5432 failed")

    monkeypatch.setattr(health, "connection", Down())
    status, checks = readyz(client)
    assert status == 503
    assert checks["database"] == "failed: the database did not answer"
    assert checks["migrations"].startswith("not checked") and checks["worker"].startswith("not checked")
    assert "5432" not in str(checks)  # the error's text is not shown to the public


def test_an_unapplied_migration_is_named(client):
    heartbeat(seconds_ago=5)
    MigrationRecorder.Migration.objects.filter(app="core", name="0002_retry_jobs_permission").delete()
    status, checks = readyz(client)
    assert status == 503
    assert checks["migrations"] == "failed: 1 migration not applied"
    assert checks["database"] == "ok" and checks["worker"] == "ok"
    assert health.unapplied_migrations() == [("core", "0002_retry_jobs_permission")]


def test_a_stale_worker_heartbeat_is_named(client):
    heartbeat(seconds_ago=3 * 60)
    status, checks = readyz(client)
    assert status == 503
    assert checks["worker"] == "failed: no background worker has reported in the last 2 minutes"
    heartbeat(seconds_ago=90)
    assert readyz(client) == (200, {"database": "ok", "migrations": "ok", "redis": "not configured", "worker": "ok"})


def test_no_worker_at_all_is_not_ready(client):
    status, checks = readyz(client)
    assert status == 503 and checks["worker"].startswith("failed")


def test_a_configured_redis_that_does_not_answer_is_named(client, settings):
    heartbeat(seconds_ago=5)
    settings.CACHES = {"default": {"BACKEND": f"{__name__}.DownRedisCache", "LOCATION": "redis://127.0.0.1:6379"}}
    status, checks = readyz(client)
    assert status == 503
    assert checks["redis"] == "failed: Redis did not answer"
    assert checks["database"] == "ok"


def test_readyz_is_never_cached(client):
    heartbeat(seconds_ago=5)
    assert "no-store" in client.get("/readyz")["Cache-Control"]


# --- /metrics -------------------------------------------------------------------------

def test_metrics_carry_latency_by_view_queries_queue_depth_and_postings(client):
    client.get("/healthz")
    client.get("/no-such-page/4111111111111111")
    client.generic("MADEUP", "/healthz")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    body = response.content.decode()
    assert 'cbs_http_request_duration_seconds_bucket{le="0.005",method="GET",view="portals:healthz"}' in body
    assert 'view="unresolved"' in body
    assert 'method="other"' in body and "MADEUP" not in body
    assert "4111111111111111" not in body and "/healthz" not in body  # URL names, never raw paths
    assert "# TYPE cbs_db_queries_total counter" in body
    assert 'cbs_queue_jobs_waiting{queue="default"} 0.0' in body
    assert "cbs_ledger_postings_last_minute " in body


def test_metrics_count_a_views_database_queries(client):
    heartbeat(seconds_ago=5)
    client.get("/readyz")
    body = client.get("/metrics").content.decode()
    line = next(line for line in body.splitlines() if line.startswith('cbs_db_queries_total{view="portals:readyz"}'))
    assert float(line.split()[-1]) >= 3  # SELECT 1, the migration records, the heartbeats


def test_metrics_from_an_allowed_network(client, settings):
    settings.METRICS_ALLOWED_NETWORKS = ["10.20.0.0/16"]
    assert client.get("/metrics", REMOTE_ADDR="10.20.3.4").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.21.3.4").status_code == 403


def test_metrics_refused_outside_the_networks_without_the_token(client, settings):
    settings.METRICS_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    settings.METRICS_TOKEN = "a-long-random-token-for-prometheus-0123456789"
    outside = {"REMOTE_ADDR": "203.0.113.7"}
    refused = client.get("/metrics", **outside)
    assert refused.status_code == 403 and b"cbs_" not in refused.content
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong", **outside).status_code == 403
    # Without TRUSTED_PROXY a client's own X-Forwarded-For proves nothing.
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR="127.0.0.1", **outside).status_code == 403
    token = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {settings.METRICS_TOKEN}", **outside)
    assert token.status_code == 200 and b"cbs_queue_jobs_waiting" in token.content


def test_an_empty_token_opens_nothing(client, settings):
    settings.METRICS_ALLOWED_NETWORKS = []
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 403
    assert client.get("/metrics").status_code == 403


def test_postings_last_minute_counts_from_the_first_entry_of_the_minute(db):
    source = customer_account(1_000_00)
    target = customer_account()
    entries = [transfer(source, target, 1_00) for _ in range(5)]
    booked = [JournalEntry.objects.get(pk=entry.pk).booked_at for entry in entries]
    total = Posting.objects.count()
    assert health.postings_last_minute(now=booked[-1]) == total
    # A minute that starts at the third transfer holds it and the two after it: 2 postings each.
    assert health.postings_last_minute(now=booked[2] + datetime.timedelta(minutes=1)) == 6
    assert health.postings_last_minute(now=booked[-1] + datetime.timedelta(minutes=2)) == 0
    assert health.postings_last_minute(now=timezone.now() + datetime.timedelta(hours=1)) == 0
