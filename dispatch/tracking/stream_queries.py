"""SQL for the live event stream: which event ids have committed, and a stream's events."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import NamedTuple
from uuid import UUID

from dispatch.jobs.records import event_from_row
from dispatch.models import JobEvent
from infra.db import Connection


class IdRange(NamedTuple):
    """Event ids lo..hi, both included."""

    lo: int
    hi: int


class Committed(NamedTuple):
    """What one look at job_events saw: the highest id committed (None: none above the old top),
    the ids still missing (within the ranges asked about, and below the new top), and the
    snapshot the look was taken in (`xmin:xmax:xip,...`)."""

    top: int | None
    missing: list[IdRange]
    snapshot: str


async def committed_since(conn: Connection, top: int, missing: Sequence[IdRange]) -> Committed:
    """Everything committed above `top`, and which of the `missing` ids are still missing.

    Only the holes cross the wire: a statement that committed 100,000 events answers with the
    one range it left missing, if any. Each range gets a mark one past its end, so the ids it
    still lacks at its end (or all of them) show as a hole too; above `top` there is no such
    mark, since what is past the last committed id is simply not written yet."""
    rows = await conn.fetch(
        """
        WITH asked(lo, hi) AS (SELECT * FROM unnest($1::bigint[], $2::bigint[])),
        marks(lo, id) AS (
            SELECT a.lo, e.id FROM asked a JOIN job_events e ON e.id BETWEEN a.lo AND a.hi
            UNION ALL SELECT a.lo, a.hi + 1 FROM asked a
            UNION ALL SELECT $3::bigint + 1, e.id FROM job_events e WHERE e.id > $3
        ),
        steps AS (
            SELECT lo, id, lag(id, 1, lo - 1) OVER (PARTITION BY lo ORDER BY id) AS previous FROM marks
        )
        SELECT previous + 1 AS lo, id - 1 AS hi, NULL::bigint AS top, NULL::text AS snapshot
        FROM steps WHERE id > previous + 1
        UNION ALL
        SELECT NULL, NULL, (SELECT max(id) FROM marks WHERE lo = $3 + 1), pg_current_snapshot()::text
        """,
        [r.lo for r in missing],
        [r.hi for r in missing],
        top,
    )
    (summary,) = (r for r in rows if r["snapshot"] is not None)
    holes = sorted(IdRange(r["lo"], r["hi"]) for r in rows if r["snapshot"] is None)
    return Committed(top=summary["top"], missing=holes, snapshot=summary["snapshot"])


_COLUMNS = """
    e.id, e.job_id, e.kind, e.from_status, e.to_status, e.actor_user_id, e.actor, e.reason, e.data,
    e.client_at, e.occurred_at
"""


def _events_sql(joins: str, where: str) -> str:
    # Two parts, so each reads only its ids through an index: the new ids (after, upto], and the
    # ids that were missing when the stream last looked. They never overlap: a stream only
    # remembers missing ids at or below where it has read to.
    return f"""
        SELECT * FROM (
            SELECT {_COLUMNS} FROM job_events e {joins}
            WHERE e.id > $1 AND e.id <= $2 {where}
            UNION ALL
            SELECT {_COLUMNS} FROM unnest($3::bigint[], $4::bigint[]) AS r(lo, hi)
            JOIN job_events e ON e.id BETWEEN r.lo AND r.hi {joins}
            WHERE true {where}
        ) e
        WHERE e.id <> ALL($5::bigint[])
          AND ($8::bytea IS NULL OR EXISTS (
              SELECT FROM tracking_tokens t
              WHERE t.token_hash = $8 AND t.revoked_at IS NULL AND t.expires_at > now()))
        ORDER BY e.id LIMIT $6
    """


_OF_JOB = _events_sql("", "AND e.job_id = $7")
_OF_TERRITORY = _events_sql(
    "JOIN jobs j ON j.id = e.job_id JOIN sites s ON s.id = j.site_id", "AND s.territory_id = $7"
)
_OF_ALL = _events_sql("", "AND $7::uuid IS NULL")


async def stream_events(
    conn: Connection,
    *,
    after: int,
    upto: int,
    missing: Sequence[IdRange],
    skip: Collection[int],
    territory_id: UUID | None,
    job_id: UUID | None,
    limit: int,
    link_hash: bytes | None = None,
) -> list[JobEvent]:
    """The stream's events with ids in (after, upto] or in `missing`, except those in `skip`,
    oldest first: one job's, one territory's, or all; none once the tracking link with this hash
    (if any) is revoked or expired."""
    if job_id is not None:
        sql, key = _OF_JOB, job_id
    elif territory_id is not None:
        sql, key = _OF_TERRITORY, territory_id
    else:
        sql, key = _OF_ALL, None
    rows = await conn.fetch(
        sql, after, upto, [r.lo for r in missing], [r.hi for r in missing], list(skip), limit, key, link_hash
    )
    return [event_from_row(r) for r in rows]
