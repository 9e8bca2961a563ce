"""Day plans through the API on a real database: solved in the background, read, applied only
when nothing they read has changed, and refused clearly when asked wrongly."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from litestar import Litestar
from litestar.testing import AsyncTestClient

from dispatch.access.accounts import Role
from infra.db import Connection
from tests.conftest import Auth, make_user
from tests.factories_assets import insert_part
from tests.factories_dispatch import login_of
from tests.factories_matching import at, job, north, site, technician, territory

Client = AsyncTestClient[Litestar]
DAY = "2026-12-01"


async def solved(
    app: Litestar, client: Client, auth: Auth, path: str, body: dict[str, Any]
) -> dict[str, Any]:
    response = await client.post(path, json=body, headers=auth.headers)
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "solving"
    return await finished(client, auth, response.json()["id"])


async def finished(client: Client, auth: Auth, plan_id: str) -> dict[str, Any]:
    """Ask for the plan as a dispatcher's screen would, until the solve is over."""
    for _ in range(200):
        plan = await client.get(f"/plans/{plan_id}", headers=auth.headers)
        assert plan.status_code == 200, plan.text
        if plan.json()["status"] != "solving":
            break
        await asyncio.sleep(0.05)
    body: dict[str, Any] = plan.json()
    assert body["status"] == "done", body
    return body


async def crossed_day(conn: Connection) -> tuple[UUID, UUID, UUID, UUID, UUID]:
    """Ann lives at the north end, Bob 20 km out; the job by Bob's door is Ann's today, and a new
    one by Ann's door is nobody's yet."""
    metro = await territory(conn)
    ann = await technician(conn, metro, "Ann Springs", north(0))
    bob = await technician(conn, metro, "Bob Doors", north(20))
    by_bob = await job(conn, await site(conn, metro, north(19)), (9, 12), technician_id=ann, planned=9)
    by_ann = await job(conn, await site(conn, metro, north(1)), (8, 12))
    return metro, ann, bob, by_bob, by_ann


async def test_a_day_is_solved_in_the_background_then_applied_and_everyone_affected_is_told(
    app: Litestar, client: Client, conn: Connection, dispatcher: Auth
) -> None:
    metro, ann, bob, by_bob, by_ann = await crossed_day(conn)
    plan = await solved(
        app, client, dispatcher, "/plans", {"territory_id": str(metro), "date": DAY, "time_limit_s": 0.3}
    )
    result = plan["result"]
    owners = {v["job_id"]: r["technician_id"] for r in result["routes"] for v in r["visits"]}
    assert owners == {str(by_bob): str(bob), str(by_ann): str(ann)}
    assert result["violations"] == []
    assert result["kpis"]["jobs_planned"] == 2
    assert {"job_id": str(by_bob), "from": str(ann), "to": str(bob)} in result["changes"]
    assert result["by_technician"][str(bob)] == {"gains": [str(by_bob)], "losses": []}
    assert result["by_technician"][str(ann)] == {"gains": [str(by_ann)], "losses": [str(by_bob)]}
    # Today Ann drives 19 km out and back for Bob's neighbour, and the new job has nobody.
    assert result["current_kpis"]["jobs_planned"] == 1
    assert result["kpis"]["travel_s"] < result["current_kpis"]["travel_s"]

    applied = await client.post(f"/plans/{plan['id']}/apply", headers=dispatcher.headers)
    assert applied.status_code == 200, applied.text
    assert set(applied.json()["jobs_changed"]) == {str(by_bob), str(by_ann)}
    rows = await conn.fetch("SELECT id, technician_id, status FROM jobs")
    assert {r["id"]: (r["technician_id"], r["status"]) for r in rows} == {
        by_bob: (bob, "scheduled"),
        by_ann: (ann, "scheduled"),
    }
    told = await conn.fetch("SELECT kind, audience, job_id, technician_id FROM outbox ORDER BY id")
    assert {(t["kind"], t["audience"], t["job_id"], t["technician_id"]) for t in told} == {
        ("assigned", "customer", by_bob, bob),
        ("job_added", "technician", by_bob, bob),
        ("job_removed", "technician", by_bob, ann),
        ("assigned", "customer", by_ann, ann),
        ("job_added", "technician", by_ann, ann),
    }
    assert (await client.get(f"/plans/{plan['id']}", headers=dispatcher.headers)).json()[
        "status"
    ] == "applied"
    again = await client.post(f"/plans/{plan['id']}/apply", headers=dispatcher.headers)
    assert again.status_code == 409
    assert "applied" in again.json()["detail"]


async def test_a_plan_never_overwrites_a_dispatchers_edit_made_while_it_was_solving(
    app: Litestar, client: Client, conn: Connection, dispatcher: Auth
) -> None:
    metro, _, _, by_bob, by_ann = await crossed_day(conn)
    plan = await solved(
        app, client, dispatcher, "/plans", {"territory_id": str(metro), "date": DAY, "time_limit_s": 0.3}
    )
    edited = await client.patch(
        f"/jobs/{by_bob}", json={"priority": 1}, headers={**dispatcher.headers, "If-Match": '"1"'}
    )
    assert edited.status_code == 200, edited.text
    before = await conn.fetch("SELECT id, technician_id, status, version FROM jobs ORDER BY id")
    refused = await client.post(f"/plans/{plan['id']}/apply", headers=dispatcher.headers)
    assert refused.status_code == 409
    assert str(by_bob) in refused.json()["detail"]
    assert str(by_ann) not in refused.json()["detail"]
    assert await conn.fetch("SELECT id, technician_id, status, version FROM jobs ORDER BY id") == before
    assert await conn.fetchval("SELECT count(*) FROM outbox") == 0
    assert await conn.fetchval("SELECT status FROM day_plans") == "done"


async def test_a_replan_holds_the_job_under_way_and_starts_each_day_from_now(
    app: Litestar, client: Client, conn: Connection, dispatcher: Auth
) -> None:
    app.state.clock = lambda: at(10)
    metro = await territory(conn)
    ann = await technician(conn, metro, "Ann Springs", north(0))
    under_way = await job(conn, await site(conn, metro, north(5)), (9, 11), technician_id=ann, planned=9.5)
    await conn.execute(
        "UPDATE jobs SET status = 'on_site', started_at = $2 WHERE id = $1", under_way, at(9.75)
    )
    emergency = await job(conn, await site(conn, metro, north(5.5)), (8, 13))
    plan = await solved(
        app, client, dispatcher, "/plans/replan", {"territory_id": str(metro), "time_limit_s": 0.3}
    )
    (route,) = plan["result"]["routes"]
    assert [v["job_id"] for v in route["visits"]] == [str(under_way), str(emergency)]
    # On site since 9:45 for an hour: the emergency, 0.5 km on, starts after 10:45.
    assert datetime.fromisoformat(route["visits"][1]["start_at"]) > at(10.75)


async def test_bad_requests_are_refused_naming_the_field_and_change_nothing(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    metro = await territory(conn)
    too_long = await client.post(
        "/plans",
        json={"territory_id": str(metro), "date": DAY, "time_limit_s": 900},
        headers=dispatcher.headers,
    )
    assert too_long.status_code == 400
    assert "time_limit_s" in too_long.text
    unknown = await client.post(
        "/plans", json={"territory_id": str(uuid4()), "date": DAY}, headers=dispatcher.headers
    )
    assert unknown.status_code in (400, 422)
    assert "territory_id" in unknown.text
    elsewhere = await make_user(conn, Role.DISPATCHER, territory_id=await territory(conn))
    theirs = await client.post(
        "/plans", json={"territory_id": str(metro), "date": DAY}, headers=elsewhere.headers
    )
    assert theirs.status_code in (400, 403, 422)
    tech = await login_of(conn, await technician(conn, metro, "Ann Springs"))
    assert (
        await client.post("/plans", json={"territory_id": str(metro), "date": DAY}, headers=tech.headers)
    ).status_code == 403
    assert (await client.get(f"/plans/{uuid4()}", headers=dispatcher.headers)).status_code == 404
    assert await conn.fetchval("SELECT count(*) FROM day_plans") == 0


async def test_a_retried_request_starts_one_plan(
    app: Litestar, client: Client, conn: Connection, dispatcher: Auth
) -> None:
    metro, *_ = await crossed_day(conn)
    body = {"territory_id": str(metro), "date": DAY, "time_limit_s": 0.2}
    headers = {**dispatcher.headers, "Idempotency-Key": "plan-1"}
    first = await client.post("/plans", json=body, headers=headers)
    second = await client.post("/plans", json=body, headers=headers)
    assert (first.status_code, second.status_code) == (202, 202)
    assert first.json()["id"] == second.json()["id"]
    await finished(client, dispatcher, first.json()["id"])
    assert await conn.fetchval("SELECT count(*) FROM day_plans") == 1


async def test_the_likely_spring_sends_the_job_to_the_van_that_carries_it_and_pins_hold(
    app: Litestar, client: Client, conn: Connection, dispatcher: Auth
) -> None:
    metro = await territory(conn)
    spring = await insert_part(conn)
    ann = await technician(conn, metro, "Ann Springs", north(0))
    bob = await technician(conn, metro, "Bob Doors", north(20), van={spring: 2})
    door = await job(conn, await site(conn, metro, north(1)), (8, 12))
    await conn.execute(
        "INSERT INTO job_parts (job_id, part_id, quantity, probability, source)"
        " VALUES ($1, $2, 1, 0.9, 'predicted')",
        door,
        spring,
    )
    # Pinned to Ann, though it is next to Bob's door.
    pinned = await job(conn, await site(conn, metro, north(19)), (8, 12), technician_id=ann, planned=10)
    await conn.execute("UPDATE jobs SET pinned = true WHERE id = $1", pinned)
    plan = await solved(
        app, client, dispatcher, "/plans", {"territory_id": str(metro), "date": DAY, "time_limit_s": 0.3}
    )
    owners = {v["job_id"]: r["technician_id"] for r in plan["result"]["routes"] for v in r["visits"]}
    assert owners == {str(door): str(bob), str(pinned): str(ann)}


async def test_a_plan_applied_to_a_published_day_sends_what_it_moves_straight_to_the_phones(
    app: Litestar, client: Client, conn: Connection, dispatcher: Auth
) -> None:
    metro, ann, bob, by_bob, by_ann = await crossed_day(conn)
    published = await client.post(f"/territories/{metro}/days/{DAY}/publish", headers=dispatcher.headers)
    assert published.status_code == 200, published.text
    assert published.json()["dispatched"] == [str(by_bob)]
    plan = await solved(
        app, client, dispatcher, "/plans", {"territory_id": str(metro), "date": DAY, "time_limit_s": 0.3}
    )

    applied = await client.post(f"/plans/{plan['id']}/apply", headers=dispatcher.headers)

    assert applied.status_code == 200, applied.text
    rows = await conn.fetch("SELECT id, technician_id, status FROM jobs")
    assert {r["id"]: (r["technician_id"], r["status"]) for r in rows} == {
        by_bob: (bob, "dispatched"),
        by_ann: (ann, "dispatched"),
    }
    dispatched = await conn.fetch(
        "SELECT job_id, technician_id FROM outbox WHERE kind = 'job_dispatched' ORDER BY id"
    )
    assert [(d["job_id"], d["technician_id"]) for d in dispatched] == [
        (by_bob, ann),  # on publishing, while it was still Ann's
        *sorted([(by_bob, bob), (by_ann, ann)]),
    ]
