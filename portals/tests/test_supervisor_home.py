"""The supervisor's home is the queue: what waits (live), its counts and the tills
waiting for sign-off. The navigation's count of the queue comes from the same
response as the list, on the queue and on the home, and on a phone it shows beside
the folded menu's button."""

import re

import pytest
from django.urls import reverse

from banking.approvals.actions import approve_request
from banking.approvals.tests.factories import make_request, registered_test_kind
from banking.teller.actions import close_till
from banking.teller.tests.factories import OPENING, funded_branch, key, supervisor_for, teller_with_open_till
from banking.testing import make_user
from banking.users.roles import Role

HTMX = {"HX-Request": "true", "X-CBS-Background": "1"}
BADGE = 'id="nav-badge-supervisorqueue-count"'
TOGGLER = 'id="nav-toggler-badge"'


@pytest.fixture(autouse=True)
def payout_kind():
    with registered_test_kind() as kind:
        yield kind


@pytest.fixture
def branch(db):
    return funded_branch()


@pytest.fixture
def supervisor(branch):
    return supervisor_for(branch, mfa=True)


@pytest.fixture
def teller(branch, supervisor):
    return teller_with_open_till(branch, supervisor, mfa=True)


def element(html, marker):
    """The element that starts with `marker` (an id attribute), up to its closing tag."""
    start = html.rindex("<", 0, html.index(marker))
    tag = re.match(r"<(\w+)", html[start:]).group(1)
    return html[start:html.index(f"</{tag}>", start) + len(tag) + 3]


def count_in(fragment):
    found = re.search(r'data-testid="queue-count">(\d+)<', fragment)
    return int(found.group(1)) if found else 0


# -- the badge and the list: one response --------------------------------------------


def test_the_queues_live_update_carries_the_badges_out_of_band(client, supervisor, teller):
    for number in range(3):
        make_request(teller, summary=f"Payout {number}")
    client.force_login(supervisor)
    response = client.get(reverse("supervisor:queue"), headers=HTMX)
    html = response.text
    assert "3 waiting" in html
    badge = element(html, BADGE)
    assert 'hx-swap-oob="innerHTML"' in badge and count_in(badge) == 3
    toggler = element(html, TOGGLER)
    assert 'hx-swap-oob="innerHTML"' in toggler and ">3<" in toggler
    assert "waiting for approval" in toggler


def test_the_queue_page_draws_its_badge_from_the_list_not_a_poll_of_its_own(client, supervisor, teller):
    make_request(teller)
    make_request(teller)
    client.force_login(supervisor)
    html = client.get(reverse("supervisor:queue")).text
    assert "2 waiting" in html
    badge = element(html, BADGE)
    assert count_in(badge) == 2 and "hx-get" not in badge
    assert ">2<" in element(html, TOGGLER)
    assert f'hx-get="{reverse("supervisor:queue-count")}"' not in html


def test_a_filtered_list_leaves_the_badge_at_the_whole_queue(client, supervisor, teller):
    make_request(teller, amount=100_00)
    make_request(teller, amount=9_000_00)
    client.force_login(supervisor)
    html = client.get(reverse("supervisor:queue") + "?amount_min=1000", headers=HTMX).text
    assert "1 waiting" in html and count_in(element(html, BADGE)) == 2


def test_after_an_approval_the_queue_and_its_badge_agree(client, supervisor, teller):
    first = make_request(teller)
    make_request(teller)
    client.force_login(supervisor)
    response = client.post(reverse("supervisor:request-approve", kwargs={"pk": first.pk}), follow=True)
    html = response.text
    assert "1 waiting" in html and count_in(element(html, BADGE)) == 1


# -- the badge elsewhere, and on a phone ----------------------------------------------


def test_other_pages_poll_the_count_which_also_fills_the_phones_badge(client, supervisor, teller):
    make_request(teller)
    client.force_login(supervisor)
    page = client.get(reverse("supervisor:tills")).text
    assert f'hx-get="{reverse("supervisor:queue-count")}"' in page
    # Beside the menu button, outside the folded menu, hidden from the large breakpoint up.
    toggler = element(page, TOGGLER)
    assert "d-lg-none" in toggler
    assert page.index(TOGGLER) < page.index('id="portal-nav"')
    fragment = client.get(reverse("supervisor:queue-count"), headers=HTMX).text
    assert count_in(fragment) == 1
    toggler = element(fragment, TOGGLER)
    assert 'hx-swap-oob="innerHTML"' in toggler and ">1<" in toggler
    assert f'href="{reverse("supervisor:queue")}"' in toggler


def test_an_empty_queue_shows_no_badge_on_a_phone_either(client, supervisor):
    client.force_login(supervisor)
    fragment = client.get(reverse("supervisor:queue-count"), headers=HTMX).text
    assert 'data-testid="queue-count"' not in fragment
    assert element(fragment, TOGGLER) == '<span id="nav-toggler-badge" hx-swap-oob="innerHTML"></span>'


# -- the home -------------------------------------------------------------------------


def test_the_home_is_the_queue_its_counts_and_the_tills_to_sign_off(client, supervisor, teller, payout_kind):
    make_request(teller, summary="Payout to Priya Sharma")
    make_request(teller, amount=2_00_00_000_00, summary="Payout to Ravi Menon")
    day = close_till(actor=teller, counted=OPENING, idempotency_key=key())
    client.force_login(supervisor)
    html = client.get(reverse("supervisor:home")).text
    # The queue itself, live: it redraws from the queue's address, which carries the badge.
    assert "Payout to Priya Sharma" in html and "Payout to Ravi Menon" in html
    assert "3 waiting" in html
    assert f'hx-get="{reverse("supervisor:queue")}' in html
    assert count_in(element(html, BADGE)) == 3
    # Its counts: by kind, and what is above the supervisor's limit.
    counts = element(html, 'id="queue-counts"')
    assert re.search(r"Till closure sign-off\D*1", counts) and re.search(r"Test payout\D*2", counts)
    assert re.search(r"above your limit\D*1|1\D*above your limit", counts)
    # The tills waiting for sign-off, each with the way to it.
    tills = element(html, 'id="tills-to-sign-off"')
    assert teller.display_name in tills
    assert reverse("supervisor:request-detail", kwargs={"pk": day.close_request_id}) in tills


def test_the_home_says_when_nothing_waits(client, supervisor):
    client.force_login(supervisor)
    html = client.get(reverse("supervisor:home")).text
    assert "Nothing is waiting for you" in html
    assert "No till is waiting for sign-off" in element(html, 'id="tills-to-sign-off"')


def test_a_signed_off_till_leaves_the_home(client, supervisor, teller):
    day = close_till(actor=teller, counted=OPENING, idempotency_key=key())
    approve_request(actor=supervisor, request_id=day.close_request_id)
    client.force_login(supervisor)
    html = client.get(reverse("supervisor:home")).text
    assert "No till is waiting for sign-off" in element(html, 'id="tills-to-sign-off"')


def test_tellers_cannot_open_the_supervisors_home(client, teller):
    client.force_login(teller)
    assert client.get(reverse("supervisor:home")).status_code == 403
    other = make_user(Role.TELLER, branch=teller.branch)
    client.force_login(other)
    assert client.get(reverse("supervisor:queue"), headers=HTMX).status_code == 403
