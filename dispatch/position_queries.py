"""SQL for technicians' positions: the daily partitions, the log and the latest fix."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from asyncpg import Record

from infra.db import Connection

# Partition maintenance takes this lock, so two processes never create or drop the same one.
PARTITION_LOCK_KEY = 0x7472_7563_6B70  # "truckp"


def partition_name(day: date) -> str:
    return f"technician_positions_{day:%Y%m%d}"


async def ensure_partitions(conn: Connection, first: date, last: date, *, keep_from: date) -> tuple[int, int]:
    """Create the daily partitions first..last and drop those before keep_from; (created, dropped)."""
    await conn.execute("SELECT pg_advisory_xact_lock($1)", PARTITION_LOCK_KEY)
    existing = {
        r["relname"]
        for r in await conn.fetch(
            """
            SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'technician_positions'
            """
        )
    }
    created = dropped = 0
    day = first
    while day <= last:
        name = partition_name(day)
        if name not in existing:
            start, end = (
                datetime.combine(day, datetime.min.time()),
                datetime.combine(day + timedelta(days=1), datetime.min.time()),
            )
            # Rows of that day already caught by the default partition move into the new one.
            await conn.execute(
                f"""
                CREATE TABLE {name} (LIKE technician_positions INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
                WITH moved AS (
                    DELETE FROM technician_positions_default
                    WHERE recorded_at >= '{start.isoformat()}+00' AND recorded_at < '{end.isoformat()}+00'
                    RETURNING *
                ) INSERT INTO {name} SELECT * FROM moved;
                ALTER TABLE technician_positions ATTACH PARTITION {name}
                    FOR VALUES FROM ('{start.isoformat()}+00') TO ('{end.isoformat()}+00');
                """
            )
            created += 1
        day += timedelta(days=1)
    for name in sorted(existing):
        if name.startswith("technician_positions_2") and name < partition_name(keep_from):
            await conn.execute(f"DROP TABLE {name}")
            dropped += 1
    await conn.execute(
        "DELETE FROM technician_positions_default WHERE recorded_at < $1",
        datetime.combine(keep_from, time(0), UTC),
    )
    return created, dropped


async def latest(conn: Connection, technician_id: object) -> Record | None:
    row: Record | None = await conn.fetchrow(
        "SELECT recorded_at, latitude, longitude FROM technician_latest_positions WHERE technician_id = $1",
        technician_id,
    )
    return row


async def insert_pings(conn: Connection, rows: Sequence[tuple[object, ...]]) -> list[bool]:
    """Insert (technician, recorded_at, lat, lon, accuracy, speed, heading, flagged) in one
    statement; duplicates (same technician and time) are ignored. Per row: whether it was new."""
    if not rows:
        return []
    columns = list(zip(*rows, strict=True))
    inserted = await conn.fetch(
        """
        INSERT INTO technician_positions (technician_id, recorded_at, latitude, longitude, accuracy_m,
                                          speed_mps, heading_deg, flagged)
        SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::float8[], $4::float8[], $5::real[],
                             $6::real[], $7::real[], $8::text[])
        ON CONFLICT (technician_id, recorded_at) DO NOTHING
        RETURNING recorded_at
        """,
        *[list(c) for c in columns],
    )
    new = {r["recorded_at"] for r in inserted}
    seen: set[object] = set()
    result: list[bool] = []
    for row in rows:
        # A time repeated inside one batch is new only once.
        result.append(row[1] in new and row[1] not in seen)
        seen.add(row[1])
    return result


async def move_latest(conn: Connection, technician_id: object, fix: tuple[object, ...]) -> None:
    """Keep the newest believable fix (an older backlog never moves it backwards)."""
    await conn.execute(
        """
        INSERT INTO technician_latest_positions (technician_id, recorded_at, latitude, longitude, accuracy_m,
                                                 speed_mps, heading_deg)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT (technician_id) DO UPDATE SET
            recorded_at = EXCLUDED.recorded_at, latitude = EXCLUDED.latitude,
            longitude = EXCLUDED.longitude, accuracy_m = EXCLUDED.accuracy_m, speed_mps = EXCLUDED.speed_mps,
            heading_deg = EXCLUDED.heading_deg, received_at = now()
        WHERE technician_latest_positions.recorded_at < EXCLUDED.recorded_at
        """,
        technician_id,
        *fix,
    )


async def silent_technicians(conn: Connection, now: datetime, quiet_since: datetime) -> list[Record]:
    """Technicians on shift now, with open work today, whose last fix is older than quiet_since
    (or who sent none this shift); each with their next open job."""
    rows: list[Record] = await conn.fetch(
        """
        SELECT s.technician_id, p.recorded_at AS last_fix,
               (SELECT j.id FROM jobs j WHERE j.technician_id = s.technician_id
                  AND j.status IN ('scheduled', 'dispatched', 'en_route', 'on_site')
                  AND j.planned_start_at < s.ends_at ORDER BY j.planned_start_at LIMIT 1) AS next_job
        FROM shifts s LEFT JOIN technician_latest_positions p ON p.technician_id = s.technician_id
        WHERE s.starts_at <= $1 AND s.ends_at > $1
          AND s.starts_at <= $2
          AND (p.recorded_at IS NULL OR p.recorded_at < greatest($2, s.starts_at))
        """,
        now,
        quiet_since,
    )
    return [r for r in rows if r["next_job"] is not None]


async def stuck_technicians(conn: Connection, quiet_since: datetime) -> list[Record]:
    """Technicians driving to a job whose fixes since quiet_since (at least two, the first one
    at least that old) all stay within about 100 m: pinging, but not moving."""
    rows: list[Record] = await conn.fetch(
        """
        SELECT j.technician_id, j.id AS next_job, max(p.recorded_at) AS last_fix
        FROM jobs j
        JOIN technician_positions p ON p.technician_id = j.technician_id AND p.flagged IS NULL
         AND p.recorded_at >= $1::timestamptz - interval '2 minutes'
        WHERE j.status = 'en_route'
        GROUP BY j.technician_id, j.id
        HAVING count(*) >= 2 AND min(p.recorded_at) <= $1::timestamptz
           AND max(p.latitude) - min(p.latitude) < 0.001 AND max(p.longitude) - min(p.longitude) < 0.0014
        """,
        quiet_since,
    )
    return rows
