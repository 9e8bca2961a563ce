"""Staging an import: each file's checked rows are copied into a temporary table, so the rules
and the writes run set-wise in SQL instead of one statement per row.

The tables live only as long as the caller's transaction. JSON values travel as text and are cast
where they are written.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from dispatch.importing.runs import Parsed, Row
from infra.db import Connection

STAGING_TABLES = """
CREATE TEMP TABLE import_rejections (
    file text NOT NULL, line integer NOT NULL, key text, reason text NOT NULL
) ON COMMIT DROP;
-- Every join between staged rows can probe an index, so no plan turns quadratic when the row
-- estimates are off (rejections, for one, grow after they were analyzed).
CREATE INDEX ON import_rejections (file, key);
CREATE TEMP TABLE import_parts (
    line integer NOT NULL, sku text NOT NULL, name text NOT NULL, unit_cost_cents integer NOT NULL,
    sold_in_multiples_of smallint NOT NULL, family text
) ON COMMIT DROP;
CREATE TEMP TABLE import_fitments (
    line integer NOT NULL, sku text NOT NULL, asset_kind text NOT NULL, quantity smallint NOT NULL,
    make text, model text, conditions text NOT NULL
) ON COMMIT DROP;
CREATE TEMP TABLE import_customers (
    line integer NOT NULL, external_id text NOT NULL, name text NOT NULL, email text, phone text
) ON COMMIT DROP;
CREATE TEMP TABLE import_sites (
    line integer NOT NULL, external_id text NOT NULL, address_line text NOT NULL, city text NOT NULL,
    postal_code text NOT NULL, country text NOT NULL, address_key text NOT NULL,
    latitude double precision NOT NULL, longitude double precision NOT NULL, access_notes text NOT NULL
) ON COMMIT DROP;
CREATE TEMP TABLE import_occupancies (
    line integer NOT NULL, site_external_id text NOT NULL, customer_external_id text NOT NULL,
    started_at timestamptz NOT NULL, ended_at timestamptz
) ON COMMIT DROP;
CREATE INDEX ON import_occupancies (site_external_id, started_at);
CREATE TEMP TABLE import_assets (
    line integer NOT NULL, external_id text NOT NULL, site_external_id text NOT NULL, kind text NOT NULL,
    make text NOT NULL, model text NOT NULL, serial text, installed_at timestamptz,
    warranty_until date, attributes text NOT NULL
) ON COMMIT DROP;
-- Ids are drawn here, so the rows that hang off a new event or job are written from the stage.
CREATE TEMP TABLE import_asset_events (
    id uuid NOT NULL DEFAULT gen_random_uuid(), line integer NOT NULL, external_id text NOT NULL,
    asset_external_id text NOT NULL, kind text NOT NULL,
    occurred_at timestamptz NOT NULL, problem_code text, summary text NOT NULL
) ON COMMIT DROP;
CREATE INDEX ON import_asset_events (line);
CREATE TEMP TABLE import_jobs (
    id uuid NOT NULL DEFAULT gen_random_uuid(), event_id uuid NOT NULL DEFAULT gen_random_uuid(),
    line integer NOT NULL, external_id text NOT NULL, asset_external_id text NOT NULL,
    problem_code text NOT NULL, choice text, started_at timestamptz NOT NULL,
    finished_at timestamptz NOT NULL, status text NOT NULL, follow_up_of text, root_of text,
    summary text NOT NULL, has_parts boolean NOT NULL
) ON COMMIT DROP;
CREATE INDEX ON import_jobs (external_id);
CREATE INDEX ON import_jobs (line);
-- Parts used by an asset event or a job, by the file and line that lists them.
CREATE TEMP TABLE import_used_parts (
    file text NOT NULL, line integer NOT NULL, sku text NOT NULL, quantity smallint NOT NULL
) ON COMMIT DROP;
CREATE INDEX ON import_used_parts (file, line);
"""

# file: (staging table, its columns after `line`, in the order of the CREATE above)
STAGED: dict[str, tuple[str, tuple[str, ...]]] = {
    "parts.csv": ("import_parts", ("sku", "name", "unit_cost_cents", "sold_in_multiples_of", "family")),
    "fitments.csv": (
        "import_fitments",
        ("sku", "asset_kind", "quantity", "make", "model", "conditions"),
    ),
    "customers.csv": ("import_customers", ("external_id", "name", "email", "phone")),
    "sites.csv": (
        "import_sites",
        (
            "external_id",
            "address_line",
            "city",
            "postal_code",
            "country",
            "address_key",
            "latitude",
            "longitude",
            "access_notes",
        ),
    ),
    "occupancies.csv": (
        "import_occupancies",
        ("site_external_id", "customer_external_id", "started_at", "ended_at"),
    ),
    "assets.csv": (
        "import_assets",
        (
            "external_id",
            "site_external_id",
            "kind",
            "make",
            "model",
            "serial",
            "installed_at",
            "warranty_until",
            "attributes",
        ),
    ),
    "asset_events.csv": (
        "import_asset_events",
        ("external_id", "asset_external_id", "kind", "occurred_at", "problem_code", "summary"),
    ),
    "jobs.csv": (
        "import_jobs",
        (
            "external_id",
            "asset_external_id",
            "problem_code",
            "choice",
            "started_at",
            "finished_at",
            "status",
            "follow_up_of",
            "root_of",
            "summary",
            "has_parts",
        ),
    ),
}
_AS_JSON = frozenset({"conditions", "attributes"})


def _value(row: Row, column: str) -> object:
    if column in _AS_JSON:
        return msgspec.json.encode(row[column]).decode()
    if column == "has_parts":
        return bool(row["parts"])
    return row[column]


def _parts(row: Row) -> Iterable[tuple[str, int]]:
    parts = row["parts"]
    assert isinstance(parts, dict)
    return parts.items()


def _records(rows: list[tuple[int, Row]], columns: tuple[str, ...]) -> Iterable[tuple[object, ...]]:
    return [(line, *(_value(row, c) for c in columns)) for line, row in rows]


# One import at a time: what is "already there" must not change under a running import.
IMPORT_LOCK_KEY = 0x7472_696D_7074  # "trimpt"
# The statements are few and large: compiling them costs more than it saves, and their hashes
# and sorts should stay in memory. The visit outcomes that jobs and parts feed are refreshed once,
# for everything written, instead of by each statement's trigger.
SESSION = """
SET LOCAL jit = off;
SET LOCAL work_mem = '64MB';
SET LOCAL truckroll.defer_visit_outcomes = on
"""


async def begin_staging(conn: Connection) -> bool:
    """Take the import lock and create the staging tables, inside the caller's transaction.
    Returns whether the per-row reference checks are off (`end_staging` then checks them)."""
    await conn.execute("SELECT pg_advisory_xact_lock($1)", IMPORT_LOCK_KEY)
    await conn.execute(SESSION)
    await conn.execute(STAGING_TABLES)
    if not await _may_skip_row_triggers(conn):
        return False
    await conn.execute("SET LOCAL session_replication_role = replica")
    return True


# Every table an import writes, the visit outcomes its refresh writes included: the references
# of their new rows are checked at the end when the row triggers were off.
WRITTEN_TABLES = (
    "parts",
    "fitments",
    "customers",
    "sites",
    "site_occupancies",
    "assets",
    "asset_events",
    "asset_event_parts",
    "jobs",
    "job_events",
    "visit_outcomes",
    "visit_outcome_parts",
    "visit_family_counts",
    "visit_part_counts",
)


async def end_staging(conn: Connection, row_triggers_off: bool) -> None:
    """Turn the row triggers back on, check every reference written while they were off (locking
    what they name, as the triggers would have), and wake the listeners the triggers would have
    woken. Raises ForeignKeyViolationError, and the caller rolls back, if a reference is broken."""
    if not row_triggers_off:
        return
    await conn.execute("SET LOCAL session_replication_role = origin")
    await conn.fetchval("SELECT verify_written_references($1::text[]::regclass[])", WRITTEN_TABLES)
    await conn.execute("SELECT pg_notify('truckroll_fleet', 'jobs'), pg_notify('truckroll_events', '')")


async def _may_skip_row_triggers(conn: Connection) -> bool:
    """Whether this role may set session_replication_role: a superuser may, and from PostgreSQL
    15 on a role granted SET on it. Owning the tables already lets a role drop their foreign keys,
    so the grant gives an import nothing it could not do more bluntly."""
    version: int = await conn.fetchval("SELECT current_setting('server_version_num')::integer")
    if version >= 150000:
        allowed: bool = await conn.fetchval(
            "SELECT has_parameter_privilege('session_replication_role', 'SET')"
        )
        return allowed
    superuser: bool = await conn.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    return superuser


async def stage_file(conn: Connection, name: str, checked: Parsed) -> None:
    """Copy a checked file's accepted rows, and its rejections so far, into the staging tables."""
    await conn.copy_records_to_table(
        "import_rejections",
        records=[(r.file, r.line, r.key, r.reason) for r in checked.rejected],
        columns=["file", "line", "key", "reason"],
    )
    rows = checked.rows[name]
    table, columns = STAGED[name]
    await conn.copy_records_to_table(table, records=_records(rows, columns), columns=["line", *columns])
    if name in ("asset_events.csv", "jobs.csv"):
        used = [(name, line, sku, quantity) for line, row in rows for sku, quantity in _parts(row)]
        await conn.copy_records_to_table(
            "import_used_parts", records=used, columns=["file", "line", "sku", "quantity"]
        )
    # Nothing analyzes temporary tables by itself; the joins that follow want real row counts.
    await conn.execute(ANALYZE[name])


ANALYZE = {
    name: f"ANALYZE import_rejections, {table}"
    + (", import_used_parts" if name in ("asset_events.csv", "jobs.csv") else "")
    for name, (table, _) in STAGED.items()
}
