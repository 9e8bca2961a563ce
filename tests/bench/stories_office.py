"""The dispatcher's overrides and day plan, the figures, and the admin's care of logins."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from tests.bench.story_walk import (
    PASSWORD,
    Company,
    Walk,
    current_etag,
    equal,
    job_of,
    local,
)


async def dispatcher_overrides(walk: Walk, c: Company) -> None:
    ids = c.ids
    job = ids["spring_job"]
    await walk.call(
        "the board for tomorrow", "GET /board", "dispatcher", params={"date": c.tomorrow.isoformat()}
    )
    await walk.call("the board for today", "GET /board", "dispatcher")
    await walk.call(
        "jobs tomorrow in Minneapolis",
        "GET /jobs",
        "dispatcher",
        params={"territory_id": ids["metro"], "date": c.tomorrow.isoformat()},
    )
    await walk.call("scheduled jobs", "GET /jobs", "dispatcher", params={"status": "scheduled"})
    await walk.call("Gus's jobs", "GET /jobs", "dispatcher", params={"technician_id": ids["gus"]})
    await walk.call(
        "Ben's jobs",
        "GET /jobs",
        "dispatcher",
        params={"customer_id": ids["ben"]},
        check=lambda b: equal("jobs", [job], [j["id"] for j in b["items"]]),
    )
    await walk.call(
        "a date that does not exist is 400",
        "GET /jobs",
        "dispatcher",
        params={"date": "2026-13-01"},
        expect=400,
    )
    await walk.call("a job that does not exist is 404", f"GET /jobs/{uuid.uuid4()}", "dispatcher", expect=404)
    etag = await current_etag(walk, job)
    reassign, to_nia = (
        f"POST /jobs/{job}/reassign",
        {"technician_id": ids["nia"], "reason": "Gus is needed elsewhere"},
    )
    await walk.call("reassigning without If-Match is 428", reassign, "dispatcher", to_nia, expect=428)
    await walk.call(
        "reassigning with a stale If-Match is 412",
        reassign,
        "dispatcher",
        to_nia,
        headers={"If-Match": '"999"'},
        expect=412,
    )
    await walk.call(
        "the dispatcher reassigns Ben's job to Nia",
        reassign,
        "dispatcher",
        to_nia,
        headers={"If-Match": etag},
        check=lambda b: equal("technician", ids["nia"], job_of(b)["technician_id"]),
    )
    await walk.call("Nia now sees Ben's job", f"GET /jobs/{job}", "nia")
    await walk.call("Gus no longer does", f"GET /jobs/{job}", "gus", expect=404)
    await walk.call(
        "the dispatcher pins it to Gus at 8:15",
        f"POST /jobs/{job}/pin",
        "dispatcher",
        {
            "technician_id": ids["gus"],
            "start_at": local(c.tomorrow, 8.25).isoformat(),
            "reason": "Ben asked for Gus, who did the springs",
        },
        headers={"If-Match": await current_etag(walk, job)},
        check=lambda b: equal("pinned", True, job_of(b)["pinned"]),
    )
    await walk.call(
        "the dispatcher unpins it",
        f"POST /jobs/{job}/unpin",
        "dispatcher",
        {"reason": "Ben is flexible after all"},
        headers={"If-Match": await current_etag(walk, job)},
    )
    await walk.call(
        "the dispatcher moves its window an hour later",
        f"POST /jobs/{job}/window",
        "dispatcher",
        {**c.window(c.tomorrow, 9, 11), "reason": "Ben asked for later"},
        headers={"If-Match": await current_etag(walk, job)},
    )
    await walk.call(
        "the dispatcher raises its priority",
        f"PATCH /jobs/{job}",
        "dispatcher",
        {"priority": 1},
        headers={"If-Match": await current_etag(walk, job)},
        check=lambda b: equal("priority", 1, b["priority"]),
    )
    await walk.call(
        "the dispatcher unassigns it",
        f"POST /jobs/{job}/unassign",
        "dispatcher",
        {"reason": "to plan the day again"},
        headers={"If-Match": await current_etag(walk, job)},
    )
    plan = await walk.call(
        "the dispatcher plans tomorrow",
        "POST /plans",
        "dispatcher",
        {"territory_id": ids["metro"], "date": c.tomorrow.isoformat(), "time_limit_s": 2},
        headers={"Idempotency-Key": f"plan-{c.tomorrow}"},
        expect=202,
    )
    status = "missing"
    for _ in range(60):
        if plan is None:
            break
        answer = await walk.http.get(f"/plans/{plan['id']}", headers=walk.headers("dispatcher"))
        status = (
            answer.json().get("status", "?") if answer.status_code == 200 else f"HTTP {answer.status_code}"
        )
        if status != "solving":
            break
        await asyncio.sleep(0.5)
    await walk.check_value("the plan is solved", equal("plan status", "done", status))
    if plan is not None:
        await walk.call("the dispatcher applies the plan", f"POST /plans/{plan['id']}/apply", "dispatcher")
    await walk.call(
        "Ben's job is assigned again by the plan",
        f"GET /jobs/{job}",
        "dispatcher",
        check=lambda b: None if b["technician_id"] else "unassigned",
    )
    await walk.call(
        "the audit trail names the dispatcher",
        "GET /audit",
        "dispatcher",
        params={"actor": "dana@example.com"},
        check=lambda b: None if len(b["items"]) >= 4 else f"only {len(b['items'])} entries",
    )
    await walk.call(
        "Gus runs late by 20 minutes",
        "POST /technicians/me/running-late",
        "gus",
        {"minutes": 20, "reason": "traffic on 35W"},
        expect=(200, 201, 409),
    )
    await walk.call(
        "Saint Paul's board is not Dana's",
        "GET /board",
        "dispatcher",
        params={"territory_id": ids["east"]},
        expect=422,
        check=lambda b: equal(
            "where", [("territory_id", "query")], [(e["key"], e["source"]) for e in b["extra"]]
        ),
    )


async def figures_and_accounts(walk: Walk, c: Company) -> None:
    ids = c.ids
    period = {
        "territory_id": ids["metro"],
        "from": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
        "to": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
    }
    await walk.call(
        "the service figures count today's visit",
        "GET /metrics/service",
        "dispatcher",
        params=period,
        check=lambda b: equal("visits closed", 1, b["visits_closed"]),
    )
    await walk.call(
        "a naive time in the figures' query is 400",
        "GET /metrics/service",
        "dispatcher",
        params={"from": "2026-11-01T00:00:00"},
        expect=400,
    )
    await walk.call(
        "maintenance due in a year", "GET /maintenance/due", "dispatcher", params={"within_days": 365}
    )
    await walk.call("Prometheus metrics", "GET /metrics", None)
    await walk.call(
        "Gus's day as the dispatcher reads it",
        f"GET /technicians/{ids['gus']}/day",
        "dispatcher",
        params={"date": c.tomorrow.isoformat()},
    )
    await walk.call(
        "logins are listed",
        "GET /users",
        "admin",
        params={"role": "technician"},
        check=lambda b: equal("technician logins", 3, len(b["items"])),
    )
    await walk.call("a dispatcher cannot list logins", "GET /users", "dispatcher", expect=403)
    await walk.call(
        "Nia changes her password",
        "POST /auth/password",
        "nia",
        {"current_password": PASSWORD, "new_password": PASSWORD + "!"},
    )
    await walk.sign_in("nia", "nia@example.com", PASSWORD + "!")
    await walk.call(
        "admin resets Gina's password",
        f"POST /users/{ids['gina_user']}/password",
        "admin",
        {"new_password": "another long password 1"},
    )
    await walk.call("Gina's old session has ended", "GET /technicians/me", "gina", expect=401)
    await walk.sign_in("gina", "gina@example.com", "another long password 1")
    await walk.call("admin deactivates Nia", f"POST /users/{ids['nia_user']}/deactivate", "admin")
    await walk.call("Nia's session has ended", "GET /technicians/me", "nia", expect=401)
    await walk.call(
        "Nia can no longer sign in",
        "POST /auth/login",
        None,
        {"email": "nia@example.com", "password": PASSWORD + "!"},
        expect=401,
    )
    await walk.call("the dispatcher signs out", "POST /auth/logout", "dispatcher")
    await walk.call("the signed-out token is refused", "GET /jobs", "dispatcher", expect=401)
