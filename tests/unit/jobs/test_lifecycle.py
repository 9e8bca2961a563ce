"""The job state machine: every transition, valid, invalid and stale."""

from __future__ import annotations

import pytest

from dispatch.jobs.lifecycle import PROGRESS, TRANSITIONS, judge
from dispatch.models import JobStatus as S

FORWARD = [
    (S.NEW, S.SCHEDULED),
    (S.SCHEDULED, S.DISPATCHED),
    (S.SCHEDULED, S.EN_ROUTE),
    (S.DISPATCHED, S.EN_ROUTE),
    (S.EN_ROUTE, S.ON_SITE),
    (S.ON_SITE, S.COMPLETED),
    (S.ON_SITE, S.INCOMPLETE),
    (S.DISPATCHED, S.SCHEDULED),
    (S.SCHEDULED, S.NEW),
    (S.NEW, S.CANCELLED),
    (S.SCHEDULED, S.CANCELLED),
    (S.DISPATCHED, S.CANCELLED),
]


@pytest.mark.parametrize(("current", "wanted"), FORWARD)
def test_the_day_moves_forward_one_step_at_a_time(current: S, wanted: S) -> None:
    verdict = judge(current, wanted)
    assert verdict.apply
    assert not verdict.stale


@pytest.mark.parametrize(
    ("current", "wanted"),
    [(S.NEW, S.EN_ROUTE), (S.SCHEDULED, S.ON_SITE), (S.DISPATCHED, S.COMPLETED), (S.EN_ROUTE, S.CANCELLED)],
)
def test_skipping_ahead_or_cancelling_work_under_way_is_refused(current: S, wanted: S) -> None:
    verdict = judge(current, wanted)
    assert not verdict.apply
    assert not verdict.stale
    assert verdict.allowed == TRANSITIONS[current]


@pytest.mark.parametrize(
    ("current", "wanted"),
    [
        (S.ON_SITE, S.EN_ROUTE),
        (S.COMPLETED, S.ON_SITE),
        (S.EN_ROUTE, S.EN_ROUTE),
        (S.CANCELLED, S.DISPATCHED),
    ],
)
def test_a_report_of_a_status_already_passed_is_stale_not_a_step_back(current: S, wanted: S) -> None:
    verdict = judge(current, wanted)
    assert not verdict.apply
    assert verdict.stale


def test_setting_off_from_scheduled_passes_through_dispatched() -> None:
    assert judge(S.SCHEDULED, S.EN_ROUTE).through == (S.DISPATCHED,)
    assert judge(S.DISPATCHED, S.EN_ROUTE).through == ()


def test_every_status_has_its_place_and_closed_jobs_go_nowhere() -> None:
    assert set(PROGRESS) == set(S) == set(TRANSITIONS)
    for closed in (S.COMPLETED, S.INCOMPLETE, S.CANCELLED):
        assert TRANSITIONS[closed] == frozenset()
