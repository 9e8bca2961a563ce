"""SQL for jobs, the parts they need and their audit trail."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from asyncpg import Record

from assets.models import PartId
from dispatch.access.accounts import Principal, Role, audit_name, may_act_on_job
from dispatch.models import DurationSource, Job, JobEvent, JobFilters, JobId, JobPart, JobStatus, PartSource
from infra.db import Connection, insert_clause, set_clause

_JOB_COLUMNS = """
    j.id, j.external_id, j.site_id, j.asset_id, j.customer_id, j.parent_job_id, j.problem_code,
    j.problem_description, j.customer_choice, j.required_skills, j.duration_s, j.duration_source,
    j.duration_reason,
    j.window_start_at, j.window_end_at, j.priority, j.status, j.technician_id, j.planned_start_at,
    j.eta_at, j.pinned, j.pinned_start_at, j.started_at, j.finished_at, j.pickup_location_id, j.outcome,
    j.outcome_reason, j.version, j.created_at, j.updated_at
"""
# What a caller may see: a technician their own jobs; a dispatcher bound to a territory its jobs.
_VISIBLE = """
    ($1::uuid IS NULL OR j.technician_id = $1)
    AND ($2::uuid IS NULL OR EXISTS (SELECT 1 FROM sites vs WHERE vs.id = j.site_id AND vs.territory_id = $2))
"""


def _visibility(principal: Principal) -> tuple[UUID | None, UUID | None]:
    if principal.role is Role.TECHNICIAN:
        # A technician token always carries its technician; a missing one must see nothing.
        return principal.technician_id or UUID(int=0), None
    if principal.role is Role.DISPATCHER:
        return None, principal.territory_id
    return None, None


def _job(row: Record, parts: list[JobPart]) -> Job:
    values = dict(row)
    values["status"] = JobStatus(values["status"])
    values["duration_source"] = DurationSource(values["duration_source"])
    return Job(**values, parts=parts)


def event_from_row(row: Record) -> JobEvent:
    values = dict(row)
    for key in ("from_status", "to_status"):
        values[key] = None if values[key] is None else JobStatus(values[key])
    return JobEvent(**values)


async def parts_of(conn: Connection, job_ids: Sequence[UUID]) -> dict[UUID, list[JobPart]]:
    rows = await conn.fetch(
        """
        SELECT jp.job_id, jp.part_id, p.sku, p.name, jp.quantity, jp.probability, jp.source, jp.reasons,
               jp.carry
        FROM job_parts jp JOIN parts p ON p.id = jp.part_id
        WHERE jp.job_id = ANY($1::uuid[])
        ORDER BY jp.probability DESC, p.sku
        """,
        list(job_ids),
    )
    parts: dict[UUID, list[JobPart]] = {}
    for r in rows:
        parts.setdefault(r["job_id"], []).append(
            JobPart(
                part_id=r["part_id"],
                sku=r["sku"],
                name=r["name"],
                quantity=r["quantity"],
                probability=r["probability"],
                source=PartSource(r["source"]),
                reasons=list(r["reasons"]),
                carry=r["carry"],
            )
        )
    return parts


async def get_job(
    conn: Connection, job_id: UUID, principal: Principal, *, for_update: bool = False
) -> Job | None:
    if not may_act_on_job(principal, job_id):
        return None
    technician, territory = _visibility(principal)
    row = await conn.fetchrow(
        f"SELECT {_JOB_COLUMNS} FROM jobs j WHERE {_VISIBLE} AND j.id = $3"
        + (" FOR UPDATE OF j" if for_update else ""),
        technician,
        territory,
        job_id,
    )
    if row is None:
        return None
    return _job(row, (await parts_of(conn, [job_id])).get(job_id, []))


async def list_jobs(
    conn: Connection, principal: Principal, filters: JobFilters, *, limit: int, offset: int
) -> list[Job]:
    if principal.role is Role.CUSTOMER:
        return []  # a customer sees their own job through their link, never a list
    technician, territory = _visibility(principal)
    window = filters.window_overlaps
    rows = await conn.fetch(
        f"""
        SELECT {_JOB_COLUMNS} FROM jobs j
        WHERE {_VISIBLE}
          AND (cardinality($3::text[]) = 0 OR j.status = ANY($3::text[]))
          AND ($4::uuid IS NULL
               OR EXISTS (SELECT 1 FROM sites ts WHERE ts.id = j.site_id AND ts.territory_id = $4))
          AND ($5::uuid IS NULL OR j.technician_id = $5)
          AND ($6::uuid IS NULL OR j.site_id = $6)
          AND ($7::uuid IS NULL OR j.customer_id = $7)
          AND ($8::uuid IS NULL OR j.asset_id = $8)
          AND ($9::timestamptz IS NULL OR (j.window_start_at < $10 AND j.window_end_at > $9))
        ORDER BY j.window_start_at, j.id
        LIMIT $11 OFFSET $12
        """,
        technician,
        territory,
        [s.value for s in filters.statuses],
        filters.territory_id,
        filters.technician_id,
        filters.site_id,
        filters.customer_id,
        filters.asset_id,
        window[0] if window else None,
        window[1] if window else None,
        limit,
        offset,
    )
    parts = await parts_of(conn, [r["id"] for r in rows])
    return [_job(r, parts.get(r["id"], [])) for r in rows]


async def insert_job(conn: Connection, values: dict[str, Any]) -> JobId:
    columns, placeholders, args = insert_clause(values)
    job_id: JobId = await conn.fetchval(
        f"INSERT INTO jobs {columns} VALUES {placeholders} RETURNING id", *args
    )
    return job_id


async def replace_job_parts(
    conn: Connection,
    job_id: UUID,
    parts: Sequence[tuple[PartId, int, float, PartSource, list[str]]],
    *,
    carried: Collection[UUID] = (),
) -> None:
    """`carried`: the predicted parts chosen for the van; parts named by hand always are."""
    await conn.execute("DELETE FROM job_parts WHERE job_id = $1", job_id)
    await conn.executemany(
        """
        INSERT INTO job_parts (job_id, part_id, quantity, probability, source, reasons, carry)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        """,
        [
            (job_id, part_id, q, p, source.value, reasons, source is PartSource.MANUAL or part_id in carried)
            for part_id, q, p, source, reasons in parts
        ],
    )


# Written only through dispatch.jobs.changes, which keeps them consistent with each other.
MOVE_COLUMNS = frozenset(
    {
        "status",
        "technician_id",
        "planned_start_at",
        "eta_at",
        "pickup_location_id",
        "pickup_s",
        "pinned",
        "pinned_start_at",
    }
)


async def update_job(conn: Connection, job_id: UUID, changes: dict[str, object]) -> None:
    """Apply the changes to what the job is (not its status, owner or plan: see `move_job`) and
    bump the version: every change of a job is a new version."""
    owned = sorted(MOVE_COLUMNS.intersection(changes))
    if owned:
        raise ValueError(f"{', '.join(owned)} change only through dispatch.jobs.changes")
    await _write_job(conn, job_id, changes)


async def move_job(conn: Connection, job_id: UUID, changes: dict[str, object]) -> None:
    """A change of status, owner or plan, built by dispatch.jobs.changes (its only caller)."""
    await _write_job(conn, job_id, changes)


async def retime_jobs(conn: Connection, changes: Sequence[tuple[UUID, datetime, datetime]]) -> None:
    """New planned start and ETA for jobs on a re-planned route. Rows are locked in id order, the
    order every update of several jobs uses, so two of them on one day cannot deadlock."""
    await conn.executemany(
        """
        UPDATE jobs SET planned_start_at = $2, eta_at = $3, updated_at = now(), version = version + 1
        WHERE id = $1
        """,
        sorted(changes, key=lambda c: str(c[0])),
    )


async def _write_job(conn: Connection, job_id: UUID, changes: dict[str, object]) -> None:
    if changes:
        assignments, values = set_clause(changes)
        await conn.execute(
            f"UPDATE jobs SET {assignments}, version = version + 1, updated_at = now() WHERE id = $1",
            job_id,
            *values,
        )
    else:
        await conn.execute("UPDATE jobs SET version = version + 1, updated_at = now() WHERE id = $1", job_id)


async def insert_job_event(
    conn: Connection,
    job_id: UUID,
    kind: str,
    principal: Principal | None,
    *,
    from_status: JobStatus | None = None,
    to_status: JobStatus | None = None,
    reason: str = "",
    data: dict[str, object] | None = None,
    client_at: datetime | None = None,
    actor: str | None = None,
) -> None:
    """`actor` names who acted when it was neither a user, the customer nor the system (an import)."""
    # The nil id stands for "no user" (the system, or a customer acting through their link).
    user_id = principal.user_id if principal and principal.user_id.int else None
    actor = audit_name(principal) or actor
    await conn.execute(
        """
        INSERT INTO job_events (job_id, kind, from_status, to_status, actor_user_id, actor, reason, data,
                                client_at)
        VALUES ($1, $2, $3, $4, $5, coalesce((SELECT email FROM users WHERE id = $5), $9, 'system'),
                $6, $7, $8)
        """,
        job_id,
        kind,
        from_status.value if from_status else None,
        to_status.value if to_status else None,
        user_id,
        reason,
        data or {},
        client_at,
        actor,
    )


async def list_job_events(conn: Connection, job_id: UUID, *, limit: int, offset: int) -> list[JobEvent]:
    rows = await conn.fetch(
        """
        SELECT id, job_id, kind, from_status, to_status, actor_user_id, actor, reason, data, client_at,
               occurred_at
        FROM job_events WHERE job_id = $1 ORDER BY id LIMIT $2 OFFSET $3
        """,
        job_id,
        limit,
        offset,
    )
    return [event_from_row(r) for r in rows]


async def external_id_taken(conn: Connection, external_id: str) -> JobId | None:
    job_id: JobId | None = await conn.fetchval("SELECT id FROM jobs WHERE external_id = $1", external_id)
    return job_id


async def current_occupant(conn: Connection, site_id: UUID) -> UUID | None:
    customer_id: UUID | None = await conn.fetchval(
        "SELECT customer_id FROM site_occupancies WHERE site_id = $1 AND ended_at IS NULL", site_id
    )
    return customer_id


async def site_exists(conn: Connection, site_id: UUID) -> bool:
    return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM sites WHERE id = $1)", site_id))


async def asset_site(conn: Connection, asset_id: UUID) -> tuple[UUID, bool] | None:
    """The asset's site, and whether it is still installed."""
    row = await conn.fetchrow(
        "SELECT site_id, removed_at IS NULL AS present FROM assets WHERE id = $1", asset_id
    )
    return None if row is None else (row["site_id"], row["present"])


async def customer_exists(conn: Connection, customer_id: UUID) -> bool:
    return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM customers WHERE id = $1)", customer_id))


async def known_skills(conn: Connection, codes: Sequence[str]) -> set[str]:
    rows = await conn.fetch("SELECT code FROM skills WHERE code = ANY($1::text[])", list(codes))
    return {r["code"] for r in rows}


async def part_multiples(conn: Connection, part_ids: Sequence[UUID]) -> dict[UUID, tuple[str, int]]:
    """sku and sold_in_multiples_of of each known part."""
    rows = await conn.fetch(
        "SELECT id, sku, sold_in_multiples_of FROM parts WHERE id = ANY($1::uuid[])", list(part_ids)
    )
    return {r["id"]: (r["sku"], r["sold_in_multiples_of"]) for r in rows}


async def replace_predicted_parts(
    conn: Connection, job_id: UUID, parts: Sequence[tuple[PartId, int, float, list[str], bool]]
) -> None:
    """New predictions replace old ones; parts a dispatcher set by hand stay as they are."""
    await conn.execute("DELETE FROM job_parts WHERE job_id = $1 AND source = 'predicted'", job_id)
    await conn.executemany(
        """
        INSERT INTO job_parts (job_id, part_id, quantity, probability, source, reasons, carry)
        VALUES ($1, $2, $3, $4, 'predicted', $5, $6)
        ON CONFLICT (job_id, part_id) DO NOTHING
        """,
        [(job_id, part_id, q, p, reasons, carry) for part_id, q, p, reasons, carry in parts],
    )


async def technician_first_name(conn: Connection, technician_id: UUID) -> str | None:
    name: str | None = await conn.fetchval("SELECT name FROM technicians WHERE id = $1", technician_id)
    return name.split()[0] if name else None


async def job_territory(conn: Connection, job_id: UUID) -> UUID | None:
    territory: UUID | None = await conn.fetchval(
        "SELECT s.territory_id FROM jobs j JOIN sites s ON s.id = j.site_id WHERE j.id = $1", job_id
    )
    return territory


class RebookingFacts(msgspec.Struct, frozen=True, kw_only=True):
    """What a new window for the same visit is searched with."""

    site_id: UUID
    asset_id: UUID | None
    customer_id: UUID | None
    problem_code: str
    customer_choice: str | None


async def job_for_rebooking(conn: Connection, job_id: UUID) -> RebookingFacts:
    row: Record | None = await conn.fetchrow(
        "SELECT site_id, asset_id, customer_id, problem_code, customer_choice FROM jobs WHERE id = $1", job_id
    )
    assert row is not None
    return RebookingFacts(**dict(row))


async def override_events(
    conn: Connection,
    *,
    actor: str | None,
    since: datetime | None,
    until: datetime | None,
    territory_id: UUID | None,
    limit: int,
    offset: int,
) -> list[JobEvent]:
    rows = await conn.fetch(
        """
        SELECT e.id, e.job_id, e.kind, e.from_status, e.to_status, e.actor_user_id, e.actor, e.reason, e.data,
               e.client_at, e.occurred_at
        FROM job_events e JOIN jobs j ON j.id = e.job_id JOIN sites s ON s.id = j.site_id
        WHERE (e.kind LIKE 'override\\_%' OR e.kind = 'cancelled')
          AND ($1::text IS NULL OR lower(e.actor) = lower($1))
          AND ($2::timestamptz IS NULL OR e.occurred_at >= $2)
          AND ($3::timestamptz IS NULL OR e.occurred_at < $3)
          AND ($4::uuid IS NULL OR s.territory_id = $4)
        ORDER BY e.occurred_at DESC, e.id DESC
        LIMIT $5 OFFSET $6
        """,
        actor,
        since,
        until,
        territory_id,
        limit,
        offset,
    )
    return [event_from_row(r) for r in rows]
