"""The new user's first steps: signing in, a company set up from nothing (territories, parts, a
depot, technicians with their shifts, vans and logins)."""

from __future__ import annotations

import uuid

from tests.bench.story_walk import (
    GRAND,
    KM_NORTH,
    PASSWORD,
    XERXES,
    Check,
    Company,
    Walk,
    equal,
    local,
)


async def open_up(walk: Walk, email: str, password: str) -> None:
    await walk.call("the API is up", "GET /health", None)
    await walk.call("the database is ready", "GET /ready", None)
    await walk.call("the OpenAPI document is served", "GET /schema/openapi.json", None)
    await walk.call(
        "a wrong password is refused",
        "POST /auth/login",
        None,
        {"email": email, "password": "not it"},
        expect=401,
    )
    await walk.sign_in("admin", email, password)
    await walk.call("without a token the jobs are refused", "GET /jobs", None, expect=401)


async def set_up_the_company(walk: Walk, c: Company) -> None:
    ids = c.ids
    metro = await walk.call(
        "admin creates the Minneapolis territory",
        "POST /territories",
        "admin",
        {"name": "Minneapolis", "timezone": "America/Chicago"},
    )
    east = await walk.call(
        "admin creates the Saint Paul territory",
        "POST /territories",
        "admin",
        {"name": "Saint Paul", "timezone": "America/Chicago"},
    )
    ids["metro"] = metro["id"] if metro else ""
    ids["east"] = east["id"] if east else ""
    await walk.call(
        "admin sets the territory's driving speed",
        f"PATCH /territories/{ids['metro']}",
        "admin",
        {"speed_kmh": 35},
    )
    await walk.call(
        "territories are listed",
        "GET /territories",
        "admin",
        check=lambda b: equal("territories", 2, len(b["items"])),
    )
    await walk.call("the skills are listed", "GET /skills", "admin")
    await walk.call("the problem catalogue is listed", "GET /problems", "admin")
    await walk.call("the broken-spring problem reads", "GET /problems/broken_spring", "admin")
    await walk.call(
        "the push public key answers (404 without VAPID keys)",
        "GET /push/public-key",
        None,
        expect=(200, 404),
    )

    dana = {
        "email": "dana@example.com",
        "password": PASSWORD,
        "role": "dispatcher",
        "territory_id": ids["metro"],
    }
    retry_key = {"Idempotency-Key": "dispatcher-dana"}
    made = await walk.call(
        "admin creates a dispatcher login for Minneapolis", "POST /users", "admin", dana, headers=retry_key
    )
    again = await walk.call(
        "the same create retried gives the same login", "POST /users", "admin", dana, headers=retry_key
    )
    await walk.check_value(
        "the retry made no second login", equal("user id", made and made["id"], again and again["id"])
    )
    await walk.sign_in("dispatcher", "dana@example.com", PASSWORD)
    await walk.call(
        "the dispatcher cannot create a territory",
        "POST /territories",
        "dispatcher",
        {"name": "Elsewhere"},
        expect=403,
    )

    # Parts and where they are.
    for sku, name, family in (
        ("SPR-218", "Torsion spring .218", "torsion_spring"),
        ("SPR-234", "Torsion spring .234", "torsion_spring"),
        ("CBL-8", "Lift cable 8 ft", "lift_cable"),
        ("RES-KIT", "Windshield resin kit", "resin_kit"),
        ("URE-KIT", "Urethane kit", "urethane_kit"),
        ("GLS-FW05065", "Windshield Subaru Outback 2020-", "windshield"),
    ):
        part = await walk.call(
            f"dispatcher adds part {sku}",
            "POST /parts",
            "dispatcher",
            {"sku": sku, "name": name, "attributes": {"family": family}},
        )
        ids[sku] = part["id"] if part else str(uuid.uuid4())
    await walk.call(
        "a duplicate SKU is 409",
        "POST /parts",
        "dispatcher",
        {"sku": "SPR-218", "name": "again", "attributes": {}},
        expect=409,
    )
    for sku, conditions, quantity in (
        ("SPR-218", {"spring_size": "218", "springs": 2}, 2),
        ("SPR-234", {"spring_size": "234", "springs": 2}, 2),
    ):
        await walk.call(
            f"{sku} fits doors with {conditions['spring_size']} springs",
            f"POST /parts/{ids[sku]}/fitments",
            "dispatcher",
            {"asset_kind": "garage_door", "conditions": conditions, "quantity": quantity},
        )
    for sku, make, model in (
        ("RES-KIT", None, None),
        ("URE-KIT", None, None),
        ("GLS-FW05065", "Subaru", "Outback"),
    ):
        await walk.call(
            f"{sku} fits vehicle glass",
            f"POST /parts/{ids[sku]}/fitments",
            "dispatcher",
            {"asset_kind": "vehicle_glass", "make": make, "model": model},
        )
    await walk.call(
        "the spring's fitments are listed",
        f"GET /parts/{ids['SPR-218']}/fitments",
        "dispatcher",
        check=lambda b: equal("fitments", 1, len(b["items"])),
    )
    depot = await walk.call(
        "dispatcher opens the Minneapolis depot",
        "POST /depots",
        "dispatcher",
        {"name": "Minneapolis depot", "territory_id": ids["metro"], "latitude": 44.97, "longitude": -93.27},
    )
    ids["depot_location"] = depot["stock_location_id"] if depot and "stock_location_id" in depot else ""
    if depot:
        ids["depot"] = depot["id"]
    await walk.call("the depot is listed", "GET /depots", "dispatcher")

    # Technicians, their shifts, vans and logins.
    crew = (
        (
            "gus",
            "Gus Springs",
            XERXES[0] + 6 * KM_NORTH,
            XERXES[1],
            {"garage_door": 3, "garage_door_springs": 3},
        ),
        (
            "nia",
            "Nia Nearby",
            XERXES[0] + 1 * KM_NORTH,
            XERXES[1],
            {"garage_door": 3, "garage_door_springs": 3},
        ),
        (
            "gina",
            "Gina Glass",
            GRAND[0] + 3 * KM_NORTH,
            GRAND[1],
            {"auto_glass_repair": 3, "auto_glass_replace": 3, "adas_calibration": 3},
        ),
    )
    for key, name, lat, lon, skills in crew:
        tech = await walk.call(
            f"dispatcher adds technician {name}",
            "POST /technicians",
            "dispatcher",
            {
                "name": name,
                "territory_id": ids["metro"],
                "home_latitude": lat,
                "home_longitude": lon,
                "skills": skills,
                "email": f"{key}@example.com",
            },
        )
        ids[key] = tech["id"] if tech else str(uuid.uuid4())
        await walk.call(
            f"{name} gets tomorrow's shift with a break",
            f"POST /technicians/{ids[key]}/shifts",
            "dispatcher",
            {
                "starts_at": local(c.tomorrow, 7.5).isoformat(),
                "ends_at": local(c.tomorrow, 16).isoformat(),
                "breaks": [
                    {
                        "earliest_start_at": local(c.tomorrow, 11.5).isoformat(),
                        "latest_end_at": local(c.tomorrow, 13.5).isoformat(),
                        "duration_s": 1800,
                    }
                ],
            },
        )
        login = await walk.call(
            f"dispatcher invites {name} to sign in",
            "POST /users",
            "dispatcher",
            {
                "email": f"{key}@example.com",
                "password": PASSWORD,
                "role": "technician",
                "technician_id": ids[key],
            },
            headers={"Idempotency-Key": f"invite-{key}"},
        )
        ids[f"{key}_user"] = login["id"] if login else ""
        await walk.sign_in(key, f"{key}@example.com", PASSWORD)
        await walk.call(
            f"{name} reads who they are",
            "GET /technicians/me",
            key,
            check=_named(name),
        )
    await walk.call(
        "a shift overlapping another is 409",
        f"POST /technicians/{ids['gus']}/shifts",
        "dispatcher",
        {"starts_at": local(c.tomorrow, 8).isoformat(), "ends_at": local(c.tomorrow, 9).isoformat()},
        expect=409,
    )
    await walk.call(
        "technicians are listed",
        "GET /technicians",
        "dispatcher",
        check=lambda b: equal("technicians", 3, len(b["items"])),
    )
    await walk.call(
        "Gus's van is stocked with two .218 springs",
        f"PUT /technicians/{ids['gus']}/stock/{ids['SPR-218']}",
        "dispatcher",
        {"quantity": 2},
    )
    await walk.call(
        "Gus's van carries a lift cable",
        f"PUT /technicians/{ids['gus']}/stock/{ids['CBL-8']}",
        "dispatcher",
        {"quantity": 4},
    )
    await walk.call(
        "Gina's van carries the Outback glass",
        f"PUT /technicians/{ids['gina']}/stock/{ids['GLS-FW05065']}",
        "dispatcher",
        {"quantity": 1},
    )
    await walk.call(
        "Gina's van carries urethane",
        f"PUT /technicians/{ids['gina']}/stock/{ids['URE-KIT']}",
        "dispatcher",
        {"quantity": 3},
    )
    if ids.get("depot_location"):
        await walk.call(
            "the depot holds .234 springs",
            f"PUT /stock-locations/{ids['depot_location']}/stock/{ids['SPR-234']}",
            "dispatcher",
            {"quantity": 6},
        )
    await walk.call("Gus reads his van", f"GET /technicians/{ids['gus']}/stock", "gus")
    await walk.call(
        "Nia cannot read Gus's van", f"GET /technicians/{ids['gus']}/stock", "nia", expect=(403, 404)
    )
    await walk.call(
        "where the .218 spring is",
        f"GET /parts/{ids['SPR-218']}/availability",
        "dispatcher",
        check=lambda b: None if "Gus" in str(b) else "Gus's van not among the holders",
    )


def _named(name: str) -> Check:
    return lambda body: equal("name", name, body["name"])
