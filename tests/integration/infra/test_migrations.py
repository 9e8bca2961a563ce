from __future__ import annotations

import asyncio

from infra.db import Connection, connect, load_migrations, migrate
from tests.conftest import Cluster, new_database


async def _empty_database(cluster: Cluster) -> str:
    return await new_database(cluster)


async def test_an_empty_database_migrates_to_every_migration_in_order(cluster: Cluster) -> None:
    conn = await connect(await _empty_database(cluster))
    try:
        applied = await migrate(conn)
        assert applied == [m.name for m in load_migrations()]
        versions = [
            r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations ORDER BY 1")
        ]
        assert versions == [m.version for m in load_migrations()]
        tables = {
            r["tablename"]
            for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        }
        assert {
            "customers",
            "sites",
            "site_occupancies",
            "assets",
            "asset_events",
            "parts",
            "fitments",
            "territories",
            "technicians",
            "technician_skills",
            "shifts",
            "shift_breaks",
            "stock_locations",
            "stock_levels",
            "jobs",
            "job_parts",
            "job_events",
            "users",
            "tracking_tokens",
        } <= tables
    finally:
        await conn.close()


async def test_migrating_twice_applies_nothing_the_second_time(cluster: Cluster) -> None:
    conn = await connect(await _empty_database(cluster))
    try:
        await migrate(conn)
        assert await migrate(conn) == []
    finally:
        await conn.close()


async def test_two_processes_migrating_an_empty_database_at_once_both_succeed(cluster: Cluster) -> None:
    dsn = await _empty_database(cluster)
    first, second = await connect(dsn), await connect(dsn)
    try:
        results = await asyncio.gather(migrate(first), migrate(second))
        # The advisory lock serialises them: one applies everything, the other finds nothing to do.
        assert sorted(len(r) for r in results) == [0, len(load_migrations())]
        assert await first.fetchval("SELECT count(*) FROM schema_migrations") == len(load_migrations())
    finally:
        await first.close()
        await second.close()


async def test_the_database_rejects_a_skill_level_outside_one_to_five(conn: Connection) -> None:
    assert await conn.fetchval("""SELECT valid_skill_levels('{"hvac": 3}')""") is True
    assert await conn.fetchval("""SELECT valid_skill_levels('{"hvac": 6}')""") is False
    assert await conn.fetchval("""SELECT valid_skill_levels('{"hvac": "3"}')""") is False
    assert await conn.fetchval("""SELECT valid_skill_levels('{"hvac": 2.5}')""") is False


async def test_speeds_learned_before_carry_over_as_straight_line_hour_factors(cluster: Cluster) -> None:
    conn = await connect(await _empty_database(cluster))
    try:
        await conn.execute(
            "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        for migration in load_migrations():
            if migration.version >= 35:
                break
            await conn.execute(migration.sql)
            await conn.execute(
                "INSERT INTO schema_migrations VALUES ($1, $2)", migration.version, migration.name
            )
        metro = await conn.fetchval(
            "INSERT INTO territories (name, timezone, speed_kmh) VALUES ('Metro', 'UTC', 35) RETURNING id"
        )
        await conn.execute(
            "INSERT INTO territory_speeds (territory_id, hour, speed_kmh, trips)"
            " VALUES ($1, 8, 25, 30), ($1, 12, 35, 10)",
            metro,
        )
        await migrate(conn)
        row = await conn.fetchrow("SELECT * FROM travel_factors WHERE territory_id = $1", metro)
    finally:
        await conn.close()
    # 35 km/h configured, 25 learned at 8:00: that hour's trips took 35/25 = 1.4 times the model.
    # All hours: (1.4 x 30 + 1.0 x 10) / 40 trips = 1.3; hours never learned stay at 1.0.
    assert row is not None
    assert row["source"] == "straight_line"
    assert row["hour_factors"][8] == 1.4
    assert row["hour_factors"][12] == 1.0
    assert row["hour_factors"][3] == 1.0
    assert abs(row["factor"] - 1.3) < 1e-9
    assert row["trips"] == 40
    assert row["band_factors"] == []
