"""Dispatching is releasing the day to the technician's phone: a job assigned for today is
dispatched as it is assigned, a later day's jobs when a dispatcher publishes that day (and any
job put on it afterwards at once), so a technician never waits on a dispatcher to set off."""

from __future__ import annotations

from uuid import UUID

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from dispatch.access.accounts import Role
from infra.db import Connection
from tests.conftest import Auth, make_user
from tests.factories_dispatch import login_of
from tests.factories_matching import at, job, north, site, technician, territory

Client = AsyncTestClient[Litestar]
TOMORROW = "2026-12-02"


@pytest.fixture(autouse=True)
def frozen_clock(app: Litestar) -> None:
    app.state.clock = lambda: at(6)  # early on 1 December, before the shifts start


async def assign(client: Client, auth: Auth, job_id: UUID, technician_id: UUID) -> dict[str, object]:
    response = await client.post(
        f"/jobs/{job_id}/assignment", json={"technician_id": str(technician_id)}, headers=auth.headers
    )
    assert response.status_code == 200, response.text
    return dict(response.json()["job"])


async def dispatched_messages(conn: Connection, job_id: UUID) -> int:
    count: int = await conn.fetchval(
        "SELECT count(*) FROM outbox WHERE job_id = $1 AND kind = 'job_dispatched'", job_id
    )
    return count


async def test_a_job_assigned_for_today_is_dispatched_and_its_technician_sets_off_without_a_dispatcher(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    metro = await territory(conn)
    ann = await technician(conn, metro, "Ann Springs", north(1))
    door = await site(conn, metro, north(0))
    job_id = await job(conn, door, (8, 12))

    assert (await assign(client, dispatcher, job_id, ann))["status"] == "dispatched"
    assert await dispatched_messages(conn, job_id) == 1
    ann_login = await login_of(conn, ann)
    set_off = await client.post(
        f"/jobs/{job_id}/status", json={"status": "en_route"}, headers=ann_login.headers
    )
    assert set_off.status_code == 200, set_off.text

    steps = await conn.fetch(
        "SELECT kind, to_status, data FROM job_events WHERE job_id = $1 ORDER BY id", job_id
    )
    assert [(s["kind"], s["to_status"]) for s in steps] == [
        ("assigned", "scheduled"),
        ("status", "dispatched"),
        ("status", "en_route"),
    ]
    assert "implied_by" not in steps[2]["data"]  # setting off was a step of its own, not a shortcut
    assert await dispatched_messages(conn, job_id) == 1


async def test_tomorrows_job_waits_for_the_published_day_then_is_dispatched_once(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    metro = await territory(conn)
    ann = await technician(conn, metro, "Ann Springs", north(1), day=2)
    door, gate = await site(conn, metro, north(0)), await site(conn, metro, north(2))
    first = await job(conn, door, (24 + 8, 24 + 12))
    assert (await assign(client, dispatcher, first, ann))["status"] == "scheduled"
    assert await dispatched_messages(conn, first) == 0

    published = await client.post(f"/territories/{metro}/days/{TOMORROW}/publish", headers=dispatcher.headers)
    assert published.status_code == 200, published.text
    assert published.json()["dispatched"] == [str(first)]
    again = await client.post(f"/territories/{metro}/days/{TOMORROW}/publish", headers=dispatcher.headers)
    assert again.status_code == 200, again.text
    assert again.json()["dispatched"] == []
    assert again.json()["published_at"] == published.json()["published_at"]
    assert (await client.get(f"/jobs/{first}", headers=dispatcher.headers)).json()["status"] == "dispatched"
    assert await dispatched_messages(conn, first) == 1

    # The day is out: a job given to it now goes straight to the phone.
    second = await job(conn, gate, (24 + 12, 24 + 16))
    assert (await assign(client, dispatcher, second, ann))["status"] == "dispatched"
    assert await dispatched_messages(conn, second) == 1
    event = await conn.fetchrow(
        "SELECT actor, data FROM job_events WHERE job_id = $1 AND to_status = 'dispatched'", first
    )
    assert event is not None
    assert event["data"] == {"released": "day published", "day": TOMORROW}
    assert event["actor"].startswith("dispatcher-")


async def test_one_technicians_published_day_releases_only_theirs(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    metro = await territory(conn)
    ann = await technician(conn, metro, "Ann Springs", north(1), day=2)
    bob = await technician(conn, metro, "Bob Cables", north(1), day=2)
    anns = await job(conn, await site(conn, metro, north(0)), (24 + 8, 24 + 12))
    bobs = await job(conn, await site(conn, metro, north(2)), (24 + 8, 24 + 12))
    await assign(client, dispatcher, anns, ann)
    await assign(client, dispatcher, bobs, bob)

    published = await client.post(f"/technicians/{ann}/days/{TOMORROW}/publish", headers=dispatcher.headers)
    assert published.status_code == 200, published.text
    assert published.json()["dispatched"] == [str(anns)]
    rows = await conn.fetch("SELECT id, status FROM jobs WHERE id = ANY($1)", [anns, bobs])
    statuses = {r["id"]: r["status"] for r in rows}
    assert statuses == {anns: "dispatched", bobs: "scheduled"}


async def test_a_dispatcher_of_another_territory_cannot_publish_its_day(
    client: Client, conn: Connection
) -> None:
    metro, elsewhere = await territory(conn), await territory(conn)
    ann = await technician(conn, metro, "Ann Springs", north(1), day=2)
    first = await job(conn, await site(conn, metro, north(0)), (24 + 8, 24 + 12))
    own = await make_user(conn, Role.DISPATCHER, territory_id=metro)
    await assign(client, own, first, ann)
    stranger = await make_user(conn, Role.DISPATCHER, territory_id=elsewhere)
    ann_login = await login_of(conn, ann)

    for path in (
        f"/territories/{metro}/days/{TOMORROW}/publish",
        f"/technicians/{ann}/days/{TOMORROW}/publish",
    ):
        assert (await client.post(path, headers=stranger.headers)).status_code == 404
        assert (await client.post(path, headers=ann_login.headers)).status_code == 403
    assert await conn.fetchval("SELECT count(*) FROM published_territory_days") == 0
    assert await conn.fetchval("SELECT count(*) FROM published_technician_days") == 0
    assert await conn.fetchval("SELECT status FROM jobs WHERE id = $1", first) == "scheduled"
    mine = await client.post(f"/territories/{metro}/days/{TOMORROW}/publish", headers=own.headers)
    assert mine.status_code == 200, mine.text
    assert mine.json()["dispatched"] == [str(first)]


async def test_publishing_a_malformed_date_or_an_unknown_territory_says_what_is_wrong(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    metro = await territory(conn)
    bad = await client.post(f"/territories/{metro}/days/2026-13-01/publish", headers=dispatcher.headers)
    assert bad.status_code == 400, bad.text
    assert "date" in bad.text
    unknown = await client.post(
        f"/territories/{UUID(int=7)}/days/{TOMORROW}/publish", headers=dispatcher.headers
    )
    assert unknown.status_code == 404, unknown.text


async def test_a_job_pinned_onto_today_from_a_later_day_is_dispatched(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    metro = await territory(conn)
    ann = await technician(conn, metro, "Ann Springs", north(1))
    door = await site(conn, metro, north(0))
    # A window over two days, planned on tomorrow's (not released): the job waits, scheduled.
    job_id = await job(conn, door, (12, 24 + 12), technician_id=ann, planned=24 + 9)
    version = await conn.fetchval("SELECT version FROM jobs WHERE id = $1", job_id)
    pinned = await client.post(
        f"/jobs/{job_id}/pin",
        json={"technician_id": str(ann), "start_at": at(13).isoformat(), "reason": "customer is home today"},
        headers={**dispatcher.headers, "If-Match": f'"{version}"'},
    )
    assert pinned.status_code == 200, pinned.text
    assert pinned.json()["status"] == "dispatched"
    assert await dispatched_messages(conn, job_id) == 1
