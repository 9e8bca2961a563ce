from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from infra.db import Connection
from tests.conftest import Auth
from tests.factories_assets import MISSING, insert_customer, insert_territory
from tests.factories_dispatch import create_technician, login_of, row_counts, technician_body

Client = AsyncTestClient[Litestar]


async def test_a_new_technician_has_their_skills_and_a_van(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    territory = await insert_territory(conn)
    technician = await create_technician(client, dispatcher, territory)

    assert technician["skills"] == {"garage_door": 4, "garage_door_springs": 3}
    assert technician["active"] is True
    van = await conn.fetchrow(
        "SELECT kind, name FROM stock_locations WHERE technician_id = $1", technician["id"]
    )
    assert van is not None
    assert tuple(van) == ("van", "Van of Maria Olson")
    fetched = await client.get(f"/technicians/{technician['id']}", headers=dispatcher.headers)
    assert fetched.json() == technician


@pytest.mark.parametrize(
    ("overrides", "status", "field"),
    [
        ({"skills": {"juggling": 2}}, 422, "skills.juggling"),
        ({"territory_id": MISSING}, 422, "territory_id"),
        ({"skills": {"garage_door": 6}}, 400, "skills"),
        ({"home_latitude": 91}, 400, "home_latitude"),
        ({"email": "not an email"}, 400, "email"),
        ({"name": 7}, 400, "name"),
        ({"nickname": "Mo"}, 400, "nickname"),
    ],
)
async def test_bad_technicians_are_refused_naming_the_field(
    client: Client, dispatcher: Auth, conn: Connection, overrides: dict[str, Any], status: int, field: str
) -> None:
    territory = await insert_territory(conn)
    before = await row_counts(conn)
    response = await client.post(
        "/technicians", json=technician_body(territory, **overrides), headers=dispatcher.headers
    )
    assert response.status_code == status, response.text
    assert field in response.text
    assert await row_counts(conn) == before


async def test_a_duplicate_external_id_is_a_conflict(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    territory = await insert_territory(conn)
    await create_technician(client, dispatcher, territory, external_id="T-7")
    again = await client.post(
        "/technicians", json=technician_body(territory, external_id="T-7"), headers=dispatcher.headers
    )
    assert again.status_code == 409


async def test_technicians_are_found_by_territory_skill_level_and_activity(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    north, south = await insert_territory(conn), await insert_territory(conn)
    master = await create_technician(
        client, dispatcher, north, name="Ann Master", skills={"garage_door_springs": 5}
    )
    novice = await create_technician(
        client, dispatcher, north, name="Bo Novice", skills={"garage_door_springs": 1}
    )
    glass = await create_technician(
        client, dispatcher, south, name="Cy Glass", skills={"auto_glass_repair": 3}
    )

    async def names(**params: Any) -> list[str]:
        response = await client.get("/technicians", params=params, headers=dispatcher.headers)
        assert response.status_code == 200, response.text
        return [t["name"] for t in response.json()["items"]]

    assert await names(territory_id=str(north)) == ["Ann Master", "Bo Novice"]
    assert await names(skill="garage_door_springs", min_level=3) == ["Ann Master"]
    assert await names(skill="auto_glass_repair") == ["Cy Glass"]
    await client.patch(f"/technicians/{novice['id']}", json={"active": False}, headers=dispatcher.headers)
    assert await names(active="true") == ["Ann Master", "Cy Glass"]
    assert master["id"] != glass["id"]


async def test_skills_are_replaced_as_a_whole(client: Client, dispatcher: Auth, conn: Connection) -> None:
    technician = await create_technician(client, dispatcher, await insert_territory(conn))
    url = f"/technicians/{technician['id']}"
    changed = await client.patch(url, json={"skills": {"hvac": 2}, "phone": None}, headers=dispatcher.headers)
    assert changed.status_code == 200, changed.text
    assert (changed.json()["skills"], changed.json()["phone"]) == ({"hvac": 2}, None)
    refused = await client.patch(url, json={"skills": {"telepathy": 1}}, headers=dispatcher.headers)
    assert refused.status_code == 422
    assert (await client.get(url, headers=dispatcher.headers)).json()["skills"] == {"hvac": 2}
    missing = await client.patch(
        f"/technicians/{MISSING}", json={"active": False}, headers=dispatcher.headers
    )
    assert missing.status_code == 404


async def test_a_technician_reads_only_their_own_record(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    territory = await insert_territory(conn)
    mine = await create_technician(client, dispatcher, territory)
    other = await create_technician(client, dispatcher, territory, name="Other Tech")
    tech = await login_of(conn, mine["id"])

    me = await client.get("/technicians/me", headers=tech.headers)
    assert me.status_code == 200
    assert me.json()["id"] == mine["id"]
    assert (await client.get(f"/technicians/{mine['id']}", headers=tech.headers)).status_code == 200
    assert (await client.get(f"/technicians/{other['id']}", headers=tech.headers)).status_code == 404
    assert (await client.get("/technicians", headers=tech.headers)).status_code == 403
    assert (
        await client.patch(f"/technicians/{mine['id']}", json={"active": False}, headers=tech.headers)
    ).status_code == 403
    assert (await client.get("/technicians/me", headers=dispatcher.headers)).status_code == 403
    assert (await client.get("/technicians/me")).status_code == 401


async def test_customers_ask_for_or_refuse_a_technician(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    technician = await create_technician(client, dispatcher, await insert_territory(conn))
    customer = await insert_customer(conn)
    url = f"/customers/{customer}/technician-preferences"

    put = await client.put(
        f"{url}/{technician['id']}",
        json={"preference": "excluded", "reason": "Rude last time"},
        headers=dispatcher.headers,
    )
    assert put.status_code == 200, put.text
    assert [(p["technician_name"], p["preference"]) for p in put.json()] == [("Maria Olson", "excluded")]
    again = await client.put(
        f"{url}/{technician['id']}", json={"preference": "preferred"}, headers=dispatcher.headers
    )
    assert [(p["preference"], p["reason"]) for p in again.json()] == [("preferred", "")]
    bad = await client.put(
        f"{url}/{technician['id']}", json={"preference": "maybe"}, headers=dispatcher.headers
    )
    assert bad.status_code == 400
    unknown = await client.put(
        f"{url}/{MISSING}", json={"preference": "preferred"}, headers=dispatcher.headers
    )
    assert unknown.status_code == 404  # a record named in the path
    assert (await client.delete(f"{url}/{technician['id']}", headers=dispatcher.headers)).status_code == 204
    assert (await client.get(url, headers=dispatcher.headers)).json() == []
    assert (await client.delete(f"{url}/{technician['id']}", headers=dispatcher.headers)).status_code == 404
