"""Which jobs are at risk, and why, by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dispatch.models import JobStatus as S
from dispatch.tracking.board import Risk, risks_of

NOON = datetime(2026, 12, 1, 12, tzinfo=UTC)
H = timedelta(hours=1)


def test_an_eta_after_the_window_and_work_past_the_shift_are_both_named() -> None:
    found = risks_of(
        status=S.DISPATCHED,
        window_end_at=NOON + H,
        planned_start_at=NOON + 0.5 * H,
        eta_at=NOON + 1.25 * H,
        duration_s=7200,
        shift_end=NOON + 2 * H,
        now=NOON,
    )
    assert found == [Risk.ETA_PAST_WINDOW, Risk.ENDS_AFTER_SHIFT]


def test_on_time_is_no_risk_and_work_under_way_is_not_judged_here() -> None:
    kwargs = {"window_end_at": NOON + H, "planned_start_at": NOON, "eta_at": NOON, "duration_s": 3600}
    assert risks_of(status=S.SCHEDULED, shift_end=NOON + 8 * H, now=NOON - H, **kwargs) == []  # type: ignore[arg-type]
    assert risks_of(status=S.ON_SITE, shift_end=NOON, now=NOON + 5 * H, **kwargs) == []  # type: ignore[arg-type]


def test_a_window_gone_by_with_nobody_there_and_an_unassigned_job_running_out_of_time() -> None:
    passed = risks_of(
        status=S.SCHEDULED,
        window_end_at=NOON,
        planned_start_at=None,
        eta_at=None,
        duration_s=600,
        shift_end=None,
        now=NOON + H,
    )
    assert passed == [Risk.WINDOW_PASSED]
    closing = risks_of(
        status=S.NEW,
        window_end_at=NOON + 2.5 * H,
        planned_start_at=None,
        eta_at=None,
        duration_s=3600,
        shift_end=None,
        now=NOON,
    )
    assert closing == [Risk.UNASSIGNED_CLOSING]
    roomy = risks_of(
        status=S.NEW,
        window_end_at=NOON + 3.5 * H,
        planned_start_at=None,
        eta_at=None,
        duration_s=3600,
        shift_end=None,
        now=NOON,
    )
    assert roomy == []
