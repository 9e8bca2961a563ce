"""A technician's day as matching sees it, built from the stored shift and jobs at a given moment.

Before the shift starts, the day starts at the shift's start place and time. Once it is under way
it starts now, where the technician is: at the job they are on (after its expected end), else
where they last finished a job, else the shift's start place (live positions refine this later).
A visit already late is not made to hold the rest of the day hostage: its window no longer binds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from uuid import UUID

from dispatch.matching.route_plan import BreakSlot, Day, Visit
from dispatch.matching.route_queries import (  # other packages reach route_queries through here
    JobPlace as JobPlace,
    ShiftRow as ShiftRow,
    VisitRow,
    learned_of as learned_of,
    place_of as place_of,
    shifts_overlapping as shifts_overlapping,
    technicians as technicians,
    van_stock as van_stock,
)
from dispatch.travel.sources import Point

STARTED = frozenset({"en_route", "on_site"})


def _visit(row: VisitRow, now: float) -> Visit:
    earliest, latest = row.window_start_at.timestamp(), row.window_end_at.timestamp()
    if row.pinned_start_at is not None:
        earliest = latest = row.pinned_start_at.timestamp()
    if row.status in STARTED or latest < now:
        latest = math.inf
    return Visit(
        job_id=row.job_id,
        point=row.point,
        earliest=earliest,
        latest=latest,
        duration_s=float(row.duration_s),
        planned_start=None if row.planned_start_at is None else row.planned_start_at.timestamp(),
        locked=row.status == "en_route",
        version=row.version,
        # Once on the way, the depot call is behind them.
        pickup=row.pickup if row.status not in STARTED else None,
        pickup_s=float(row.pickup_s),
    )


def build_day(
    shift: ShiftRow,
    visits: Sequence[VisitRow],
    *,
    now: datetime,
    last_finished: tuple[Point, datetime] | None = None,
) -> Day:
    """The day of one shift; `visits` are the technician's planned jobs in order (any day)."""
    start_s, end_s = shift.starts_at.timestamp(), shift.ends_at.timestamp()
    horizon = end_s + shift.overtime_s
    now_s = now.timestamp()
    start_at, start_point = start_s, shift.start
    if now_s > start_s:
        start_at = now_s
        if last_finished is not None and last_finished[1].timestamp() >= start_s:
            start_point = last_finished[0]
    mine: list[Visit] = []
    for row in visits:
        planned = row.planned_start_at.timestamp() if row.planned_start_at else None
        if planned is None or not start_s <= planned < horizon:
            continue
        if row.status == "on_site":
            # They are there now: the day goes on from this door once the job is done.
            started = row.started_at.timestamp() if row.started_at else now_s
            start_point = row.point
            start_at = max(start_at, started + row.duration_s)
            continue
        mine.append(_visit(row, now_s))
    breaks = [
        BreakSlot(earliest.timestamp(), latest.timestamp() - seconds, float(seconds))
        for earliest, latest, seconds in shift.breaks
        if latest.timestamp() - seconds >= start_at
    ]
    return Day(
        technician_id=shift.technician_id,
        shift_id=shift.id,
        start_point=start_point,
        end_point=shift.end,
        start_at=start_at,
        end_latest=horizon,
        shift_s=end_s - start_s,
        visits=mine,
        breaks=breaks,
    )


def build_days(
    shifts: Sequence[ShiftRow],
    visits: Sequence[VisitRow],
    *,
    now: datetime,
    finished: Mapping[UUID, tuple[Point, datetime]] | None = None,
) -> list[Day]:
    by_technician: dict[UUID, list[VisitRow]] = {}
    for row in visits:
        by_technician.setdefault(row.technician_id, []).append(row)
    finished = finished or {}
    return [
        build_day(
            shift,
            by_technician.get(shift.technician_id, []),
            now=now,
            last_finished=finished.get(shift.technician_id),
        )
        for shift in shifts
    ]
