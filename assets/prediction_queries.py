"""SQL that feeds parts prediction: parts with their families, fitting parts, past visits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from asyncpg import Record

from assets import part_neighbours
from assets.parts_evidence import Visit
from assets.parts_prediction import Fitting, OwnUse, PartRef, UsageCounts
from infra.db import Connection

_PART = """
    p.id AS part_id, p.sku, p.name, coalesce(p.attributes->>'family', p.sku) AS family, p.sold_in_multiples_of
"""


def _part(row: Record) -> PartRef:
    return PartRef(
        part_id=row["part_id"],
        sku=row["sku"],
        name=row["name"],
        family=row["family"],
        sold_in_multiples_of=row["sold_in_multiples_of"],
    )


async def part_refs(conn: Connection) -> dict[UUID, PartRef]:
    rows = await conn.fetch(f"SELECT {_PART} FROM parts p")
    return {r["part_id"]: _part(r) for r in rows}


async def fittings(conn: Connection, asset_ids: Sequence[UUID]) -> dict[UUID, list[Fitting]]:
    """Fitment rules that hold for each asset: kind, make and model if set, every condition."""
    rows = await conn.fetch(
        f"""
        SELECT a.id AS asset_id, f.quantity, f.conditions, {_PART}
        FROM assets a
        JOIN fitments f ON f.asset_kind = a.kind
                       AND fitment_names(f.make, f.model, a.make, a.model)
                       AND fitment_holds(a.attributes, f.conditions)
        JOIN parts p ON p.id = f.part_id
        WHERE a.id = ANY($1::uuid[])
        ORDER BY a.id, p.sku
        """,
        list(asset_ids),
    )
    found: dict[UUID, list[Fitting]] = {}
    for r in rows:
        conditions = r["conditions"] or {}
        rule = ", ".join(f"{k} = {v}" for k, v in sorted(conditions.items()))
        found.setdefault(r["asset_id"], []).append(Fitting(part=_part(r), quantity=r["quantity"], rule=rule))
    return found


async def size_neighbours(conn: Connection, asset_kind: str | None) -> dict[UUID, list[PartRef]]:
    """Parts a size either side of each other, for one kind of asset (or every kind)."""
    rows = await conn.fetch(
        f"SELECT f.asset_kind, f.conditions, {_PART} FROM fitments f JOIN parts p ON p.id = f.part_id"
        " WHERE ($1::text IS NULL OR f.asset_kind = $1) AND f.make IS NULL ORDER BY p.sku",
        asset_kind,
    )
    return part_neighbours.size_neighbours((_part(r), r["asset_kind"], r["conditions"] or {}) for r in rows)


async def usual_families(conn: Connection) -> dict[tuple[str, str], frozenset[str]]:
    rows = await conn.fetch("SELECT problem_code, choice, part_families FROM problem_variants")
    return {(r["problem_code"], r["choice"]): frozenset(r["part_families"]) for r in rows}


async def usual_families_for(conn: Connection, problem_code: str, choice: str | None) -> frozenset[str]:
    families: list[str] | None = await conn.fetchval(
        "SELECT part_families FROM problem_variants WHERE problem_code = $1 AND choice = $2",
        problem_code,
        choice or "",
    )
    return frozenset(families or ())


@dataclass(frozen=True)
class ProblemCounts:
    """What the history says about one problem: across every asset, and on one make and model."""

    fleet: UsageCounts
    model: UsageCounts
    parts: dict[UUID, PartRef]


async def problem_counts(
    conn: Connection, *, problem_code: str, choice: str | None, make: str, model: str
) -> ProblemCounts:
    """The running counts the database keeps as visits finish (migration 0018): a few hundred rows
    whatever the size of the history. Makes and models are matched by their normalised keys."""
    families = await conn.fetch(
        """
        SELECT family, (make_key = make_key($3::text) AND model_key = spelling_key($4::text)) AS same_model,
               sum(jobs)::integer AS jobs, sum(follow_up_jobs)::integer AS follow_up_jobs
        FROM visit_family_counts
        WHERE problem_code = $1 AND choice = $2
        GROUP BY family, same_model
        """,
        problem_code,
        choice or "",
        make,
        model,
    )
    uses = await conn.fetch(
        f"""
        SELECT c.quantity, c.jobs, {_PART}
        FROM visit_part_counts c JOIN parts p ON p.id = c.part_id
        WHERE c.problem_code = $1 AND c.choice = $2 AND c.make_key = make_key($3::text)
          AND c.model_key = spelling_key($4::text) AND c.jobs > 0
        """,
        problem_code,
        choice or "",
        make,
        model,
    )
    fleet, same = UsageCounts(), UsageCounts()
    for r in families:
        for counts in (fleet, same) if r["same_model"] else (fleet,):
            if r["family"] == "":
                counts.jobs += r["jobs"]
                continue
            if r["jobs"]:
                counts.family_jobs[r["family"]] = counts.family_jobs.get(r["family"], 0) + r["jobs"]
            if r["follow_up_jobs"]:
                counts.second_visit_jobs[r["family"]] = (
                    counts.second_visit_jobs.get(r["family"], 0) + r["follow_up_jobs"]
                )
    parts: dict[UUID, PartRef] = {}
    for r in uses:
        part = parts.setdefault(r["part_id"], _part(r))
        same.part_jobs[part.part_id] = same.part_jobs.get(part.part_id, 0) + r["jobs"]
        same.part_quantities.setdefault(part.part_id, {})[r["quantity"]] = r["jobs"]
    return ProblemCounts(fleet=fleet, model=same, parts=parts)


async def visits(conn: Connection, *, problem_code: str | None = None) -> list[Visit]:
    """Finished first visits, each with the parts it and its follow-ups used, oldest first.

    Makes and models come as their normalised keys, so evidence pools "OHD" with "Overhead Door"."""
    parts = await part_refs(conn)
    rows = await conn.fetch(
        """
        SELECT o.job_id, o.asset_id, o.make_key, o.model_key, o.problem_code, o.choice, o.finished_at,
               o.finished_at - make_interval(secs => o.took_s) AS started_at, o.needed_second_visit,
               coalesce(array_agg(v.part_id ORDER BY v.part_id) FILTER (WHERE v.part_id IS NOT NULL), '{}')
                   AS part_ids,
               coalesce(array_agg(v.quantity ORDER BY v.part_id) FILTER (WHERE v.part_id IS NOT NULL), '{}')
                   AS quantities,
               coalesce(array_agg(v.follow_up ORDER BY v.part_id) FILTER (WHERE v.part_id IS NOT NULL), '{}')
                   AS follow_ups
        FROM visit_outcomes o LEFT JOIN visit_outcome_parts v ON v.job_id = o.job_id
        WHERE $1::text IS NULL OR o.problem_code = $1
        GROUP BY o.job_id
        ORDER BY o.finished_at, o.job_id
        """,
        problem_code,
    )
    return [
        Visit(
            job_id=r["job_id"],
            asset_id=r["asset_id"],
            make=r["make_key"],
            model=r["model_key"],
            problem_code=r["problem_code"],
            choice=r["choice"] or None,
            finished_at=r["finished_at"],
            parts=[(parts[pid], q) for pid, q in zip(r["part_ids"], r["quantities"], strict=True)],
            needed_second_visit=r["needed_second_visit"],
            started_at=r["started_at"],
            second_visit_families=frozenset(
                parts[pid].family
                for pid, follow_up in zip(r["part_ids"], r["follow_ups"], strict=True)
                if follow_up
            ),
        )
        for r in rows
    ]


async def own_uses(conn: Connection, asset_id: UUID) -> list[OwnUse]:
    """Every part fitted to the asset, from its history (with or without a job), oldest first."""
    rows = await conn.fetch(
        f"""
        SELECT e.occurred_at, ep.quantity, {_PART}
        FROM asset_events e
        JOIN asset_event_parts ep ON ep.asset_event_id = e.id
        JOIN parts p ON p.id = ep.part_id
        WHERE e.asset_id = $1
        ORDER BY e.occurred_at, p.sku
        """,
        asset_id,
    )
    return [OwnUse(part=_part(r), quantity=r["quantity"], occurred_at=r["occurred_at"]) for r in rows]
