from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Litestar
from litestar.testing import AsyncTestClient

from infra.db import Connection
from tests.conftest import Auth
from tests.factories_assets import (
    MISSING,
    count_rows,
    insert_asset,
    insert_fitment,
    insert_part,
    insert_site,
    part_body,
    technician_user,
)

Client = AsyncTestClient[Litestar]


async def test_a_dispatcher_adds_a_part_and_updates_it(client: Client, dispatcher: Auth) -> None:
    body = part_body(sold_in_multiples_of=2, attributes={"wire_in": 0.218, "length_in": 32})
    created = await client.post("/parts", json=body, headers=dispatcher.headers)
    assert created.status_code == 201, created.text
    part_id = created.json()["id"]
    updated = await client.patch(
        f"/parts/{part_id}", json={"unit_cost_cents": 5200}, headers=dispatcher.headers
    )
    assert updated.status_code == 200, updated.text
    fetched = (await client.get(f"/parts/{part_id}", headers=dispatcher.headers)).json()
    assert (fetched["sku"], fetched["unit_cost_cents"], fetched["sold_in_multiples_of"]) == (
        "SPR-218",
        5200,
        2,
    )
    assert fetched["attributes"] == {"wire_in": 0.218, "length_in": 32}


async def test_a_duplicate_sku_is_409_naming_sku_and_writes_nothing(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    await insert_part(conn, sku="SPR-218")
    response = await client.post("/parts", json=part_body(sku="SPR-218"), headers=dispatcher.headers)
    assert response.status_code == 409
    assert response.json()["extra"][0]["key"] == "sku"
    assert await count_rows(conn, "parts") == 1


async def test_renaming_a_part_to_a_taken_sku_is_409_and_keeps_its_sku(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    await insert_part(conn, sku="SPR-218")
    cable = await insert_part(conn, sku="CBL-8", name="Lift cable")
    response = await client.patch(f"/parts/{cable}", json={"sku": "SPR-218"}, headers=dispatcher.headers)
    assert response.status_code == 409
    assert response.json()["extra"][0]["key"] == "sku"
    assert await conn.fetchval("SELECT sku FROM parts WHERE id = $1", cable) == "CBL-8"


async def test_the_part_list_searches_sku_and_name_and_pages(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    await insert_part(conn, sku="SPR-218", name="Torsion spring 218")
    await insert_part(conn, sku="SPR-225", name="Torsion spring 225")
    await insert_part(conn, sku="CBL-8", name="Lift cable")
    by_name = (await client.get("/parts?q=SPRING&limit=1", headers=dispatcher.headers)).json()
    assert ([p["sku"] for p in by_name["items"]], by_name["next_offset"]) == (["SPR-218"], 1)
    by_sku = (await client.get("/parts?q=cbl", headers=dispatcher.headers)).json()
    assert [p["sku"] for p in by_sku["items"]] == ["CBL-8"]


async def test_a_technician_reads_the_catalogue(client: Client, conn: Connection) -> None:
    technician = await technician_user(conn)
    part_id = await insert_part(conn)
    listed = await client.get("/parts", headers=technician.headers)
    fetched = await client.get(f"/parts/{part_id}", headers=technician.headers)
    assert (listed.status_code, fetched.status_code) == (200, 200)
    assert fetched.json()["sku"] == "SPR-218"


async def test_a_technician_cannot_change_the_catalogue_or_see_fitments(
    client: Client, conn: Connection
) -> None:
    technician = await technician_user(conn)
    part_id = await insert_part(conn)
    fitment_id = await insert_fitment(conn, part_id)
    asset_id = await insert_asset(conn, await insert_site(conn))
    responses = [
        await client.post("/parts", json=part_body(sku="NEW-1"), headers=technician.headers),
        await client.patch(f"/parts/{part_id}", json={"name": "Renamed"}, headers=technician.headers),
        await client.post(
            f"/parts/{part_id}/fitments", json={"asset_kind": "hvac_unit"}, headers=technician.headers
        ),
        await client.get(f"/parts/{part_id}/fitments", headers=technician.headers),
        await client.delete(f"/fitments/{fitment_id}", headers=technician.headers),
        await client.get(f"/assets/{asset_id}/fitting-parts", headers=technician.headers),
    ]
    assert [r.status_code for r in responses] == [403] * 6
    assert (await count_rows(conn, "parts"), await count_rows(conn, "fitments")) == (1, 1)
    assert await conn.fetchval("SELECT name FROM parts") == "Torsion spring 218"


async def test_the_catalogue_needs_a_token(client: Client, conn: Connection) -> None:
    part_id = await insert_part(conn)
    assert (await client.get("/parts")).status_code == 401
    assert (await client.get(f"/parts/{part_id}")).status_code == 401
    assert (await client.post("/parts", json=part_body(sku="NEW-1"))).status_code == 401
    assert await count_rows(conn, "parts") == 1


BAD_PART_BODIES: list[tuple[Any, str]] = [
    (part_body(sku="has space"), "sku"),
    (part_body(sku=""), "sku"),
    (part_body(name=""), "name"),
    (part_body(unit_cost_cents=-1), "unit_cost_cents"),
    (part_body(unit_cost_cents="45.00"), "unit_cost_cents"),
    (part_body(sold_in_multiples_of=0), "sold_in_multiples_of"),
    (part_body(attributes="heavy"), "attributes"),
    (part_body(stock=4), "stock"),
    ({"sku": "SPR-1"}, "name"),
]


async def test_bad_part_bodies_are_400_naming_the_field_and_write_nothing(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    for body, field in BAD_PART_BODIES:
        response = await client.post("/parts", json=body, headers=dispatcher.headers)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["extra"][0]["key"] == field, (body, response.json())
    nested = await client.post(
        "/parts", json=part_body(attributes={"size": [1, 2]}), headers=dispatcher.headers
    )
    assert (nested.status_code, nested.json()["extra"][0]["key"]) == (422, "attributes.size")
    assert await count_rows(conn, "parts") == 0


async def test_every_part_path_answers_404_for_an_unknown_part(client: Client, dispatcher: Auth) -> None:
    requests = [
        client.get(f"/parts/{MISSING}", headers=dispatcher.headers),
        client.patch(f"/parts/{MISSING}", json={"name": "X"}, headers=dispatcher.headers),
        client.post(
            f"/parts/{MISSING}/fitments", json={"asset_kind": "garage_door"}, headers=dispatcher.headers
        ),
        client.get(f"/parts/{MISSING}/fitments", headers=dispatcher.headers),
        client.delete(f"/fitments/{MISSING}", headers=dispatcher.headers),
    ]
    for request in requests:
        response = await request
        assert response.status_code == 404, (response.request.method, response.request.url)


async def test_a_fitment_is_added_listed_and_deleted(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    part_id = await insert_part(conn, sold_in_multiples_of=2)
    body = {
        "asset_kind": "garage_door",
        "make": "Clopay",
        "conditions": {"spring_size": "218"},
        "quantity": 2,
    }
    created = await client.post(f"/parts/{part_id}/fitments", json=body, headers=dispatcher.headers)
    assert created.status_code == 201, created.text
    listed = (await client.get(f"/parts/{part_id}/fitments", headers=dispatcher.headers)).json()["items"]
    assert listed == [created.json()]
    assert created.json() | {"id": None} == {
        "id": None,
        "part_id": str(part_id),
        "asset_kind": "garage_door",
        "make": "Clopay",
        "model": None,
        "conditions": {"spring_size": "218"},
        "quantity": 2,
    }
    deleted = await client.delete(f"/fitments/{created.json()['id']}", headers=dispatcher.headers)
    assert deleted.status_code == 204
    assert await count_rows(conn, "fitments") == 0


async def test_the_same_fitment_twice_is_409(client: Client, dispatcher: Auth, conn: Connection) -> None:
    part_id = await insert_part(conn)
    body = {"asset_kind": "garage_door", "make": "Clopay", "conditions": {"spring_size": "218"}}
    assert (
        await client.post(f"/parts/{part_id}/fitments", json=body, headers=dispatcher.headers)
    ).status_code == 201
    again = await client.post(f"/parts/{part_id}/fitments", json=body, headers=dispatcher.headers)
    assert again.status_code == 409
    assert await count_rows(conn, "fitments") == 1


BAD_FITMENTS: list[tuple[dict[str, Any], int, str]] = [
    ({"asset_kind": "spaceship"}, 422, "asset_kind"),
    ({"asset_kind": "garage_door", "model": "Classic"}, 422, "make"),
    ({"asset_kind": "garage_door", "conditions": {"spring": {"size": 218}}}, 422, "conditions.spring"),
    ({"asset_kind": "garage_door", "quantity": 3}, 422, "quantity"),
    ({"asset_kind": "garage_door", "quantity": 0}, 400, "quantity"),
    ({"asset_kind": "garage_door", "make": ""}, 400, "make"),
    ({"asset_kind": "Garage"}, 400, "asset_kind"),
    ({"make": "Clopay"}, 400, "asset_kind"),
    ({"asset_kind": "garage_door", "conditions": []}, 400, "conditions"),
    ({"asset_kind": "garage_door", "priority": 1}, 400, "priority"),
]


async def test_bad_fitments_are_refused_naming_the_field_and_write_nothing(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    part_id = await insert_part(conn, sold_in_multiples_of=2)
    for body, status, field in BAD_FITMENTS:
        response = await client.post(f"/parts/{part_id}/fitments", json=body, headers=dispatcher.headers)
        assert response.status_code == status, (body, response.text)
        assert response.json()["extra"][0]["key"] == field, (body, response.json())
    assert await count_rows(conn, "fitments") == 0


async def fitting(client: Client, auth: Auth, asset_id: UUID) -> list[tuple[str, int]]:
    response = await client.get(f"/assets/{asset_id}/fitting-parts", headers=auth.headers)
    assert response.status_code == 200, response.text
    return [(f["part"]["sku"], f["quantity"]) for f in response.json()]


async def test_fitting_parts_match_kind_make_model_and_every_condition(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    door = await insert_asset(
        conn,
        await insert_site(conn),
        make="Clopay",
        model="Classic",
        attributes={"spring_size": "218", "width_in": 96},
    )
    fits: dict[str, dict[str, Any]] = {
        "ANY-DOOR": {},
        "CLOPAY": {"make": "Clopay"},
        "CLASSIC": {"make": "Clopay", "model": "Classic"},
        "SPR-218": {"conditions": {"spring_size": "218"}},
        "WIDE-218": {"conditions": {"spring_size": "218", "width_in": 96}},
    }
    misses: dict[str, dict[str, Any]] = {
        "HVAC": {"asset_kind": "hvac_unit"},
        "AMARR": {"make": "Amarr"},
        "OTHER-MODEL": {"make": "Clopay", "model": "Gallery"},
        "SPR-225": {"conditions": {"spring_size": "225"}},
        "NARROW-218": {"conditions": {"spring_size": "218", "width_in": 108}},
        "TEXT-SIZE": {"conditions": {"spring_size": 218}},
    }
    for sku, fitment in (fits | misses).items():
        await insert_fitment(conn, await insert_part(conn, sku=sku, name=sku), **fitment)
    assert await fitting(client, dispatcher, door) == sorted((sku, 1) for sku in fits)


async def test_a_part_fitting_twice_takes_the_quantity_of_its_most_specific_fitment(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    door = await insert_asset(conn, await insert_site(conn), make="Clopay", model="Classic")
    roller = await insert_part(conn, sku="ROLLER", name="Nylon roller")
    await insert_fitment(conn, roller, quantity=10)
    await insert_fitment(conn, roller, make="Clopay", model="Classic", quantity=14)
    await insert_fitment(conn, roller, make="Clopay", quantity=12)
    assert await fitting(client, dispatcher, door) == [("ROLLER", 14)]
