"""The customer's view through their link: service information only, distance only while on the
way, cancel before dispatch, rate after the visit, and a clear answer for a dead link."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from infra.db import Connection
from tests.conftest import Auth
from tests.factories_dispatch import login_of
from tests.factories_matching import at, job, last_fix, north, site, technician, territory
from tests.integration.intake.test_intake import body, door_site

Client = AsyncTestClient[Litestar]


@pytest.fixture(autouse=True)
def frozen_clock(app: Litestar) -> None:
    app.state.clock = lambda: at(8)


async def tracked(client: Client, conn: Connection, dispatcher: Auth) -> tuple[UUID, UUID, str]:
    metro = await territory(conn)
    tech = await technician(conn, metro, "Ann Springs", north(5))
    job_id = await job(conn, await site(conn, metro, north(0)), (9, 11), technician_id=tech, planned=9.5)
    await conn.execute(
        "UPDATE jobs SET eta_at = $2, problem_description = 'Garage door spring replacement' WHERE id = $1",
        job_id,
        at(9.5),
    )
    link = (await client.post(f"/jobs/{job_id}/tracking-links", headers=dispatcher.headers)).json()
    return job_id, tech, link["token"]


async def view(client: Client, token: str) -> dict[str, Any]:
    response = await client.get(f"/track/{token}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def told_technicians(conn: Connection, job_id: UUID) -> list[tuple[str, UUID]]:
    """What the technicians' phones heard of the job, in order."""
    rows = await conn.fetch(
        "SELECT kind, technician_id FROM outbox WHERE job_id = $1 AND audience = 'technician' ORDER BY id",
        job_id,
    )
    return [(r["kind"], r["technician_id"]) for r in rows]


async def test_the_customer_sees_who_what_and_when_and_the_distance_only_on_the_way(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    job_id, tech, token = await tracked(client, conn, dispatcher)
    # A fix from before the technician set off to this customer is never shown.
    await last_fix(conn, tech, at(7.5), north(3))
    before = await view(client, token)
    assert (before["technician"], before["coming_for"], before["status"]) == (
        "Ann",
        "Garage door spring replacement",
        "scheduled",
    )
    assert before["distance_km"] is None
    assert before["map"] is None
    assert before["punctuality"] == "on_time"
    assert before["can_cancel"] is True
    await client.post(f"/jobs/{job_id}/status", json={"status": "dispatched"}, headers=dispatcher.headers)
    ann = await login_of(conn, tech)
    await client.post(
        f"/jobs/{job_id}/status",
        json={"status": "en_route", "client_at": at(8).isoformat()},
        headers=ann.headers,
    )
    await conn.execute(
        "UPDATE technician_latest_positions SET recorded_at = $2, latitude = $3, longitude = $4"
        " WHERE technician_id = $1",
        tech,
        at(8.1),
        *north(2),
    )
    on_the_way = await view(client, token)
    assert on_the_way["status"] == "en_route"
    assert on_the_way["distance_km"] == 2.0
    # The map shows what the distance tells: the technician's fix since setting off, and the door.
    door, ann_at = north(0), north(2)
    assert on_the_way["map"] == {
        "door": {"latitude": door[0], "longitude": door[1]},
        "technician": {"latitude": ann_at[0], "longitude": ann_at[1]},
    }
    assert on_the_way["can_cancel"] is False
    assert [e["what"] for e in on_the_way["timeline"]] == ["Ready to go", "On the way"]
    text = (await client.get(f"/track/{token}")).text
    for private in ("@", "dispatcher", "reason"):
        assert private not in text


async def test_the_map_shows_no_fix_from_before_setting_off_and_goes_on_arrival(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    job_id, tech, token = await tracked(client, conn, dispatcher)
    await last_fix(conn, tech, at(7.5), north(3))
    await client.post(f"/jobs/{job_id}/status", json={"status": "dispatched"}, headers=dispatcher.headers)
    ann = await login_of(conn, tech)
    set_off = {"status": "en_route", "client_at": at(8).isoformat()}
    await client.post(f"/jobs/{job_id}/status", json=set_off, headers=ann.headers)
    # Where Ann was at 7:30, before she set off here, is hers: the map has the door only.
    door = north(0)
    assert (await view(client, token))["map"] == {
        "door": {"latitude": door[0], "longitude": door[1]},
        "technician": None,
    }
    arrived = await client.post(f"/jobs/{job_id}/status", json={"status": "on_site"}, headers=ann.headers)
    assert arrived.status_code == 200, arrived.text
    assert (await view(client, token))["map"] is None


async def test_the_position_sent_with_the_set_off_shows_how_far_the_technician_is(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    # The phone takes its fix a moment before the report reaches the server (here a minute, on
    # the phone's clock with no client_at): it is still where the technician set off from.
    job_id, tech, token = await tracked(client, conn, dispatcher)
    ann = await login_of(conn, tech)
    fix = {"recorded_at": at(7.98).isoformat(), "latitude": north(3)[0], "longitude": north(3)[1]}
    set_off = await client.post(
        f"/jobs/{job_id}/status", json={"status": "en_route", "position": fix}, headers=ann.headers
    )
    assert set_off.status_code == 200, set_off.text
    on_the_way = await view(client, token)
    assert on_the_way["status"] == "en_route"
    assert on_the_way["distance_km"] == 3.0


async def test_cancel_before_dispatch_and_rate_after_the_visit(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    job_id, tech, token = await tracked(client, conn, dispatcher)
    early = await client.post(f"/track/{token}/rating", json={"stars": 5})
    assert early.status_code == 409
    cancelled = await client.post(f"/track/{token}/cancel", json={})
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    event = await conn.fetchrow(
        "SELECT actor, to_status FROM job_events WHERE job_id = $1 ORDER BY id DESC LIMIT 1", job_id
    )
    assert event is not None
    assert (event["actor"], event["to_status"]) == ("customer (tracking link)", "cancelled")
    assert await conn.fetchval("SELECT kind FROM outbox WHERE technician_id = $1", tech) == "job_removed"
    # Another visit, this time done: rated once it is over.
    other, _, other_token = await tracked(client, conn, dispatcher)
    await conn.execute("UPDATE jobs SET status = 'completed' WHERE id = $1", other)
    assert (await client.post(f"/track/{other_token}/cancel", json={})).status_code == 409
    rated = await client.post(f"/track/{other_token}/rating", json={"stars": 4, "comment": "quick"})
    assert rated.status_code == 200
    assert rated.json()["rating"] == 4


async def test_a_dead_link_gets_a_clear_answer_not_a_stack_trace(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    job_id, _, token = await tracked(client, conn, dispatcher)
    page = await client.get(f"/t/{token}")
    assert page.status_code == 200
    assert "<title>Your visit</title>" in page.text
    assert len(page.content) < 100_000
    await client.delete(f"/jobs/{job_id}/tracking-links", headers=dispatcher.headers)
    gone = await client.get(f"/t/{token}")
    assert gone.status_code == 404
    assert "This link has expired" in gone.text
    assert (await client.get(f"/track/{token}")).status_code == 404
    worker = await client.get("/t/sw.js")
    assert worker.status_code == 200
    assert "showNotification" in worker.text


async def test_a_visit_cancelled_by_the_office_is_told_to_the_customer_and_the_technician(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    job_id, tech, _ = await tracked(client, conn, dispatcher)
    response = await client.post(
        f"/jobs/{job_id}/cancel", json={"reason": "customer phoned"}, headers=dispatcher.headers
    )
    assert response.status_code == 200, response.text
    told = await conn.fetch(
        "SELECT kind, audience, technician_id FROM outbox WHERE job_id = $1 ORDER BY id", job_id
    )
    assert [(t["kind"], t["audience"], t["technician_id"]) for t in told] == [
        ("cancelled", "customer", None),
        ("job_removed", "technician", tech),
    ]


async def test_the_customer_moves_the_visit_to_a_window_offered_and_it_is_rematched(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    job_id, tech, token = await tracked(client, conn, dispatcher)
    await conn.execute("UPDATE jobs SET problem_code = 'broken_spring' WHERE id = $1", job_id)
    offered = await client.get(f"/track/{token}/slots")
    assert offered.status_code == 200, offered.text
    windows = [(s["window_start_at"], s["window_end_at"]) for s in offered.json()["slots"]]
    assert windows, "Ann's day has room"
    start, end = sorted(windows)[-1]
    moved = await client.post(
        f"/track/{token}/reschedule", json={"window_start_at": start, "window_end_at": end}
    )
    assert moved.status_code == 200, moved.text
    row = await conn.fetchrow("SELECT status, technician_id, window_start_at FROM jobs WHERE id = $1", job_id)
    assert row is not None
    # A window later today: the visit goes back on Ann's phone at once.
    assert (row["status"], row["technician_id"]) == ("dispatched", tech)
    assert row["window_start_at"].isoformat().replace("+00:00", "Z") == start
    kinds = [
        r["kind"]
        for r in await conn.fetch("SELECT kind FROM job_events WHERE job_id = $1 ORDER BY id", job_id)
    ]
    assert kinds[-3:] == ["rescheduled", "assigned", "status"]
    # A window nobody can do (before the shift starts) is refused and nothing changes.
    too_early = {"window_start_at": at(5).isoformat(), "window_end_at": at(6).isoformat()}
    refused = await client.post(f"/track/{token}/reschedule", json=too_early)
    assert refused.status_code == 409
    assert (
        await conn.fetchval("SELECT window_start_at FROM jobs WHERE id = $1", job_id)
        == row["window_start_at"]
    )


async def test_a_job_taken_in_by_intake_shows_its_request_once_and_every_page_has_an_icon(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    await door_site(conn)
    taken = await client.post("/jobs/intake", json=body(), headers=dispatcher.headers)
    assert taken.status_code == 201, taken.text
    job_id = taken.json()["job"]["id"]
    link = await client.post(f"/jobs/{job_id}/tracking-links", headers=dispatcher.headers)
    # Intake records the job's creation and the intake itself: the customer asked once.
    timeline = [e["what"] for e in (await view(client, link.json()["token"]))["timeline"]]
    assert timeline == ["Visit requested"]
    # Browsers ask for /favicon.ico on every page, linked or not.
    for path in ("/favicon.ico", "/static/favicon.svg"):
        icon = await client.get(path)
        assert icon.status_code == 200, path
        assert icon.headers["content-type"].startswith("image/svg+xml")
        assert icon.text.startswith("<svg")


async def test_the_customer_moves_a_dispatched_visit_to_tomorrow_and_it_leaves_todays_phone(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    job_id, tech, token = await tracked(client, conn, dispatcher)
    await conn.execute("UPDATE jobs SET problem_code = 'broken_spring' WHERE id = $1", job_id)
    await conn.execute(
        "INSERT INTO shifts (technician_id, starts_at, ends_at, start_latitude, start_longitude,"
        " end_latitude, end_longitude) VALUES ($1, $2, $3, $4, $5, $4, $5)",
        tech,
        at(8, 2),
        at(16.5, 2),
        *north(5),
    )
    sent = await client.post(
        f"/jobs/{job_id}/status", json={"status": "dispatched"}, headers=dispatcher.headers
    )
    assert sent.status_code == 200, sent.text
    assert (await view(client, token))["can_reschedule"] is True
    offered = await client.get(f"/track/{token}/slots")
    tomorrow = [
        (s["window_start_at"], s["window_end_at"])
        for s in offered.json()["slots"]
        if datetime.fromisoformat(s["window_start_at"]) >= at(0, 2)
    ]
    assert tomorrow, "Ann's second day has room"
    start, end = sorted(tomorrow)[0]

    moved = await client.post(
        f"/track/{token}/reschedule", json={"window_start_at": start, "window_end_at": end}
    )

    assert moved.status_code == 200, moved.text
    row = await conn.fetchrow(
        "SELECT status, technician_id, planned_start_at FROM jobs WHERE id = $1", job_id
    )
    assert row is not None
    # Tomorrow is not published: the visit waits on Ann's day, off her phone for today.
    assert (row["status"], row["technician_id"]) == ("scheduled", tech)
    assert row["planned_start_at"] >= at(8, 2)
    today = await client.get(
        f"/technicians/{tech}/day", params={"date": "2026-12-01"}, headers=dispatcher.headers
    )
    assert today.status_code == 200, today.text
    assert all(stop["job_id"] != str(job_id) for stop in today.json()["stops"])
    assert await told_technicians(conn, job_id) == [
        ("job_dispatched", tech),
        ("job_removed", tech),
        ("job_added", tech),
    ]


async def test_a_dispatched_visit_moved_later_today_is_taken_off_the_phone_before_it_comes_back(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    # A phone applies its notices in order: "removed" after "added" would drop a job it still has.
    job_id, tech, token = await tracked(client, conn, dispatcher)
    await conn.execute("UPDATE jobs SET problem_code = 'broken_spring' WHERE id = $1", job_id)
    sent = await client.post(
        f"/jobs/{job_id}/status", json={"status": "dispatched"}, headers=dispatcher.headers
    )
    assert sent.status_code == 200, sent.text
    offered = await client.get(f"/track/{token}/slots")
    today = [
        (s["window_start_at"], s["window_end_at"])
        for s in offered.json()["slots"]
        if datetime.fromisoformat(s["window_start_at"]) < at(0, 2)
    ]
    assert today, "Ann's day has a later window"
    start, end = sorted(today)[-1]
    moved = await client.post(
        f"/track/{token}/reschedule", json={"window_start_at": start, "window_end_at": end}
    )
    assert moved.status_code == 200, moved.text
    row = await conn.fetchrow("SELECT status, technician_id FROM jobs WHERE id = $1", job_id)
    assert row is not None
    assert (row["status"], row["technician_id"]) == ("dispatched", tech)
    assert await told_technicians(conn, job_id) == [
        ("job_dispatched", tech),
        ("job_removed", tech),
        ("job_added", tech),
        ("job_dispatched", tech),
    ]


async def test_a_visit_the_technician_has_set_off_for_can_no_longer_be_moved_by_the_customer(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    job_id, tech, token = await tracked(client, conn, dispatcher)
    ann = await login_of(conn, tech)
    assert (
        await client.post(f"/jobs/{job_id}/status", json={"status": "en_route"}, headers=ann.headers)
    ).status_code == 200
    assert (await view(client, token))["can_reschedule"] is False
    window = {"window_start_at": at(14).isoformat(), "window_end_at": at(16).isoformat()}
    refused = await client.post(f"/track/{token}/reschedule", json=window)
    assert refused.status_code == 409, refused.text
    assert await conn.fetchval("SELECT window_start_at FROM jobs WHERE id = $1", job_id) == at(9)
