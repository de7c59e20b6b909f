"""The supervisor's approval queue and the maker's own requests, through the browser's eyes."""

import datetime

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from banking.approvals.actions import reject_request
from banking.approvals.models import ApprovalRequest, Status
from banking.approvals.tests.factories import make_request, registered_test_kind, work_done_count
from banking.testing import PASSWORD, make_branch, make_user
from banking.users.roles import Role

HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def payout_kind():
    with registered_test_kind() as kind:
        yield kind


@pytest.fixture
def branch(db):
    return make_branch()


@pytest.fixture
def teller(branch):
    return make_user(Role.TELLER, branch=branch)


@pytest.fixture
def supervisor(branch):
    return make_user(Role.SUPERVISOR, branch=branch, approval_limit=10_00_000_00)


@pytest.fixture
def pending(teller):
    return make_request(teller, amount=1_23_456_78, summary="Cash withdrawal for Priya Sharma")


def detail_url(approval, verb="detail"):
    return reverse(f"supervisor:request-{verb}", kwargs={"pk": approval.pk})


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


# -- the queue ----------------------------------------------------------------------


def test_queue_lists_pending_requests_of_the_branch_newest_first(client, supervisor, teller, pending):
    newer = make_request(teller, amount=10_000_00, summary="Newer request")
    make_request(make_user(Role.TELLER, branch=make_branch()), summary="Another branch's request")
    make_request(supervisor, summary="The supervisor's own request")
    reject_request(actor=supervisor, request_id=make_request(teller, summary="Already rejected").pk, reason="No")
    client.force_login(supervisor)

    response = client.get(reverse("supervisor:queue"))

    assert response.status_code == 200
    text = response.text
    assert "Cash withdrawal for Priya Sharma" in text
    assert "₹1,23,456.78" in text
    assert "Test payout" in text
    assert teller.display_name in text
    assert text.index("Newer request") < text.index("Cash withdrawal for Priya Sharma")
    assert "Another branch&#x27;s request" not in text and "Another branch's request" not in text
    assert "The supervisor&#x27;s own request" not in text
    assert "Already rejected" not in text
    assert "2 waiting" in text
    assert detail_url(newer) in text


def test_queue_polls_only_its_results_in_the_background(client, supervisor, pending):
    client.force_login(supervisor)

    page = client.get(reverse("supervisor:queue"))
    assert 'hx-trigger="every 5s"' in page.text
    assert "X-CBS-Background" in page.text

    fragment = client.get(reverse("supervisor:queue"), headers={**HTMX, "X-CBS-Background": "1"})
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<section id="queue-results"')
    assert "<html" not in fragment.text
    assert "Cash withdrawal for Priya Sharma" in fragment.text
    assert "HX-Request" in fragment["Vary"]


def test_queue_filters_by_amount_in_rupees_kind_and_branch(client, supervisor, teller, pending):
    small = make_request(teller, amount=500_00, summary="Small one")
    head_office = make_request(make_user(Role.OPERATIONS), branch=None, amount=7_000_00, summary="Head office one")
    journal = make_request(make_user(Role.OPERATIONS), kind="ledger.manual_journal", amount=300_00,
                           payload={"narration": "Suspense clearing", "lines": []}, summary="Suspense clearing")
    client.force_login(supervisor)
    url = reverse("supervisor:queue")

    by_amount = client.get(url, {"amount_min": "1000", "amount_max": "200000"}, headers=HTMX).text
    assert "Cash withdrawal for Priya Sharma" in by_amount
    assert small.summary not in by_amount
    assert head_office.summary in by_amount

    by_branch = client.get(url, {"branch": "null"}, headers=HTMX).text
    assert head_office.summary in by_branch
    assert small.summary not in by_branch

    own_branch = client.get(url, {"branch": supervisor.branch.pk}, headers=HTMX).text
    assert small.summary in own_branch
    assert head_office.summary not in own_branch

    by_kind = client.get(url, {"kind": "tests.payout"}, headers=HTMX).text
    assert small.summary in by_kind and head_office.summary in by_kind
    assert journal.summary not in by_kind

    journals = client.get(url, {"kind": "ledger.manual_journal"}, headers=HTMX).text
    assert journal.summary in journals
    assert small.summary not in journals and head_office.summary not in journals


@pytest.mark.parametrize(
    "query",
    [
        {"amount_min": "lots"},
        {"amount_max": "-5"},
        {"amount_min": "10.555"},
        {"kind": "nonsense"},
        {"branch": "999999"},
        {"branch": "x"},
        {"page": "99"},
    ],
)
def test_queue_survives_any_filter_input(client, supervisor, pending, query):
    client.force_login(supervisor)
    assert client.get(reverse("supervisor:queue"), query).status_code in (200, 404)
    assert client.get(reverse("supervisor:queue"), query, headers=HTMX).status_code in (200, 404)


def test_queue_marks_requests_above_the_checkers_limit(client, branch, teller):
    junior = make_user(Role.SUPERVISOR, branch=branch, approval_limit=1_00_000_00)
    make_request(teller, amount=5_00_000_00)
    client.force_login(junior)
    assert "above your limit" in client.get(reverse("supervisor:queue")).text


def test_other_roles_cannot_see_the_queue(client, teller, pending):
    client.force_login(teller)
    assert client.get(reverse("supervisor:queue")).status_code == 403
    assert client.get(detail_url(pending)).status_code == 403


def test_navigation_badge_counts_pending_requests(client, supervisor, teller, pending):
    make_request(teller)
    client.force_login(supervisor)

    # Pages other than the queue and the home (whose lists carry the count) poll it.
    page = client.get(reverse("supervisor:tills")).text
    assert f'hx-get="{reverse("supervisor:queue-count")}"' in page

    badge = client.get(reverse("supervisor:queue-count"), headers={**HTMX, "X-CBS-Background": "1"})
    assert badge.status_code == 200
    assert ">2<" in badge.text
    assert "waiting for approval" in badge.text


def test_navigation_badge_is_empty_when_nothing_waits(client, supervisor):
    client.force_login(supervisor)
    # Nothing in the menu, and nothing beside the menu's button on a phone.
    badge = client.get(reverse("supervisor:queue-count"), headers=HTMX).text.strip()
    assert badge == '<span id="nav-toggler-badge" hx-swap-oob="innerHTML"></span>'


# -- the detail ---------------------------------------------------------------------


def test_detail_shows_the_request_in_words_with_both_decisions(client, supervisor, teller, pending):
    client.force_login(supervisor)

    response = client.get(detail_url(pending))

    assert response.status_code == 200
    text = response.text
    assert "Pay to" in text and "Priya Sharma" in text
    assert "Purpose" in text and "Rent" in text
    assert "₹1,23,456.78" in text
    assert teller.display_name in text
    assert supervisor.branch.name in text
    assert "(just now)" in text
    assert detail_url(pending, "approve") in text
    assert detail_url(pending, "reject") in text
    assert '"payee"' not in text  # words, not JSON


def test_supervisor_of_another_branch_gets_404(client, pending):
    elsewhere = make_user(Role.SUPERVISOR, branch=make_branch(), approval_limit=10_00_000_00)
    client.force_login(elsewhere)
    assert client.get(detail_url(pending)).status_code == 404
    assert client.post(detail_url(pending, "approve")).status_code == 404
    assert client.post(detail_url(pending, "reject"), {"reason": "No"}).status_code == 404
    pending.refresh_from_db()
    assert pending.status == Status.PENDING


def test_unknown_request_is_404(client, supervisor):
    client.force_login(supervisor)
    assert client.get("/supervisor/queue/999999/").status_code == 404
    assert client.post("/supervisor/queue/999999/approve/").status_code == 404
    assert client.get("/supervisor/queue/abc/").status_code == 404


def test_detail_of_own_request_explains_and_offers_no_decision(client, supervisor):
    own = make_request(supervisor)
    client.force_login(supervisor)
    response = client.get(detail_url(own))
    assert response.status_code == 200
    assert "You made this request, so another supervisor must check it." in response.text
    assert detail_url(own, "approve") not in response.text


def test_detail_over_the_limit_offers_only_reject(client, branch, teller):
    junior = make_user(Role.SUPERVISOR, branch=branch, approval_limit=1_000_00)
    approval = make_request(teller, amount=2_000_00)
    client.force_login(junior)
    text = client.get(detail_url(approval)).text
    assert "above your approval limit of ₹1,000.00" in text
    assert detail_url(approval, "approve") not in text
    assert detail_url(approval, "reject") in text


def test_queue_and_detail_ask_the_one_limit_rule(client, supervisor, teller, monkeypatch):
    """The screens and the decision share ApprovalRequest.exceeds_limit_of: a
    request it calls over the limit is marked so everywhere, whatever the amount."""
    approval = make_request(teller, amount=1_00)
    monkeypatch.setattr(ApprovalRequest, "exceeds_limit_of", lambda self, user: True)
    client.force_login(supervisor)
    assert "above your limit" in client.get(reverse("supervisor:queue")).text
    text = client.get(detail_url(approval)).text
    assert "above your approval limit" in text
    assert detail_url(approval, "approve") not in text


# -- approving and rejecting ---------------------------------------------------------


def test_approve_carries_out_the_work_and_returns_to_the_queue(client, supervisor, pending):
    client.force_login(supervisor)

    response = client.post(detail_url(pending, "approve"), follow=True)

    assert response.redirect_chain[-1][0] == reverse("supervisor:queue")
    assert "Approved and carried out: Cash withdrawal for Priya Sharma." in messages_of(response)
    pending.refresh_from_db()
    assert pending.status == Status.APPROVED
    assert pending.checker == supervisor
    assert work_done_count(pending) == 1


def test_approving_twice_says_so_and_runs_once(client, supervisor, pending):
    client.force_login(supervisor)
    client.post(detail_url(pending, "approve"))
    response = client.post(detail_url(pending, "approve"), follow=True)
    assert any("already approved by you" in text for text in messages_of(response))
    assert work_done_count(pending) == 1


def test_approving_own_request_is_refused_and_changes_nothing(client, supervisor):
    own = make_request(supervisor)
    client.force_login(supervisor)
    response = client.post(detail_url(own, "approve"), follow=True)
    assert response.status_code == 200
    assert "You made this request, so another person must check it." in messages_of(response)
    own.refresh_from_db()
    assert own.status == Status.PENDING
    assert work_done_count() == 0


def test_approving_over_the_limit_is_refused_and_changes_nothing(client, branch, teller):
    junior = make_user(Role.SUPERVISOR, branch=branch, approval_limit=1_000_00)
    approval = make_request(teller, amount=2_000_00)
    client.force_login(junior)
    response = client.post(detail_url(approval, "approve"), follow=True)
    assert any("above your approval limit" in text for text in messages_of(response))
    approval.refresh_from_db()
    assert approval.status == Status.PENDING


def test_approving_an_expired_request_is_refused(client, supervisor, pending):
    ApprovalRequest.objects.filter(pk=pending.pk).update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    client.force_login(supervisor)
    response = client.post(detail_url(pending, "approve"), follow=True)
    assert any("expired" in text for text in messages_of(response))
    assert "Expired on" in response.text
    pending.refresh_from_db()
    assert pending.status == Status.EXPIRED
    assert work_done_count() == 0


def test_a_failed_handler_is_reported_and_the_request_marked_failed(client, supervisor, teller):
    approval = make_request(teller, payload={"payee": "X", "fail": True})
    client.force_login(supervisor)
    response = client.post(detail_url(approval, "approve"), follow=True)
    assert any("could not be carried out" in text for text in messages_of(response))
    assert "not have enough available balance" in response.text
    approval.refresh_from_db()
    assert approval.status == Status.FAILED
    assert work_done_count() == 0


def test_reject_with_a_reason(client, supervisor, pending):
    client.force_login(supervisor)
    response = client.post(detail_url(pending, "reject"), {"reason": "Customer's signature does not match."},
                           follow=True)
    assert response.redirect_chain[-1][0] == reverse("supervisor:queue")
    assert any(text.startswith("Rejected: ") for text in messages_of(response))
    pending.refresh_from_db()
    assert pending.status == Status.REJECTED
    assert pending.decision_reason == "Customer's signature does not match."


@pytest.mark.parametrize("data", [{}, {"reason": ""}, {"reason": "   \n "}])
def test_reject_without_a_reason_shows_the_form_again_and_changes_nothing(client, supervisor, pending, data):
    client.force_login(supervisor)
    response = client.post(detail_url(pending, "reject"), data)
    assert response.status_code == 200
    assert "Give a reason for the rejection; the maker will read it." in response.text
    pending.refresh_from_db()
    assert pending.status == Status.PENDING


def test_rejecting_a_decided_request_is_refused(client, supervisor, branch, pending):
    other = make_user(Role.BRANCH_MANAGER, branch=branch, approval_limit=1_00_00_000_00)
    reject_request(actor=other, request_id=pending.pk, reason="Incomplete")
    client.force_login(supervisor)
    response = client.post(detail_url(pending, "reject"), {"reason": "Me too"}, follow=True)
    assert any("already rejected" in text for text in messages_of(response))
    pending.refresh_from_db()
    assert pending.decision_reason == "Incomplete"


def test_deciding_needs_the_supervisor_role(client, teller, branch, pending):
    other_teller = make_user(Role.TELLER, branch=branch)
    client.force_login(other_teller)
    assert client.post(detail_url(pending, "approve")).status_code == 403
    assert client.post(detail_url(pending, "reject"), {"reason": "No"}).status_code == 403
    pending.refresh_from_db()
    assert pending.status == Status.PENDING


# -- re-authentication above the threshold -------------------------------------------


@override_settings(CBS_REAUTH_APPROVAL_ABOVE=1_00_000_00)
def test_large_approval_asks_for_the_password_again_then_carries_on(client, supervisor, teller):
    large = make_request(teller, amount=1_00_000_01)
    client.force_login(supervisor)

    response = client.post(detail_url(large, "approve"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    asked = client.get(response["Location"])
    assert "need your password again" in asked.text
    large.refresh_from_db()
    assert large.status == Status.PENDING
    assert "password again" in client.get(detail_url(large)).text

    wrong = client.post(response["Location"], {"password": "not-my-password"})
    assert wrong.status_code == 200
    large.refresh_from_db()
    assert large.status == Status.PENDING

    confirmed = client.post(response["Location"], {"password": PASSWORD})
    assert confirmed.status_code == 302
    assert confirmed["Location"] == reverse("supervisor:queue")
    large.refresh_from_db()
    assert large.status == Status.APPROVED
    assert work_done_count(large) == 1


def test_no_password_is_asked_for_an_approval_that_would_be_refused(client, supervisor, teller):
    over_limit = make_request(teller, amount=25_00_000_00)  # above both the threshold and the limit
    client.force_login(supervisor)
    response = client.post(detail_url(over_limit, "approve"), follow=True)
    assert response.redirect_chain[0][0] == detail_url(over_limit)
    assert any("above your approval limit" in text for text in messages_of(response))


@override_settings(CBS_REAUTH_APPROVAL_ABOVE=1_00_000_00)
def test_amount_at_the_threshold_needs_no_reauthentication(client, supervisor, teller):
    at_threshold = make_request(teller, amount=1_00_000_00)
    client.force_login(supervisor)
    response = client.post(detail_url(at_threshold, "approve"))
    assert response["Location"] == reverse("supervisor:queue")
    at_threshold.refresh_from_db()
    assert at_threshold.status == Status.APPROVED


# -- the maker's side ----------------------------------------------------------------


def test_teller_sees_own_requests_and_how_each_was_decided(client, teller, supervisor, branch):
    waiting = make_request(teller, summary="Still waiting")
    rejected = make_request(teller, summary="Turned down")
    reject_request(actor=supervisor, request_id=rejected.pk, reason="PAN card copy missing")
    make_request(make_user(Role.TELLER, branch=branch), summary="Someone else's request")
    client.force_login(teller)

    response = client.get(reverse("teller:my-requests"))

    assert response.status_code == 200
    text = response.text
    assert waiting.summary in text and "Waiting for a checker" in text
    assert rejected.summary in text
    assert f"Rejected by {supervisor.display_name}" in text
    assert "PAN card copy missing" in text
    assert "Someone else" not in text
    assert "1 waiting for a checker" in text


def test_my_requests_fragment_polls_in_the_background(client, teller, supervisor):
    approval = make_request(teller, summary="Watch me")
    client.force_login(teller)
    page = client.get(reverse("teller:my-requests"))
    assert 'hx-trigger="every 10s"' in page.text and "X-CBS-Background" in page.text

    reject_request(actor=supervisor, request_id=approval.pk, reason="Wrong account")
    fragment = client.get(reverse("teller:my-requests"), headers={**HTMX, "X-CBS-Background": "1"})
    assert fragment.text.lstrip().startswith('<section id="my-requests-results"')
    assert "Wrong account" in fragment.text
    assert "<html" not in fragment.text


def test_operations_see_their_own_requests_in_the_ops_portal(client, db):
    operations = make_user(Role.OPERATIONS)
    make_request(operations, branch=None, summary="Manual journal: rent accrual")
    client.force_login(operations)
    response = client.get(reverse("ops:my-requests"))
    assert response.status_code == 200
    assert "Manual journal: rent accrual" in response.text
    assert 'href="/ops/requests/"' in response.text  # the ops navigation, not the teller's


def test_my_requests_refuses_other_roles(client, branch):
    client.force_login(make_user(Role.CUSTOMER))
    assert client.get(reverse("teller:my-requests")).status_code == 403
    assert client.get(reverse("ops:my-requests")).status_code == 403
    client.force_login(make_user(Role.TELLER, branch=branch))
    assert client.get(reverse("ops:my-requests")).status_code == 403


def test_ages_read_in_one_unit():
    from portals.templatetags import ages

    def age(moment):  # timesince keeps "5 minutes" together with a no-break space
        return ages.age(moment).replace("\xa0", " ")

    def remaining(moment):
        return ages.remaining(moment).replace("\xa0", " ")

    now = timezone.now()
    assert age(now) == "just now"
    assert age(now - datetime.timedelta(minutes=5, seconds=10)) == "5 minutes ago"
    assert age(now - datetime.timedelta(days=2, hours=3)) == "2 days ago"
    assert remaining(now + datetime.timedelta(hours=23, minutes=59)) == "in 23 hours"
    assert remaining(now - datetime.timedelta(minutes=1)) == "now"
