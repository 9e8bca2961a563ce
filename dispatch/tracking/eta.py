"""Honest ETAs: from where the technician is, through what they are doing now, to each job left.

For the job a technician is driving to: now plus the travel from their latest position. For the
jobs after it: the expected end of the one before (the time on site so far against its
duration; an overrun is expected to end soon, not at once) plus the travel between them, chained.
A raw estimate is smoothed against the last one published, so GPS noise does not make it swing;
a real change (a jam, a detour) moves it within two fixes. Each job is then on time, at risk or
late against the window the customer was promised.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

SMOOTHING = 0.5  # weight of the new estimate
SNAP = timedelta(minutes=10)  # a change this large is news, not noise: no smoothing
AT_RISK_MARGIN = timedelta(minutes=10)
OVERRUN_REST = 0.1  # an overrunning job is expected to need a tenth of its duration more


class Punctuality(enum.StrEnum):
    ON_TIME = "on_time"
    AT_RISK = "at_risk"
    LATE = "late"


@dataclass(frozen=True)
class Leg:
    """One job ahead, in order: how long it takes and the travel to it from the stop before."""

    job_id: object
    travel_s: float
    duration_s: float
    window_start_at: datetime
    window_end_at: datetime
    on_site_since: datetime | None = None  # the job being worked now


def chain(now: datetime, legs: Sequence[Leg]) -> list[datetime]:
    """Raw arrival estimates for each leg: the first leg's travel is from the technician's latest
    position (or 0 when on site); each later one follows the expected end of the one before."""
    arrivals: list[datetime] = []
    clock = now
    for leg in legs:
        if leg.on_site_since is not None:
            arrive = leg.on_site_since
            expected_end = leg.on_site_since + timedelta(seconds=leg.duration_s)
            if expected_end <= now:
                expected_end = now + timedelta(seconds=leg.duration_s * OVERRUN_REST)
            clock = expected_end
        else:
            arrive = clock + timedelta(seconds=leg.travel_s)
            start = max(arrive, leg.window_start_at)
            clock = start + timedelta(seconds=leg.duration_s)
        arrivals.append(arrive)
    return arrivals


def smooth(previous: datetime | None, raw: datetime) -> datetime:
    if previous is None or abs(raw - previous) >= SNAP:
        return raw
    return previous + (raw - previous) * SMOOTHING


def punctuality(eta: datetime, window_end_at: datetime) -> Punctuality:
    if eta > window_end_at:
        return Punctuality.LATE
    if eta > window_end_at - AT_RISK_MARGIN:
        return Punctuality.AT_RISK
    return Punctuality.ON_TIME
