from __future__ import annotations

from uuid import uuid4

import pytest

from notifications.payloads import render

JOB = uuid4()
# 14:30 UTC on a November day is 08:30 in Chicago (CST, UTC-6).
AT = "2026-11-24T14:30:00+00:00"

# Every kind the product sends, with its audience.
SENT = [
    ("assigned", "customer"),
    ("on_the_way", "customer"),
    ("eta_changed", "customer"),
    ("nearby", "customer"),
    ("arrived", "customer"),
    ("completed", "customer"),
    ("delayed", "customer"),
    ("follow_up_booked", "customer"),
    ("assignment_changed", "customer"),
    ("window_changed", "customer"),
    ("visit_time_set", "customer"),
    ("cancelled", "customer"),
    ("job_added", "technician"),
    ("job_removed", "technician"),
    ("job_dispatched", "technician"),
    ("job_pinned", "technician"),
    ("job_unpinned", "technician"),
    ("window_changed", "technician"),
    ("job_at_risk", "dispatcher"),
    ("technician_silent", "dispatcher"),
    ("technician_stuck", "dispatcher"),
    ("technician_running_late", "dispatcher"),
    ("technician_sick", "dispatcher"),
    ("follow_up_needed", "dispatcher"),
]


@pytest.mark.parametrize(("kind", "audience"), SENT)
def test_every_kind_sent_has_its_own_words(kind: str, audience: str) -> None:
    message = render(kind, {}, JOB, "UTC", audience)
    assert (message.title, message.body) != ("Update", "Your visit has an update.")
    assert message.kind == kind
    assert message.job_id == JOB


def test_an_unknown_kind_gets_a_plain_update() -> None:
    message = render("something_new", {"x": 1}, JOB)
    assert (message.title, message.body) == ("Update", "Your visit has an update.")
    assert message.data == {"x": 1}


def test_the_eta_is_on_the_clock_of_the_jobs_territory() -> None:
    message = render("eta_changed", {"technician": "Ann", "eta_at": AT}, JOB, "America/Chicago")
    assert message.body == "Ann now expects to arrive about 08:30."


def test_on_the_way_without_an_eta_says_so_plainly() -> None:
    assert render("on_the_way", {"technician": "Ann"}, JOB).body == "Ann is on the way."
    with_eta = render("on_the_way", {"technician": "Ann", "eta_at": AT}, JOB, "America/Chicago")
    assert with_eta.body == "Ann is on the way, arriving about 08:30."


def test_no_first_name_reads_your_technician() -> None:
    assert render("arrived", {"technician": None}, JOB).body == "Your technician has arrived."


def test_a_time_that_is_not_a_time_is_passed_through_not_a_crash() -> None:
    assert render("visit_time_set", {"start_at": "soon"}, JOB).body == "We will be there at soon."


def test_the_customer_hears_the_new_window_and_the_technician_hears_it_changed() -> None:
    payload: dict[str, object] = {"window": [AT, "2026-11-24T16:30:00+00:00"]}
    customer = render("window_changed", payload, JOB, "America/Chicago", "customer")
    assert customer.body == "We will now arrive between 08:30 and 10:30."
    technician = render("window_changed", {"reason": "customer asked"}, JOB, "America/Chicago", "technician")
    assert technician.body == "A job's arrival window has changed."


def test_a_pinned_job_tells_the_technician_its_time() -> None:
    pinned = render("job_pinned", {"start_at": AT}, JOB, "America/Chicago", "technician")
    assert pinned.body == "A job on your day is fixed at 08:30."
    assert render("job_pinned", {"start_at": None}, JOB, "UTC", "technician").body == "A job is fixed to you."


def test_a_delay_carries_its_apology() -> None:
    message = render("delayed", {"apology": "Sorry, the previous job ran long."}, JOB)
    assert message.body == "Sorry, the previous job ran long."


def test_a_delay_says_when_the_technician_now_expects_to_arrive() -> None:
    payload: dict[str, object] = {"apology": "We are sorry: your technician is running late.", "eta_at": AT}
    message = render("delayed", payload, JOB, "America/Chicago")
    assert message.body == "We are sorry: your technician is running late. New arrival about 08:30."
