from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from infra.db import Connection
from tests.conftest import Auth
from tests.factories_assets import insert_territory
from tests.factories_dispatch import create_technician, login_of, row_counts

Client = AsyncTestClient[Litestar]


async def test_an_admin_creates_a_territory_with_its_travel_settings(client: Client, admin: Auth) -> None:
    response = await client.post(
        "/territories",
        json={"name": "Minneapolis West", "timezone": "America/Chicago", "speed_kmh": 32.5},
        headers=admin.headers,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["timezone"], body["speed_kmh"], body["circuity_factor"], body["stop_overhead_s"]) == (
        "America/Chicago",
        32.5,
        1.3,
        120,
    )
    fetched = await client.get(f"/territories/{body['id']}", headers=admin.headers)
    assert fetched.json() == body


async def test_territory_rules_are_checked_and_nothing_is_written(
    client: Client, admin: Auth, dispatcher: Auth, conn: Connection
) -> None:
    await insert_territory(conn, name="North")
    before = await row_counts(conn)
    cases = [
        ({"name": "Mars", "timezone": "Mars/Olympus_Mons"}, 422, "timezone"),
        ({"name": "north"}, 409, "name"),
        ({"name": "Fast", "speed_kmh": 0}, 400, "speed_kmh"),
        ({"name": "Loopy", "circuity_factor": 7}, 400, "circuity_factor"),
        ({"name": "Extra", "color": "blue"}, 400, "color"),
        ({"name": ""}, 400, "name"),
    ]
    for body, status, field in cases:
        response = await client.post("/territories", json=body, headers=admin.headers)
        assert response.status_code == status, (body, response.text)
        assert field in response.text
    assert (
        await client.post("/territories", json={"name": "Ok"}, headers=dispatcher.headers)
    ).status_code == 403
    assert await row_counts(conn) == before


async def test_a_territory_is_renamed_and_retimed_by_an_admin_only(
    client: Client, admin: Auth, dispatcher: Auth, conn: Connection
) -> None:
    territory = await insert_territory(conn, name="East")
    await insert_territory(conn, name="West")
    url = f"/territories/{territory}"
    assert (
        await client.patch(url, json={"name": "Still East"}, headers=dispatcher.headers)
    ).status_code == 403
    assert (await client.patch(url, json={"name": "WEST"}, headers=admin.headers)).status_code == 409
    assert (
        await client.patch(url, json={"timezone": "Nowhere/Else"}, headers=admin.headers)
    ).status_code == 422
    changed = await client.patch(url, json={"timezone": "America/Chicago"}, headers=admin.headers)
    assert changed.status_code == 200
    assert (changed.json()["name"], changed.json()["timezone"]) == ("East", "America/Chicago")
    missing = await client.patch(
        "/territories/00000000-0000-0000-0000-000000000000", json={"name": "X"}, headers=admin.headers
    )
    assert missing.status_code == 404
    listed = await client.get("/territories", headers=dispatcher.headers)
    assert [t["name"] for t in listed.json()["items"]] == ["East", "West"]


async def test_everyone_signed_in_reads_the_skill_catalogue_and_technicians_not_territories(
    client: Client, admin: Auth, conn: Connection
) -> None:
    technician = await create_technician(client, admin, await insert_territory(conn))
    tech = await login_of(conn, technician["id"])
    skills = await client.get("/skills", headers=tech.headers)
    assert skills.status_code == 200
    assert {"code": "auto_glass_replace", "name": "Windshield replacement"} in skills.json()
    assert (await client.get("/territories", headers=tech.headers)).status_code == 403
    assert (await client.get("/skills")).status_code == 401
