"""A technician's visit today while its customer follows the tracking link."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.bench.story_walk import (
    KM_NORTH,
    PUSH_ENDPOINT,
    XERXES,
    Company,
    Walk,
    browser_push_subscription,
    equal,
    job_of,
    quarter,
)


async def technician_day(walk: Walk, c: Company, now: datetime) -> None:
    """Today: a noisy door near Gus, booked, assigned, worked while its customer follows."""
    ids = c.ids
    start = quarter(now) + timedelta(hours=1)
    shift = {
        "starts_at": (quarter(now) - timedelta(minutes=30)).isoformat(),
        "ends_at": (quarter(now) + timedelta(hours=6)).isoformat(),
    }
    await walk.call("Gus gets a shift today", f"POST /technicians/{ids['gus']}/shifts", "dispatcher", shift)
    dora = await walk.call(
        "Dora is on record",
        "POST /customers",
        "dispatcher",
        {"name": "Dora Today", "phone": "+1 612 555 0177"},
    )
    place = (XERXES[0] + 4 * KM_NORTH, XERXES[1])
    site = await walk.call(
        "Dora's house is on record",
        "POST /sites",
        "dispatcher",
        {
            "territory_id": ids["metro"],
            "address_line": "3600 Xerxes Ave S",
            "city": "Minneapolis",
            "postal_code": "55410",
            "latitude": place[0],
            "longitude": place[1],
        },
    )
    ids["dora_site"] = site["id"] if site else str(uuid.uuid4())
    await walk.call(
        "Dora lives there",
        f"POST /sites/{ids['dora_site']}/occupancies",
        "dispatcher",
        {"customer_id": dora and dora["id"], "started_at": "2020-01-01T12:00:00-06:00"},
    )
    door = await walk.call(
        "her door is on record",
        "POST /assets",
        "dispatcher",
        {
            "site_id": ids["dora_site"],
            "kind": "garage_door",
            "make": "Wayne Dalton",
            "model": "9100",
            "attributes": {"springs": 2, "spring_size": "218"},
        },
    )
    ids["dora_door"] = door["id"] if door else ""
    booked = await walk.call(
        "Dora's broken cable is booked for today",
        "POST /jobs",
        "dispatcher",
        {
            "site_id": ids["dora_site"],
            "asset_id": ids["dora_door"] or None,
            "problem_code": "broken_cable",
            "duration_s": 3600,
            "required_skills": {"garage_door": 2},
            "window_start_at": start.isoformat(),
            "window_end_at": (start + timedelta(hours=2)).isoformat(),
            "external_id": "CRM-1001",
        },
    )
    job = ids["today_job"] = booked["id"] if booked else str(uuid.uuid4())
    await walk.call(
        "the same CRM order again is 409",
        "POST /jobs",
        "dispatcher",
        {
            "site_id": ids["dora_site"],
            "problem_code": "broken_cable",
            "duration_s": 3600,
            "window_start_at": start.isoformat(),
            "window_end_at": (start + timedelta(hours=2)).isoformat(),
            "external_id": "CRM-1001",
        },
        expect=409,
    )
    await walk.call(
        "the dispatcher assigns it to Gus",
        f"POST /jobs/{job}/assignment",
        "dispatcher",
        {"technician_id": ids["gus"]},
        check=lambda b: equal("technician", ids["gus"], b["job"]["technician_id"]),
    )
    link = await walk.call(
        "a tracking link is made for Dora", f"POST /jobs/{job}/tracking-links", "dispatcher"
    )
    token = c.tracking_token = link["token"] if link else "missing"
    await walk.call(
        "Dora asks to be told (Web Push)",
        f"POST /track/{token}/subscriptions",
        None,
        browser_push_subscription(PUSH_ENDPOINT),
    )
    await walk.call(
        "Gus starts his shift", "POST /technicians/me/shift-reports", "gus", {"kind": "shift_start"}
    )
    await walk.call(
        "Gus reads today's day",
        "GET /technicians/me/day",
        "gus",
        params={"date": start.date().isoformat()},
        check=lambda b: None if job in str(b) else "today's job not on his day",
    )
    await walk.call("Gus reads the job and its door", f"GET /jobs/{job}", "gus")
    await walk.call("Gus cannot list all sites", "GET /sites", "gus", expect=403)

    here = (XERXES[0] + 6 * KM_NORTH, XERXES[1])  # at home, 2 km from Dora
    async with walk.listening(
        "Dora's page follows the job live", f"/track/{token}/events", who=None
    ) as lines:
        async with walk.listening(
            "the dispatcher's board follows live", "/board/stream", who="dispatcher"
        ) as board:
            set_off = {
                "status": "en_route",
                "position": {
                    "recorded_at": datetime.now(UTC).isoformat(),
                    "latitude": here[0],
                    "longitude": here[1],
                    "accuracy_m": 8,
                },
            }
            first = await _report(walk, "Gus sets off, sending where he is", job, set_off)
            again = await _report(walk, "his phone retries the same set-off", job, set_off)
            await walk.check_value("the retry changed nothing", equal("answer", first, again))
            await walk.heard("Dora's page hears he is on the way", lines, "en_route")
            await walk.heard("the board hears it too", board, "en_route")
        await walk.call(
            "Dora sees an ETA and how far he is",
            f"GET /track/{token}",
            None,
            check=lambda b: (
                equal("status", "en_route", b["status"])
                or (None if b["eta_at"] else "no ETA")
                or (None if b["distance_km"] else "no distance")
            ),
        )
        pings = [
            {
                "recorded_at": (datetime.now(UTC) - timedelta(seconds=30 - 10 * i)).isoformat(),
                "latitude": here[0] - (i + 1) * 0.5 * KM_NORTH,
                "longitude": here[1],
                "speed_mps": 12,
            }
            for i in range(3)
        ]
        await walk.call(
            "Gus's phone sends its positions",
            "POST /technicians/me/positions",
            "gus",
            {"pings": pings},
            check=lambda b: equal("accepted", 3, b["accepted"]),
        )
        await walk.call(
            "a ping out of range is 400",
            "POST /technicians/me/positions",
            "gus",
            {"pings": [{**pings[0], "latitude": 95}]},
            expect=400,
        )
        at_door = {"recorded_at": datetime.now(UTC).isoformat(), "latitude": place[0], "longitude": place[1]}
        await _report(walk, "Gus arrives", job, {"status": "on_site", "position": at_door})
        await walk.heard("Dora's page hears he arrived", lines, "on_site")
        await walk.call(
            "Gus notes what he found",
            f"POST /jobs/{job}/notes",
            "gus",
            {"text": "Left cable frayed at the bottom bracket; replaced both."},
            headers={"Idempotency-Key": f"{job}-note"},
        )
        await walk.call(
            "Gus records the parts he used",
            f"POST /jobs/{job}/parts-used",
            "gus",
            {"parts": [{"part_id": ids["CBL-8"], "quantity": 2}]},
            headers={"Idempotency-Key": f"{job}-parts"},
        )
        await _report(walk, "Gus completes the visit", job, {"status": "completed"})
        await walk.heard("Dora's page hears it is done", lines, "completed")
    await walk.call(
        "a set-off reported late, after completing, changes nothing",
        f"POST /jobs/{job}/status",
        "gus",
        {"status": "en_route"},
        check=lambda b: (
            equal("applied", False, b["applied"]) or equal("status", "completed", job_of(b)["status"])
        ),
    )
    await walk.call(
        "the van has two cables fewer",
        f"GET /technicians/{ids['gus']}/stock",
        "gus",
        check=lambda b: equal("cables on the van", 2, _count(b, ids["CBL-8"])),
    )
    await walk.call(
        "the visit is in the door's history",
        f"GET /assets/{ids['dora_door']}/history",
        "dispatcher",
        check=lambda b: equal("events", 1, len(b["items"])),
    )
    await walk.call(
        "the job's trail has every step",
        f"GET /jobs/{job}/events",
        "dispatcher",
        check=lambda b: _has_all([e["to_status"] for e in b["items"]], ["en_route", "on_site", "completed"]),
    )
    await walk.call(
        "Dora's page says done and offers a rating",
        f"GET /track/{token}",
        None,
        check=lambda b: equal("status", "completed", b["status"]) or equal("can_rate", True, b["can_rate"]),
    )
    await walk.call(
        "Dora rates the visit", f"POST /track/{token}/rating", None, {"stars": 5, "comment": "Quick and tidy"}
    )
    await walk.call("Gus ends his shift", "POST /technicians/me/shift-reports", "gus", {"kind": "shift_end"})


async def _report(walk: Walk, name: str, job: str, report: dict[str, Any]) -> Any:
    """Gus's phone reports a step of the visit, with a key of its own so a retry is harmless."""
    status = report["status"]
    return await walk.call(
        name,
        f"POST /jobs/{job}/status",
        "gus",
        report,
        headers={"Idempotency-Key": f"{job}-{status}"},
        check=lambda b: equal("status", status, job_of(b)["status"]),
    )


def _count(stock: Any, part_id: str) -> Any:
    return next((row["quantity"] for row in stock if row["part_id"] == part_id), None)


def _has_all(seen: list[Any], wanted: list[str]) -> str | None:
    missing = [w for w in wanted if w not in seen]
    return f"missing {missing} in {seen}" if missing else None
