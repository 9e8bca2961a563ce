"""SQL for matching: the technicians, their days (shifts, breaks, planned visits), stock and history.

Reads for many technicians come back as one row per technician or per shift with arrays inside,
so ranking a job among thousands of technicians costs a handful of round trips.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from asyncpg import Record

from dispatch.travel.learning import NEUTRAL, TravelFactors
from dispatch.travel.sources import Point
from infra.db import Connection

ASSIGNED_STATUSES = ("scheduled", "dispatched", "en_route", "on_site")


@dataclass(frozen=True)
class TechnicianRow:
    id: UUID
    name: str
    territory_id: UUID
    active: bool
    home: Point
    skills: dict[str, int]


@dataclass(frozen=True)
class ShiftRow:
    id: UUID
    technician_id: UUID
    starts_at: datetime
    ends_at: datetime
    start: Point
    end: Point
    overtime_s: int
    breaks: list[tuple[datetime, datetime, int]]  # earliest start, latest end, seconds


@dataclass(frozen=True)
class VisitRow:
    job_id: UUID
    technician_id: UUID
    status: str
    point: Point
    window_start_at: datetime
    window_end_at: datetime
    duration_s: int
    planned_start_at: datetime | None
    pinned_start_at: datetime | None
    started_at: datetime | None
    version: int
    pickup: Point | None = None
    pickup_s: int = 0


@dataclass(frozen=True)
class DepotRow:
    id: UUID
    name: str
    territory_id: UUID | None
    point: Point
    stock: dict[UUID, int]


@dataclass(frozen=True)
class JobPlace:
    point: Point
    territory_id: UUID | None
    timezone: str
    circuity_factor: float
    speed_kmh: float
    stop_overhead_s: int
    # What the territory's trips taught about each source (dispatch.travel.learning).
    straight_line: TravelFactors = NEUTRAL
    road_router: TravelFactors = NEUTRAL


async def job_place(conn: Connection, site_id: UUID) -> JobPlace:
    row = await conn.fetchrow(
        """
        SELECT s.latitude, s.longitude, s.territory_id, coalesce(t.timezone, 'UTC') AS timezone,
               coalesce(t.circuity_factor, 1.3) AS circuity_factor, coalesce(t.speed_kmh, 35) AS speed_kmh,
               coalesce(t.stop_overhead_s, 120) AS stop_overhead_s,
               fs.factor AS straight_factor, fs.hour_factors AS straight_hour_factors,
               fs.band_factors AS straight_band_factors,
               fs.speed_factors AS straight_speed_factors, fr.factor AS road_factor,
               fr.hour_factors AS road_hour_factors, fr.band_factors AS road_band_factors,
               fr.speed_factors AS road_speed_factors, fr.class_factors AS road_class_factors
        FROM sites s LEFT JOIN territories t ON t.id = s.territory_id
        LEFT JOIN travel_factors fs ON fs.territory_id = s.territory_id AND fs.source = 'straight_line'
        LEFT JOIN travel_factors fr ON fr.territory_id = s.territory_id AND fr.source = 'road_router'
        WHERE s.id = $1
        """,
        site_id,
    )
    assert row is not None, "a job's site always exists"
    return place_of(row)


def place_of(row: Record | Mapping[str, Any]) -> JobPlace:
    """A JobPlace from a row carrying the site's point and its territory's travel model."""
    return JobPlace(
        point=(row["latitude"], row["longitude"]),
        territory_id=row["territory_id"],
        timezone=row["timezone"],
        circuity_factor=row["circuity_factor"],
        speed_kmh=row["speed_kmh"],
        stop_overhead_s=row["stop_overhead_s"],
        straight_line=learned_of(row, "straight"),
        road_router=learned_of(row, "road"),
    )


def learned_of(row: Record | Mapping[str, Any], prefix: str) -> TravelFactors:
    """A source's learned factors from a row's `{prefix}_factor`, `{prefix}_hour_factors` and
    `{prefix}_band_factors` and `{prefix}_speed_factors` columns (null, or absent, where nothing
    was learned), with a technician's `{prefix}_pace` where the row is about one."""
    factor = row.get(f"{prefix}_factor")
    if factor is None:
        return NEUTRAL
    return TravelFactors(
        float(factor),
        tuple(row[f"{prefix}_hour_factors"]),
        tuple(row[f"{prefix}_band_factors"]),
        speed_factors=tuple(row.get(f"{prefix}_speed_factors") or ()),
        pace=float(row.get(f"{prefix}_pace") or 1.0),
        class_factors=tuple(row.get(f"{prefix}_class_factors") or ()),
    )


async def technicians(conn: Connection, only: Sequence[UUID] | None = None) -> list[TechnicianRow]:
    rows = await conn.fetch(
        """
        SELECT t.id, t.name, t.territory_id, t.active, t.home_latitude, t.home_longitude,
               coalesce(array_agg(ts.skill) FILTER (WHERE ts.skill IS NOT NULL), '{}') AS skills,
               coalesce(array_agg(ts.level) FILTER (WHERE ts.skill IS NOT NULL), '{}') AS levels
        FROM technicians t LEFT JOIN technician_skills ts ON ts.technician_id = t.id
        WHERE $1::uuid[] IS NULL OR t.id = ANY($1::uuid[])
        GROUP BY t.id
        ORDER BY t.name, t.id
        """,
        None if only is None else list(only),
    )
    return [
        TechnicianRow(
            id=r["id"],
            name=r["name"],
            territory_id=r["territory_id"],
            active=r["active"],
            home=(r["home_latitude"], r["home_longitude"]),
            skills=dict(zip(r["skills"], r["levels"], strict=True)),
        )
        for r in rows
    ]


async def lock_technician(conn: Connection, technician_id: UUID) -> bool:
    """Serialises changes to one technician's route: whoever holds this row plans their day."""
    found = await conn.fetchval("SELECT true FROM technicians WHERE id = $1 FOR UPDATE", technician_id)
    return bool(found)


async def shifts_overlapping(
    conn: Connection, technician_ids: Sequence[UUID], starts_at: datetime, ends_at: datetime
) -> list[ShiftRow]:
    """Shifts (with their breaks) in which work could happen between the two times."""
    rows = await conn.fetch(
        """
        SELECT s.id, s.technician_id, s.starts_at, s.ends_at, s.start_latitude, s.start_longitude,
               s.end_latitude, s.end_longitude, s.overtime_limit_s,
               coalesce(array_agg(b.earliest_start_at ORDER BY b.earliest_start_at)
                        FILTER (WHERE b.id IS NOT NULL), '{}') AS break_earliest,
               coalesce(array_agg(b.latest_end_at ORDER BY b.earliest_start_at)
                        FILTER (WHERE b.id IS NOT NULL), '{}') AS break_latest,
               coalesce(array_agg(b.duration_s ORDER BY b.earliest_start_at)
                        FILTER (WHERE b.id IS NOT NULL), '{}') AS break_s
        FROM shifts s LEFT JOIN shift_breaks b ON b.shift_id = s.id
        WHERE s.technician_id = ANY($1::uuid[])
          AND s.starts_at < $3 AND s.ends_at + make_interval(secs => s.overtime_limit_s) > $2
        GROUP BY s.id
        ORDER BY s.technician_id, s.starts_at
        """,
        list(technician_ids),
        starts_at,
        ends_at,
    )
    return [
        ShiftRow(
            id=r["id"],
            technician_id=r["technician_id"],
            starts_at=r["starts_at"],
            ends_at=r["ends_at"],
            start=(r["start_latitude"], r["start_longitude"]),
            end=(r["end_latitude"], r["end_longitude"]),
            overtime_s=r["overtime_limit_s"],
            breaks=list(zip(r["break_earliest"], r["break_latest"], r["break_s"], strict=True)),
        )
        for r in rows
    ]


async def planned_visits(
    conn: Connection, technician_ids: Sequence[UUID], starts_at: datetime, ends_at: datetime
) -> list[VisitRow]:
    """Assigned, unfinished jobs planned to start in the interval, in planned order per technician."""
    rows = await conn.fetch(
        """
        SELECT j.id AS job_id, j.technician_id, j.status, s.latitude, s.longitude, j.window_start_at,
               j.window_end_at, j.duration_s, j.planned_start_at, j.pinned_start_at, j.started_at, j.version,
               d.latitude AS pickup_latitude, d.longitude AS pickup_longitude, j.pickup_s
        FROM jobs j JOIN sites s ON s.id = j.site_id
        LEFT JOIN stock_locations d ON d.id = j.pickup_location_id
        WHERE j.technician_id = ANY($1::uuid[])
          AND j.status = ANY($4::text[])
          AND j.planned_start_at >= $2 AND j.planned_start_at < $3
        ORDER BY j.technician_id, j.status NOT IN ('on_site', 'en_route'), j.planned_start_at, j.id
        """,
        list(technician_ids),
        starts_at,
        ends_at,
        list(ASSIGNED_STATUSES),
    )
    return [
        VisitRow(
            job_id=r["job_id"],
            technician_id=r["technician_id"],
            status=r["status"],
            point=(r["latitude"], r["longitude"]),
            window_start_at=r["window_start_at"],
            window_end_at=r["window_end_at"],
            duration_s=r["duration_s"],
            planned_start_at=r["planned_start_at"],
            pinned_start_at=r["pinned_start_at"],
            started_at=r["started_at"],
            version=r["version"],
            pickup=None if r["pickup_latitude"] is None else (r["pickup_latitude"], r["pickup_longitude"]),
            pickup_s=r["pickup_s"],
        )
        for r in rows
    ]


async def last_finished(
    conn: Connection, technician_ids: Sequence[UUID], since: datetime
) -> dict[UUID, tuple[Point, datetime]]:
    """Where and when each technician last finished a job since the given time."""
    rows = await conn.fetch(
        """
        SELECT DISTINCT ON (j.technician_id) j.technician_id, s.latitude, s.longitude, j.finished_at
        FROM jobs j JOIN sites s ON s.id = j.site_id
        WHERE j.technician_id = ANY($1::uuid[]) AND j.finished_at >= $2
          AND j.status IN ('completed', 'incomplete')
        ORDER BY j.technician_id, j.finished_at DESC
        """,
        list(technician_ids),
        since,
    )
    return {r["technician_id"]: ((r["latitude"], r["longitude"]), r["finished_at"]) for r in rows}


async def van_stock(conn: Connection, part_ids: Sequence[UUID]) -> dict[UUID, dict[UUID, int]]:
    """technician -> part -> quantity on their van, for the given parts."""
    if not part_ids:
        return {}
    rows = await conn.fetch(
        """
        SELECT l.technician_id, s.part_id, s.quantity FROM stock_levels s
        JOIN stock_locations l ON l.id = s.location_id
        WHERE l.kind = 'van' AND s.part_id = ANY($1::uuid[]) AND s.quantity > 0
        """,
        list(part_ids),
    )
    vans: dict[UUID, dict[UUID, int]] = {}
    for r in rows:
        vans.setdefault(r["technician_id"], {})[r["part_id"]] = r["quantity"]
    return vans


async def depots_holding(conn: Connection, part_ids: Sequence[UUID]) -> list[DepotRow]:
    if not part_ids:
        return []
    rows = await conn.fetch(
        """
        SELECT l.id, l.name, l.territory_id, l.latitude, l.longitude,
               array_agg(s.part_id) AS parts, array_agg(s.quantity) AS quantities
        FROM stock_locations l JOIN stock_levels s ON s.location_id = l.id
        WHERE l.kind = 'depot' AND s.part_id = ANY($1::uuid[]) AND s.quantity > 0
        GROUP BY l.id ORDER BY l.name
        """,
        list(part_ids),
    )
    return [
        DepotRow(
            id=r["id"],
            name=r["name"],
            territory_id=r["territory_id"],
            point=(r["latitude"], r["longitude"]),
            stock=dict(zip(r["parts"], r["quantities"], strict=True)),
        )
        for r in rows
    ]


async def asset_servers(conn: Connection, asset_id: UUID | None) -> dict[UUID, datetime]:
    """Who worked on this asset before, and when last."""
    if asset_id is None:
        return {}
    rows = await conn.fetch(
        """
        SELECT technician_id, max(occurred_at) AS last_at FROM asset_events
        WHERE asset_id = $1 AND technician_id IS NOT NULL GROUP BY technician_id
        """,
        asset_id,
    )
    return {r["technician_id"]: r["last_at"] for r in rows}


async def customer_preferences(conn: Connection, customer_id: UUID | None) -> dict[UUID, str]:
    if customer_id is None:
        return {}
    rows = await conn.fetch(
        "SELECT technician_id, preference FROM customer_technician_preferences WHERE customer_id = $1",
        customer_id,
    )
    return {r["technician_id"]: r["preference"] for r in rows}
