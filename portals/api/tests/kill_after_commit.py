"""Run by test_idempotency.py in a process of its own: send one payment through the API
and die (SIGKILL) the moment its transaction commits, before any answer leaves.

Environment: DATABASE_URL (the test database), CBS_TOKEN, CBS_KEY, CBS_BODY (JSON)."""

import os
import signal

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
django.setup()

from django.db import transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from portals.api import customer  # noqa: E402

setup_test_environment()
send = customer._send


def send_then_die_at_commit(*args, **kwargs):
    response = send(*args, **kwargs)
    transaction.on_commit(lambda: os.kill(os.getpid(), signal.SIGKILL))
    return response


customer._send = send_then_die_at_commit
Client().post("/api/v1/payments/", os.environ["CBS_BODY"], content_type="application/json",
              headers={"Authorization": f"Bearer {os.environ['CBS_TOKEN']}", "Idempotency-Key": os.environ["CBS_KEY"]})
print("the request answered: it should have died at its commit")
