from __future__ import annotations

import asyncio

from litestar import Litestar
from litestar.testing import AsyncTestClient

from infra.db import Connection
from tests.conftest import Auth
from tests.factories_assets import MISSING, insert_part, insert_territory
from tests.factories_dispatch import create_technician, login_of, row_counts

Client = AsyncTestClient[Litestar]


async def test_a_van_is_counted_and_its_technician_sees_it(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    technician = await create_technician(client, dispatcher, await insert_territory(conn))
    spring = await insert_part(conn, sku="SPR-218")
    url = f"/technicians/{technician['id']}/stock"

    counted = await client.put(f"{url}/{spring}", json={"quantity": 4}, headers=dispatcher.headers)
    assert counted.status_code == 200, counted.text
    assert [(s["sku"], s["quantity"]) for s in counted.json()] == [("SPR-218", 4)]
    login = await login_of(conn, technician["id"])
    assert (await client.get(url, headers=login.headers)).json() == counted.json()
    assert (
        await client.put(f"{url}/{spring}", json={"quantity": 9}, headers=login.headers)
    ).status_code == 403
    other = await create_technician(client, dispatcher, await insert_territory(conn), name="Other")
    assert (await client.get(f"/technicians/{other['id']}/stock", headers=login.headers)).status_code == 404
    assert (
        await client.put(f"{url}/{MISSING}", json={"quantity": 1}, headers=dispatcher.headers)
    ).status_code == 404
    assert (
        await client.put(f"{url}/{spring}", json={"quantity": -1}, headers=dispatcher.headers)
    ).status_code == 400


async def test_stock_never_goes_below_zero(client: Client, dispatcher: Auth, conn: Connection) -> None:
    technician = await create_technician(client, dispatcher, await insert_territory(conn))
    van = await conn.fetchval("SELECT id FROM stock_locations WHERE technician_id = $1", technician["id"])
    spring = await insert_part(conn, sku="SPR-225")
    url = f"/stock-locations/{van}/adjustments"

    added = await client.post(
        url, json={"part_id": str(spring), "delta": 3, "reason": "restock"}, headers=dispatcher.headers
    )
    assert added.status_code == 200, added.text
    too_many = await client.post(
        url, json={"part_id": str(spring), "delta": -5, "reason": "used"}, headers=dispatcher.headers
    )
    assert too_many.status_code == 409
    assert "only 3 × SPR-225" in too_many.json()["detail"]
    # Two technicians' worth of parts taken at once from three: one succeeds, one is refused.
    taken = await asyncio.gather(
        *(
            client.post(
                url, json={"part_id": str(spring), "delta": -2, "reason": "used"}, headers=dispatcher.headers
            )
            for _ in range(2)
        )
    )
    assert sorted(r.status_code for r in taken) == [200, 409]
    assert await conn.fetchval("SELECT quantity FROM stock_levels WHERE part_id = $1", spring) == 1
    unknown = await client.post(
        url, json={"part_id": MISSING, "delta": 1, "reason": "x"}, headers=dispatcher.headers
    )
    assert unknown.status_code == 422
    assert unknown.json()["extra"][0]["key"] == "part_id"
    assert (
        await client.post(url, json={"part_id": str(spring), "delta": 1}, headers=dispatcher.headers)
    ).status_code == 400


async def test_depots_are_created_listed_and_stocked(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    north, south = await insert_territory(conn), await insert_territory(conn)
    before = await row_counts(conn)
    bad = await client.post(
        "/depots",
        json={"name": "Nowhere", "territory_id": MISSING, "latitude": 44.9, "longitude": -93.2},
        headers=dispatcher.headers,
    )
    assert bad.status_code == 422
    assert await row_counts(conn) == before
    created = await client.post(
        "/depots",
        json={"name": "Midway", "territory_id": str(north), "latitude": 44.956, "longitude": -93.167},
        headers=dispatcher.headers,
    )
    assert created.status_code == 201, created.text
    depot = created.json()
    assert (depot["kind"], depot["technician_id"]) == ("depot", None)
    await client.post(
        "/depots",
        json={"name": "South yard", "territory_id": str(south), "latitude": 44.8, "longitude": -93.2},
        headers=dispatcher.headers,
    )
    listed = await client.get("/depots", params={"territory_id": str(north)}, headers=dispatcher.headers)
    assert [d["name"] for d in listed.json()["items"]] == ["Midway"]
    renamed = await client.patch(
        f"/depots/{depot['id']}", json={"name": "Midway depot"}, headers=dispatcher.headers
    )
    assert renamed.json()["name"] == "Midway depot"
    glass = await insert_part(conn, sku="GLS-FW05065")
    stocked = await client.put(
        f"/stock-locations/{depot['id']}/stock/{glass}", json={"quantity": 2}, headers=dispatcher.headers
    )
    assert [(s["sku"], s["quantity"]) for s in stocked.json()] == [("GLS-FW05065", 2)]
    assert (await client.get(f"/depots/{MISSING}", headers=dispatcher.headers)).status_code == 404


async def test_availability_lists_depots_and_vans_holding_a_part(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    north, south = await insert_territory(conn), await insert_territory(conn)
    spring = await insert_part(conn, sku="SPR-234")
    near = await create_technician(client, dispatcher, north, name="Near Tech")
    far = await create_technician(client, dispatcher, south, name="Far Tech")
    depot = (
        await client.post(
            "/depots",
            json={"name": "North depot", "territory_id": str(north), "latitude": 44.95, "longitude": -93.3},
            headers=dispatcher.headers,
        )
    ).json()
    for owner in (near, far):
        await client.put(
            f"/technicians/{owner['id']}/stock/{spring}", json={"quantity": 2}, headers=dispatcher.headers
        )
    await client.put(
        f"/stock-locations/{depot['id']}/stock/{spring}", json={"quantity": 10}, headers=dispatcher.headers
    )

    everywhere = await client.get(f"/parts/{spring}/availability", headers=dispatcher.headers)
    assert [(h["name"], h["quantity"]) for h in everywhere.json()] == [
        ("North depot", 10),
        ("Van of Far Tech", 2),
        ("Van of Near Tech", 2),
    ]
    north_only = await client.get(
        f"/parts/{spring}/availability", params={"territory_id": str(north)}, headers=dispatcher.headers
    )
    assert [h["name"] for h in north_only.json()] == ["North depot", "Van of Near Tech"]
    await client.patch(f"/technicians/{near['id']}", json={"active": False}, headers=dispatcher.headers)
    north_only = await client.get(
        f"/parts/{spring}/availability", params={"territory_id": str(north)}, headers=dispatcher.headers
    )
    assert [h["name"] for h in north_only.json()] == ["North depot"]
    assert (await client.get(f"/parts/{MISSING}/availability", headers=dispatcher.headers)).status_code == 404
