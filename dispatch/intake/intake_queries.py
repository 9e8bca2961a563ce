"""SQL for intake: the problem catalogue, finding the site, and how long past jobs took."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import msgspec
from asyncpg import Record

from dispatch.models import (
    Problem as Problem,  # re-exported: older callers import it from here
    Variant as Variant,
)
from infra.db import Connection


class SiteMatch(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    address_line: str
    city: str
    postal_code: str
    latitude: float
    longitude: float
    address_key: str


def _problem(row: Record) -> Problem:
    return Problem(
        code=row["code"],
        asset_kind=row["asset_kind"],
        name=row["name"],
        keywords=list(row["keywords"]),
        default_choice=row["default_choice"],
        variants=[msgspec.convert(v, Variant) for v in row["variants"]],
    )


_PROBLEM_SELECT = """
    SELECT p.code, p.asset_kind, p.name, p.keywords, p.default_choice,
           coalesce((SELECT jsonb_agg(jsonb_build_object(
                        'choice', v.choice, 'required_skills', v.required_skills, 'skills_if', v.skills_if,
                        'duration_s', v.duration_s, 'part_families', to_jsonb(v.part_families))
                      ORDER BY v.choice)
                     FROM problem_variants v WHERE v.problem_code = p.code), '[]'::jsonb) AS variants
    FROM problems p
"""


async def problems(conn: Connection, *, asset_kinds: list[str] | None = None) -> list[Problem]:
    rows = await conn.fetch(
        _PROBLEM_SELECT + " WHERE $1::text[] IS NULL OR p.asset_kind = ANY($1::text[]) ORDER BY p.code",
        asset_kinds,
    )
    return [_problem(r) for r in rows]


async def problem(conn: Connection, code: str) -> Problem | None:
    row = await conn.fetchrow(_PROBLEM_SELECT + " WHERE p.code = $1", code)
    return None if row is None else _problem(row)


_SITE = "s.id, s.address_line, s.city, s.postal_code, s.latitude, s.longitude, s.address_key"


async def sites_on_line(
    conn: Connection, normalised_line: str, territory_id: UUID | None = None
) -> list[SiteMatch]:
    """Sites whose normalised street line matches (in the territory, when given); the caller
    narrows by city or postal code."""
    rows = await conn.fetch(
        f"""
        SELECT {_SITE} FROM sites s
        WHERE split_part(s.address_key, '|', 1) = $1 AND ($2::uuid IS NULL OR s.territory_id = $2)
        ORDER BY s.created_at
        """,
        normalised_line,
        territory_id,
    )
    return [SiteMatch(**dict(r)) for r in rows]


async def sites_near(
    conn: Connection, latitude: float, longitude: float, degrees: float, territory_id: UUID | None = None
) -> list[SiteMatch]:
    """Sites inside a small box around the point (in the territory, when given); the caller
    measures the true distance."""
    rows = await conn.fetch(
        f"""
        SELECT {_SITE} FROM sites s
        WHERE s.latitude BETWEEN $1::float8 - $3::float8 AND $1::float8 + $3::float8
          AND s.longitude BETWEEN $2::float8 - $4::float8 AND $2::float8 + $4::float8
          AND ($5::uuid IS NULL OR s.territory_id = $5)
        """,
        latitude,
        longitude,
        degrees,
        degrees * 3,  # a degree of longitude shrinks toward the poles; the distance check is exact
        territory_id,
    )
    return [SiteMatch(**dict(r)) for r in rows]


async def get_site(conn: Connection, site_id: UUID, territory_id: UUID | None = None) -> SiteMatch | None:
    row = await conn.fetchrow(
        f"SELECT {_SITE} FROM sites s WHERE s.id = $1 AND ($2::uuid IS NULL OR s.territory_id = $2)",
        site_id,
        territory_id,
    )
    return None if row is None else SiteMatch(**dict(row))


async def past_durations(
    conn: Connection, *, problem_code: str, choice: str | None, make: str, model: str
) -> list[timedelta]:
    """On-site times of completed first visits for this problem (and choice) on this make and model,
    matched by the normalised make and model (visit_outcomes, kept by the database)."""
    rows = await conn.fetch(
        """
        SELECT o.took_s
        FROM visit_outcomes o
        WHERE o.problem_code = $1 AND o.choice = $2 AND o.make_key = make_key($3::text)
          AND o.model_key = spelling_key($4::text) AND o.status = 'completed' AND o.took_s IS NOT NULL
        """,
        problem_code,
        choice or "",
        make,
        model,
    )
    return [timedelta(seconds=r["took_s"]) for r in rows]


async def upsert_problem(conn: Connection, problem: Problem) -> None:
    await conn.execute(
        """
        INSERT INTO problems (code, asset_kind, name, keywords, default_choice) VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (code) DO UPDATE SET asset_kind = $2, name = $3, keywords = $4, default_choice = $5,
                                         updated_at = now()
        """,
        problem.code,
        problem.asset_kind,
        problem.name,
        problem.keywords,
        problem.default_choice,
    )
    await conn.execute("DELETE FROM problem_variants WHERE problem_code = $1", problem.code)
    await conn.executemany(
        """
        INSERT INTO problem_variants (problem_code, choice, required_skills, skills_if, duration_s,
                                      part_families)
        VALUES ($1, $2, $3, $4, $5, $6)
        """,
        [
            (problem.code, v.choice, v.required_skills, v.skills_if, v.duration_s, v.part_families)
            for v in problem.variants
        ],
    )


async def asset_kind_exists(conn: Connection, kind: str) -> bool:
    return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM asset_kinds WHERE code = $1)", kind))


async def known_skills(conn: Connection, codes: list[str]) -> set[str]:
    rows = await conn.fetch("SELECT code FROM skills WHERE code = ANY($1::text[])", codes)
    return {r["code"] for r in rows}


class OpenJob(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    asset_id: UUID
    problem_code: str
    customer_choice: str | None
    make: str
    model: str


async def new_jobs_without_parts(conn: Connection) -> list[OpenJob]:
    rows = await conn.fetch(
        """
        SELECT j.id, j.asset_id, j.problem_code, j.customer_choice, a.make, a.model
        FROM jobs j JOIN assets a ON a.id = j.asset_id
        WHERE j.status = 'new' AND NOT EXISTS (SELECT 1 FROM job_parts jp WHERE jp.job_id = j.id)
        ORDER BY j.window_start_at, j.id
        """
    )
    return [OpenJob(**dict(r)) for r in rows]
