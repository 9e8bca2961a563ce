"""A working day end to end through the HTTP API: jobs booked, matched, driven, worked, one
visit incomplete with its follow-up, and the manager's figures checked by hand."""

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
from tests.factories_matching import at, north, site, technician, territory

Client = AsyncTestClient[Litestar]


async def call(client: Client, auth: Auth, method: str, url: str, body: Any = None, expect: int = 200) -> Any:
    response = await client.request(method, url, json=body, headers=auth.headers)
    assert response.status_code == expect, (url, response.text)
    return response.json()


async def test_a_day_of_three_visits_and_the_figures_a_manager_reads(
    app: Litestar, client: Client, conn: Connection, dispatcher: Auth
) -> None:
    clock = {"now": at(7)}
    app.state.clock = lambda: clock["now"]
    metro = await territory(conn)
    # Ann starts and ends at home (the base); Bob 10 km north. Shifts 8:00-16:30: 17 h in all.
    ann = await technician(conn, metro, "Ann Springs", north(0))
    bob = await technician(conn, metro, "Bob Doors", north(10))
    sites = {name: await site(conn, metro, north(km)) for name, km in (("a", 1), ("b", 2), ("c", 9))}
    booked: dict[str, UUID] = {}
    for name, (start, end) in (("a", (8, 10)), ("b", (10, 11)), ("c", (8, 12))):
        body = {
            "site_id": str(sites[name]),
            "problem_code": "noisy_door",
            "duration_s": 3600,
            "required_skills": {"garage_door": 2},
            "window_start_at": at(start).isoformat(),
            "window_end_at": at(end).isoformat(),
        }
        booked[name] = UUID((await call(client, dispatcher, "POST", "/jobs", body, 201))["id"])
    await conn.execute("UPDATE jobs SET created_at = $1", at(6))  # the calls came in at 6:00
    for name in ("a", "b", "c"):
        await call(client, dispatcher, "POST", f"/jobs/{booked[name]}/assignment", {"auto": True})
    owners = {r["id"]: r["technician_id"] for r in await conn.fetch("SELECT id, technician_id FROM jobs")}
    # The two near the base go to Ann, the one by Bob's home to Bob.
    assert (owners[booked["a"]], owners[booked["b"]], owners[booked["c"]]) == (ann, ann, bob)

    ann_app, bob_app = await login_of(conn, ann), await login_of(conn, bob)

    async def visit(
        job: UUID, app_auth: Auth, leave: float, arrive: float, done: float, outcome: dict[str, Any]
    ) -> Any:
        clock["now"] = at(done + 0.1)
        await call(client, dispatcher, "POST", f"/jobs/{job}/status", {"status": "dispatched"})
        await call(
            client,
            app_auth,
            "POST",
            f"/jobs/{job}/status",
            {"status": "en_route", "client_at": at(leave).isoformat()},
        )
        # Driving: the app sends its pings on the way; the last one at the door.
        place = await conn.fetchrow(
            "SELECT s.latitude, s.longitude FROM sites s JOIN jobs j ON j.site_id = s.id WHERE j.id = $1", job
        )
        assert place is not None
        pings = [
            {"recorded_at": at(t).isoformat(), "latitude": place["latitude"], "longitude": place["longitude"]}
            for t in (arrive - 0.05, arrive)
        ]
        sent = await call(client, app_auth, "POST", "/technicians/me/positions", {"pings": pings})
        assert sent["accepted"] == 2
        await call(
            client,
            app_auth,
            "POST",
            f"/jobs/{job}/status",
            {"status": "on_site", "client_at": at(arrive).isoformat()},
        )
        return await call(
            client, app_auth, "POST", f"/jobs/{job}/status", {**outcome, "client_at": at(done).isoformat()}
        )

    # a: on time (8:15 in 8-10), an hour's work. b: late (11:30 after 10-11), half an hour, and a
    # cable was missing. c: on time (9:00 in 8-12), an hour and a half.
    await visit(booked["a"], ann_app, 8.0, 8.25, 9.25, {"status": "completed"})
    missing = {"status": "incomplete", "reason": "cable missing"}
    follow = await visit(booked["b"], ann_app, 11.0, 11.5, 12.0, missing)
    await visit(booked["c"], bob_app, 8.5, 9.0, 10.5, {"status": "completed"})
    assert follow["follow_up_job_id"] is not None
    latest = await conn.fetch("SELECT technician_id, recorded_at FROM technician_latest_positions ORDER BY 1")
    assert {r["technician_id"]: r["recorded_at"] for r in latest} == {ann: at(11.5), bob: at(9.0)}
    await call(client, dispatcher, "POST", f"/jobs/{booked['a']}/rating", {"stars": 5})
    await call(client, dispatcher, "POST", f"/jobs/{booked['c']}/rating", {"stars": 4})

    clock["now"] = at(20)
    period = {"territory_id": str(metro), "from": at(0).isoformat(), "to": at(24).isoformat()}
    response = await client.get("/metrics/service", params=period, headers=dispatcher.headers)
    assert response.status_code == 200, response.text
    figures = response.json()
    assert figures["visits_closed"] == 3
    assert figures["first_time_fix_rate"] == pytest.approx(2 / 3, abs=1e-4)  # b came back
    assert figures["repeat_visits_per_asset"] is None  # these doors had no asset on record
    assert figures["arrivals"] == 3
    assert figures["on_time_arrival_rate"] == pytest.approx(2 / 3, abs=1e-4)  # b arrived 11:30
    # Against the ETA each customer was last told (the pings on arrival may have updated it).
    told = {
        r["id"]: r["t"] for r in await conn.fetch("SELECT id, coalesce(eta_told_at, eta_at) AS t FROM jobs")
    }
    errors = sorted(
        abs((arrived - told[booked[n]]).total_seconds()) / 60
        for n, arrived in (("a", at(8.25)), ("b", at(11.5)), ("c", at(9.0)))
    )
    assert figures["eta_error_mean_min"] == pytest.approx(sum(errors) / 3, abs=0.01)
    assert figures["request_to_arrival_median_h"] == 3.0  # 8:15, 9:00, 11:30 after 6:00: median 3 h
    assert figures["customer_contacts_avoided"] == 2  # a and c: told on the way, arrived, done
    assert figures["customer_contacts_avoided_rate"] == 1.0
    assert figures["utilisation"] == pytest.approx(3.0 / 17.0, abs=1e-4)  # 1 + 0.5 + 1.5 h on site
    # Ann: home -> 1 km -> 2 km -> home = 4 km; Bob: 10 km -> 9 km -> 10 km = 2 km; x 1.3 / 3 jobs.
    assert figures["travel_per_job_km"] == pytest.approx(6 * 1.3 / 3, rel=0.01)
    assert (figures["rating_mean"], figures["ratings"]) == (4.5, 2)
    assert isinstance(datetime.fromisoformat(figures["period_start"]), datetime)
