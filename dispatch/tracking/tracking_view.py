"""What a customer sees through their tracking link: their job only, service information only.

The technician's first name; what they are coming for; the arrival window and the live ETA; the
distance and their position on a map while the technician is on the way to this customer, and
never their position before they set off or after the job; the timeline of the visit.
Rescheduling or cancelling is offered while the policy allows (before dispatch), and a rating once
the visit is over.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from dispatch.jobs.lifecycle import REBOOKABLE
from dispatch.models import JobStatus
from dispatch.tracking import tracking_queries
from dispatch.tracking.eta import Punctuality, punctuality
from dispatch.travel.sources import distance_m
from infra.db import Connection

CUSTOMER_EVENTS = {
    "created",
    "intake",
    "assigned",
    "override_reassign",
    "status",
    "override_window",
    "cancelled",
}

# What the page's stream also wakes it for, though the timeline has no line for it: the ETA or
# the technician's distance moved.
LIVE_EVENTS = CUSTOMER_EVENTS | {"eta", "position"}


class TimelineEntry(msgspec.Struct, frozen=True, kw_only=True):
    at: datetime
    status: JobStatus | None
    what: str


class MapPoint(msgspec.Struct, frozen=True, kw_only=True):
    latitude: float
    longitude: float


class TrackingMap(msgspec.Struct, frozen=True, kw_only=True):
    """While the technician is on the way: the customer's own door, and where the technician is
    once they have sent a position since setting off (as the distance; none from before)."""

    door: MapPoint
    technician: MapPoint | None


class TrackingView(msgspec.Struct, frozen=True, kw_only=True):
    job_id: UUID
    status: JobStatus
    coming_for: str
    technician: str | None
    window_start_at: datetime
    window_end_at: datetime
    eta_at: datetime | None
    punctuality: Punctuality | None
    distance_km: float | None  # only while the technician is on the way to this customer
    map: TrackingMap | None  # only while the technician is on the way to this customer
    can_reschedule: bool
    can_cancel: bool
    can_rate: bool
    rating: int | None
    timeline: list[TimelineEntry]
    last_event_id: int


WORDS = {
    JobStatus.NEW: "Visit requested",
    JobStatus.SCHEDULED: "Technician assigned",
    JobStatus.DISPATCHED: "Ready to go",
    JobStatus.EN_ROUTE: "On the way",
    JobStatus.ON_SITE: "Arrived",
    JobStatus.COMPLETED: "Done",
    JobStatus.INCOMPLETE: "We will come back",
    JobStatus.CANCELLED: "Cancelled",
}


async def view(conn: Connection, job_id: UUID) -> TrackingView:
    row = await tracking_queries.job_for_customer(conn, job_id)
    status = JobStatus(row["status"])
    distance = None
    where: TrackingMap | None = None
    if status is JobStatus.EN_ROUTE:
        technician = None
        if row["position_at"] is not None and row["position_at"] >= row["left_at"]:
            distance = round(
                distance_m((row["tech_lat"], row["tech_lon"]), (row["latitude"], row["longitude"])) / 1000, 1
            )
            technician = MapPoint(latitude=row["tech_lat"], longitude=row["tech_lon"])
        where = TrackingMap(
            door=MapPoint(latitude=row["latitude"], longitude=row["longitude"]), technician=technician
        )
    eta = row["eta_at"] if status in (JobStatus.SCHEDULED, JobStatus.DISPATCHED, JobStatus.EN_ROUTE) else None
    timeline: list[TimelineEntry] = []
    for e in await tracking_queries.customer_events(conn, job_id):
        if e["kind"] not in CUSTOMER_EVENTS:
            continue
        entry = TimelineEntry(
            at=e["occurred_at"],
            status=JobStatus(e["to_status"]) if e["to_status"] else None,
            what=_what(e["kind"], e["to_status"]),
        )
        # One step of the visit is one line: a job taken in by intake records both its creation
        # and the intake, and a reassignment is still "Technician assigned" to the customer.
        if entry.status is not None and timeline and timeline[-1].status is entry.status:
            continue
        timeline.append(entry)
    return TrackingView(
        job_id=job_id,
        status=status,
        coming_for=row["coming_for"],
        technician=row["technician_first_name"] if status is not JobStatus.NEW else None,
        window_start_at=row["window_start_at"],
        window_end_at=row["window_end_at"],
        eta_at=eta,
        punctuality=None if eta is None else punctuality(eta, row["window_end_at"]),
        distance_km=distance,
        map=where,
        can_reschedule=status in REBOOKABLE,
        can_cancel=status in REBOOKABLE,
        can_rate=status in (JobStatus.COMPLETED, JobStatus.INCOMPLETE),
        rating=row["stars"],
        timeline=timeline,
        last_event_id=await tracking_queries.last_event_id(conn, job_id),
    )


def _what(kind: str, to_status: str | None) -> str:
    if kind in ("status", "assigned", "override_reassign", "cancelled", "created", "intake") and to_status:
        return WORDS[JobStatus(to_status)]
    if kind == "override_window":
        return "Arrival window changed"
    return "Update"


async def last_event_id(conn: Connection, job_id: UUID) -> int:
    """The job's newest event id (0 if none): the customer's stream begins after it."""
    return await tracking_queries.last_event_id(conn, job_id)
