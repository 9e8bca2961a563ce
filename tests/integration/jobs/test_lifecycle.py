"""A job's day through the API: every transition, stale reports, notes, parts off the van,
incomplete visits with their follow-up, idempotency keys (also two copies at once)."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from dispatch.jobs.job_queries import insert_job_event
from infra.db import Connection, connect
from tests.conftest import Auth
from tests.factories_assets import insert_asset, insert_part
from tests.factories_dispatch import login_of
from tests.factories_matching import at, job, north, site, technician, territory
from tests.live_server import serving

Client = AsyncTestClient[Litestar]


@pytest.fixture(autouse=True)
def frozen_clock(app: Litestar) -> None:
    app.state.clock = lambda: at(23)  # the evening of the visits


async def scheduled_job(conn: Connection) -> tuple[UUID, UUID, UUID, UUID]:
    metro = await territory(conn)
    spring = await insert_part(conn)
    tech = await technician(conn, metro, "Ann Springs", north(1), van={spring: 3})
    door_site = await site(conn, metro, north(0))
    door = await insert_asset(conn, door_site)
    job_id = await job(conn, door_site, (8, 12), technician_id=tech, planned=8.5, asset_id=door)
    return job_id, tech, spring, door


async def status(
    client: Client,
    auth: Auth,
    job_id: UUID,
    body: dict[str, Any],
    expect: int = 200,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    response = await client.post(
        f"/jobs/{job_id}/status", json=body, headers={**auth.headers, **(headers or {})}
    )
    assert response.status_code == expect, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_a_visit_from_dispatch_to_done_tells_everyone_and_lands_in_the_asset_history(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    job_id, tech, spring, door = await scheduled_job(conn)
    ann = await login_of(conn, tech)
    await status(client, dispatcher, job_id, {"status": "dispatched"})
    await status(client, ann, job_id, {"status": "en_route", "client_at": at(8.2).isoformat()})
    arrived = await status(client, ann, job_id, {"status": "on_site", "client_at": at(8.5).isoformat()})
    assert arrived["job"]["started_at"] is not None
    used = await client.post(
        f"/jobs/{job_id}/parts-used",
        json={"parts": [{"part_id": str(spring), "quantity": 2}]},
        headers=ann.headers,
    )
    assert used.status_code == 200, used.text
    note = await client.post(
        f"/jobs/{job_id}/notes", json={"text": "Both springs snapped"}, headers=ann.headers
    )
    assert note.status_code == 201
    done = await status(client, ann, job_id, {"status": "completed", "client_at": at(9.6).isoformat()})
    assert (done["applied"], done["job"]["status"], done["job"]["outcome"]) == (
        True,
        "completed",
        "completed",
    )

    events = await conn.fetch(
        "SELECT kind, from_status, to_status, client_at FROM job_events WHERE job_id = $1 ORDER BY id", job_id
    )
    assert [(e["kind"], e["to_status"]) for e in events] == [
        ("status", "dispatched"),
        ("status", "en_route"),
        ("status", "on_site"),
        ("parts_used", None),
        ("note", None),
        ("status", "completed"),
    ]
    assert events[1]["client_at"] == at(8.2)
    outbox = await conn.fetch(
        "SELECT kind, audience, topic FROM outbox WHERE job_id = $1 ORDER BY id", job_id
    )
    assert [(o["kind"], o["audience"]) for o in outbox] == [
        ("job_dispatched", "technician"),
        ("on_the_way", "customer"),
        ("arrived", "customer"),
        ("completed", "customer"),
    ]
    assert len({o["topic"] for o in outbox if o["audience"] == "customer"}) == 1
    assert (
        await conn.fetchval(
            "SELECT quantity FROM stock_levels s JOIN stock_locations l ON l.id = s.location_id"
            " WHERE l.technician_id = $1 AND s.part_id = $2",
            tech,
            spring,
        )
        == 1
    )
    history = await conn.fetchrow(
        "SELECT e.kind, e.job_id, p.quantity FROM asset_events e"
        " JOIN asset_event_parts p ON p.asset_event_id = e.id WHERE e.asset_id = $1",
        door,
    )
    assert history is not None
    assert (history["kind"], history["job_id"], history["quantity"]) == ("repair", job_id, 2)


async def test_the_asset_history_tells_what_the_technician_did_not_what_the_customer_said(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    job_id, tech, spring, door = await scheduled_job(conn)
    await conn.execute(
        "UPDATE jobs SET problem_description = 'Door went bang and will not open' WHERE id = $1", job_id
    )
    ann = await login_of(conn, tech)
    for step in ("en_route", "on_site"):
        await status(client, ann, job_id, {"status": step})
    used = {"parts": [{"part_id": str(spring), "quantity": 2}]}
    assert (
        await client.post(f"/jobs/{job_id}/parts-used", json=used, headers=ann.headers)
    ).status_code == 200
    note = {"text": "Both torsion springs snapped; cables fine"}
    assert (await client.post(f"/jobs/{job_id}/notes", json=note, headers=ann.headers)).status_code == 201
    await status(client, ann, job_id, {"status": "completed", "reason": "Springs replaced as a pair"})

    response = await client.get(f"/assets/{door}/history", headers=dispatcher.headers)
    assert response.status_code == 200, response.text
    (event,) = response.json()["items"]
    # New springs on the door are a repair of the door, not a new door.
    assert (event["kind"], event["job_id"]) == ("repair", str(job_id))
    sku = event["parts"][0]["sku"]
    assert event["summary"] == (
        f"Springs replaced as a pair\nBoth torsion springs snapped; cables fine\nFitted 2 x {sku}."
    )


async def test_a_visit_booked_as_a_replacement_is_recorded_as_one(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    job_id, tech, _, door = await scheduled_job(conn)
    await conn.execute("UPDATE jobs SET customer_choice = 'replace' WHERE id = $1", job_id)
    ann = await login_of(conn, tech)
    for step in ("en_route", "on_site", "completed"):
        await status(client, ann, job_id, {"status": step})
    (event,) = (await client.get(f"/assets/{door}/history", headers=dispatcher.headers)).json()["items"]
    assert (event["kind"], event["summary"]) == ("replace", "Completed; no notes, no parts fitted.")


async def test_a_step_skipped_is_409_with_what_is_allowed_and_a_step_already_passed_is_only_recorded(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    job_id, tech, _, _ = await scheduled_job(conn)
    ann = await login_of(conn, tech)
    refused = await status(client, ann, job_id, {"status": "on_site"}, expect=409)
    assert (
        refused["detail"]
        == "status: a scheduled job cannot become on_site; it can become dispatched, en_route"
    )
    assert await conn.fetchval("SELECT count(*) FROM job_events") == 0
    # Dispatching is the dispatcher's (or the set-off's); statuses with their own endpoints are
    # not reported.
    assert (await status(client, ann, job_id, {"status": "dispatched"}, expect=422))["extra"][0][
        "key"
    ] == "status"
    assert (
        "assignment"
        in (await status(client, dispatcher, job_id, {"status": "cancelled"}, expect=422))["detail"]
    )

    await status(client, dispatcher, job_id, {"status": "dispatched"})
    await status(client, ann, job_id, {"status": "en_route"})
    await status(client, ann, job_id, {"status": "on_site"})
    late = await status(client, ann, job_id, {"status": "en_route", "client_at": at(8).isoformat()})
    assert late["applied"] is False
    assert late["job"]["status"] == "on_site"
    stale = await conn.fetchrow("SELECT kind, to_status, data FROM job_events ORDER BY id DESC LIMIT 1")
    assert stale is not None
    assert (stale["kind"], stale["to_status"], stale["data"]["applied"]) == (
        "status_stale",
        "en_route",
        False,
    )
    future = await status(
        client, ann, job_id, {"status": "completed", "client_at": at(0, day=20).isoformat()}, expect=422
    )
    assert future["extra"][0]["key"] == "client_at"


async def test_a_technician_sets_off_on_a_scheduled_job_without_a_dispatcher(
    client: Client, conn: Connection
) -> None:
    job_id, tech, _, _ = await scheduled_job(conn)
    ann = await login_of(conn, tech)
    off = await status(client, ann, job_id, {"status": "en_route", "client_at": at(8.2).isoformat()})
    assert (off["applied"], off["job"]["status"]) == (True, "en_route")
    events = await conn.fetch(
        "SELECT kind, from_status, to_status, client_at, data FROM job_events WHERE job_id = $1 ORDER BY id",
        job_id,
    )
    # Setting off passes through dispatched: both steps are on the record, with the phone's time.
    assert [(e["kind"], e["from_status"], e["to_status"]) for e in events] == [
        ("status", "scheduled", "dispatched"),
        ("status", "dispatched", "en_route"),
    ]
    assert [e["client_at"] for e in events] == [at(8.2), at(8.2)]
    assert events[0]["data"] == {"implied_by": "en_route"}
    outbox = await conn.fetch("SELECT kind FROM outbox WHERE job_id = $1 ORDER BY id", job_id)
    assert [o["kind"] for o in outbox] == ["on_the_way"]


async def test_nobody_reports_on_a_job_that_is_not_theirs(client: Client, conn: Connection) -> None:
    job_id, _, _, _ = await scheduled_job(conn)
    metro = await territory(conn)
    other = await login_of(conn, await technician(conn, metro, "Bob Other", north(2)))
    assert (
        await client.post(f"/jobs/{job_id}/status", json={"status": "en_route"}, headers=other.headers)
    ).status_code == 404
    assert (
        await client.post(f"/jobs/{job_id}/notes", json={"text": "hi"}, headers=other.headers)
    ).status_code == 404
    assert await conn.fetchval("SELECT count(*) FROM job_events") == 0


async def test_parts_never_go_below_zero_and_nothing_is_taken_when_one_is_short(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    job_id, tech, spring, _ = await scheduled_job(conn)
    cable = await insert_part(conn, sku="CBL-8", name="Lift cable 8 ft")
    ann = await login_of(conn, tech)
    for step in ("dispatched", "en_route", "on_site"):
        await status(client, dispatcher, job_id, {"status": step})
    response = await client.post(
        f"/jobs/{job_id}/parts-used",
        json={"parts": [{"part_id": str(spring), "quantity": 2}, {"part_id": str(cable), "quantity": 1}]},
        headers=ann.headers,
    )
    assert response.status_code == 409
    body = response.json()
    assert body["detail"] == "parts: not enough on the van (CBL-8: 0 on the van, 1 asked); nothing was taken"
    assert body["candidates"] == [{"part_id": str(cable), "sku": "CBL-8", "available": 0, "asked": 1}]
    assert await conn.fetchval("SELECT sum(quantity) FROM stock_levels WHERE part_id = $1", spring) == 3
    assert await conn.fetchval("SELECT count(*) FROM job_parts_used") == 0


async def test_an_incomplete_visit_books_a_follow_up_with_the_missing_parts(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    job_id, tech, _, door = await scheduled_job(conn)
    cable = await insert_part(conn, sku="CBL-8", name="Lift cable 8 ft")
    ann = await login_of(conn, tech)
    for step in ("dispatched", "en_route", "on_site"):
        await status(client, dispatcher, job_id, {"status": step})
    missing = {"status": "incomplete", "missing_parts": [{"part_id": str(cable), "quantity": 2}]}
    assert (await status(client, ann, job_id, missing, expect=422))["extra"][0]["key"] == "reason"
    result = await status(client, ann, job_id, {**missing, "reason": "Both cables frayed, none on the van"})
    follow_id = result["follow_up_job_id"]
    follow = (await client.get(f"/jobs/{follow_id}", headers=dispatcher.headers)).json()
    assert (follow["parent_job_id"], follow["asset_id"], follow["status"]) == (str(job_id), str(door), "new")
    assert [(p["sku"], p["quantity"], p["source"]) for p in follow["parts"]] == [("CBL-8", 2, "manual")]
    assert follow["window_start_at"] == at(8, day=2).isoformat().replace("-06:00", "Z").replace("T08", "T14")
    kinds = await conn.fetch("SELECT kind, audience FROM outbox WHERE job_id = $1 ORDER BY id", job_id)
    assert [(k["kind"], k["audience"]) for k in kinds][-2:] == [
        ("follow_up_booked", "customer"),
        ("follow_up_needed", "dispatcher"),
    ]


async def test_reports_queued_offline_are_applied_in_the_phones_order(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    job_id, tech, _, _ = await scheduled_job(conn)
    ann = await login_of(conn, tech)
    await status(client, dispatcher, job_id, {"status": "dispatched"})
    queued = {
        "events": [
            {"job_id": str(job_id), "status": "on_site", "client_at": at(8.6).isoformat()},
            {"job_id": str(job_id), "status": "en_route", "client_at": at(8.2).isoformat()},
            {"job_id": str(job_id), "status": "en_route", "client_at": at(8.3).isoformat()},
        ]
    }
    response = await client.post("/technicians/me/events", json=queued, headers=ann.headers)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [(r["status"], r["applied"], r["job_status"]) for r in results] == [
        ("en_route", True, "en_route"),
        ("en_route", False, "en_route"),
        ("on_site", True, "on_site"),
    ]
    assert await conn.fetchval("SELECT started_at FROM jobs WHERE id = $1", job_id) == at(8.6)


async def test_a_repeated_idempotency_key_returns_the_first_answer_and_a_reused_one_is_refused(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    job_id, _, _, _ = await scheduled_job(conn)
    first = await status(
        client, dispatcher, job_id, {"status": "dispatched"}, headers={"Idempotency-Key": "k-1"}
    )
    again = await client.post(
        f"/jobs/{job_id}/status",
        json={"status": "dispatched"},
        headers={**dispatcher.headers, "Idempotency-Key": "k-1"},
    )
    assert again.status_code == 200
    assert again.headers["idempotent-replay"] == "true"
    assert again.json() == first
    assert await conn.fetchval("SELECT count(*) FROM job_events") == 1
    other = await client.post(
        f"/jobs/{job_id}/notes", json={"text": "x"}, headers={**dispatcher.headers, "Idempotency-Key": "k-1"}
    )
    assert other.status_code == 422
    assert "Idempotency-Key" in other.text


async def test_two_copies_of_one_request_at_once_act_once(
    app: Litestar, conn: Connection, dispatcher: Auth
) -> None:
    job_id, _, _, _ = await scheduled_job(conn)
    headers = {**dispatcher.headers, "Idempotency-Key": "twin"}
    async with serving(app) as base_url, httpx.AsyncClient(base_url=base_url) as http:
        # Hold the job so both copies are inside the app, one on the job and one on the key.
        holder = conn.transaction()
        await holder.start()
        await conn.execute("SELECT 1 FROM jobs WHERE id = $1 FOR UPDATE", job_id)
        copies = [
            asyncio.ensure_future(
                http.post(f"/jobs/{job_id}/status", json={"status": "dispatched"}, headers=headers)
            )
            for _ in range(2)
        ]
        waiting = 0
        for _ in range(200):
            await asyncio.sleep(0.025)
            waiting = await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            if waiting == 2:
                break
        await holder.rollback()
        responses = await asyncio.gather(*copies)
    assert waiting == 2
    assert [r.status_code for r in responses] == [200, 200]
    assert responses[0].json() == responses[1].json()
    assert sorted(r.headers.get("idempotent-replay", "") for r in responses) == ["", "true"]
    assert await conn.fetchval("SELECT count(*) FROM job_events WHERE job_id = $1", job_id) == 1
    assert await conn.fetchval("SELECT count(*) FROM outbox WHERE job_id = $1", job_id) == 1


async def test_the_technicians_day_shows_each_stop_with_what_they_will_find(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    job_id, tech, spring, door = await scheduled_job(conn)
    await conn.execute("UPDATE assets SET warranty_until = '2027-04-01' WHERE id = $1", door)
    await conn.execute("UPDATE sites SET access_notes = 'Side door code 4412'")
    await conn.execute("UPDATE customers SET name = 'Ben Newowner'")
    await conn.execute(
        "INSERT INTO asset_events (asset_id, kind, summary, occurred_at) VALUES"
        " ($1, 'replace', 'Both springs replaced', '2019-11-04T15:45:00Z'),"
        " ($1, 'install', 'Installed the door', '2017-04-12T14:00:00Z')",
        door,
    )
    await conn.execute(
        "INSERT INTO job_parts (job_id, part_id, quantity, probability, source)"
        " VALUES ($1, $2, 2, 0.9, 'predicted')",
        job_id,
        spring,
    )
    metro = await conn.fetchval("SELECT territory_id FROM technicians WHERE id = $1", tech)
    later = await job(conn, await site(conn, metro, north(3)), (12, 16), technician_id=tech, planned=13)
    ann = await login_of(conn, tech)
    response = await client.get("/technicians/me/day", params={"date": "2026-12-01"}, headers=ann.headers)
    assert response.status_code == 200, response.text
    day = response.json()
    assert [s["job_id"] for s in day["stops"]] == [str(job_id), str(later)]
    first = day["stops"][0]
    assert first["access_notes"] == "Side door code 4412"
    assert first["customer_first_name"] == "Ben"
    assert "Newowner" not in response.text
    assert first["asset"]["warranty"] == "in warranty until 2027-04-01"
    assert first["asset"]["history"] == ["Both springs replaced (2019-11)", "Installed the door (2017-04)"]
    assert [(p["sku"], p["on_van"]) for p in first["parts"]] == [("SPR-218", True)]
    assert day["shift_starts_at"] is not None
    # Another technician cannot read it; a dispatcher can.
    other = await login_of(conn, await technician(conn, metro, "Bob Other", north(2)))
    assert (await client.get(f"/technicians/{tech}/day", headers=other.headers)).status_code == 404
    staff = await client.get(
        f"/technicians/{tech}/day", params={"date": "2026-12-01"}, headers=dispatcher.headers
    )
    assert staff.json() == day


REPORTABLE = ("dispatched", "en_route", "on_site", "completed", "incomplete")
ALLOWED = {
    "new": set(),
    "scheduled": {"dispatched", "en_route"},
    "dispatched": {"en_route"},
    "en_route": {"on_site"},
    "on_site": {"completed", "incomplete"},
    "completed": set(),
    "incomplete": set(),
    "cancelled": set(),
}
ORDER = ["new", "scheduled", "dispatched", "en_route", "on_site", "completed"]


def rank(status: str) -> int:
    return 5 if status in ("completed", "incomplete", "cancelled") else ORDER.index(status)


@pytest.mark.parametrize("current", list(ALLOWED))
async def test_every_reported_transition_from_every_status(
    client: Client, conn: Connection, dispatcher: Auth, current: str
) -> None:
    """From each status, each reportable one: applied, stale (recorded only) or 409 with the allowed."""
    first, tech, _, _ = await scheduled_job(conn)
    door_site = await conn.fetchval("SELECT site_id FROM jobs WHERE id = $1", first)
    for wanted in REPORTABLE:
        job_id = await job(conn, door_site, (8, 12), technician_id=tech, planned=8.5)
        technician = None if current == "new" else tech
        await conn.execute(
            "UPDATE jobs SET status = $2, technician_id = $3 WHERE id = $1", job_id, current, technician
        )
        body = {"status": wanted, "reason": "done or not"}
        response = await client.post(f"/jobs/{job_id}/status", json=body, headers=dispatcher.headers)
        now_status = await conn.fetchval("SELECT status FROM jobs WHERE id = $1", job_id)
        if wanted in ALLOWED[current]:
            assert response.status_code == 200, (current, wanted, response.text)
            assert response.json()["applied"] is True
            assert now_status == wanted
        elif wanted == current or rank(wanted) < rank(current):
            assert response.status_code == 200, (current, wanted, response.text)
            assert response.json()["applied"] is False
            assert now_status == current
        else:
            assert response.status_code == 409, (current, wanted, response.text)
            assert "it can become" in response.json()["detail"]
            assert now_status == current


async def test_events_are_stamped_in_the_order_they_are_written(conn: Connection, dsn: str) -> None:
    # A transaction that began earlier but wrote its event later (it waited for the job's row
    # lock) must not stamp the event with its start time, out of order with the ids.
    job_id = await job(conn, await site(conn, await territory(conn), north(1)), (8, 12))
    other = await connect(dsn)
    try:
        async with conn.transaction():
            await conn.execute("SELECT 1")  # the transaction's clock starts here
            await asyncio.sleep(0.05)
            await insert_job_event(other, job_id, "note_added", None)
            await insert_job_event(conn, job_id, "note_added", None)
    finally:
        await other.close()
    times = [r["occurred_at"] for r in await conn.fetch("SELECT occurred_at FROM job_events ORDER BY id")]
    assert len(times) == 2
    assert times == sorted(times)
