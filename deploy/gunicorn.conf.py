"""gunicorn for CBS in production, behind nginx (deploy/nginx/cbs.conf).

    gunicorn -c deploy/gunicorn.conf.py config.wsgi:application

Sync workers: nginx buffers whole requests and responses, so a slow client never
holds a worker. GUNICORN_BIND, GUNICORN_WORKERS, GUNICORN_FORWARDED_ALLOW_IPS,
GUNICORN_LOG_LEVEL and GUNICORN_CONTROL_SOCKET override the defaults below.
"""

import multiprocessing
import os
import tempfile

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
# On a machine of its own, name its address (deploy/nginx/cbs.conf's upstream).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")

# /metrics adds up every worker process's request counts (prometheus-client's
# multiprocess mode, portals/monitoring.py): each worker writes its figures to files in
# this directory, a fresh private one unless PROMETHEUS_MULTIPROC_DIR names one.
prometheus_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(prefix="cbs-prometheus-")
os.environ["PROMETHEUS_MULTIPROC_DIR"] = prometheus_dir

# One line per request on stdout, ending with the time it took in milliseconds. The
# client's address is nginx's: nginx's own access log has the client's.
accesslog = "-"
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms'
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

# gunicorn's control socket (gunicornc) is one path per user by default, so a second
# gunicorn on the machine (a benchmark, a test, `make serve`) would take over the
# first's. Off unless a path of its own is given.
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET") or None
control_socket_disable = control_socket is None


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


def _clear_metrics():
    os.makedirs(prometheus_dir, mode=0o700, exist_ok=True)
    for name in os.listdir(prometheus_dir):
        if name.endswith(".db"):
            os.remove(os.path.join(prometheus_dir, name))


def on_starting(server):
    """Start the metrics afresh: figures left by a previous run's workers would be added in."""
    _clear_metrics()


def on_exit(server):
    _clear_metrics()


def child_exit(server, worker):
    """A worker that stopped (recycled after max_requests, or killed) keeps its counters
    in the sum; its live gauges are dropped."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
