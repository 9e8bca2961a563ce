from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from litestar import Litestar
from litestar.testing import AsyncTestClient

from infra.db import Connection
from tests.conftest import Auth
from tests.factories_assets import (
    MISSING,
    asset_body,
    count_rows,
    event_body,
    insert_asset,
    insert_customer,
    insert_occupancy,
    insert_part,
    insert_site,
    insert_technician,
    technician_user,
)

Client = AsyncTestClient[Litestar]


async def test_a_dispatcher_records_an_asset_and_reads_it_back(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    site_id = await insert_site(conn)
    created = await client.post("/assets", json=asset_body(site_id), headers=dispatcher.headers)
    assert created.status_code == 201, created.text
    fetched = await client.get(f"/assets/{created.json()['id']}", headers=dispatcher.headers)
    body = fetched.json()
    assert body == created.json()
    assert body["attributes"] == {"spring_size": "218", "width_in": 96, "insulated": True}
    assert (body["installed_at"], body["warranty_until"]) == ("2019-04-02T14:00:00Z", "2029-04-02")


async def test_an_unknown_asset_kind_is_422_naming_kind_and_listing_the_valid_ones(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    site_id = await insert_site(conn)
    response = await client.post(
        "/assets", json=asset_body(site_id, kind="spaceship"), headers=dispatcher.headers
    )
    assert response.status_code == 422
    assert response.json()["extra"][0]["key"] == "kind"
    assert "garage_door, garage_door_opener, hvac_unit" in response.json()["detail"]
    assert await count_rows(conn, "assets") == 0


async def test_a_nested_attribute_is_422_naming_its_key_and_writes_nothing(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    site_id = await insert_site(conn)
    for value in ({"inner": 1}, [218], None):
        body = asset_body(site_id, attributes={"spring_size": "218", "springs": value})
        response = await client.post("/assets", json=body, headers=dispatcher.headers)
        assert response.status_code == 422, (value, response.text)
        assert response.json()["extra"][0]["key"] == "attributes.springs"
    assert await count_rows(conn, "assets") == 0


async def test_an_attribute_key_that_is_not_an_identifier_is_422_naming_it(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    site_id = await insert_site(conn)
    body = asset_body(site_id, attributes={"Spring Size": "218"})
    response = await client.post("/assets", json=body, headers=dispatcher.headers)
    assert response.status_code == 422
    assert response.json()["extra"][0]["key"] == "attributes.Spring Size"
    assert await count_rows(conn, "assets") == 0


async def test_an_asset_at_an_unknown_site_is_422_naming_site_id(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    response = await client.post("/assets", json=asset_body(UUID(MISSING)), headers=dispatcher.headers)
    assert response.status_code == 422
    assert response.json()["extra"][0]["key"] == "site_id"
    assert await count_rows(conn, "assets") == 0


BAD_ASSET_BODIES: list[tuple[dict[str, Any], str]] = [
    ({"kind": "Garage Door"}, "kind"),
    ({"kind": 3}, "kind"),
    ({"make": "x" * 101}, "make"),
    ({"serial": ""}, "serial"),
    ({"installed_at": "2019-04-02T09:00:00"}, "installed_at"),
    ({"installed_at": "April 2019"}, "installed_at"),
    ({"warranty_until": "2029-13-01"}, "warranty_until"),
    ({"attributes": [1, 2]}, "attributes"),
    ({"attributes": {f"k{i}": i for i in range(51)}}, "attributes"),
    ({"site_id": "here"}, "site_id"),
    ({"colour": "white"}, "colour"),
]


async def test_bad_asset_bodies_are_400_naming_the_field_and_write_nothing(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    site_id = await insert_site(conn)
    for overrides, field in BAD_ASSET_BODIES:
        body = asset_body(site_id) | overrides
        response = await client.post("/assets", json=body, headers=dispatcher.headers)
        assert response.status_code == 400, (overrides, response.text)
        assert response.json()["extra"][0]["key"] == field, (overrides, response.json())
    missing_kind = {k: v for k, v in asset_body(site_id).items() if k != "kind"}
    response = await client.post("/assets", json=missing_kind, headers=dispatcher.headers)
    assert (response.status_code, response.json()["extra"][0]["key"]) == (400, "kind")
    assert await count_rows(conn, "assets") == 0


async def test_patching_an_asset_changes_only_what_was_sent_and_replaces_attributes(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    asset_id = await insert_asset(
        conn, await insert_site(conn), attributes={"spring_size": "218", "width_in": 96}
    )
    response = await client.patch(
        f"/assets/{asset_id}",
        json={"serial": "NEW-1", "attributes": {"spring_size": "225"}},
        headers=dispatcher.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["make"], body["serial"], body["attributes"]) == ("Clopay", "NEW-1", {"spring_size": "225"})


async def test_an_asset_cannot_be_removed_before_it_was_installed(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    asset_id = await insert_asset(conn, await insert_site(conn))
    await conn.execute("UPDATE assets SET installed_at = '2020-01-01T00:00:00Z' WHERE id = $1", asset_id)
    response = await client.patch(
        f"/assets/{asset_id}", json={"removed_at": "2019-12-31T00:00:00Z"}, headers=dispatcher.headers
    )
    assert response.status_code == 422
    assert response.json()["extra"][0]["key"] == "removed_at"
    assert await conn.fetchval("SELECT removed_at FROM assets WHERE id = $1", asset_id) is None


async def test_bad_asset_patches_change_nothing(client: Client, dispatcher: Auth, conn: Connection) -> None:
    asset_id = await insert_asset(conn, await insert_site(conn))
    before = await conn.fetchrow("SELECT * FROM assets WHERE id = $1", asset_id)
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"kind": "spaceship"}, 422, "kind"),
        ({"attributes": {"spring_size": {"mm": 5}}}, 422, "attributes.spring_size"),
        ({"make": None}, 400, "make"),
        ({"site_id": MISSING}, 400, "site_id"),
    ]
    for body, status, field in cases:
        response = await client.patch(f"/assets/{asset_id}", json=body, headers=dispatcher.headers)
        assert response.status_code == status, (body, response.text)
        assert response.json()["extra"][0]["key"] == field, (body, response.json())
    assert await conn.fetchrow("SELECT * FROM assets WHERE id = $1", asset_id) == before


async def test_a_site_lists_its_assets_with_removed_ones_last(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    site_id = await insert_site(conn)
    removed = await insert_asset(conn, site_id, kind="appliance")
    await conn.execute("UPDATE assets SET removed_at = now() WHERE id = $1", removed)
    door = await insert_asset(conn, site_id, kind="garage_door")
    await insert_asset(conn, await insert_site(conn, address_line="99 Other Rd"))
    response = await client.get(f"/sites/{site_id}/assets", headers=dispatcher.headers)
    assert [a["id"] for a in response.json()["items"]] == [str(door), str(removed)]


async def test_a_repair_is_recorded_with_the_parts_it_used(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    asset_id = await insert_asset(conn, await insert_site(conn))
    spring = await insert_part(conn, sku="SPR-218", name="Torsion spring 218", sold_in_multiples_of=2)
    cable = await insert_part(conn, sku="CBL-8", name="Lift cable 8 ft")
    technician_id = await insert_technician(conn)
    body = event_body(
        technician_id=str(technician_id),
        parts=[{"part_id": str(spring), "quantity": 2}, {"part_id": str(cable), "quantity": 1}],
    )
    response = await client.post(f"/assets/{asset_id}/events", json=body, headers=dispatcher.headers)
    assert response.status_code == 201, response.text
    event = response.json()
    assert (event["kind"], event["technician_id"], event["occurred_at"]) == (
        "repair",
        str(technician_id),
        "2024-01-15T14:30:00Z",
    )
    assert [(p["sku"], p["name"], p["quantity"]) for p in event["parts"]] == [
        ("CBL-8", "Lift cable 8 ft", 1),
        ("SPR-218", "Torsion spring 218", 2),
    ]
    assert await count_rows(conn, "asset_event_parts") == 2


async def test_an_unknown_part_is_422_naming_its_place_in_the_list_and_writes_nothing(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    asset_id = await insert_asset(conn, await insert_site(conn))
    spring = await insert_part(conn)
    body = event_body(parts=[{"part_id": str(spring), "quantity": 1}, {"part_id": MISSING, "quantity": 1}])
    response = await client.post(f"/assets/{asset_id}/events", json=body, headers=dispatcher.headers)
    assert response.status_code == 422
    assert response.json()["extra"][0]["key"] == "parts[1].part_id"
    assert (await count_rows(conn, "asset_events"), await count_rows(conn, "asset_event_parts")) == (0, 0)


async def test_a_part_listed_twice_is_422_naming_the_second_listing(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    asset_id = await insert_asset(conn, await insert_site(conn))
    spring = str(await insert_part(conn))
    body = event_body(parts=[{"part_id": spring, "quantity": 1}, {"part_id": spring, "quantity": 1}])
    response = await client.post(f"/assets/{asset_id}/events", json=body, headers=dispatcher.headers)
    assert response.status_code == 422
    assert response.json()["extra"][0]["key"] == "parts[1].part_id"
    assert await count_rows(conn, "asset_events") == 0


async def test_a_part_sold_in_pairs_cannot_be_used_singly(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    asset_id = await insert_asset(conn, await insert_site(conn))
    spring = await insert_part(conn, sold_in_multiples_of=2)
    body = event_body(parts=[{"part_id": str(spring), "quantity": 1}])
    response = await client.post(f"/assets/{asset_id}/events", json=body, headers=dispatcher.headers)
    assert response.status_code == 422
    assert response.json()["extra"][0]["key"] == "parts[0].quantity"
    assert await count_rows(conn, "asset_events") == 0


async def test_an_unknown_technician_is_422_naming_technician_id_and_writes_nothing(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    asset_id = await insert_asset(conn, await insert_site(conn))
    spring = await insert_part(conn)
    body = event_body(technician_id=MISSING, parts=[{"part_id": str(spring), "quantity": 1}])
    response = await client.post(f"/assets/{asset_id}/events", json=body, headers=dispatcher.headers)
    assert response.status_code == 422
    assert response.json()["extra"][0]["key"] == "technician_id"
    assert (await count_rows(conn, "asset_events"), await count_rows(conn, "asset_event_parts")) == (0, 0)


BAD_EVENT_BODIES: list[tuple[dict[str, Any], str]] = [
    ({"kind": "vandalism"}, "kind"),
    ({"occurred_at": "2024-01-15T08:30:00"}, "occurred_at"),
    ({"summary": "x" * 2001}, "summary"),
    ({"problem_code": "Broken Spring"}, "problem_code"),
    ({"parts": [{"part_id": MISSING, "quantity": 0}]}, "parts[0].quantity"),
    ({"parts": [{"part_id": MISSING, "quantity": 101}]}, "parts[0].quantity"),
    ({"parts": [{"part_id": MISSING}]}, "parts[0].quantity"),
    ({"parts": [{"part_id": MISSING, "quantity": 1, "bin": "A"}]}, "parts[0].bin"),
    ({"parts": {"part_id": MISSING}}, "parts"),
    ({"job_id": 12}, "job_id"),
    ({"customer_name": "Previous Owner"}, "customer_name"),
]


async def test_bad_event_bodies_are_400_naming_the_field_and_write_nothing(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    asset_id = await insert_asset(conn, await insert_site(conn))
    for overrides, field in BAD_EVENT_BODIES:
        response = await client.post(
            f"/assets/{asset_id}/events", json=event_body(**overrides), headers=dispatcher.headers
        )
        assert response.status_code == 400, (overrides, response.text)
        assert response.json()["extra"][0]["key"] == field, (overrides, response.json())
    assert await count_rows(conn, "asset_events") == 0


async def record(client: Client, auth: Auth, asset_id: UUID, occurred_at: str, **overrides: Any) -> None:
    body = event_body(occurred_at=occurred_at, **overrides)
    response = await client.post(f"/assets/{asset_id}/events", json=body, headers=auth.headers)
    assert response.status_code == 201, response.text


async def test_asset_history_is_newest_first_with_each_events_parts(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    asset_id = await insert_asset(conn, await insert_site(conn))
    spring = str(await insert_part(conn))
    await record(client, dispatcher, asset_id, "2019-04-02T09:00:00Z", kind="install")
    await record(
        client, dispatcher, asset_id, "2024-01-15T09:00:00Z", parts=[{"part_id": spring, "quantity": 2}]
    )
    await record(client, dispatcher, asset_id, "2021-07-01T09:00:00Z", kind="maintenance")
    response = await client.get(f"/assets/{asset_id}/history", headers=dispatcher.headers)
    items = response.json()["items"]
    assert [(e["kind"], len(e["parts"])) for e in items] == [
        ("repair", 1),
        ("maintenance", 0),
        ("install", 0),
    ]
    assert items[0]["parts"][0] | {"part_id": None} == {
        "part_id": None,
        "sku": "SPR-218",
        "name": "Torsion spring 218",
        "quantity": 2,
    }


async def test_asset_history_pages(client: Client, dispatcher: Auth, conn: Connection) -> None:
    asset_id = await insert_asset(conn, await insert_site(conn))
    for year in (2020, 2021, 2022):
        await record(client, dispatcher, asset_id, f"{year}-01-01T00:00:00Z")
    second = (
        await client.get(f"/assets/{asset_id}/history?limit=2&offset=2", headers=dispatcher.headers)
    ).json()
    assert [e["occurred_at"] for e in second["items"]] == ["2020-01-01T00:00:00Z"]
    assert second["next_offset"] is None


async def test_site_history_gathers_every_asset_there_and_survives_a_move_in(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    site_id = await insert_site(conn)
    door = await insert_asset(conn, site_id)
    furnace = await insert_asset(conn, site_id, kind="hvac_unit", make="Carrier", model="59SC5")
    elsewhere = await insert_asset(conn, await insert_site(conn, address_line="99 Other Rd"))
    await insert_occupancy(
        conn, site_id, await insert_customer(conn), started_at=datetime(2018, 1, 1, tzinfo=UTC)
    )
    await record(client, dispatcher, door, "2020-01-01T00:00:00Z")
    await record(client, dispatcher, furnace, "2022-01-01T00:00:00Z", kind="maintenance")
    await record(client, dispatcher, elsewhere, "2023-01-01T00:00:00Z")
    new = await insert_customer(conn, name="Nora New")
    moved = await client.post(
        f"/sites/{site_id}/occupancies",
        json={"customer_id": str(new), "started_at": "2024-01-01T00:00:00Z"},
        headers=dispatcher.headers,
    )
    assert moved.status_code == 201
    response = await client.get(f"/sites/{site_id}/history", headers=dispatcher.headers)
    assert [(e["asset_id"], e["kind"]) for e in response.json()["items"]] == [
        (str(furnace), "maintenance"),
        (str(door), "repair"),
    ]


async def test_history_never_names_an_occupant(client: Client, dispatcher: Auth, conn: Connection) -> None:
    site_id = await insert_site(conn)
    asset_id = await insert_asset(conn, site_id)
    owner = await insert_customer(conn, name="Previous Owner")
    await insert_occupancy(conn, site_id, owner, started_at=datetime(2018, 1, 1, tzinfo=UTC))
    await record(client, dispatcher, asset_id, "2020-01-01T00:00:00Z")
    for path in (f"/assets/{asset_id}/history", f"/sites/{site_id}/history"):
        text = (await client.get(path, headers=dispatcher.headers)).text
        assert "Previous Owner" not in text
        assert str(owner) not in text


async def test_every_asset_path_answers_404_for_an_unknown_asset(client: Client, dispatcher: Auth) -> None:
    requests = [
        client.get(f"/assets/{MISSING}", headers=dispatcher.headers),
        client.patch(f"/assets/{MISSING}", json={"make": "X"}, headers=dispatcher.headers),
        client.post(f"/assets/{MISSING}/events", json=event_body(), headers=dispatcher.headers),
        client.get(f"/assets/{MISSING}/history", headers=dispatcher.headers),
        client.get(f"/assets/{MISSING}/fitting-parts", headers=dispatcher.headers),
    ]
    for request in requests:
        response = await request
        assert response.status_code == 404, (response.request.method, response.request.url)


async def test_assets_need_a_token(client: Client, conn: Connection) -> None:
    asset_id = await insert_asset(conn, await insert_site(conn))
    assert (await client.get(f"/assets/{asset_id}")).status_code == 401
    assert (await client.post(f"/assets/{asset_id}/events", json=event_body())).status_code == 401
    assert await count_rows(conn, "asset_events") == 0


async def test_a_technician_can_neither_read_nor_write_assets_directly(
    client: Client, conn: Connection
) -> None:
    technician = await technician_user(conn)
    site_id = await insert_site(conn)
    asset_id = await insert_asset(conn, site_id)
    responses = [
        await client.get(f"/assets/{asset_id}", headers=technician.headers),
        await client.post("/assets", json=asset_body(site_id), headers=technician.headers),
        await client.patch(f"/assets/{asset_id}", json={"make": "X"}, headers=technician.headers),
        await client.post(f"/assets/{asset_id}/events", json=event_body(), headers=technician.headers),
        await client.get(f"/assets/{asset_id}/history", headers=technician.headers),
    ]
    assert [r.status_code for r in responses] == [403] * 5
    assert (await count_rows(conn, "assets"), await count_rows(conn, "asset_events")) == (1, 0)
    assert await conn.fetchval("SELECT make FROM assets") == "Clopay"
