import datetime
import time
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse

from banking.audit.actions import record_event, seal_events, verify_trail
from banking.audit.models import AuditEvent, AuditSeal
from banking.testing import PASSWORD, make_branch, make_user, totp_code
from banking.users.roles import Role


def _events(n):
    return [record_event(action="test.event", object_type="test", object_id=str(i), after={"i": i}) for i in range(n)]


def _tamper(sql, params=()):
    """What a DBA with trigger-bypass rights could do: the app itself cannot."""
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute(sql, params)
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")


@pytest.mark.django_db
def test_an_intact_trail_verifies():
    _events(5)
    assert seal_events() == 5
    assert verify_trail() is None
    call_command("verify_audit")


@pytest.mark.django_db
def test_an_event_is_hashed_over_what_the_database_gives_back_whatever_its_values():
    """Plain JSON values are stored as given; tuples, decimals, dates and non-text keys
    are turned into what JSON makes of them first, so every hash verifies."""
    plain = {"lines": [[1, "D", 100]], "checker": None, "ok": True, "note": "₹1.00"}
    given = {"pair": (1, 2), "rate": Decimal("6.50"), "on": datetime.date(2026, 11, 28), 7: "seven"}
    events = [record_event(action="test.event", object_type="test", object_id=str(n), before=before, after=after)
              for n, (before, after) in enumerate([(None, plain), (given, plain), (plain, given)])]
    assert events[0].after is plain  # nothing to convert: not copied
    stored = AuditEvent.objects.get(pk=events[2].pk)
    assert stored.after == {"pair": [1, 2], "rate": "6.50", "on": "2026-11-28", "7": "seven"} == events[2].after
    rows = AuditEvent.objects.filter(pk__in=[e.pk for e in events]).with_recomputed_hash().order_by("pk")
    assert [(row.content_hash, row.recomputed_hash) for row in rows] == [(e.content_hash,) * 2 for e in events]
    seal_events()
    assert verify_trail() is None


@pytest.mark.django_db
def test_the_database_hashes_an_event_from_its_stored_fields():
    """The content hash is SHA-256 over the canonical JSON PostgreSQL makes of the
    stored fields: one rule, in the audit trail's SQL, for every writer. Written out
    here to pin it: every stored hash depends on it, so a change to it is a change
    of rule (see banking/audit/models.py), never a tidy-up."""
    (event,) = _events(1)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT encode(sha256(convert_to(jsonb_build_object("
            " 'occurred_at', to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
            " 'actor_id', actor_id, 'actor_username', actor_username, 'role', role, 'ip', ip,"
            " 'user_agent', user_agent, 'request_id', request_id, 'channel', channel, 'action', action,"
            " 'object_type', object_type, 'object_id', object_id, 'summary', summary,"
            " 'before', before, 'after', after)::text, 'UTF8')), 'hex') FROM audit_auditevent WHERE id = %s",
            [event.pk],
        )
        assert cursor.fetchone()[0] == event.content_hash


@pytest.mark.django_db
def test_an_event_written_by_sql_verifies():
    """A database function records its event through cbs_record_event, as the posting
    function does, and gets the same hash rule."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, content_hash FROM cbs_record_event(now(), NULL, '', '', '10.0.0.7'::inet, '', '', 'system',"
            " 'test.sql', 'test', '42', 'From SQL ₹ \\u0000', NULL, '{\"b\": [1.50, null], \"a\": \"x\"}'::jsonb)"
        )
        event_id, content_hash = cursor.fetchone()
    row = AuditEvent.objects.with_recomputed_hash().get(pk=event_id)
    assert (row.content_hash, row.recomputed_hash, row.object_id) == (content_hash, content_hash, "42")
    seal_events()
    assert verify_trail() is None


@pytest.mark.django_db
def test_the_hash_does_not_depend_on_the_sessions_time_zone():
    with connection.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'Asia/Kolkata'")
        _events(2)
        cursor.execute("SET TIME ZONE 'America/New_York'")
        seal_events()
        try:
            assert verify_trail() is None
        finally:
            cursor.execute("SET TIME ZONE 'UTC'")


@pytest.mark.django_db
@pytest.mark.parametrize(("column", "value"), [
    ("occurred_at", "occurred_at + interval '1 microsecond'"), ("actor_id", "4242"), ("actor_username", "'eve'"),
    ("role", "'auditor'"), ("ip", "'10.9.9.9'"), ("user_agent", "'x'"), ("request_id", "'r-2'"),
    ("channel", "'api'"), ("object_type", "'other'"), ("object_id", "'999'"), ("before", "'{\"i\": 0}'"),
    ("after", "'{\"i\": 2}'"),
])
def test_every_hashed_field_is_covered(column, value):
    events = _events(3)
    seal_events()
    _tamper(f"UPDATE audit_auditevent SET {column} = {value} WHERE id = %s", [events[1].id])  # noqa: S608 test constants
    finding = verify_trail()
    assert (finding.event_id, "altered" in finding.problem) == (events[1].id, True)


@pytest.mark.django_db
def test_verify_reports_an_edited_event_and_exits_non_zero(capsys):
    events = _events(5)
    seal_events()
    _tamper("UPDATE audit_auditevent SET summary = 'nothing to see' WHERE id = %s", [events[2].id])
    finding = verify_trail()
    assert finding.event_id == events[2].id
    assert "altered" in finding.problem
    with pytest.raises(SystemExit) as exit_info:
        call_command("verify_audit")
    assert exit_info.value.code == 1
    assert f"event #{events[2].id}" in capsys.readouterr().err


@pytest.mark.django_db
def test_verify_reports_a_deleted_event():
    events = _events(5)
    seal_events()
    _tamper("DELETE FROM audit_auditevent WHERE id = %s", [events[1].id])
    finding = verify_trail()
    assert finding.event_id == events[1].id
    assert "removed" in finding.problem


@pytest.mark.django_db
def test_verify_reports_reordered_events():
    events = _events(4)
    seal_events()
    a, b = events[1].id, events[2].id
    _tamper("UPDATE audit_auditevent SET id = -1 WHERE id = %s", [a])
    _tamper("UPDATE audit_auditevent SET id = %s WHERE id = %s", [a, b])
    _tamper("UPDATE audit_auditevent SET id = %s WHERE id = -1", [b])
    finding = verify_trail()
    assert finding.event_id == a


@pytest.mark.django_db
def test_verify_reports_an_edited_seal():
    events = _events(3)
    seal_events()
    _tamper("UPDATE audit_auditseal SET content_hash = %s WHERE event_id = %s", ["0" * 64, events[0].id])
    assert "chain is broken" in verify_trail().problem


@pytest.mark.django_db
def test_an_unsealed_edit_is_caught_too():
    events = _events(2)
    _tamper("UPDATE audit_auditevent SET action = 'other' WHERE id = %s", [events[0].id])
    assert verify_trail().event_id == events[0].id


@pytest.mark.django_db
def test_the_database_rejects_update_and_delete():
    (event,) = _events(1)
    seal_events()
    for sql in (
        "UPDATE audit_auditevent SET summary = 'x'",
        "DELETE FROM audit_auditevent",
        "UPDATE audit_auditseal SET chain_hash = 'x'",
        "DELETE FROM audit_auditseal",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert AuditEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.django_db
def test_sealing_is_incremental_and_idempotent():
    _events(3)
    assert seal_events() == 3
    assert seal_events() == 0
    _events(2)
    assert seal_events() == 2
    assert AuditSeal.objects.count() == 5
    assert verify_trail() is None


# -- sign-in events ---------------------------------------------------------------


@pytest.fixture
def teller(db):
    return make_user(Role.TELLER, branch=make_branch())


def _actions():
    return list(AuditEvent.objects.order_by("id").values_list("action", flat=True))


def test_login_and_logout_are_audited(client, teller):
    client.post(reverse("account_login"), {"login": teller.username, "password": PASSWORD})
    client.post(reverse("mfa_authenticate"), {"code": totp_code(teller.totp_secret)})
    login = AuditEvent.objects.get(action="auth.login")
    assert login.actor_id == teller.id
    assert login.ip == "127.0.0.1"
    assert login.request_id
    client.post(reverse("account_logout"))
    assert AuditEvent.objects.filter(action="auth.logout", actor_id=teller.id).exists()


def test_failed_login_is_audited_without_the_password(client, teller):
    client.post(reverse("account_login"), {"login": teller.username, "password": "wrong-password-77"})
    event = AuditEvent.objects.get(action="auth.login_failed")
    assert teller.username in event.summary
    assert "wrong-password-77" not in str(event.after) + event.summary


def test_wrong_totp_is_audited(client, teller):
    client.post(reverse("account_login"), {"login": teller.username, "password": PASSWORD})
    client.post(reverse("mfa_authenticate"), {"code": "123456"})
    assert AuditEvent.objects.filter(action="mfa.failed", actor_id=teller.id).exists()


def test_password_change_is_audited(client, teller):
    client.force_login(teller)
    # Changing a credential first asks for the password and the authenticator code.
    client.post(reverse("portals:confirm-identity"), {"password": PASSWORD, "code": totp_code(teller.totp_secret)})
    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": "a-new-long-passphrase", "password2": "a-new-long-passphrase"},
    )
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="auth.password_changed", actor_id=teller.id).exists()


def test_mfa_added_and_removed_are_audited(client, db, django_capture_on_commit_callbacks, settings):
    from allauth.mfa.models import Authenticator

    # The captured on-commit callbacks run here after the request has ended, where
    # allauth's notification mail has no request to build its links from; in a
    # server they run inside the request.
    settings.ACCOUNT_EMAIL_NOTIFICATIONS = False

    user = make_user(Role.OPERATIONS, mfa=False)
    client.post(reverse("account_login"), {"login": user.username, "password": PASSWORD})
    # Adding an authenticator needs a fresh re-authentication (allauth's reauthenticate flow).
    assert client.get(reverse("mfa_activate_totp"))["Location"].startswith(reverse("account_reauthenticate"))
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    client.get(reverse("mfa_activate_totp"))
    secret = client.session["mfa.totp.secret"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=user, type="totp").exists()
    assert AuditEvent.objects.filter(action="mfa.added", actor_id=user.id).exists()

    # Removing it asks for the password and a code from the authenticator itself.
    client.post(reverse("portals:confirm-identity"),
                {"password": PASSWORD, "code": totp_code(secret, at=time.time() + 30)})
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("mfa_deactivate_totp"))
    assert AuditEvent.objects.filter(action="mfa.removed", actor_id=user.id).exists()


def test_every_state_changing_request_is_audited(client, teller):
    client.force_login(teller)
    client.post(reverse("account_logout"))
    assert AuditEvent.objects.filter(action="http.post", object_id=reverse("account_logout")).exists()


@pytest.mark.django_db(transaction=True)
def test_a_request_whose_work_is_audited_gets_no_extra_http_event():
    user = make_user(Role.TELLER, mfa=False)
    client = Client()  # outside a test transaction, so commits happen as in production
    client.force_login(user)
    client.post(reverse("account_logout"))  # the logout writes its own event
    assert AuditEvent.objects.filter(action="auth.logout", actor_id=user.pk).exists()
    assert not AuditEvent.objects.filter(action="http.post", object_id=reverse("account_logout")).exists()
    # A POST that writes no event of its own (a sign-in form sent empty) is still on the trail.
    client.post(reverse("account_login"), {})
    assert AuditEvent.objects.filter(action="http.post", object_id=reverse("account_login")).exists()
