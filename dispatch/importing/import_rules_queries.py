"""The import's rules that need the database or the other rows: references, the problem
catalogue, overlapping occupancies. Each rule is one statement over a whole staging table that
moves the rows breaking it to `import_rejections`, so what stays staged is what gets written.

Table and column names are put into the statements only from the constants of this module.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.db import Connection

# file: (staging table, the column other rows name it by, as SQL; NULL when none does)
STAGING = {
    "parts.csv": ("import_parts", "c.sku"),
    "fitments.csv": ("import_fitments", "NULL::text"),
    "customers.csv": ("import_customers", "c.external_id"),
    "sites.csv": ("import_sites", "c.external_id"),
    "occupancies.csv": ("import_occupancies", "NULL::text"),
    "assets.csv": ("import_assets", "c.external_id"),
    "asset_events.csv": ("import_asset_events", "c.external_id"),
    "jobs.csv": ("import_jobs", "c.external_id"),
}


@dataclass(frozen=True)
class Reference:
    """A column that names a row of an earlier file, or one already in the database."""

    column: str
    noun: str  # "site": how a rejection names the parent
    file: str  # where the parent comes from
    table: str
    key: str


REFERENCES: dict[str, tuple[Reference, ...]] = {
    "fitments.csv": (Reference("sku", "part", "parts.csv", "parts", "sku"),),
    "occupancies.csv": (
        Reference("site_external_id", "site", "sites.csv", "sites", "external_id"),
        Reference("customer_external_id", "customer", "customers.csv", "customers", "external_id"),
    ),
    "assets.csv": (Reference("site_external_id", "site", "sites.csv", "sites", "external_id"),),
    "asset_events.csv": (Reference("asset_external_id", "asset", "assets.csv", "assets", "external_id"),),
    "jobs.csv": (Reference("asset_external_id", "asset", "assets.csv", "assets", "external_id"),),
}

# file: (table, the key column in the table and in the staging table)
STORED = {
    "parts.csv": ("parts", "sku"),
    "customers.csv": ("customers", "external_id"),
    "sites.csv": ("sites", "external_id"),
    "assets.csv": ("assets", "external_id"),
    "asset_events.csv": ("asset_events", "external_id"),
    "jobs.csv": ("jobs", "external_id"),
}

# How a rejection names a row of the file, before its key.
NOUNS = {
    "parts.csv": "part",
    "customers.csv": "customer",
    "sites.csv": "site",
    "assets.csv": "asset",
    "asset_events.csv": "event",
    "jobs.csv": "job",
}

# The first line each rejected key was rejected on, per file.
_REJECTED_KEYS = "(SELECT key, min(line) AS line FROM import_rejections WHERE file = $2 GROUP BY key)"

# $1 the file, $2 the parent's file, $3 the parent's noun, $4 the row's noun, $5 the column (which
# starts the reason when the row has no key)
_UNRESOLVED = """
WITH gone AS (
    DELETE FROM {table} c
    WHERE NOT EXISTS (SELECT 1 FROM {parent} p WHERE p.{parent_key} = c.{column})
    RETURNING c.line, {key} AS key, c.{column} AS missing
)
INSERT INTO import_rejections (file, line, key, reason)
SELECT $1, g.line, g.key,
       coalesce($4::text || ' ' || g.key, $5::text) || ': '
       || CASE WHEN r.line IS NULL
               THEN format('%s %s is neither in %s nor in the database', $3::text, g.missing, $2::text)
               ELSE format('its %s %s was rejected (%s:%s)', $3::text, g.missing, $2::text, r.line) END
FROM gone g LEFT JOIN {rejected} r ON r.key = g.missing
"""


async def moved(conn: Connection, statement: str, *args: object) -> int:
    """Rows a statement inserted or deleted, from its command tag ("INSERT 0 12", "DELETE 3")."""
    status: str = await conn.execute(statement, *args)
    return int(status.rsplit(" ", 1)[1])


# A stored removal stays staged: it still retires its asset if an earlier run did not.
_STORED = """
DELETE FROM {table} c USING {stored} t
WHERE t.{key} = c.{key} AND ({keep}) IS NOT TRUE
"""


async def set_aside_stored(conn: Connection, name: str) -> int:
    """Drop the staged rows already stored under their key, which are left as they are; returns
    how many. What stays staged is new, so the rules and writes only look at new rows."""
    if name not in STORED:
        return 0
    table, _ = STAGING[name]
    stored, key = STORED[name]
    keep = "c.kind = 'removal'" if name == "asset_events.csv" else "false"
    return await moved(conn, _STORED.format(table=table, stored=stored, key=key, keep=keep))


async def reject_unresolved(conn: Connection, name: str) -> None:
    """Rows naming a parent that is not in the database once the parent's file is written:
    the parent's own rejection is named when it had one."""
    table, key = STAGING[name]
    for ref in REFERENCES.get(name, ()):
        statement = _UNRESOLVED.format(
            table=table,
            parent=ref.table,
            parent_key=ref.key,
            column=ref.column,
            key=key,
            rejected=_REJECTED_KEYS,
        )
        await moved(conn, statement, name, ref.file, ref.noun, NOUNS.get(name), ref.column)


_UNKNOWN_ASSET_KIND = """
WITH gone AS (
    DELETE FROM {table} c WHERE NOT EXISTS (SELECT 1 FROM asset_kinds k WHERE k.code = c.{column})
    RETURNING c.line, {key} AS key, c.{column} AS kind
)
INSERT INTO import_rejections (file, line, key, reason)
SELECT $1, line, key, format('%s: no asset kind %s; one of %s', $2::text, kind,
                             (SELECT string_agg(code, ', ' ORDER BY code) FROM asset_kinds))
FROM gone
"""

_UNKNOWN_FAMILY = """
WITH gone AS (
    DELETE FROM import_parts c
    WHERE c.family IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM problem_variants v WHERE c.family = ANY (v.part_families))
    RETURNING c.line, c.sku, c.family
)
INSERT INTO import_rejections (file, line, key, reason)
SELECT 'parts.csv', line, sku,
       format('family: no problem names %s; one of %s', family,
              (SELECT string_agg(DISTINCT f, ', ' ORDER BY f)
               FROM problem_variants, unnest(part_families) AS f))
FROM gone
"""

_UNKNOWN_PROBLEM = """
WITH gone AS (
    DELETE FROM {table} c
    WHERE c.problem_code IS NOT NULL AND NOT EXISTS (SELECT 1 FROM problems p WHERE p.code = c.problem_code)
    RETURNING c.line, c.external_id, c.problem_code
)
INSERT INTO import_rejections (file, line, key, reason)
SELECT $1, line, external_id,
       format('problem_code: no problem %s; one of %s', problem_code,
              (SELECT string_agg(code, ', ' ORDER BY code) FROM problems))
FROM gone
"""

_PROBLEM_OF_ANOTHER_KIND = """
WITH gone AS (
    DELETE FROM {table} c USING assets a, problems p
    WHERE a.external_id = c.asset_external_id AND p.code = c.problem_code AND p.asset_kind <> a.kind
    RETURNING c.line, c.external_id, c.problem_code, p.asset_kind AS problem_kind, a.external_id AS asset,
              a.kind AS asset_kind
)
INSERT INTO import_rejections (file, line, key, reason)
SELECT $1, g.line, g.external_id,
       format('problem_code: %s is a %s problem, but asset %s is a %s; for a %s: %s', g.problem_code,
              g.problem_kind, g.asset, g.asset_kind, g.asset_kind,
              coalesce((SELECT string_agg(p.code, ', ' ORDER BY p.code) FROM problems p
                        WHERE p.asset_kind = g.asset_kind), 'none in the catalogue'))
FROM gone g
"""

_CHOICE_NOT_OFFERED = """
WITH gone AS (
    DELETE FROM import_jobs c
    WHERE c.choice IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM problem_variants v WHERE v.problem_code = c.problem_code AND v.choice = c.choice)
    RETURNING c.line, c.external_id, c.problem_code, c.choice
)
INSERT INTO import_rejections (file, line, key, reason)
SELECT 'jobs.csv', g.line, g.external_id,
       format('choice: %s does not offer %s; %s', g.problem_code, g.choice,
              coalesce((SELECT 'one of ' || string_agg(v.choice, ', ' ORDER BY v.choice)
                        FROM problem_variants v WHERE v.problem_code = g.problem_code AND v.choice <> ''),
                       'it offers no choice: leave choice empty'))
FROM gone g
"""

_UNKNOWN_PART_USED = """
WITH bad AS (
    SELECT DISTINCT ON (u.line) u.line, u.sku, r.line AS rejected_line
    FROM import_used_parts u LEFT JOIN {rejected} r ON r.key = u.sku
    WHERE u.file = $1 AND NOT EXISTS (SELECT 1 FROM parts p WHERE p.sku = u.sku)
    ORDER BY u.line, u.sku
), gone AS (
    DELETE FROM {table} c USING bad WHERE bad.line = c.line
    RETURNING c.line, c.external_id, bad.sku, bad.rejected_line
)
INSERT INTO import_rejections (file, line, key, reason)
SELECT $1, line, external_id,
       CASE WHEN rejected_line IS NULL
            THEN format('parts: part %s is neither in parts.csv nor in the database', sku)
            ELSE format('parts: its part %s was rejected (parts.csv:%s)', sku, rejected_line) END
FROM gone
"""


async def reject_off_catalogue(conn: Connection, name: str) -> None:
    """Asset kinds, problems, choices and part families must be in the catalogue."""
    table, key = STAGING[name]
    if name == "parts.csv":
        await moved(conn, _UNKNOWN_FAMILY)
    if name in ("fitments.csv", "assets.csv"):
        column = "asset_kind" if name == "fitments.csv" else "kind"
        await moved(conn, _UNKNOWN_ASSET_KIND.format(table=table, column=column, key=key), name, column)
    if name in ("asset_events.csv", "jobs.csv"):
        await moved(conn, _UNKNOWN_PROBLEM.format(table=table), name)
        await moved(conn, _PROBLEM_OF_ANOTHER_KIND.format(table=table), name)
        rejected = _REJECTED_KEYS.replace("$2", "'parts.csv'")
        await moved(conn, _UNKNOWN_PART_USED.format(table=table, rejected=rejected), name)
    if name == "jobs.csv":
        await moved(conn, _CHOICE_NOT_OFFERED)


_OCCUPANCY_PRESENT = """
DELETE FROM import_occupancies c USING sites s, customers k, site_occupancies o
WHERE s.external_id = c.site_external_id AND k.external_id = c.customer_external_id
  AND o.site_id = s.id AND o.customer_id = k.id AND o.started_at = c.started_at
"""

_OVERLAPS_STORED_OCCUPANCY = """
WITH clash AS (
    SELECT c.line, c.site_external_id, o.started_at, o.ended_at
    FROM import_occupancies c
    JOIN sites s ON s.external_id = c.site_external_id
    CROSS JOIN LATERAL (
        SELECT o.started_at, o.ended_at FROM site_occupancies o
        WHERE o.site_id = s.id AND o.started_at < coalesce(c.ended_at, 'infinity')
          AND coalesce(o.ended_at, 'infinity') > c.started_at
        ORDER BY o.started_at LIMIT 1
    ) o
), gone AS (
    DELETE FROM import_occupancies c USING clash WHERE clash.line = c.line
    RETURNING c.line, clash.site_external_id, clash.started_at, clash.ended_at
)
INSERT INTO import_rejections (file, line, key, reason)
SELECT 'occupancies.csv', line, NULL,
       format('started_at: overlaps the occupancy of site %s from %s to %s, already in the database',
              site_external_id, started_at, coalesce(ended_at::text, 'now'))
FROM gone
"""

# An occupancy that starts before an earlier-starting one of the same site has ended overlaps it;
# the running maximum of the ends finds them in one pass, the join names the line it overlaps.
_OVERLAPS_IN_FILE = """
WITH ordered AS (
    SELECT line, site_external_id, started_at,
           max(coalesce(ended_at, 'infinity')) OVER (
               PARTITION BY site_external_id ORDER BY started_at, line
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS earlier_end
    FROM import_occupancies
), clash AS (
    SELECT DISTINCT ON (o.line) o.line, e.line AS other
    FROM ordered o JOIN import_occupancies e
      ON e.site_external_id = o.site_external_id AND e.line <> o.line AND e.started_at <= o.started_at
     AND coalesce(e.ended_at, 'infinity') > o.started_at
    WHERE o.earlier_end > o.started_at
    ORDER BY o.line, e.started_at, e.line
), gone AS (
    DELETE FROM import_occupancies c USING clash WHERE clash.line = c.line RETURNING c.line, clash.other
)
INSERT INTO import_rejections (file, line, key, reason)
SELECT 'occupancies.csv', line, NULL,
       format('started_at: overlaps the occupancy on line %s of this file', other)
FROM gone
"""


async def settle_occupancies(conn: Connection) -> int:
    """Drop the occupancies already stored (returns how many) and reject those that overlap
    another of the same site, stored or in the file: a site has one occupant at a time."""
    present = await moved(conn, _OCCUPANCY_PRESENT)
    await moved(conn, _OVERLAPS_STORED_OCCUPANCY)
    await moved(conn, _OVERLAPS_IN_FILE)
    return present


# A rejected line's id may be on another line that was accepted: that one is the first visit.
_FOLLOWS_A_REJECTED_JOB = """
WITH gone AS (
    DELETE FROM import_jobs c USING {rejected} r
    WHERE r.key = c.follow_up_of
      AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.external_id = c.follow_up_of)
      AND NOT EXISTS (SELECT 1 FROM import_jobs s WHERE s.external_id = c.follow_up_of)
    RETURNING c.line, c.external_id, c.follow_up_of, r.line AS rejected_line
)
INSERT INTO import_rejections (file, line, key, reason)
SELECT 'jobs.csv', line, external_id,
       format('job %s: follows up job %s, which was rejected (jobs.csv:%s)',
              external_id, follow_up_of, rejected_line)
FROM gone
"""

_FOLLOWS_AN_UNKNOWN_JOB = """
WITH gone AS (
    DELETE FROM import_jobs c
    WHERE c.root_of IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.external_id = c.root_of)
      AND NOT EXISTS (SELECT 1 FROM import_jobs f WHERE f.external_id = c.root_of)
    RETURNING c.line, c.external_id, c.root_of
)
INSERT INTO import_rejections (file, line, key, reason)
SELECT 'jobs.csv', line, external_id,
       format('job %s: follow_up_of: job %s is neither in jobs.csv nor in the database', external_id, root_of)
FROM gone
"""


async def reject_orphan_follow_ups(conn: Connection) -> None:
    """A follow-up of a rejected job is rejected too, and so on down the chain, whatever the
    order of the lines; then one whose first visit is nowhere."""
    rejected = _REJECTED_KEYS.replace("$2", "'jobs.csv'")
    while await moved(conn, _FOLLOWS_A_REJECTED_JOB.format(rejected=rejected)):
        pass
    await moved(conn, _FOLLOWS_AN_UNKNOWN_JOB)


_REMOVED_BEFORE_INSTALLED = """
WITH gone AS (
    DELETE FROM import_asset_events c USING assets a
    WHERE c.kind = 'removal' AND a.external_id = c.asset_external_id AND a.installed_at > c.occurred_at
    RETURNING c.line, c.external_id, a.external_id AS asset, a.installed_at
)
INSERT INTO import_rejections (file, line, key, reason)
SELECT 'asset_events.csv', line, external_id,
       format('occurred_at: asset %s was installed at %s, after this removal', asset, installed_at)
FROM gone
"""


async def reject_impossible_removals(conn: Connection) -> None:
    await moved(conn, _REMOVED_BEFORE_INSTALLED)
