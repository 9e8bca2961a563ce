"""The README's two stories, booked and matched: the garage door whose history stayed with the
house, and the windshield whose repair-or-replace choice changes the job."""

from __future__ import annotations

import uuid
from typing import Any

from tests.bench.story_walk import (
    GRAND,
    PUSH_ENDPOINT,
    XERXES,
    Check,
    Company,
    Walk,
    browser_push_subscription,
    equal,
)


async def garage_door(walk: Walk, c: Company) -> None:
    ids = c.ids
    ada = await walk.call(
        "the previous owner is on record",
        "POST /customers",
        "dispatcher",
        {"name": "Ada Previous", "phone": "+1 612 555 0199"},
    )
    site = await walk.call(
        "the house is on record",
        "POST /sites",
        "dispatcher",
        {
            "territory_id": ids["metro"],
            "address_line": "4217 Xerxes Ave S",
            "city": "Minneapolis",
            "postal_code": "55410",
            "latitude": XERXES[0],
            "longitude": XERXES[1],
            "access_notes": "Side door code 4412",
        },
    )
    ids["xerxes"] = site["id"] if site else str(uuid.uuid4())
    await walk.call(
        "Ada lived there from 2015",
        f"POST /sites/{ids['xerxes']}/occupancies",
        "dispatcher",
        {"customer_id": ada and ada["id"], "started_at": "2015-06-01T12:00:00-05:00"},
    )
    door = await walk.call(
        "the door installed in 2017 is on record",
        "POST /assets",
        "dispatcher",
        {
            "site_id": ids["xerxes"],
            "kind": "garage_door",
            "make": "Clopay",
            "model": "Classic Steel 4050",
            "installed_at": "2017-04-12T09:00:00-05:00",
            "warranty_until": "2027-04-01",
            "attributes": {
                "width_ft": 16,
                "height_ft": 7,
                "weight_lb": 170,
                "springs": 2,
                "spring_size": "218",
            },
        },
    )
    ids["door"] = door["id"] if door else str(uuid.uuid4())
    await walk.call(
        "its install is in its history",
        f"POST /assets/{ids['door']}/events",
        "dispatcher",
        {"kind": "install", "occurred_at": "2017-04-12T09:00:00-05:00", "summary": "Installed the door"},
    )
    await walk.call(
        "its 2019 spring replacement is in its history",
        f"POST /assets/{ids['door']}/events",
        "dispatcher",
        {
            "kind": "replace",
            "occurred_at": "2019-11-04T09:45:00-06:00",
            "problem_code": "broken_spring",
            "summary": "Both springs replaced",
            "parts": [{"part_id": ids["SPR-218"], "quantity": 2}],
        },
    )
    ben = await walk.call(
        "Ben, the new owner, is on record",
        "POST /customers",
        "dispatcher",
        {"name": "Ben Newowner", "phone": "+1 612 555 0142"},
    )
    ids["ben"] = ben["id"] if ben else ""
    await walk.call(
        "Ben moves in in 2022",
        f"POST /sites/{ids['xerxes']}/occupancies",
        "dispatcher",
        {"customer_id": ids["ben"], "started_at": "2022-05-01T12:00:00-05:00"},
    )
    await walk.call(
        "the door is found by its make",
        "GET /assets",
        "dispatcher",
        params={"q": "Clopay"},
        check=lambda b: equal("doors found", [ids["door"]], [a["id"] for a in b["items"]]),
    )
    await walk.call("the site's assets are listed", f"GET /sites/{ids['xerxes']}/assets", "dispatcher")
    await walk.call(
        "the door's history reads",
        f"GET /assets/{ids['door']}/history",
        "dispatcher",
        check=lambda b: equal("events", 2, len(b["items"])),
    )
    await walk.call(
        "the parts that fit the door",
        f"GET /assets/{ids['door']}/fitting-parts",
        "dispatcher",
        check=lambda b: None if "SPR-218" in str(b) else "SPR-218 not among them",
    )
    await walk.call(
        "bookable slots for a broken spring",
        "GET /slots",
        "dispatcher",
        params={"site_id": ids["xerxes"], "problem_code": "broken_spring", "days": 3},
    )

    def as_ben_told_it(body: Any) -> str | None:
        job = body["job"]
        return (
            equal("matched_by", "address", body["matched_by"])
            or equal("asset", ids["door"], job["asset_id"])
            or equal("customer", ids["ben"], job["customer_id"])
            or equal("problem", "broken_spring", job["problem_code"])
            or equal("first part", "SPR-218", job["parts"][0]["sku"] if job["parts"] else None)
        )

    intake = await walk.call(
        "Ben calls: an address his way and a symptom",
        "POST /jobs/intake",
        "dispatcher",
        {
            "address": {"line": "4217 Xerxes Avenue South", "postal_code": "55410"},
            "problem_text": "Heard a loud bang and now the garage door won't open",
            **c.window(c.tomorrow, 8, 10),
        },
        check=as_ben_told_it,
    )
    ids["spring_job"] = intake["job"]["id"] if intake else str(uuid.uuid4())
    await walk.call(
        "a naive time at intake is 400",
        "POST /jobs/intake",
        "dispatcher",
        {
            "site_id": ids["xerxes"],
            "problem_code": "broken_spring",
            "window_start_at": "2030-01-01T08:00:00",
            "window_end_at": "2030-01-01T10:00:00",
        },
        expect=400,
    )
    await walk.call(
        "an unknown field at intake is 400",
        "POST /jobs/intake",
        "dispatcher",
        {
            "site_id": ids["xerxes"],
            "problem_code": "broken_spring",
            "colour": "red",
            **c.window(c.tomorrow, 8, 10),
        },
        expect=400,
    )
    await walk.call(
        "the job's parts say why",
        f"GET /jobs/{ids['spring_job']}/parts",
        "dispatcher",
        check=lambda b: None if "2019" in str(b) else "no reason naming the 2019 visit",
    )
    await walk.call(
        "nobody before Ben shows on his job",
        f"GET /jobs/{ids['spring_job']}",
        "dispatcher",
        check=lambda b: "Ada's name shows" if "Ada" in str(b) or "0199" in str(b) else None,
    )
    await walk.call(
        "Gus (with the springs) ranks before Nia (closer, none)",
        f"GET /jobs/{ids['spring_job']}/candidates",
        "dispatcher",
        check=lambda b: equal(
            "ranking", ["Gus Springs", "Nia Nearby"], [x["name"] for x in b["candidates"]][:2]
        ),
    )
    await walk.call(
        "auto-assign gives it to Gus",
        f"POST /jobs/{ids['spring_job']}/assignment",
        "dispatcher",
        {"auto": True},
        check=lambda b: equal("technician", ids["gus"], b["job"]["technician_id"]),
    )
    await walk.call(
        "the assignment is in the job's events",
        f"GET /jobs/{ids['spring_job']}/events",
        "dispatcher",
        check=lambda b: equal("last event", "assigned", b["items"][-1]["kind"]),
    )
    await walk.call(
        "Gus sees the job on his day tomorrow",
        "GET /technicians/me/day",
        "gus",
        params={"date": c.tomorrow.isoformat()},
        check=lambda b: None if ids["spring_job"] in str(b) else "not on his day",
    )
    await walk.call("Nia cannot see Gus's job", f"GET /jobs/{ids['spring_job']}", "nia", expect=404)


async def windshield(walk: Walk, c: Company) -> None:
    ids = c.ids
    cleo = await walk.call(
        "Cleo is on record",
        "POST /customers",
        "dispatcher",
        {"name": "Cleo Driver", "email": "cleo@example.com"},
    )
    site = await walk.call(
        "Cleo's address is on record",
        "POST /sites",
        "dispatcher",
        {
            "territory_id": ids["metro"],
            "address_line": "1580 Grand Ave",
            "city": "Saint Paul",
            "postal_code": "55105",
            "latitude": GRAND[0],
            "longitude": GRAND[1],
        },
    )
    ids["grand"] = site["id"] if site else str(uuid.uuid4())
    await walk.call(
        "Cleo lives there",
        f"POST /sites/{ids['grand']}/occupancies",
        "dispatcher",
        {"customer_id": cleo and cleo["id"], "started_at": "2021-03-01T12:00:00-06:00"},
    )
    car = await walk.call(
        "her Subaru is on record",
        "POST /assets",
        "dispatcher",
        {
            "site_id": ids["grand"],
            "kind": "vehicle_glass",
            "make": "Subaru",
            "model": "Outback",
            "attributes": {"year": 2021, "glass_part": "FW05065", "adas_camera": True},
        },
    )
    ids["car"] = car["id"] if car else ""
    jobs: dict[str, Any] = {}
    for choice, skills, skus in (
        ("repair", {"auto_glass_repair": 1}, ["RES-KIT"]),
        ("replace", {"auto_glass_replace": 2, "adas_calibration": 2}, ["GLS-FW05065", "URE-KIT"]),
    ):
        intake = await walk.call(
            f"a rock chip, the customer picks {choice}",
            "POST /jobs/intake",
            "dispatcher",
            {
                "latitude": GRAND[0] + 0.00002,
                "longitude": GRAND[1] - 0.00003,
                "problem_code": "windshield_chip",
                "choice": choice,
                **c.window(c.tomorrow, 9, 12),
            },
            check=_glass_job(ids["car"], skills, skus),
        )
        jobs[choice] = intake["job"] if intake else None
    repair, replace = jobs["repair"], jobs["replace"]
    await walk.check_value(
        "a replacement takes longer than a repair",
        None if repair and replace and repair["duration_s"] < replace["duration_s"] else "not longer",
    )
    ids["glass_job"] = replace["id"] if replace else str(uuid.uuid4())
    ids["repair_job"] = repair["id"] if repair else str(uuid.uuid4())
    await walk.call(
        "the repair is cancelled: she chose replacement",
        f"POST /jobs/{ids['repair_job']}/cancel",
        "dispatcher",
        {"reason": "customer chose a replacement"},
    )
    await walk.call(
        "the replacement goes to Gina (glass, calibration)",
        f"POST /jobs/{ids['glass_job']}/assignment",
        "dispatcher",
        {"auto": True},
        check=lambda b: equal("technician", ids["gina"], b["job"]["technician_id"]),
    )
    link = await walk.call(
        "a tracking link is made for Cleo", f"POST /jobs/{ids['glass_job']}/tracking-links", "dispatcher"
    )
    token = link["token"] if link else "missing"
    await walk.call("Cleo's page loads", f"GET /t/{token}", None)
    await walk.call(
        "Cleo reads who comes and when",
        f"GET /track/{token}",
        None,
        check=lambda b: (
            equal("status", "scheduled", b["status"]) or (None if b["technician"] else "no technician named")
        ),
    )
    await walk.call(
        "Cleo asks to be told (Web Push)",
        f"POST /track/{token}/subscriptions",
        None,
        browser_push_subscription(PUSH_ENDPOINT),
    )
    await walk.call("Cleo sees other times she could pick", f"GET /track/{token}/slots", None)
    await walk.call(
        "a made-up tracking token is 404", "GET /track/not-a-real-token-0000000000", None, expect=404
    )


def _glass_job(car: str, skills: dict[str, int], skus: list[str]) -> Check:
    def check(body: Any) -> str | None:
        job = body["job"]
        return (
            equal("asset", car, job["asset_id"])
            or equal("skills", skills, job["required_skills"])
            or equal("parts", sorted(skus), sorted(p["sku"] for p in job["parts"]))
        )

    return check
