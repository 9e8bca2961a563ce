"""Keeping ETAs honest as positions come in, and telling customers when theirs moves.

After each batch of pings from a technician on the road, every job ahead of them gets a fresh
ETA (dispatch.eta). A customer is told when their ETA moved by at least the threshold since they
were last told (one Web Push Topic per job, so an offline phone gets only the latest), and once
when the technician is about ten minutes away.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import numpy as np

from dispatch import calibration_queries, eta_queries, job_queries, risk_queries, route_queries
from dispatch.assignment import travel_for
from dispatch.eta import Leg, chain, smooth
from dispatch.travel import TravelTimes
from infra.db import Connection
from notifications.outbox import Audience, Message, enqueue, job_topic

ETA_CHANGE = timedelta(minutes=5)
NEARBY = timedelta(minutes=10)


async def refresh(
    conn: Connection,
    technician_id: UUID,
    position: tuple[float, float],
    *,
    now: datetime,
    routing: TravelTimes | None = None,
) -> list[UUID]:
    """Recompute the ETAs of the jobs ahead of a technician on the road; the jobs whose customer
    was told something."""
    rows = await eta_queries.jobs_ahead(conn, technician_id, now)
    if not rows or rows[0]["status"] not in ("en_route", "on_site"):
        return []  # not on the road: the plan's times stand
    place = await route_queries.job_place(conn, rows[0]["site_id"])
    # What the fleet has been driving at this hour here, once calibration has learned it.
    learned = await calibration_queries.speed_at(
        conn, place.territory_id, now.astimezone(ZoneInfo(place.timezone)).hour
    )
    travel = travel_for(replace(place, speed_kmh=learned) if learned else place, routing)
    points = np.array([(r["latitude"], r["longitude"]) for r in rows])
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
        for i, r in enumerate(rows)
    ]
    told: list[UUID] = []
    first_name = await job_queries.technician_first_name(conn, technician_id)
    territory = await job_queries.job_territory(conn, rows[0]["id"])
    for row, raw in zip(rows, chain(now, legs), strict=True):
        if row["status"] == "on_site":
            continue
        eta = smooth(row["eta_at"], raw)
        messages: list[Message] = []
        last_told = row["eta_told_at"]
        if row["status"] == "en_route" and last_told is not None and abs(eta - last_told) >= ETA_CHANGE:
            messages.append(_message("eta_changed", row["id"], technician_id, territory, first_name, eta))
        if (
            row["status"] == "en_route"
            and eta - now <= NEARBY
            and await risk_queries.raise_alert(conn, row["id"], "nearby")
        ):
            messages.append(_message("nearby", row["id"], technician_id, territory, first_name, eta))
        await eta_queries.set_eta(
            conn, row["id"], eta, told=bool(messages) or (last_told is None and row["status"] == "en_route")
        )
        if messages:
            await enqueue(conn, *messages)
            told.append(row["id"])
    return told


def _message(
    kind: str,
    job_id: UUID,
    technician_id: UUID,
    territory: UUID | None,
    first_name: str | None,
    eta: datetime,
) -> Message:
    return Message(
        kind,
        Audience.CUSTOMER,
        job_id=job_id,
        technician_id=technician_id,
        territory_id=territory,
        payload={"technician": first_name, "eta_at": eta.isoformat()},
        topic=job_topic(job_id),
        urgency="high",
        ttl_s=1800,
    )
