"""A webhook receiver on localhost that verifies the bank's signature as a partner
would, and can be told to fail its first requests."""

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def verify(secret, header, body, *, tolerance=300):
    """A partner's check of `X-CBS-Signature: t=<unix>,v1=<hex>`."""
    parts = dict(part.split("=", 1) for part in header.split(","))
    timestamp = int(parts["t"])
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"]) and abs(time.time() - timestamp) <= tolerance


class Receiver:
    def __init__(self, *, fail_first=0):
        self.secret = ""
        self.fail_first = fail_first
        self.requests = []  # every request: (signature header, body bytes)
        self.accepted = []  # events taken: parsed bodies whose signature verified
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                header = self.headers.get("X-CBS-Signature", "")
                receiver.requests.append((header, body))
                if len(receiver.requests) <= receiver.fail_first:
                    self.send_response(503)
                elif not verify(receiver.secret, header, body):
                    self.send_response(400)
                else:
                    event = json.loads(body)
                    if event["id"] not in {seen["id"] for seen in receiver.accepted}:
                        receiver.accepted.append(event)
                    self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
