"""What the load balancer and Prometheus read: readiness (`/readyz`) and metrics
(`/metrics`). Liveness (`/healthz`, portals.views) asks nothing of the database.

`/metrics` is in Prometheus's text format (prometheus-client) and carries:
- cbs_http_request_duration_seconds: a histogram of each request's time, labelled by
  the view's URL name (`teller:deposit`), never by the raw path (an account number
  in a path would make a series per account, and put it in the metrics);
  "unresolved" for answers given before a view was found (a 404, a refused NUL);
- cbs_db_queries_total: the database queries each view ran (Django's default
  connection); divided by the histogram's _count, queries per request;
- cbs_queue_jobs_waiting{queue}: the background queue's depth;
- cbs_ledger_postings_last_minute: postings the ledger wrote in the last minute.

It is readable from the networks in METRICS_ALLOWED_NETWORKS (CIDRs; the client's
address as banking.audit.middleware.client_ip reads it, so behind the bank's nginx
with TRUSTED_PROXY on, never nginx's own) or with `Authorization: Bearer
<METRICS_TOKEN>`, compared in constant time. Anyone else gets a 403 and no figures.

Under gunicorn each worker process counts its own requests; with
PROMETHEUS_MULTIPROC_DIR set (deploy/gunicorn.conf.py sets it) prometheus-client
writes them to files there and a scrape adds up every worker's.
"""

import hmac
import ipaddress
import os
import time

from django.conf import settings
from django.db import connection
from django.http import HttpResponse, HttpResponseForbidden, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from banking.audit.middleware import client_ip
from banking.core import health

from .policies import public

UNRESOLVED = "unresolved"
# Any other method a client invents is counted as "other": a label per made-up method
# would let anyone grow the metrics without bound.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REQUEST_SECONDS = Histogram(
    "cbs_http_request_duration_seconds", "Time to answer a request, by the view's URL name.", ["view", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
DB_QUERIES = Counter("cbs_db_queries", "Database queries run while answering requests, by view.", ["view"])


class RequestMetricsMiddleware:
    """Times every request and counts its database queries, labelled by the URL name
    of the view that answered (request.resolver_match, set once the URL resolved)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        queries = 0

        def count(execute, sql, params, many, context):
            nonlocal queries
            queries += 1
            return execute(sql, params, many, context)

        started = time.perf_counter()
        with connection.execute_wrapper(count):
            response = self.get_response(request)
        elapsed = time.perf_counter() - started
        match = getattr(request, "resolver_match", None)
        view = (match.view_name or UNRESOLVED) if match is not None else UNRESOLVED
        method = request.method if request.method in METHODS else "other"
        REQUEST_SECONDS.labels(view=view, method=method).observe(elapsed)
        if queries:
            DB_QUERIES.labels(view=view).inc(queries)
        return response


@require_GET
@never_cache
@public("The load balancer asks it before sending traffic; it names checks, never their errors' text.")
def readyz(request):
    ready, checks = health.readiness()
    return JsonResponse({"status": "ready" if ready else "not ready", "checks": checks}, status=200 if ready else 503)


def metrics_allowed(request):
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer "):
        return hmac.compare_digest(header.removeprefix("Bearer ").strip().encode(), token.encode())
    try:
        address = ipaddress.ip_address(client_ip(request) or "")
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(network, strict=False) for network in settings.METRICS_ALLOWED_NETWORKS)


class FiguresCollector(Collector):
    """The figures read from the database at each scrape (not counted by any process,
    so the same in every worker)."""

    def collect(self):
        waiting = GaugeMetricFamily("cbs_queue_jobs_waiting", "Background jobs waiting to run, by queue.",
                                    labels=["queue"])
        for queue, count in health.queue_depth().items():
            waiting.add_metric([queue], count)
        yield waiting
        yield GaugeMetricFamily("cbs_ledger_postings_last_minute", "Postings the ledger wrote in the last minute.",
                                value=health.postings_last_minute())


@require_GET
@never_cache
@public("Prometheus scrapes it without a session: it checks the allowed networks or the bearer token itself.")
def metrics(request):
    if not metrics_allowed(request):
        return HttpResponseForbidden("Metrics are readable only from the allowed networks or with the token.\n",
                                     content_type="text/plain; charset=utf-8")
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        requests_registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(requests_registry)
    else:
        requests_registry = REGISTRY
    figures = CollectorRegistry()
    figures.register(FiguresCollector())
    body = generate_latest(requests_registry) + generate_latest(figures)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
