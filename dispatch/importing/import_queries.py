"""SQL that writes an import's staged rows: one statement per table, keyed by external id (parts
by SKU) and inserted only if new, so a second run adds nothing and changes nothing."""

from __future__ import annotations

from dispatch.importing.import_rules_queries import moved
from infra.db import Connection

_INSERT_PARTS = """
INSERT INTO parts (sku, name, unit_cost_cents, sold_in_multiples_of, attributes)
SELECT sku, name, unit_cost_cents, sold_in_multiples_of,
       CASE WHEN family IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('family', family) END
FROM import_parts
ON CONFLICT DO NOTHING
"""

_INSERT_FITMENTS = """
INSERT INTO fitments (part_id, asset_kind, make, model, conditions, quantity)
SELECT p.id, c.asset_kind, c.make, c.model, c.conditions::jsonb, c.quantity
FROM import_fitments c JOIN parts p ON p.sku = c.sku
ON CONFLICT DO NOTHING
"""

_INSERT_CUSTOMERS = """
INSERT INTO customers (external_id, name, email, phone)
SELECT external_id, name, email, phone FROM import_customers
ON CONFLICT DO NOTHING
"""

_INSERT_SITES = """
INSERT INTO sites (external_id, address_line, city, postal_code, country, address_key, latitude, longitude,
                   access_notes)
SELECT external_id, address_line, city, postal_code, country, address_key, latitude, longitude, access_notes
FROM import_sites
ON CONFLICT DO NOTHING
"""

_INSERT_OCCUPANCIES = """
INSERT INTO site_occupancies (site_id, customer_id, started_at, ended_at)
SELECT s.id, k.id, c.started_at, c.ended_at
FROM import_occupancies c
JOIN sites s ON s.external_id = c.site_external_id
JOIN customers k ON k.external_id = c.customer_external_id
ON CONFLICT DO NOTHING
"""

_INSERT_ASSETS = """
INSERT INTO assets (external_id, site_id, kind, make, model, serial, installed_at, warranty_until, attributes)
SELECT c.external_id, s.id, c.kind, c.make, c.model, c.serial, c.installed_at, c.warranty_until,
       c.attributes::jsonb
FROM import_assets c JOIN sites s ON s.external_id = c.site_external_id
ON CONFLICT DO NOTHING
"""

_INSERT_ASSET_EVENTS = """
INSERT INTO asset_events (id, external_id, asset_id, kind, problem_code, summary, occurred_at)
SELECT c.id, c.external_id, a.id, c.kind, c.problem_code, c.summary, c.occurred_at
FROM import_asset_events c JOIN assets a ON a.external_id = c.asset_external_id
ON CONFLICT DO NOTHING
"""

_INSERT_ASSET_EVENT_PARTS = """
INSERT INTO asset_event_parts (asset_event_id, part_id, quantity)
SELECT c.id, p.id, u.quantity
FROM import_asset_events c
JOIN import_used_parts u ON u.file = 'asset_events.csv' AND u.line = c.line
JOIN parts p ON p.sku = u.sku
"""

# A removal retires the asset, so intake no longer offers it; the latest removal counts.
_RETIRE_REMOVED_ASSETS = """
UPDATE assets a SET removed_at = r.removed_at, updated_at = now()
FROM (SELECT asset_external_id, max(occurred_at) AS removed_at FROM import_asset_events
      WHERE kind = 'removal' GROUP BY asset_external_id) r
WHERE a.external_id = r.asset_external_id AND a.removed_at IS NULL
"""

# A row some other writer stored first (ON CONFLICT skipped it) has nothing hanging off it here.
_KEEP_WRITTEN_EVENTS = """
DELETE FROM import_asset_events c WHERE NOT EXISTS (SELECT 1 FROM asset_events e WHERE e.id = c.id)
"""

# $1: true for first visits, false for follow-ups (written second, so their first visit is there).
# A follow-up points at the first visit itself, even when the file names another follow-up.
_INSERT_JOBS = """
INSERT INTO jobs (id, external_id, site_id, asset_id, customer_id, parent_job_id, problem_code,
                  customer_choice, duration_s, duration_source, duration_reason, window_start_at,
                  window_end_at, status, planned_start_at, started_at, finished_at, created_at, updated_at)
SELECT c.id, c.external_id, a.site_id, a.id, o.customer_id, f.id, c.problem_code, c.choice,
       least(12 * 3600, greatest(60, floor(extract(epoch FROM c.finished_at - c.started_at))))::integer,
       'manual', 'imported: the time it took', c.started_at,
       greatest(c.finished_at, c.started_at + interval '1 hour'), c.status, c.started_at, c.started_at,
       c.finished_at, c.started_at, c.finished_at
FROM import_jobs c
JOIN assets a ON a.external_id = c.asset_external_id
LEFT JOIN LATERAL (
    SELECT o.customer_id FROM site_occupancies o
    WHERE o.site_id = a.site_id AND o.started_at <= c.started_at
      AND (o.ended_at IS NULL OR o.ended_at > c.started_at)
    ORDER BY o.started_at DESC LIMIT 1
) o ON true
LEFT JOIN LATERAL (
    SELECT coalesce(p.parent_job_id, p.id) AS id FROM jobs p WHERE p.external_id = c.root_of
) f ON true
WHERE (c.root_of IS NULL) = $1
ON CONFLICT DO NOTHING
"""

_KEEP_WRITTEN_JOBS = """
DELETE FROM import_jobs c WHERE NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = c.id)
"""

_INSERT_JOB_EVENTS = """
INSERT INTO job_events (job_id, kind, to_status, actor, occurred_at)
SELECT id, 'imported', status, 'import', finished_at FROM import_jobs
"""

# A finished job is also an event in its asset's history, carrying the parts it used.
_INSERT_JOB_ASSET_EVENTS = """
INSERT INTO asset_events (id, external_id, asset_id, job_id, kind, problem_code, summary, occurred_at)
SELECT c.event_id, 'job:' || c.external_id, a.id, c.id,
       CASE WHEN c.has_parts THEN 'replace' ELSE 'repair' END, c.problem_code,
       coalesce(nullif(c.summary, ''), c.problem_code), c.finished_at
FROM import_jobs c JOIN assets a ON a.external_id = c.asset_external_id
WHERE c.has_parts OR c.status = 'completed'
ON CONFLICT DO NOTHING
"""

_INSERT_JOB_EVENT_PARTS = """
INSERT INTO asset_event_parts (asset_event_id, part_id, quantity)
SELECT c.event_id, p.id, u.quantity
FROM import_jobs c
JOIN import_used_parts u ON u.file = 'jobs.csv' AND u.line = c.line
JOIN parts p ON p.sku = u.sku
"""

# A job's event some other writer stored first (ON CONFLICT skipped it) gets no parts from here.
_KEEP_PARTS_OF_WRITTEN_JOB_EVENTS = """
DELETE FROM import_used_parts u USING import_jobs c
WHERE u.file = 'jobs.csv' AND u.line = c.line
  AND NOT EXISTS (SELECT 1 FROM asset_events e WHERE e.id = c.event_id)
"""

_JOB_EVENTS_EXPECTED = "SELECT count(*) FROM import_jobs WHERE has_parts OR status = 'completed'"

# The first visits the new jobs belong to (a follow-up is written pointing at its first visit).
_REFRESH_VISIT_OUTCOMES = """
SELECT refresh_visit_outcomes(array_agg(DISTINCT coalesce(j.parent_job_id, j.id)))
FROM import_jobs c JOIN jobs j ON j.id = c.id
"""

_SIMPLE_INSERTS = {
    "parts.csv": _INSERT_PARTS,
    "fitments.csv": _INSERT_FITMENTS,
    "customers.csv": _INSERT_CUSTOMERS,
    "sites.csv": _INSERT_SITES,
    "occupancies.csv": _INSERT_OCCUPANCIES,
    "assets.csv": _INSERT_ASSETS,
}


async def insert_staged(conn: Connection, name: str, accepted: int) -> int:
    """Write a file's staged rows, and what hangs off them; returns how many rows were new."""
    if name in _SIMPLE_INSERTS:
        return await moved(conn, _SIMPLE_INSERTS[name])
    if name == "asset_events.csv":
        added = await moved(conn, _INSERT_ASSET_EVENTS)
        await conn.execute(_RETIRE_REMOVED_ASSETS)
        if added < accepted:
            await conn.execute(_KEEP_WRITTEN_EVENTS)
        await conn.execute(_INSERT_ASSET_EVENT_PARTS)
        return added
    added = await moved(conn, _INSERT_JOBS, True) + await moved(conn, _INSERT_JOBS, False)
    if added < accepted:
        await conn.execute(_KEEP_WRITTEN_JOBS)
    await conn.execute(_INSERT_JOB_EVENTS)
    if await moved(conn, _INSERT_JOB_ASSET_EVENTS) < await conn.fetchval(_JOB_EVENTS_EXPECTED):
        await conn.execute(_KEEP_PARTS_OF_WRITTEN_JOB_EVENTS)
    await conn.execute(_INSERT_JOB_EVENT_PARTS)
    # The refresh joins what was just written; planned on the tables' sizes before the import,
    # it probes indexes once per visit where one hash join would do.
    await conn.execute("ANALYZE jobs, assets, asset_events, asset_event_parts")
    await conn.execute(_REFRESH_VISIT_OUTCOMES)
    return added
