"""Fixtures shared by every test package (loaded with `-p banking.testing`)."""

import itertools
import threading

import pytest

# Django is configured after plugins load, so models are imported inside the helpers.

PASSWORD = "correct-horse-battery-9"
_serial = itertools.count(1)
# Whether make_user has synced the role groups in this test (the `_roles_synced_once_per_test`
# fixture clears it before each one).
_roles = {"synced": False}


def totp_code(secret, at=None):
    import time

    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    counter = int(at if at is not None else time.time()) // 30
    return format_hotp_value(hotp_value(secret, counter))


def give_totp(user):
    """Enrol an authenticator app for `user`; returns the secret to compute codes from."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def run_together(*calls):
    """Run each call in a thread and database connection of its own, all released at
    the same moment (on PostgreSQL, in a transactional test); return (results, errors)."""
    from django.db import connection

    barrier = threading.Barrier(len(calls))
    results, errors = [], []

    def run(call):
        try:
            barrier.wait()
            results.append(call())
        except Exception as error:  # noqa: BLE001 - collected for the assertions
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


def make_branch(code=None, **extra):
    from banking.users.models import Branch

    n = next(_serial)
    code = code or f"{900000 + n}"
    defaults = {
        "name": f"Branch {code}", "ifsc": f"CBSB0{code}", "address": "1 Main Road",
        "city": "Pune", "state": "Maharashtra", "pincode": "411001",
    }
    defaults.update(extra)
    return Branch.objects.create(code=code, **defaults)


def make_user(role=None, *, branch=None, username=None, approval_limit=0, mfa=True, password=PASSWORD, **extra):
    """A user with `role`; staff get a profile and (unless mfa=False) an authenticator app."""
    from django.contrib.auth.models import Group

    from banking.users.models import StaffProfile, User
    from banking.users.roles import Role, sync_roles

    if not _roles["synced"]:  # 43 queries; the groups do not change between two people of one test
        sync_roles()
        _roles["synced"] = True
    n = next(_serial)
    role = Role(role) if role else None
    username = username or f"{role.value if role else 'user'}{n}"
    user = User.objects.create_user(
        username=username, email=f"{username}@example.in", password=password,
        first_name=username.title(), last_name="Tester", **extra,
    )
    if role:
        user.groups.add(Group.objects.get(name=role.value))
        if role != Role.CUSTOMER:
            StaffProfile.objects.create(
                user=user, employee_id=f"T{n:05d}", branch=branch, approval_limit=approval_limit
            )
            if role == Role.ADMINISTRATOR:
                user.is_staff = True
                user.save()
    if mfa and role and role != Role.CUSTOMER:
        user.totp_secret = give_totp(user)
    return user


@pytest.fixture(autouse=True)
def _roles_synced_once_per_test():
    _roles["synced"] = False


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def branch(db):
    return make_branch()


@pytest.fixture
def user_factory(db):
    return make_user


@pytest.fixture(autouse=True)
def _empty_job_queue(request, django_db_blocker):
    """A test that commits leaves its background jobs behind, which Django's flush does
    not remove: empty the queue after it, so that the next test starts with none."""
    yield
    marker = request.node.get_closest_marker("django_db")
    commits = {"transactional_db", "live_server"} & set(request.fixturenames) or (
        marker is not None and marker.kwargs.get("transaction"))
    if commits:
        from banking.core.jobs import forget_all_jobs

        with django_db_blocker.unblock():
            forget_all_jobs()


@pytest.fixture
def run_jobs(db):
    """Call `run_jobs()` to run every background job that is due, in the test's own
    thread and transaction, until none is left (jobs those runs defer included);
    it returns how many it started. `run_jobs(queues=["mail"])` runs only those queues.
    Periodic tasks are not deferred by it: defer one with `jobs.defer` to run it."""
    from banking.core.jobs import run_waiting

    return run_waiting
