"""Keeping ETAs honest as positions come in, and telling customers when theirs moves.

After each batch of pings from a technician on the road, every job ahead of them gets a fresh
ETA (dispatch.tracking.eta). A customer is told when their ETA moved by at least the threshold since they
were last told (one Web Push Topic per job, so an offline phone gets only the latest), and once
when the technician is about ten minutes away.

`estimate` decides; the caller writes the ETAs and the messages in one transaction, so a ping
costs one read and one write however many jobs are ahead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import numpy as np
from asyncpg import Record

from dispatch.matching.context import travel_for
from dispatch.matching.days import place_of
from dispatch.tracking.eta import Leg, chain, smooth
from dispatch.travel.sources import TravelTimes
from notifications.notices import EtaChanged, Nearby
from notifications.outbox import Audience, Message, job_topic

ETA_CHANGE = timedelta(minutes=5)
# An ETA whose raw estimate is less than this from the published one is not rewritten: customers
# read minutes, and most pings of a steady drive move it by seconds, which would rewrite every
# job ahead on every ping. The raw estimate decides, not the smoothed one: smoothing from a
# published value that was held back would hold it back again, and a steady drift (a van 20%
# slower than the model moves the ETA ~6 s a ping) would trail by two steps, not one.
ETA_STEP = timedelta(seconds=30)
NEARBY = timedelta(minutes=10)
# A fix older than this says where the technician was, not where they set off from: the plan's
# ETA stands until their next ping.
SET_OFF_FIX_AGE = timedelta(minutes=30)
ON_THE_ROAD = ("en_route", "on_site")
Row = Record | Mapping[str, Any]  # a job ahead, as position_queries.context reads it


@dataclass(frozen=True)
class EtaUpdate:
    job_id: UUID
    eta_at: datetime
    told: bool  # the customer hears of this ETA (or it is the first one on the way)
    messages: tuple[Message, ...]
    nearby: bool  # one of the messages is "nearby", sent once per job


async def estimate(
    technician_id: UUID,
    technician_name: str | None,
    jobs: Sequence[Row],
    position: tuple[float, float],
    *,
    now: datetime,
    routing: TravelTimes | None = None,
) -> list[EtaUpdate]:
    """Fresh ETAs for the jobs ahead of a technician on the road (rows of
    position_queries.context, in order); nothing when they are not on the road."""
    if not jobs or jobs[0]["status"] not in ON_THE_ROAD:
        return []  # not on the road: the plan's times stand
    # The first job's place sets the travel model, with what was learned for this hour there.
    travel = travel_for(place_of(jobs[0]), routing, at=now)
    points = np.array([(r["latitude"], r["longitude"]) for r in jobs])
    origins = np.vstack([np.array([position]), points[:-1]])
    legs_s = await travel.between(origins, points)
    legs = [
        Leg(
            job_id=r["id"],
            travel_s=float(legs_s[i]) if not (i == 0 and r["status"] == "on_site") else 0.0,
            duration_s=float(r["duration_s"]),
            window_start_at=r["window_start_at"],
            window_end_at=r["window_end_at"],
            on_site_since=(r["started_at"] or now) if r["status"] == "on_site" else None,
        )
        for i, r in enumerate(jobs)
    ]
    first_name = technician_name.split()[0] if technician_name else None
    updates: list[EtaUpdate] = []
    for row, raw in zip(jobs, chain(now, legs), strict=True):
        if row["status"] == "on_site":
            continue
        eta = smooth(row["eta_at"], raw)
        messages: list[Message] = []
        last_told = row["eta_told_at"]
        driving = row["status"] == "en_route"
        if driving and last_told is not None and abs(eta - last_told) >= ETA_CHANGE:
            messages.append(_message(EtaChanged, row, technician_id, first_name, eta))
        nearby = driving and eta - now <= NEARBY and not row["nearby_told"]
        if nearby:
            messages.append(_message(Nearby, row, technician_id, first_name, eta))
        told = bool(messages) or (last_told is None and driving)
        if not told and row["eta_at"] is not None and abs(raw - row["eta_at"]) < ETA_STEP:
            continue
        updates.append(
            EtaUpdate(
                job_id=row["id"],
                eta_at=eta,
                told=told,
                messages=tuple(messages),
                nearby=nearby,
            )
        )
    return updates


async def set_off_eta(
    job: Row,
    fix: tuple[datetime, float, float] | None,
    *,
    now: datetime,
    routing: TravelTimes | None = None,
) -> datetime | None:
    """The ETA the "on the way" message tells: now plus the drive from the technician's freshest
    fix (recorded_at, latitude, longitude) to the job (a row of position_queries.context). Raw,
    not smoothed against the plan from home: it is the first number the customer hears on the
    way, and every later ping is smoothed against it. None when there is no fresh fix."""
    if fix is None or fix[0] < now - SET_OFF_FIX_AGE:
        return None
    travel = travel_for(place_of(job), routing, at=now)
    legs_s = await travel.between(
        np.array([(fix[1], fix[2])]), np.array([(job["latitude"], job["longitude"])])
    )
    leg = Leg(
        job_id=job["id"],
        travel_s=float(legs_s[0]),
        duration_s=float(job["duration_s"]),
        window_start_at=job["window_start_at"],
        window_end_at=job["window_end_at"],
    )
    return chain(now, [leg])[0]


def _message(
    kind: type[EtaChanged | Nearby], job: Row, technician_id: UUID, first_name: str | None, eta: datetime
) -> Message:
    return Message(
        kind(technician=first_name, eta_at=eta),
        Audience.CUSTOMER,
        job_id=job["id"],
        technician_id=technician_id,
        territory_id=job["territory_id"],
        topic=job_topic(job["id"]),
        urgency="high",
        ttl_s=1800,
    )
