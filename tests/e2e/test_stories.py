"""The two stories of the product, told through the HTTP API only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import Auth

Client = AsyncTestClient[Litestar]
TOMORROW_MORNING = {
    "window_start_at": "2026-11-25T08:00:00-06:00",
    "window_end_at": "2026-11-25T10:00:00-06:00",
}


async def post(
    client: Client, auth: Auth, url: str, body: dict[str, Any], status: int = 201
) -> dict[str, Any]:
    response = await client.post(url, json=body, headers=auth.headers)
    assert response.status_code == status, (url, response.text)
    result: dict[str, Any] = response.json()
    return result


async def test_the_new_owner_reports_a_broken_spring_and_is_never_asked_about_the_door(
    app: Litestar, client: Client, dispatcher: Auth, admin: Auth
) -> None:
    app.state.clock = lambda: datetime(2026, 11, 24, 12, tzinfo=UTC)  # the day before the visit
    metro = await post(client, admin, "/territories", {"name": "Minneapolis", "timezone": "America/Chicago"})
    # Years ago: the company installs a door for the first owners and later replaces its springs.
    ada = await post(client, dispatcher, "/customers", {"name": "Ada Previous", "phone": "+1 612 555 0199"})
    site = await post(
        client,
        dispatcher,
        "/sites",
        {
            "territory_id": metro["id"],
            "address_line": "4217 Xerxes Ave S",
            "city": "Minneapolis",
            "postal_code": "55410",
            "latitude": 44.9213,
            "longitude": -93.3190,
            "access_notes": "Side door code 4412",
        },
    )
    await post(
        client,
        dispatcher,
        f"/sites/{site['id']}/occupancies",
        {"customer_id": ada["id"], "started_at": "2015-06-01T12:00:00-05:00"},
    )
    spring = await post(
        client,
        dispatcher,
        "/parts",
        {"sku": "SPR-218", "name": "Torsion spring .218", "attributes": {"family": "torsion_spring"}},
    )
    other = await post(
        client,
        dispatcher,
        "/parts",
        {"sku": "SPR-234", "name": "Torsion spring .234", "attributes": {"family": "torsion_spring"}},
    )
    await post(
        client,
        dispatcher,
        f"/parts/{spring['id']}/fitments",
        {"asset_kind": "garage_door", "conditions": {"spring_size": "218", "springs": 2}, "quantity": 2},
    )
    await post(
        client,
        dispatcher,
        f"/parts/{other['id']}/fitments",
        {"asset_kind": "garage_door", "conditions": {"spring_size": "234", "springs": 2}, "quantity": 2},
    )
    door = await post(
        client,
        dispatcher,
        "/assets",
        {
            "site_id": site["id"],
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
    await post(
        client,
        dispatcher,
        f"/assets/{door['id']}/events",
        {"kind": "install", "occurred_at": "2017-04-12T09:00:00-05:00", "summary": "Installed the door"},
    )
    await post(
        client,
        dispatcher,
        f"/assets/{door['id']}/events",
        {
            "kind": "replace",
            "occurred_at": "2019-11-04T09:45:00-06:00",
            "problem_code": "broken_spring",
            "summary": "Both springs replaced",
            "parts": [{"part_id": spring["id"], "quantity": 2}],
        },
    )

    # 2022: Ada sells; Ben moves in. The door stays.
    ben = await post(client, dispatcher, "/customers", {"name": "Ben Newowner", "phone": "+1 612 555 0142"})
    await post(
        client,
        dispatcher,
        f"/sites/{site['id']}/occupancies",
        {"customer_id": ben["id"], "started_at": "2022-05-01T12:00:00-05:00"},
    )

    # Ben calls once: an address typed his way and a symptom. No make, no model, no spring size.
    intake = await post(
        client,
        dispatcher,
        "/jobs/intake",
        {
            "address": {"line": "4217 Xerxes Avenue South", "postal_code": "55410"},
            "problem_text": "Heard a loud bang and now the garage door won't open",
            **TOMORROW_MORNING,
        },
    )

    job = intake["job"]
    assert intake["matched_by"] == "address"
    assert (job["problem_code"], job["asset_id"], job["customer_id"]) == (
        "broken_spring",
        door["id"],
        ben["id"],
    )
    assert job["required_skills"] == {"garage_door_springs": 3}
    assert (job["duration_s"], job["duration_source"]) == (4500, "catalogue")
    top = job["parts"][0]
    assert (top["sku"], top["quantity"], top["source"]) == ("SPR-218", 2, "predicted")
    assert top["reasons"][:2] == [
        "replaced 2 × SPR-218 on this asset in 2019-11",
        "fits this asset (spring_size = 218, springs = 2): 2 × SPR-218",
    ]
    # The springs go on the van, and the reasons say how often that covers the spring.
    assert top["carry"] is True
    assert top["reasons"][2].startswith("to carry: with it the van has the right torsion spring on ")
    assert "SPR-234" not in {p["sku"] for p in job["parts"]}
    assert intake["asset"]["attributes"]["spring_size"] == "218"
    # What Ben's job shows names nobody who lived there before him.
    history = await client.get(f"/sites/{site['id']}/history", headers=dispatcher.headers)
    for text in ((await client.get(f"/jobs/{job['id']}", headers=dispatcher.headers)).text, history.text):
        assert "Ada" not in text
        assert "0199" not in text
    assert [e["summary"] for e in history.json()["items"]] == ["Both springs replaced", "Installed the door"]

    # Dispatch: two spring technicians are on shift tomorrow. Nia lives round the corner but her
    # van has no .218 springs; Gus is 6 km away with a pair on his van. He gets the job.
    technicians = {}
    for name, km_north in (("Nia Nearby", 1), ("Gus Springs", 6)):
        tech = await post(
            client,
            dispatcher,
            "/technicians",
            {
                "name": name,
                "territory_id": metro["id"],
                "home_latitude": 44.9213 + km_north * 0.008993,
                "home_longitude": -93.3190,
                "skills": {"garage_door": 3, "garage_door_springs": 3},
            },
        )
        await post(
            client,
            dispatcher,
            f"/technicians/{tech['id']}/shifts",
            {"starts_at": "2026-11-25T07:30:00-06:00", "ends_at": "2026-11-25T16:00:00-06:00"},
        )
        technicians[name] = tech["id"]
    stocked = await client.put(
        f"/technicians/{technicians['Gus Springs']}/stock/{spring['id']}",
        json={"quantity": 2},
        headers=dispatcher.headers,
    )
    assert stocked.status_code == 200, stocked.text
    ranked = await client.get(f"/jobs/{job['id']}/candidates", headers=dispatcher.headers)
    assert ranked.status_code == 200, ranked.text
    gus, nia = ranked.json()["candidates"]
    assert (gus["name"], nia["name"]) == ("Gus Springs", "Nia Nearby")
    assert gus["parts"]["on_van"] == ["SPR-218"]
    assert "lacks SPR-218" in nia["reason"]
    # 6 km x 1.3 at 35 km/h and 2 min at the door; the shift starts 7:30, the window at 8:00.
    assert gus["reason"] == "15 min away, carries Torsion spring .218, arrives 8:00–8:30"
    assigned = await post(client, dispatcher, f"/jobs/{job['id']}/assignment", {"auto": True}, status=200)
    assert assigned["job"]["technician_id"] == technicians["Gus Springs"]
    assert assigned["job"]["status"] == "scheduled"
    events = await client.get(f"/jobs/{job['id']}/events", headers=dispatcher.headers)
    assert events.json()["items"][-1]["kind"] == "assigned"


async def test_repair_or_replace_changes_skills_parts_and_duration_of_a_windshield_job(
    client: Client, dispatcher: Auth
) -> None:
    cleo = await post(client, dispatcher, "/customers", {"name": "Cleo Driver"})
    site = await post(
        client,
        dispatcher,
        "/sites",
        {
            "address_line": "1580 Grand Ave",
            "city": "Saint Paul",
            "postal_code": "55105",
            "latitude": 44.9399,
            "longitude": -93.1668,
        },
    )
    await post(
        client,
        dispatcher,
        f"/sites/{site['id']}/occupancies",
        {"customer_id": cleo["id"], "started_at": "2021-03-01T12:00:00-06:00"},
    )
    car = await post(
        client,
        dispatcher,
        "/assets",
        {
            "site_id": site["id"],
            "kind": "vehicle_glass",
            "make": "Subaru",
            "model": "Outback",
            "attributes": {"year": 2021, "glass_part": "FW05065", "adas_camera": True},
        },
    )
    for sku, family, make, model in (
        ("RES-KIT", "resin_kit", None, None),
        ("URE-KIT", "urethane_kit", None, None),
        ("GLS-FW05065", "windshield", "Subaru", "Outback"),
    ):
        part = await post(
            client, dispatcher, "/parts", {"sku": sku, "name": sku, "attributes": {"family": family}}
        )
        await post(
            client,
            dispatcher,
            f"/parts/{part['id']}/fitments",
            {"asset_kind": "vehicle_glass", "make": make, "model": model},
        )

    by_choice = {}
    for choice in ("repair", "replace"):
        # The customer's phone shares its location: a few metres from the house is the same site.
        intake = await post(
            client,
            dispatcher,
            "/jobs/intake",
            {
                "latitude": 44.93992,
                "longitude": -93.16683,
                "problem_code": "windshield_chip",
                "choice": choice,
                **TOMORROW_MORNING,
            },
        )
        assert intake["matched_by"].startswith("coordinates")
        assert intake["job"]["asset_id"] == car["id"]
        by_choice[choice] = intake["job"]

    repair, replace = by_choice["repair"], by_choice["replace"]
    assert repair["required_skills"] == {"auto_glass_repair": 1}
    assert replace["required_skills"] == {"auto_glass_replace": 2, "adas_calibration": 2}
    assert [p["sku"] for p in repair["parts"]] == ["RES-KIT"]
    assert sorted(p["sku"] for p in replace["parts"]) == ["GLS-FW05065", "URE-KIT"]
    assert repair["duration_s"] < replace["duration_s"]
    assert (repair["customer_choice"], replace["customer_choice"]) == ("repair", "replace")
