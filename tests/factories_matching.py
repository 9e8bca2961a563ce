"""Arrange technicians' days directly in the database: territory, technicians with shifts and
vans, sites, jobs (new or already planned), depots. Times are on 1 December 2026 in Minneapolis."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from assets.addresses import address_key
from infra.db import Connection

ZONE = ZoneInfo("America/Chicago")
BASE = (44.97, -93.26)


def at(hour: float, day: int = 1) -> datetime:
    """Local time on December `day`, 2026."""
    return datetime(2026, 12, day, tzinfo=ZONE) + timedelta(hours=hour)


async def territory(conn: Connection) -> UUID:
    territory_id: UUID = await conn.fetchval(
        "INSERT INTO territories (name, timezone) VALUES ($1, 'America/Chicago') RETURNING id",
        f"Metro {uuid4().hex[:6]}",
    )
    return territory_id


async def technician(
    conn: Connection,
    territory_id: UUID,
    name: str,
    home: tuple[float, float] = BASE,
    *,
    skills: dict[str, int] | None = None,
    shift: tuple[float, float] | None = (8, 16.5),
    day: int = 1,
    breaks: Sequence[tuple[float, float, int]] = (),
    van: dict[UUID, int] | None = None,
) -> UUID:
    tech_id: UUID = await conn.fetchval(
        """
        INSERT INTO technicians (name, territory_id, home_latitude, home_longitude)
        VALUES ($1, $2, $3, $4) RETURNING id
        """,
        name,
        territory_id,
        *home,
    )
    for skill, level in (skills or {"garage_door": 3, "garage_door_springs": 3}).items():
        await conn.execute("INSERT INTO technician_skills VALUES ($1, $2, $3)", tech_id, skill, level)
    van_id = await conn.fetchval(
        "INSERT INTO stock_locations (kind, name, technician_id) VALUES ('van', $1, $2) RETURNING id",
        f"Van of {name}",
        tech_id,
    )
    for part_id, quantity in (van or {}).items():
        await conn.execute("INSERT INTO stock_levels VALUES ($1, $2, $3)", van_id, part_id, quantity)
    if shift is not None:
        shift_id = await conn.fetchval(
            """
            INSERT INTO shifts (technician_id, starts_at, ends_at, start_latitude, start_longitude,
                                end_latitude, end_longitude)
            VALUES ($1, $2, $3, $4, $5, $4, $5) RETURNING id
            """,
            tech_id,
            at(shift[0], day),
            at(shift[1], day),
            *home,
        )
        for earliest, latest, seconds in breaks:
            await conn.execute(
                "INSERT INTO shift_breaks (shift_id, earliest_start_at, latest_end_at, duration_s)"
                " VALUES ($1, $2, $3, $4)",
                shift_id,
                at(earliest, day),
                at(latest, day),
                seconds,
            )
    return tech_id


async def site(
    conn: Connection, territory_id: UUID, point: tuple[float, float], line: str | None = None
) -> UUID:
    line = line or f"{uuid4().int % 9000 + 100} Elm Street"
    site_id: UUID = await conn.fetchval(
        """
        INSERT INTO sites (address_line, city, postal_code, address_key, latitude, longitude, territory_id)
        VALUES ($1, 'Minneapolis', '55401', $2, $3, $4, $5) RETURNING id
        """,
        line,
        address_key(line, "Minneapolis", "55401"),
        *point,
        territory_id,
    )
    customer_id = await conn.fetchval("INSERT INTO customers (name) VALUES ('Pat Doe') RETURNING id")
    await conn.execute(
        "INSERT INTO site_occupancies (site_id, customer_id, started_at) VALUES ($1, $2, '2020-01-01')",
        site_id,
        customer_id,
    )
    return site_id


async def job(
    conn: Connection,
    site_id: UUID,
    window: tuple[float, float],
    *,
    duration_s: int = 3600,
    skills: dict[str, int] | None = None,
    technician_id: UUID | None = None,
    planned: float | None = None,
    pinned_at: float | None = None,
    asset_id: UUID | None = None,
) -> UUID:
    status = "new" if technician_id is None else "scheduled"
    job_id: UUID = await conn.fetchval(
        """
        INSERT INTO jobs (site_id, asset_id, customer_id, problem_code, required_skills, duration_s,
                          window_start_at, window_end_at, status, technician_id, planned_start_at,
                          pinned, pinned_start_at)
        VALUES ($1, $2, (SELECT customer_id FROM site_occupancies WHERE site_id = $1 LIMIT 1),
                'broken_spring', $3, $4, $5, $6, $7, $8, $9, $10, $11)
        RETURNING id
        """,
        site_id,
        asset_id,
        skills if skills is not None else {"garage_door_springs": 2},
        duration_s,
        at(window[0]),
        at(window[1]),
        status,
        technician_id,
        None if planned is None else at(planned),
        pinned_at is not None,
        None if pinned_at is None else at(pinned_at),
    )
    return job_id


def north(km: float) -> tuple[float, float]:
    """A point `km` north of the base (1 km ~ 0.008993 degrees of latitude)."""
    return (BASE[0] + km * 0.008993, BASE[1])


async def last_fix(conn: Connection, tech: UUID, when: datetime, where: tuple[float, float]) -> None:
    """The technician's latest position, as their app last sent it."""
    await conn.execute(
        "INSERT INTO technician_latest_positions (technician_id, recorded_at, latitude, longitude)"
        " VALUES ($1, $2, $3, $4)",
        tech,
        when,
        *where,
    )
