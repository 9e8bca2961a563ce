"""SQL for technicians' positions: the daily partitions, the log and the latest fix."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID

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


async def context(conn: Connection, technicians: Sequence[UUID], now: datetime) -> list[Record]:
    """All a flush of pings needs, in one round trip. Per technician: their latest fix (repeated
    on each of their rows) and, when they have open work, the jobs ahead in order (the one being
    worked, the one being driven to, then the day's plan) with each place's travel model, the
    factors learned for its territory and the technician's own pace; without open work, one row
    with the job columns null."""
    rows: list[Record] = await conn.fetch(
        """
        SELECT tech.id AS technician_id, tech.name AS technician_name, p.recorded_at AS fix_at,
               p.latitude AS fix_latitude, p.longitude AS fix_longitude, a.*
        FROM technicians tech
        LEFT JOIN technician_latest_positions p ON p.technician_id = tech.id
        LEFT JOIN LATERAL (
            SELECT j.id, j.status, j.duration_s, j.window_start_at, j.window_end_at, j.eta_at, j.eta_told_at,
                   j.started_at, s.latitude, s.longitude, s.territory_id,
                   coalesce(t.timezone, 'UTC') AS timezone,
                   coalesce(t.circuity_factor, 1.3) AS circuity_factor,
                   coalesce(t.speed_kmh, 35) AS speed_kmh,
                   coalesce(t.stop_overhead_s, 120) AS stop_overhead_s,
                   fs.factor AS straight_factor, fs.hour_factors AS straight_hour_factors,
                   fs.band_factors AS straight_band_factors,
                   fs.speed_factors AS straight_speed_factors, fr.factor AS road_factor,
                   fr.hour_factors AS road_hour_factors, fr.band_factors AS road_band_factors,
                   fr.speed_factors AS road_speed_factors, fr.class_factors AS road_class_factors,
                   (SELECT tf.factor FROM technician_travel_factors tf
                     WHERE tf.technician_id = tech.id AND tf.source = 'straight_line') AS straight_pace,
                   (SELECT tf.factor FROM technician_travel_factors tf
                     WHERE tf.technician_id = tech.id AND tf.source = 'road_router') AS road_pace,
                   EXISTS (SELECT 1 FROM job_alerts al WHERE al.job_id = j.id AND al.risk = 'nearby')
                       AS nearby_told,
                   row_number() OVER (
                       ORDER BY j.status = 'on_site' DESC, j.status = 'en_route' DESC, j.planned_start_at,
                                j.id
                   ) AS place_in_line
            FROM jobs j JOIN sites s ON s.id = j.site_id
            LEFT JOIN territories t ON t.id = s.territory_id
            LEFT JOIN travel_factors fs ON fs.territory_id = s.territory_id AND fs.source = 'straight_line'
            LEFT JOIN travel_factors fr ON fr.territory_id = s.territory_id AND fr.source = 'road_router'
            WHERE j.technician_id = tech.id AND j.status IN ('scheduled', 'dispatched', 'en_route', 'on_site')
              AND j.planned_start_at < $2::timestamptz + interval '18 hours'
        ) a ON true
        WHERE tech.id = ANY($1::uuid[])
        ORDER BY tech.id, a.place_in_line
        """,
        list(technicians),
        now,
    )
    return rows


# The customer's page follows its ETA through job events; one a minute of change at most keeps a
# technician pinging every few seconds from writing one a ping (the page shows minutes).
ETA_SHOWN_STEP_S = 60
# A steady drive keeps the ETA still while the distance shrinks: the page hears of it every
# 200 m of change (about every 15 s at 50 km/h), never of each ping.
DISTANCE_SHOWN_STEP_M = 200.0


async def write(
    conn: Connection,
    pings: Sequence[tuple[object, ...]],
    latest: Sequence[tuple[object, ...]],
    etas: Sequence[tuple[UUID, datetime, bool]],
) -> set[tuple[UUID, datetime]]:
    """One statement for a whole flush: insert (technician, recorded_at, lat, lon, accuracy,
    speed, heading, flagged) pings, ignoring repeats of a stored one; move each technician's
    latest fix to their (technician, recorded_at, lat, lon, accuracy, speed, heading), never
    backwards; set the jobs' (id, eta, told) ETAs, and record an `eta` job event for each one
    that moved ETA_SHOWN_STEP_S or more from the one last recorded, and a `position` job event
    for each job driven to whose distance moved DISTANCE_SHOWN_STEP_M or more (either wakes the
    customer's page). The (technician, recorded_at) newly stored."""
    inserted = await conn.fetch(
        """
        WITH stored AS (
            INSERT INTO technician_positions (technician_id, recorded_at, latitude, longitude, accuracy_m,
                                              speed_mps, heading_deg, flagged)
            SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::float8[], $4::float8[], $5::real[],
                                 $6::real[], $7::real[], $8::text[])
            ON CONFLICT (technician_id, recorded_at) DO NOTHING
            RETURNING technician_id, recorded_at
        ), moved AS (
            INSERT INTO technician_latest_positions (technician_id, recorded_at, latitude, longitude,
                                                     accuracy_m, speed_mps, heading_deg)
            SELECT * FROM unnest($9::uuid[], $10::timestamptz[], $11::float8[], $12::float8[], $13::real[],
                                 $14::real[], $15::real[])
            ON CONFLICT (technician_id) DO UPDATE SET
                recorded_at = EXCLUDED.recorded_at, latitude = EXCLUDED.latitude,
                longitude = EXCLUDED.longitude, accuracy_m = EXCLUDED.accuracy_m,
                speed_mps = EXCLUDED.speed_mps, heading_deg = EXCLUDED.heading_deg, received_at = now()
            WHERE technician_latest_positions.recorded_at < EXCLUDED.recorded_at
        ), timed AS (
            UPDATE jobs j SET eta_at = u.eta_at,
                              eta_told_at = CASE WHEN u.told THEN u.eta_at ELSE j.eta_told_at END
            FROM unnest($16::uuid[], $17::timestamptz[], $18::bool[]) AS u(id, eta_at, told)
            WHERE j.id = u.id
            RETURNING j.id, u.eta_at
        ), paged AS (
            INSERT INTO job_events (job_id, kind, data)
            SELECT t.id, 'eta', jsonb_build_object('eta_at', t.eta_at)
            FROM timed t
            LEFT JOIN LATERAL (
                SELECT (e.data ->> 'eta_at')::timestamptz AS eta_at FROM job_events e
                WHERE e.job_id = t.id AND e.kind = 'eta' ORDER BY e.id DESC LIMIT 1
            ) said ON true
            WHERE said.eta_at IS NULL OR abs(extract(epoch FROM t.eta_at - said.eta_at)) >= $19::int
        ), approached AS (
            INSERT INTO job_events (job_id, kind, data)
            SELECT j.id, 'position', jsonb_build_object('distance_m', d.m)
            FROM unnest($9::uuid[], $11::float8[], $12::float8[]) AS f(technician_id, latitude, longitude)
            JOIN jobs j ON j.technician_id = f.technician_id AND j.status = 'en_route'
            JOIN sites s ON s.id = j.site_id
            CROSS JOIN LATERAL (
                SELECT 2 * 6371008.8 * asin(least(1, sqrt(
                    sin(radians(s.latitude - f.latitude) / 2) ^ 2
                    + cos(radians(f.latitude)) * cos(radians(s.latitude))
                      * sin(radians(s.longitude - f.longitude) / 2) ^ 2))) AS m
            ) d
            LEFT JOIN LATERAL (
                SELECT (e.data ->> 'distance_m')::float8 AS m FROM job_events e
                WHERE e.job_id = j.id AND e.kind = 'position' ORDER BY e.id DESC LIMIT 1
            ) said ON true
            WHERE said.m IS NULL OR abs(d.m - said.m) >= $20::float8
        )
        SELECT technician_id, recorded_at FROM stored
        """,
        *_columns(pings, 8),
        *_columns(latest, 7),
        *_columns(etas, 3),
        ETA_SHOWN_STEP_S,
        DISTANCE_SHOWN_STEP_M,
    )
    return {(r["technician_id"], r["recorded_at"]) for r in inserted}


def _columns(rows: Sequence[tuple[object, ...]], width: int) -> list[list[object]]:
    return [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in range(width)]


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
