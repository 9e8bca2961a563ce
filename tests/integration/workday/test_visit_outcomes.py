"""The evidence parts prediction reads is kept by the database as visits finish (migration 0018):
whoever writes the history, the running counts say what a replay of every visit would say."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from assets import prediction_queries
from assets.parts_evidence import EvidenceBook
from assets.parts_prediction import UsageCounts
from infra.db import Connection, connect
from tests.conftest import Cluster, clone_demo
from tests.demo_template import DemoWorld
from tests.factories_assets import insert_asset, insert_fitment, insert_part, insert_site

T0 = datetime(2024, 3, 4, 9, tzinfo=UTC)


async def _job(
    conn: Connection,
    site: UUID,
    asset: UUID,
    *,
    at: datetime = T0,
    status: str = "completed",
    parent: UUID | None = None,
    problem: str = "broken_spring",
) -> UUID:
    job_id: UUID = await conn.fetchval(
        """
        INSERT INTO jobs (site_id, asset_id, parent_job_id, problem_code, duration_s, window_start_at,
                          window_end_at, status, started_at, finished_at)
        VALUES ($1, $2, $3, $4, 3600, $5, $6, $7::text, $5,
                CASE WHEN $7::text IN ('completed', 'incomplete') THEN $6::timestamptz END)
        RETURNING id
        """,
        site,
        asset,
        parent,
        problem,
        at,
        at + timedelta(hours=1),
        status,
    )
    return job_id


async def _fitted(
    conn: Connection, asset: UUID, job: UUID, parts: dict[UUID, int], *, at: datetime = T0
) -> None:
    event: UUID = await conn.fetchval(
        "INSERT INTO asset_events (asset_id, job_id, kind, occurred_at)"
        " VALUES ($1, $2, 'replace', $3) RETURNING id",
        asset,
        job,
        at,
    )
    await conn.executemany(
        "INSERT INTO asset_event_parts (asset_event_id, part_id, quantity) VALUES ($1, $2, $3)",
        [(event, p, q) for p, q in parts.items()],
    )


async def _counts(
    conn: Connection, make: str = "Clopay", model: str = "Classic"
) -> prediction_queries.ProblemCounts:
    return await prediction_queries.problem_counts(
        conn, problem_code="broken_spring", choice=None, make=make, model=model
    )


async def test_a_finished_visit_counts_with_the_parts_its_follow_up_brought(conn: Connection) -> None:
    site = await insert_site(conn)
    door = await insert_asset(conn, site)
    spring = await insert_part(conn, sku="SPR-T1")
    cable = await insert_part(conn, sku="CAB-T1")
    first = await _job(conn, site, door, status="incomplete")
    await _fitted(conn, door, first, {spring: 2})
    follow_up = await _job(conn, site, door, at=T0 + timedelta(days=1), parent=first, status="new")

    counts = await _counts(conn)
    assert counts.fleet.jobs == 1
    assert counts.model.part_quantities == {spring: {2: 1}}
    assert counts.model.second_visit_jobs == {}

    await conn.execute(
        "UPDATE jobs SET status = 'completed', finished_at = window_end_at WHERE id = $1",
        follow_up,
    )
    await _fitted(conn, door, follow_up, {cable: 1}, at=T0 + timedelta(days=1))

    counts = await _counts(conn)
    # Still one visit: the follow-up's cable is the first visit's, brought a day late.
    assert counts.fleet.jobs == 1
    assert counts.model.jobs == 1
    assert counts.model.part_jobs == {spring: 1, cable: 1}
    assert counts.model.second_visit_jobs == {"CAB-T1": 1}
    assert counts.fleet.family_jobs == {"SPR-T1": 1, "CAB-T1": 1}


async def test_a_visit_not_finished_is_not_evidence_and_a_reopened_one_is_taken_back(
    conn: Connection,
) -> None:
    site = await insert_site(conn)
    door = await insert_asset(conn, site)
    spring = await insert_part(conn, sku="SPR-T2")
    job = await _job(conn, site, door)
    await _fitted(conn, door, job, {spring: 1})
    assert (await _counts(conn)).model.part_jobs == {spring: 1}

    await conn.execute("UPDATE jobs SET status = 'cancelled' WHERE id = $1", job)

    counts = await _counts(conn)
    assert counts.fleet.jobs == 0
    assert counts.model.part_jobs == {}


async def test_makes_typed_several_ways_pool_their_evidence(conn: Connection) -> None:
    site = await insert_site(conn)
    spring = await insert_part(conn, sku="SPR-T3")
    for make in ("OHD", "Overhead Door", "overhead-door "):
        door = await insert_asset(conn, site, make=make, model="Model 511")
        await _fitted(conn, door, await _job(conn, site, door), {spring: 2})

    counts = await _counts(conn, make="Overhead Door Corp.", model="model511")

    assert counts.model.jobs == 3
    assert counts.model.part_quantities == {spring: {2: 3}}


async def test_a_make_typed_anew_moves_the_assets_visits(conn: Connection) -> None:
    site = await insert_site(conn)
    spring = await insert_part(conn, sku="SPR-T4")
    door = await insert_asset(conn, site, make="Amar", model="Heritage")
    await _fitted(conn, door, await _job(conn, site, door), {spring: 2})

    await conn.execute("UPDATE assets SET make = 'Amarr' WHERE id = $1", door)

    assert (await _counts(conn, make="Amar", model="Heritage")).model.jobs == 0
    assert (await _counts(conn, make="Amarr", model="Heritage")).model.part_jobs == {spring: 1}


def _as_dicts(counts: UsageCounts) -> tuple[int, dict[str, int], dict[UUID, int], dict[UUID, dict[int, int]]]:
    return counts.jobs, counts.family_jobs, counts.part_jobs, counts.part_quantities


async def test_the_running_counts_equal_a_replay_of_every_visit_on_the_demo(
    cluster: Cluster,
    demo_world: DemoWorld,  # seeds the template
) -> None:
    conn = await connect(await clone_demo(cluster))
    try:
        book = EvidenceBook(usual_families={})
        for visit in await prediction_queries.visits(conn):
            book.add(visit)
        models = await conn.fetch(
            """
            SELECT DISTINCT ON (o.problem_code, o.choice, o.make_key, o.model_key)
                   o.problem_code, o.choice, a.make, a.model, o.make_key, o.model_key
            FROM visit_outcomes o JOIN assets a ON a.id = o.asset_id
            """
        )
        assert len(models) > 20
        for m in models:
            counts = await prediction_queries.problem_counts(
                conn, problem_code=m["problem_code"], choice=m["choice"], make=m["make"], model=m["model"]
            )
            replayed = book.models[(m["problem_code"], m["choice"], m["make_key"], m["model_key"])]
            fleet = book.fleet[(m["problem_code"], m["choice"])]
            assert _as_dicts(counts.model) == _as_dicts(replayed), m
            assert counts.model.second_visit_jobs == replayed.second_visit_jobs
            assert (counts.fleet.jobs, counts.fleet.family_jobs) == (fleet.jobs, fleet.family_jobs)
    finally:
        await conn.close()


async def test_a_bulk_writer_defers_the_counts_and_refreshes_them_once(conn: Connection) -> None:
    site = await insert_site(conn)
    door = await insert_asset(conn, site)
    spring = await insert_part(conn, sku="SPR-T5")
    async with conn.transaction():
        await conn.execute("SET LOCAL truckroll.defer_visit_outcomes = on")
        jobs = [await _job(conn, site, door, at=T0 + timedelta(days=d)) for d in range(3)]
        for job in jobs:
            await _fitted(conn, door, job, {spring: 2})
        assert (await _counts(conn)).fleet.jobs == 0
        await conn.execute("SELECT refresh_visit_outcomes_of_jobs($1::uuid[])", jobs)

    assert (await _counts(conn)).model.part_quantities == {spring: {2: 3}}


async def test_a_deleted_first_visit_is_taken_back_from_the_counts(conn: Connection) -> None:
    site = await insert_site(conn)
    door = await insert_asset(conn, site)
    spring = await insert_part(conn, sku="SPR-T6")
    job = await _job(conn, site, door)
    await _fitted(conn, door, job, {spring: 1})

    await conn.execute("DELETE FROM asset_events WHERE job_id = $1", job)
    assert (await _counts(conn)).model.part_jobs == {}
    await conn.execute("DELETE FROM jobs WHERE id = $1", job)

    counts = await _counts(conn)
    assert (counts.fleet.jobs, counts.model.jobs) == (0, 0)


async def test_a_fitment_for_a_make_applies_to_the_asset_whichever_way_its_make_is_typed(
    conn: Connection,
) -> None:
    site = await insert_site(conn)
    board = await insert_part(conn, sku="BRD-41")
    await insert_fitment(conn, board, make="Overhead Door", model="Legacy 850", conditions={})
    typed = [
        await insert_asset(conn, site, make=make, model=" legacy-850") for make in ("OHD", "overhead door")
    ]
    other = await insert_asset(conn, site, make="Genie", model="Legacy 850")

    found = await prediction_queries.fittings(conn, [*typed, other])

    assert [[f.part.sku for f in found.get(asset, [])] for asset in typed] == [["BRD-41"], ["BRD-41"]]
    assert other not in found


async def test_a_part_moved_to_another_family_moves_the_counts_of_the_visits_that_used_it(
    conn: Connection,
) -> None:
    site = await insert_site(conn)
    door = await insert_asset(conn, site)
    spring = await insert_part(conn, sku="SPR-T7")
    await conn.execute('UPDATE parts SET attributes = \'{"family": "spring"}\' WHERE id = $1', spring)
    await _fitted(conn, door, await _job(conn, site, door), {spring: 2})

    await conn.execute('UPDATE parts SET attributes = \'{"family": "torsion_spring"}\' WHERE id = $1', spring)
    assert (await _counts(conn)).fleet.family_jobs == {"torsion_spring": 1}
    # Counting the visit again later (its door's model typed anew) takes back what was counted.
    await conn.execute("UPDATE assets SET model = 'Classic XL' WHERE id = $1", door)

    assert (await _counts(conn, model="Classic XL")).model.family_jobs == {"torsion_spring": 1}
    assert await conn.fetchval("SELECT count(*) FROM visit_family_counts WHERE jobs < 0") == 0
    assert (await _counts(conn)).fleet.family_jobs == {"torsion_spring": 1}


async def test_a_first_visit_that_becomes_a_follow_up_is_counted_once_as_part_of_the_other(
    conn: Connection,
) -> None:
    site = await insert_site(conn)
    door = await insert_asset(conn, site)
    spring = await insert_part(conn, sku="SPR-T8")
    cable = await insert_part(conn, sku="CAB-T8")
    first = await _job(conn, site, door)
    await _fitted(conn, door, first, {spring: 2})
    second = await _job(conn, site, door, at=T0 + timedelta(days=1))
    await _fitted(conn, door, second, {cable: 1}, at=T0 + timedelta(days=1))
    assert (await _counts(conn)).fleet.jobs == 2

    await conn.execute("UPDATE jobs SET parent_job_id = $1 WHERE id = $2", first, second)

    counts = await _counts(conn)
    assert (counts.fleet.jobs, counts.model.jobs) == (1, 1)
    assert counts.model.part_jobs == {spring: 1, cable: 1}
    assert counts.model.second_visit_jobs == {"CAB-T8": 1}
