"""A technician's day as the app shows it: the route in order, and at each stop what they will
find there — access notes, the asset and its recent history, warranty, the customer's choice,
the parts it will likely need with a mark for what is on the van, and the customer's first name
(never more: the app is carried into strangers' driveways)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec

from dispatch.fleet import stock as fleet_stock
from dispatch.jobs import records as job_records
from dispatch.models import JobStatus
from dispatch.workday import day_queries
from infra.db import Connection


class StopPart(msgspec.Struct, frozen=True, kw_only=True):
    part_id: UUID
    sku: str
    name: str
    quantity: int
    probability: float
    on_van: bool


class StopAsset(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    kind: str
    make: str
    model: str
    attributes: dict[str, object]
    warranty: str  # "in warranty until 2027-04-01", "out of warranty since ...", "unknown"
    history: list[str]  # the latest first: "Both springs replaced (2019-11)"


class DayStop(msgspec.Struct, frozen=True, kw_only=True):
    job_id: UUID
    status: JobStatus
    order: int
    planned_start_at: datetime | None
    eta_at: datetime | None
    window_start_at: datetime
    window_end_at: datetime
    duration_s: int
    pinned: bool
    address: str
    latitude: float
    longitude: float
    access_notes: str
    problem: str
    customer_choice: str | None
    customer_first_name: str | None
    asset: StopAsset | None
    parts: list[StopPart]
    pickup_depot: str | None  # call here first for parts the van lacks
    version: int


class DayBreak(msgspec.Struct, frozen=True, kw_only=True):
    earliest_start_at: datetime
    latest_end_at: datetime
    duration_s: int


class TechnicianDay(msgspec.Struct, frozen=True, kw_only=True):
    technician_id: UUID
    date: date
    timezone: str
    shift_starts_at: datetime | None
    shift_ends_at: datetime | None
    breaks: list[DayBreak]
    stops: list[DayStop]


def warranty_words(until: date | None, day: date) -> str:
    if until is None:
        return "unknown"
    if until >= day:
        return f"in warranty until {until.isoformat()}"
    return f"out of warranty since {until.isoformat()}"


async def day_of(conn: Connection, technician_id: UUID, day: date) -> TechnicianDay:
    zone_name = await day_queries.technician_timezone(conn, technician_id)
    zone = ZoneInfo(zone_name)
    start = datetime.combine(day, time(0), zone)
    end = datetime.combine(day + timedelta(days=1), time(0), zone)
    rows = await day_queries.stops(conn, technician_id, start, end)
    asset_ids = [r["asset_id"] for r in rows if r["asset_id"] is not None]
    history = await day_queries.asset_history(conn, asset_ids)
    parts = await job_records.parts_of(conn, [r["job_id"] for r in rows])
    van = await fleet_stock.van_of(conn, technician_id)
    held = {level.part_id: level.quantity for level in await fleet_stock.levels(conn, van.id)} if van else {}
    stops: list[DayStop] = []
    for order, r in enumerate(rows, start=1):
        asset = None
        if r["asset_id"] is not None:
            asset = StopAsset(
                id=r["asset_id"],
                kind=r["asset_kind"],
                make=r["make"],
                model=r["model"],
                attributes=dict(r["attributes"]),
                warranty=warranty_words(r["warranty_until"], day),
                history=[
                    f"{(e['summary'] or e['kind'].capitalize())} ({e['occurred_at'].astimezone(zone):%Y-%m})"
                    for e in history.get(r["asset_id"], [])
                ],
            )
        stops.append(
            DayStop(
                job_id=r["job_id"],
                status=JobStatus(r["status"]),
                order=order,
                planned_start_at=r["planned_start_at"],
                eta_at=r["eta_at"],
                window_start_at=r["window_start_at"],
                window_end_at=r["window_end_at"],
                duration_s=r["duration_s"],
                pinned=r["pinned"],
                address=", ".join(p for p in (r["address_line"], r["city"], r["postal_code"]) if p),
                latitude=r["latitude"],
                longitude=r["longitude"],
                access_notes=r["access_notes"],
                problem=r["problem_description"] or r["problem_code"],
                customer_choice=r["customer_choice"],
                customer_first_name=r["customer_first_name"] or None,
                asset=asset,
                parts=[
                    StopPart(
                        part_id=p.part_id,
                        sku=p.sku,
                        name=p.name,
                        quantity=p.quantity,
                        probability=p.probability,
                        on_van=held.get(p.part_id, 0) >= p.quantity,
                    )
                    for p in parts.get(r["job_id"], [])
                ],
                pickup_depot=r["pickup_depot"],
                version=r["version"],
            )
        )
    shifts = await day_queries.shifts_on(conn, technician_id, start, end)
    breaks = [
        DayBreak(
            earliest_start_at=datetime.fromisoformat(b["earliest_start_at"]),
            latest_end_at=datetime.fromisoformat(b["latest_end_at"]),
            duration_s=b["duration_s"],
        )
        for s in shifts
        for b in s["breaks"]
    ]
    return TechnicianDay(
        technician_id=technician_id,
        date=day,
        timezone=zone_name,
        shift_starts_at=shifts[0]["starts_at"] if shifts else None,
        shift_ends_at=shifts[-1]["ends_at"] if shifts else None,
        breaks=breaks,
        stops=stops,
    )


async def today_of(conn: Connection, technician_id: UUID, now: datetime) -> date:
    """The date it is where the technician works (their territory's time zone)."""
    zone = ZoneInfo(await day_queries.technician_timezone(conn, technician_id))
    return now.astimezone(zone).date()
