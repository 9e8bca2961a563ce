"""SQL for calibration: completed trips, and the travel factors learned from them."""

from __future__ import annotations

from collections.abc import Sequence

from asyncpg import Record

from dispatch.travel.learning import FittedFactors, TechnicianPace
from infra.db import Connection


async def drives(conn: Connection) -> list[Record]:
    """Each completed trip, oldest first: the departure (en_route) and arrival (on_site), the door,
    the territory, and the technician's unflagged fixes between, in order."""
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
        SELECT l.id, l.technician_id, l.territory_id, l.timezone, l.latitude, l.longitude, l.left_at,
               l.arrived_at,
               array_agg(p.recorded_at ORDER BY p.recorded_at) AS fix_at,
               array_agg(p.latitude ORDER BY p.recorded_at) AS fix_latitude,
               array_agg(p.longitude ORDER BY p.recorded_at) AS fix_longitude
        FROM legs l
        JOIN technician_positions p
          ON p.technician_id = l.technician_id AND p.flagged IS NULL
         AND p.recorded_at >= l.left_at AND p.recorded_at < l.arrived_at
        WHERE l.left_at IS NOT NULL AND l.arrived_at > l.left_at
        GROUP BY l.id, l.technician_id, l.territory_id, l.timezone, l.latitude, l.longitude, l.left_at,
                 l.arrived_at
        ORDER BY l.left_at, l.id
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
        INSERT INTO travel_factors
            (territory_id, source, factor, hour_factors, band_factors, speed_factors, trips,
             class_factors)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT (territory_id, source) DO UPDATE
        SET factor = EXCLUDED.factor, hour_factors = EXCLUDED.hour_factors,
            band_factors = EXCLUDED.band_factors, speed_factors = EXCLUDED.speed_factors,
            trips = EXCLUDED.trips, class_factors = EXCLUDED.class_factors, updated_at = now()
        """,
        [
            (
                f.territory_id,
                source,
                f.factors.factor,
                list(f.factors.hour_factors),
                list(f.factors.band_factors),
                list(f.factors.speed_factors),
                f.factors.trips,
                list(f.factors.class_factors),
            )
            for f in fitted
        ],
    )


async def store_paces(conn: Connection, source: str, paces: Sequence[TechnicianPace]) -> None:
    """Replace each technician's pace against the source; one without trips keeps what they had."""
    await conn.executemany(
        """
        INSERT INTO technician_travel_factors (technician_id, source, factor, trips)
        VALUES ($1, $2, $3, $4)
        ON CONFLICT (technician_id, source) DO UPDATE
        SET factor = EXCLUDED.factor, trips = EXCLUDED.trips, updated_at = now()
        """,
        [(p.technician_id, source, p.factor, p.trips) for p in paces],
    )
