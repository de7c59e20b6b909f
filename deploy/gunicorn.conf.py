"""gunicorn for CBS in production, behind nginx (deploy/nginx/cbs.conf).

    gunicorn -c deploy/gunicorn.conf.py config.wsgi:application

Sync workers: nginx buffers whole requests and responses, so a slow client never
holds a worker. GUNICORN_BIND and GUNICORN_WORKERS override the defaults below.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", 2 * multiprocessing.cpu_count() + 1))
worker_class = "sync"

# A settlement file of 20 MB is reconciled inside its request; nothing else comes close.
timeout = 60
graceful_timeout = 30
keepalive = 5
# Recycle each worker after about a thousand requests, staggered so that they do not
# all restart at once.
max_requests = 1000
max_requests_jitter = 100

# Request heads: a URL of 4 KB, 100 header fields of 8 KB each at most. Bodies are
# limited by nginx (client_max_body_size) and by portals.limits.RequestSizeLimitMiddleware.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190

# nginx runs on the same machine; only it may set X-Forwarded-Proto and X-Forwarded-For.
forwarded_allow_ips = "127.0.0.1"

accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")


def post_worker_init(worker):
    """Send no `Server: gunicorn` header: naming the server and its version helps only
    an attacker. gunicorn writes that header unconditionally (http.wsgi.Response
    .default_headers) and has no setting for it, so each worker drops the line."""
    from gunicorn.http.wsgi import Response

    if getattr(Response.default_headers, "without_server", False):
        return
    default_headers = Response.default_headers

    def without_server(self):
        return [line for line in default_headers(self) if not line.lower().startswith("server:")]

    without_server.without_server = True
    Response.default_headers = without_server
