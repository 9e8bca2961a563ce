"""SQL for calibration: completed trips, and the travel factors learned from them."""

from __future__ import annotations

from collections.abc import Sequence

from asyncpg import Record

from dispatch.travel_learning import FittedFactors
from infra.db import Connection


async def completed_trips(conn: Connection) -> list[Record]:
    """Stretches of completed trips, as an ETA is asked for them: for each departure (en_route)
    with its arrival (on_site), the first fix in each five minutes of the drive (none in the last
    three, which are parking and the walk), with the time it was taken, the door, and the
    territory. A drive without a fix in its first five minutes is left out: where it set off
    from is not known."""
    rows: list[Record] = await conn.fetch(
        """
        WITH legs AS (
            SELECT j.id, j.technician_id, s.latitude, s.longitude, s.territory_id, t.timezone,
                   (SELECT coalesce(e.client_at, e.occurred_at) FROM job_events e
                     WHERE e.job_id = j.id AND e.kind = 'status' AND e.to_status = 'en_route'
                     ORDER BY e.id DESC LIMIT 1) AS left_at,
                   (SELECT coalesce(e.client_at, e.occurred_at) FROM job_events e
                     WHERE e.job_id = j.id AND e.kind = 'status' AND e.to_status = 'on_site'
                     ORDER BY e.id DESC LIMIT 1) AS arrived_at
            FROM jobs j JOIN sites s ON s.id = j.site_id JOIN territories t ON t.id = s.territory_id
            WHERE j.status IN ('completed', 'incomplete', 'on_site')
        )
        SELECT l.territory_id, extract(hour FROM p.recorded_at AT TIME ZONE l.timezone)::int AS hour,
               l.latitude, l.longitude, p.recorded_at AS fix_at, l.arrived_at,
               p.latitude AS from_lat, p.longitude AS from_lon
        FROM legs l
        JOIN LATERAL (
            SELECT DISTINCT ON (floor(extract(epoch FROM recorded_at - l.left_at) / 300))
                   latitude, longitude, recorded_at
            FROM technician_positions
            WHERE technician_id = l.technician_id AND flagged IS NULL
              AND recorded_at >= l.left_at AND recorded_at < l.arrived_at - interval '3 minutes'
            ORDER BY floor(extract(epoch FROM recorded_at - l.left_at) / 300), recorded_at
        ) p ON true
        WHERE l.left_at IS NOT NULL AND l.arrived_at > l.left_at
          AND EXISTS (
              SELECT 1 FROM technician_positions f
              WHERE f.technician_id = l.technician_id AND f.flagged IS NULL
                AND f.recorded_at >= l.left_at AND f.recorded_at < l.left_at + interval '5 minutes'
          )
        ORDER BY p.recorded_at
        """
    )
    return rows


async def territory_models(conn: Connection) -> list[Record]:
    rows: list[Record] = await conn.fetch(
        "SELECT id, speed_kmh, circuity_factor, stop_overhead_s FROM territories"
    )
    return rows


async def store(conn: Connection, source: str, fitted: Sequence[FittedFactors]) -> None:
    """Replace what was learned for the source in each territory with trips; a territory without
    any keeps what it had."""
    await conn.executemany(
        """
        INSERT INTO travel_factors (territory_id, source, factor, hour_factors, band_factors, trips)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (territory_id, source) DO UPDATE
        SET factor = EXCLUDED.factor, hour_factors = EXCLUDED.hour_factors,
            band_factors = EXCLUDED.band_factors, trips = EXCLUDED.trips, updated_at = now()
        """,
        [
            (
                f.territory_id,
                source,
                f.factors.factor,
                list(f.factors.hour_factors),
                list(f.factors.band_factors),
                f.factors.trips,
            )
            for f in fitted
        ],
    )
