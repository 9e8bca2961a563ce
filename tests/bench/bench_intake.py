"""`POST /jobs/intake` over HTTP on a big, messy installed base, and EXPLAIN of what it reads.

The base is `tests.bench.messy_base` (or a directory in the import layout), imported with the
product's own import. Each call is a customer at a known site in their own words ("garage door
spring broke", "no heat", ...), for a site with one asset of the kind, so nothing is asked back.
The server is uvicorn on loopback with one worker; calls are sequential, so the figures are a
call's own latency, parts prediction and duration from history included.

    python -m tests.bench.bench_intake [--sites 20000] [--seed 7] [--dir DIR] [--calls 300]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from api.app import create_app
from dispatch.importing.load import import_directory
from infra.db import Connection, connect
from infra.settings import Settings
from tests.bench.common import SECRET, dispatcher_token, percentiles, scratch_database
from tests.live_server import serving

# A caller's words for each problem, as the intake's text matching hears them.
CALLS = {
    "garage_door": "garage door spring broke",
    "garage_door_opener": "the opener does not work",
    "hvac_unit": "no heat in the house",
    "vehicle_glass": "rock chip in the windshield",
}


async def _explain(conn: Connection, label: str, sql: str, *args: object) -> None:
    rows = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, *args)
    plan = [r[0] for r in rows]
    print(f"EXPLAIN {label}:")
    for line in plan:
        print(f"    {line}")


async def explain_hot_queries(conn: Connection) -> None:
    """The statements an intake for a spring runs against the history, on the biggest model."""
    top = await conn.fetchrow(
        """
        SELECT o.problem_code, o.choice, a.make, a.model, a.id AS asset_id
        FROM visit_outcomes o JOIN assets a ON a.id = o.asset_id
        WHERE o.problem_code = 'broken_spring'
        GROUP BY o.problem_code, o.choice, a.make, a.model, a.id
        ORDER BY count(*) OVER (PARTITION BY a.make, a.model) DESC LIMIT 1
        """
    )
    if top is None:
        print("no broken_spring visit on record: nothing to explain")
        return
    args = (top["problem_code"], top["choice"], top["make"], top["model"])
    await _explain(
        conn,
        "family counts (problem across the fleet, and the make and model)",
        """
        SELECT family, (make_key = make_key($3::text) AND model_key = spelling_key($4::text)) AS same_model,
               sum(jobs)::integer, sum(follow_up_jobs)::integer
        FROM visit_family_counts WHERE problem_code = $1 AND choice = $2 GROUP BY family, same_model
        """,
        *args,
    )
    await _explain(
        conn,
        "part counts (the make and model)",
        """
        SELECT c.quantity, c.jobs, p.sku FROM visit_part_counts c JOIN parts p ON p.id = c.part_id
        WHERE c.problem_code = $1 AND c.choice = $2 AND c.make_key = make_key($3::text)
          AND c.model_key = spelling_key($4::text) AND c.jobs > 0
        """,
        *args,
    )
    await _explain(
        conn,
        "past durations (the make and model)",
        """
        SELECT o.took_s FROM visit_outcomes o
        WHERE o.problem_code = $1 AND o.choice = $2 AND o.make_key = make_key($3::text)
          AND o.model_key = spelling_key($4::text) AND o.status = 'completed' AND o.took_s IS NOT NULL
        """,
        *args,
    )
    await _explain(
        conn,
        "the asset's own history",
        """
        SELECT e.occurred_at, ep.quantity, p.sku FROM asset_events e
        JOIN asset_event_parts ep ON ep.asset_event_id = e.id JOIN parts p ON p.id = ep.part_id
        WHERE e.asset_id = $1 ORDER BY e.occurred_at, p.sku
        """,
        top["asset_id"],
    )


async def _callers(conn: Connection, count: int, rng: random.Random) -> list[tuple[str, str]]:
    """Sites with exactly one current asset of a kind we have words for: (site id, words)."""
    rows = await conn.fetch(
        """
        SELECT site_id, min(kind) AS kind FROM assets
        WHERE removed_at IS NULL AND kind = ANY($1::text[])
        GROUP BY site_id, kind HAVING count(*) = 1
        """,
        list(CALLS),
    )
    picked = rng.sample(list(rows), min(count, len(rows)))
    return [(str(r["site_id"]), CALLS[r["kind"]]) for r in picked]


async def bench(directory: Path, calls: int) -> None:
    rng = random.Random(11)
    async with scratch_database() as dsn:
        conn = await connect(dsn)
        began = time.perf_counter()
        async with conn.transaction():
            report = await import_directory(conn, directory)
        imported = time.perf_counter() - began
        await conn.execute("ANALYZE")
        sizes = await conn.fetchrow(
            """
            SELECT (SELECT count(*) FROM sites) AS sites, (SELECT count(*) FROM assets) AS assets,
                   (SELECT count(*) FROM jobs) AS jobs, (SELECT count(*) FROM visit_outcomes) AS visits,
                   (SELECT count(*) FROM asset_events) AS events
            """
        )
        assert sizes is not None
        print(
            f"base: {sizes['sites']:,} sites, {sizes['assets']:,} assets, {sizes['jobs']:,} past jobs"
            f" ({sizes['visits']:,} first visits), {sizes['events']:,} asset events;"
            f" imported in {imported:.1f} s, {len(report.rejected)} row(s) rejected"
        )
        await explain_hot_queries(conn)
        token = await dispatcher_token(conn)
        callers = await _callers(conn, calls, rng)
        await conn.close()

        settings = Settings(
            database_url=dsn,
            data_dir=Path(tempfile.mkdtemp(prefix="truckroll-bench-data-")),
            jwt_secret=SECRET,
            log_level="WARNING",
        )
        start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
        by_words: dict[str, list[float]] = {}
        statuses: dict[int, int] = {}
        async with (
            serving(create_app(settings)) as base_url,
            httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {token}"}) as client,
        ):
            for site_id, words in callers:
                body = {
                    "site_id": site_id,
                    "problem_text": words,
                    "window_start_at": start.isoformat(),
                    "window_end_at": (start + timedelta(hours=4)).isoformat(),
                }
                began = time.perf_counter()
                response = await client.post("/jobs/intake", content=json.dumps(body))
                by_words.setdefault(words, []).append(time.perf_counter() - began)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    every = [s for samples in by_words.values() for s in samples]
    warm = every[10:] if len(every) > 20 else every
    print(
        f"POST /jobs/intake, {len(every)} calls (statuses {statuses});"
        f" after 10 warm-up calls: {percentiles(warm)}"
    )
    for words, samples in by_words.items():
        print(f"  {words!r:<32} {len(samples):>4} calls: {percentiles(samples)}")


def main(argv: Sequence[str] | None = None) -> None:
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request drowns the figures
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sites", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dir", type=Path, help="a base in the import layout, instead of generating one")
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args(argv)
    if args.dir:
        asyncio.run(bench(args.dir, args.calls))
        return
    from tests.bench.messy_files import write
    from tests.bench.messy_world import generate

    with tempfile.TemporaryDirectory(prefix="truckroll-intake-") as scratch:
        write(generate(args.sites, args.seed), Path(scratch))
        asyncio.run(bench(Path(scratch), args.calls))


if __name__ == "__main__":
    main()
