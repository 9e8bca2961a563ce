from __future__ import annotations

from datetime import datetime
from uuid import uuid4

import msgspec
import pytest

from notifications import notices as n
from notifications.notices import NOTICE_TYPES, Notice, from_row, kind_of
from notifications.payloads import APOLOGY, render

JOB = uuid4()
# 14:30 UTC on a November day is 08:30 in Chicago (CST, UTC-6).
AT = datetime.fromisoformat("2026-11-24T14:30:00+00:00")
LATER = datetime.fromisoformat("2026-11-24T16:30:00+00:00")
ANN = n.Candidate(technician_id=uuid4(), name="Ann Springs", score=12.5, reason="near")

# One of every kind the product sends, with every field filled, and its audience.
SENT: list[tuple[Notice, str]] = [
    (n.Assigned(technician="Ann", arrival_window=(AT, LATER)), "customer"),
    (n.OnTheWay(technician="Ann", eta_at=AT), "customer"),
    (n.EtaChanged(technician="Ann", eta_at=AT), "customer"),
    (n.Nearby(technician="Ann", eta_at=AT), "customer"),
    (n.Arrived(technician="Ann"), "customer"),
    (n.Completed(technician="Ann", ask_rating=True), "customer"),
    (n.Delayed(eta_at=AT), "customer"),
    (n.FollowUpBooked(follow_up_job_id=uuid4()), "customer"),
    (n.AssignmentChanged(window=(AT, LATER)), "customer"),
    (n.WindowChanged(window=(AT, LATER)), "customer"),
    (n.VisitTimeSet(start_at=AT), "customer"),
    (n.Cancelled(by="customer"), "customer"),
    (n.JobAdded(planned_start_at=AT, replanned=[uuid4()]), "technician"),
    (n.JobRemoved(reason="customer moved it", rescheduled_by_customer=True), "technician"),
    (n.JobDispatched(planned_start_at=AT), "technician"),
    (n.JobPinned(start_at=AT), "technician"),
    (n.JobUnpinned(), "technician"),
    (n.WindowChanged(reason="customer asked"), "technician"),
    (n.JobAtRisk(risk="eta_past_window", candidates=[ANN]), "dispatcher"),
    (n.TechnicianSilent(last_fix_at=AT, candidates=[ANN]), "dispatcher"),
    (n.TechnicianStuck(last_fix_at=AT, candidates=[ANN]), "dispatcher"),
    (n.TechnicianRunningLate(minutes=25, reason="traffic", jobs=[uuid4()]), "dispatcher"),
    (n.TechnicianSick(reason="flu", jobs=[n.Offer(job_id=uuid4(), candidates=[ANN])]), "dispatcher"),
    (n.FollowUpNeeded(follow_up_job_id=uuid4(), reason="part missing"), "dispatcher"),
]


def test_every_kind_is_in_the_list_sent() -> None:
    assert {type(notice) for notice, _ in SENT} == set(NOTICE_TYPES)


@pytest.mark.parametrize(("notice", "audience"), SENT, ids=[f"{kind_of(m)}-{a}" for m, a in SENT])
def test_every_kind_round_trips_through_the_outbox_payload(notice: Notice, audience: str) -> None:
    # The jsonb codec stores msgspec's JSON; the worker reads it back as a dict.
    stored = msgspec.json.decode(msgspec.json.encode(notice))
    assert stored["kind"] == kind_of(notice)
    assert from_row(kind_of(notice), stored) == notice


@pytest.mark.parametrize(("notice", "audience"), SENT, ids=[f"{kind_of(m)}-{a}" for m, a in SENT])
def test_every_kind_has_its_own_words(notice: Notice, audience: str) -> None:
    message = render(notice, JOB, "UTC", audience)
    assert message.title
    assert message.body
    assert (message.title, message.body) != ("Update", "Your visit has an update.")
    assert message.kind == kind_of(notice)
    assert message.job_id == JOB
    assert "kind" not in message.data


def test_a_row_queued_before_notices_were_typed_still_reads() -> None:
    # The payload as dispatch wrote it: no kind inside, times and ids as text, words since dropped.
    old = {"eta_at": AT.isoformat(), "apology": "We are sorry: your technician is running late."}
    assert from_row("delayed", old) == n.Delayed(eta_at=AT)
    sick = {"reason": "flu", "jobs": [{"job_id": str(JOB), "candidates": [msgspec.to_builtins(ANN)]}]}
    assert from_row("technician_sick", sick) == n.TechnicianSick(
        reason="flu", jobs=[n.Offer(job_id=JOB, candidates=[ANN])]
    )
    assert from_row("arrived", {}) == n.Arrived()


def test_the_kind_column_wins_over_a_kind_in_the_payload() -> None:
    assert from_row("arrived", {"kind": "nearby"}) == n.Arrived()


@pytest.mark.parametrize(
    ("kind", "payload"),
    [
        ("something_new", {"x": 1}),
        ("arived", {"technician": "Ann"}),
        ("on_the_way", {"eta_at": "soon"}),
        ("job_at_risk", {}),  # a risk with no risk
        ("arrived", ["not", "an", "object"]),
    ],
)
def test_a_kind_or_payload_that_is_not_ours_is_refused(kind: str, payload: object) -> None:
    with pytest.raises(msgspec.ValidationError):
        from_row(kind, payload)


def test_the_eta_is_on_the_clock_of_the_jobs_territory() -> None:
    message = render(n.EtaChanged(technician="Ann", eta_at=AT), JOB, "America/Chicago")
    assert message.body == "Ann now expects to arrive about 08:30."


def test_on_the_way_without_an_eta_says_so_plainly() -> None:
    assert render(n.OnTheWay(technician="Ann"), JOB).body == "Ann is on the way."
    with_eta = render(n.OnTheWay(technician="Ann", eta_at=AT), JOB, "America/Chicago")
    assert with_eta.body == "Ann is on the way, arriving about 08:30."


def test_no_first_name_reads_your_technician() -> None:
    assert render(n.Arrived(technician=None), JOB).body == "Your technician has arrived."


def test_the_customer_hears_the_new_window_and_the_technician_hears_it_changed() -> None:
    customer = render(n.WindowChanged(window=(AT, LATER)), JOB, "America/Chicago", "customer")
    assert customer.body == "We will now arrive between 08:30 and 10:30."
    technician = render(n.WindowChanged(reason="customer asked"), JOB, "America/Chicago", "technician")
    assert technician.body == "A job's arrival window has changed."


def test_a_pinned_job_tells_the_technician_its_time() -> None:
    pinned = render(n.JobPinned(start_at=AT), JOB, "America/Chicago", "technician")
    assert pinned.body == "A job on your day is fixed at 08:30."
    assert render(n.JobPinned(), JOB, "UTC", "technician").body == "A job is fixed to you."


def test_a_delay_apologises_and_says_when_the_technician_now_expects_to_arrive() -> None:
    assert render(n.Delayed(), JOB).body == APOLOGY
    message = render(n.Delayed(eta_at=AT), JOB, "America/Chicago")
    assert message.body == "We are sorry: your technician is running late. New arrival about 08:30."


def test_the_push_data_carries_the_notices_fields_as_json() -> None:
    message = render(n.OnTheWay(technician="Ann", eta_at=AT), JOB)
    assert message.data == {"technician": "Ann", "eta_at": "2026-11-24T14:30:00Z"}
