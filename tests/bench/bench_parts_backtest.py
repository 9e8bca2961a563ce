"""How long `truckroll backtest-parts` takes on a large installed base.

    python -m tests.bench.bench_parts_backtest [--visits 100000] [--assets 25000] [--pure-only]

Writes a synthetic base (garage doors with spring fitments, one visit in four typed in later so
the attribute history matters, one in six using no part) into a throw-away PostgreSQL, then
times the steps of the command: the fittings from each asset's record as it stood before each
visit, and the replay (`--visits-query` also reads the visits back with the command's query;
otherwise the visits written are replayed). `--pure-only` times the replay alone on visits built
in memory. Figures, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import random
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from api.cli import CURVE_THRESHOLDS, DEFAULT_THRESHOLDS
from assets import attribute_queries, prediction_queries
from assets.models import AttributeValue
from assets.parts_backtest import FittingsFor, backtest
from assets.parts_evidence import Visit
from assets.parts_prediction import Fitting, PartRef
from infra.db import connect
from tests.bench.common import scratch_database

SIZES = ("207", "218", "225", "234", "243")
PROBLEMS = ("broken_spring", "cable_snapped", "noisy_door", "door_off_track")
MODELS = ("Classic", "Gallery", "Heritage", "Coachman", "Modern")
START = datetime(2016, 1, 1, tzinfo=UTC)
THRESHOLDS = sorted({*DEFAULT_THRESHOLDS, *CURVE_THRESHOLDS})


def _springs() -> dict[str, PartRef]:
    return {s: PartRef(uuid4(), f"SPR-{s}", f"Torsion spring .{s}", "torsion_spring") for s in SIZES}


def _pure_visits(
    visits: int, assets: int, rng: random.Random
) -> tuple[list[Visit], dict[UUID, list[Fitting]]]:
    springs = _springs()
    cable = PartRef(uuid4(), "CAB-7", "Lift cables 7 ft", "lift_cable")
    roller = PartRef(uuid4(), "ROL-NYL", "Nylon roller", "roller")
    doors = [(uuid4(), rng.choice(SIZES), rng.choice(MODELS)) for _ in range(assets)]
    fittings = {d: [Fitting(part=springs[s], quantity=2, rule=f"spring_size = {s}")] for d, s, _ in doors}
    result = []
    for i in range(visits):
        door, size, model = rng.choice(doors)
        problem = rng.choice(PROBLEMS)
        parts: list[tuple[PartRef, int]] = []
        if rng.random() > 1 / 6:
            parts = {
                "broken_spring": [(springs[size], 2)],
                "cable_snapped": [(cable, 1)],
                "noisy_door": [(roller, 10)],
                "door_off_track": [(roller, 10), (cable, 1)],
            }[problem]
        when = START + timedelta(minutes=i * 40)
        result.append(Visit(uuid4(), door, "Clopay", model, problem, None, when, parts))
    return result, fittings


async def _write_base(
    dsn: str, visits: int, assets: int, rng: random.Random, *, keep_triggers: bool
) -> list[Visit]:
    """Writes the base and returns its visits as `prediction_queries.visits` would read them."""
    conn = await connect(dsn)
    try:
        if not keep_triggers:
            # Row triggers that keep derived tables of visits make loading 100,000 jobs take
            # minutes; the replay alone does not read those tables (the visits query may).
            await conn.execute("SET session_replication_role = replica")
        site = await conn.fetchval(
            "INSERT INTO sites (address_line, address_key, latitude, longitude)"
            " VALUES ('1 Bench Rd', '1 bench rd', 45, -93) RETURNING id"
        )
        part_ids = {}
        refs = {}
        for extra in ("CAB-7", "ROL-NYL"):
            family = "lift_cable" if extra == "CAB-7" else "roller"
            part_ids[extra] = await conn.fetchval(
                "INSERT INTO parts (sku, name, attributes) VALUES ($1, $1, $2) RETURNING id",
                extra,
                {"family": family},
            )
            refs[extra] = PartRef(part_ids[extra], extra, extra, family)
        for size in SIZES:
            part_id = await conn.fetchval(
                "INSERT INTO parts (sku, name, attributes) VALUES ($1, $1, $2) RETURNING id",
                f"SPR-{size}",
                {"family": "torsion_spring"},
            )
            part_ids[size] = part_id
            refs[size] = PartRef(part_id, f"SPR-{size}", f"SPR-{size}", "torsion_spring")
            await conn.execute(
                "INSERT INTO fitments (part_id, asset_kind, conditions, quantity)"
                " VALUES ($1, 'garage_door', $2, 2)",
                part_id,
                {"spring_size": size, "springs": 2},
            )
        doors = [(uuid4(), rng.choice(SIZES), rng.choice(MODELS)) for _ in range(assets)]
        # COPY has no binary jsonb: attributes go in through unnest.
        await conn.execute(
            """
            INSERT INTO assets (id, site_id, kind, make, model, installed_at, attributes)
            SELECT d.id, $1, 'garage_door', 'Clopay', d.model, $2, d.attributes
            FROM unnest($3::uuid[], $4::text[], $5::jsonb[]) AS d(id, model, attributes)
            """,
            site,
            START,
            [d for d, _, _ in doors],
            [m for _, _, m in doors],
            [{"springs": 2, "spring_size": s} for _, s, _ in doors],
        )
        # One door in four had its spring size typed in halfway through the history.
        halfway = START + timedelta(minutes=visits * 20)
        typed: list[tuple[UUID, str, AttributeValue, datetime]] = [
            (d, "springs", 2, START) for d, _, _ in doors[::4]
        ]
        typed += [(d, "spring_size", s, halfway) for d, s, _ in doors[::4]]
        await conn.execute(
            """
            INSERT INTO asset_attribute_changes (asset_id, key, value, valid_from, source)
            SELECT c.*, 'manual' FROM unnest($1::uuid[], $2::text[], $3::jsonb[], $4::timestamptz[]) AS c
            """,
            [t[0] for t in typed],
            [t[1] for t in typed],
            [t[2] for t in typed],
            [t[3] for t in typed],
        )
        jobs, events, event_parts, written = [], [], [], []
        for i in range(visits):
            door, size, model = rng.choice(doors)
            problem = rng.choice(PROBLEMS)
            finished = START + timedelta(minutes=i * 40)
            job_id, event_id = uuid4(), uuid4()
            started = finished - timedelta(hours=1)
            jobs.append((job_id, site, door, problem, 3600, started, finished, "completed", finished))
            events.append((event_id, door, job_id, "repair", problem, finished))
            if rng.random() > 1 / 6:
                used = {
                    "broken_spring": [(size, 2)],
                    "cable_snapped": [("CAB-7", 1)],
                    "noisy_door": [("ROL-NYL", 10)],
                    "door_off_track": [("ROL-NYL", 10), ("CAB-7", 1)],
                }[problem]
                event_parts += [(event_id, part_ids[key], q) for key, q in used]
            else:
                used = []
            written.append(
                Visit(job_id, door, "Clopay", model, problem, None, finished, [(refs[k], q) for k, q in used])
            )
        await conn.copy_records_to_table(
            "jobs",
            columns=[
                "id",
                "site_id",
                "asset_id",
                "problem_code",
                "duration_s",
                "window_start_at",
                "window_end_at",
                "status",
                "finished_at",
            ],
            records=jobs,
        )
        await conn.copy_records_to_table(
            "asset_events",
            columns=["id", "asset_id", "job_id", "kind", "problem_code", "occurred_at"],
            records=events,
        )
        await conn.copy_records_to_table(
            "asset_event_parts", columns=["asset_event_id", "part_id", "quantity"], records=event_parts
        )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return written


def _replay(
    visits: list[Visit],
    fittings: FittingsFor | Mapping[UUID, Sequence[Fitting]],
    usual: dict[tuple[str, str], frozenset[str]],
) -> float:
    started = time.perf_counter()
    backtest(visits, fittings, usual, THRESHOLDS)
    return time.perf_counter() - started


async def _whole_command(visits: int, assets: int, rng: random.Random, *, query: bool, profile: bool) -> None:
    async with scratch_database() as dsn:
        started = time.perf_counter()
        found = await _write_base(dsn, visits, assets, rng, keep_triggers=query)
        print(
            f"wrote {visits:,} visits to {assets:,} doors in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        conn = await connect(dsn)
        try:
            if query:
                started = time.perf_counter()
                found = await prediction_queries.visits(conn)
                print(f"visits query          {time.perf_counter() - started:6.1f} s", flush=True)
            started = time.perf_counter()
            moments = [(v.asset_id, v.finished_at) for v in found]
            before = dict(zip(moments, await attribute_queries.fittings_before(conn, moments), strict=True))
            print(f"fittings as of visits {time.perf_counter() - started:6.1f} s", flush=True)
            usual = await prediction_queries.usual_families(conn)
        finally:
            await conn.close()
        profiler = cProfile.Profile() if profile else None
        if profiler:
            profiler.enable()
        replayed = _replay(found, lambda v: before.get((v.asset_id, v.finished_at), ()), usual)
        if profiler:
            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(12)
        print(f"replay                {replayed:6.1f} s  ({len(THRESHOLDS)} thresholds)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=100_000)
    parser.add_argument("--assets", type=int, default=25_000)
    parser.add_argument("--pure-only", action="store_true", help="time the replay alone, in memory")
    parser.add_argument("--profile", action="store_true", help="print where the replay spends its time")
    parser.add_argument(
        "--visits-query",
        action="store_true",
        help="read the visits back with prediction_queries.visits (otherwise the ones written are replayed)",
    )
    args = parser.parse_args()
    rng = random.Random(7)
    if args.pure_only:
        visits, fittings = _pure_visits(args.visits, args.assets, rng)
        usual = {(p, ""): frozenset({"torsion_spring", "lift_cable", "roller"}) for p in PROBLEMS}
        print(f"replay of {args.visits:,} visits: {_replay(visits, fittings, usual):.1f} s")
        return
    asyncio.run(_whole_command(args.visits, args.assets, rng, query=args.visits_query, profile=args.profile))


if __name__ == "__main__":
    main()
