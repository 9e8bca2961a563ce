from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from assets import sites
from assets.models import CustomerId, SiteId
from infra.db import Connection, connect
from infra.errors import InvalidError
from tests.conftest import Auth
from tests.factories_assets import (
    MISSING,
    count_rows,
    insert_asset,
    insert_customer,
    insert_occupancy,
    insert_site,
    insert_territory,
    site_body,
    technician_user,
)

Client = AsyncTestClient[Litestar]

JAN_2020 = datetime(2020, 1, 1, tzinfo=UTC)


async def test_a_dispatcher_creates_a_site_and_its_normalised_address_key_is_stored(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    created = await client.post("/sites", json=site_body(), headers=dispatcher.headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["address_line"], body["country"], body["occupant"]) == ("12 Oak St.", "US", None)
    stored = await conn.fetchval("SELECT address_key FROM sites WHERE id = $1", body["id"])
    assert stored == body["address_key"] == "12 oak street|springfield|62701"


async def test_a_site_reads_back_as_it_was_created(client: Client, admin: Auth) -> None:
    created = (
        await client.post("/sites", json=site_body(access_notes="Gate 1234"), headers=admin.headers)
    ).json()
    fetched = await client.get(f"/sites/{created['id']}", headers=admin.headers)
    assert fetched.status_code == 200
    assert fetched.json() == created


async def test_changing_the_address_recomputes_the_address_key(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    site_id = await insert_site(conn)
    response = await client.patch(
        f"/sites/{site_id}", json={"address_line": "14 Elm Ave #2"}, headers=dispatcher.headers
    )
    assert response.status_code == 200, response.text
    expected = "14 elm avenue unit 2|springfield|62701"
    assert response.json()["address_key"] == expected
    assert await conn.fetchval("SELECT address_key FROM sites WHERE id = $1", site_id) == expected


async def test_changing_only_the_postcode_recomputes_the_key_from_the_stored_line(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    site_id = await insert_site(conn, address_line="12 Oak St")
    response = await client.patch(
        f"/sites/{site_id}", json={"postal_code": "62702"}, headers=dispatcher.headers
    )
    assert response.json()["address_key"] == "12 oak street|springfield|62702"


async def test_a_site_patch_without_address_fields_keeps_the_key(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    site_id = await insert_site(conn)
    response = await client.patch(
        f"/sites/{site_id}",
        json={"access_notes": "Dog in yard", "territory_id": None},
        headers=dispatcher.headers,
    )
    body = response.json()
    assert (body["access_notes"], body["address_key"]) == ("Dog in yard", "12 oak street|springfield|62701")


async def test_the_site_list_filters_by_territory(client: Client, dispatcher: Auth, conn: Connection) -> None:
    north = await insert_territory(conn, name="North")
    south = await insert_territory(conn, name="South")
    await insert_site(conn, address_line="1 North Rd", territory_id=north)
    await insert_site(conn, address_line="2 South Rd", territory_id=south)
    response = await client.get(f"/sites?territory_id={north}", headers=dispatcher.headers)
    assert [s["address_line"] for s in response.json()["items"]] == ["1 North Rd"]


async def test_the_site_list_finds_an_address_however_it_is_abbreviated(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    await insert_site(conn, address_line="12 Oak Street")
    await insert_site(conn, address_line="40 Elm Avenue")
    response = await client.get("/sites", params={"q": "OAK st."}, headers=dispatcher.headers)
    assert [s["address_line"] for s in response.json()["items"]] == ["12 Oak Street"]


async def test_the_site_list_pages(client: Client, dispatcher: Auth, conn: Connection) -> None:
    for number in (1, 2, 3):
        await insert_site(conn, address_line=f"{number} Oak St")
    first = (await client.get("/sites?limit=2", headers=dispatcher.headers)).json()
    second = (await client.get("/sites?limit=2&offset=2", headers=dispatcher.headers)).json()
    assert [s["address_line"] for s in first["items"] + second["items"]] == [
        "1 Oak St",
        "2 Oak St",
        "3 Oak St",
    ]
    assert (first["next_offset"], second["next_offset"]) == (2, None)


async def test_a_territory_filter_that_is_not_a_uuid_is_400_naming_it(
    client: Client, dispatcher: Auth
) -> None:
    response = await client.get("/sites?territory_id=north", headers=dispatcher.headers)
    assert response.status_code == 400
    assert response.json()["extra"][0]["key"] == "territory_id"


async def test_a_site_shows_its_current_occupant(client: Client, dispatcher: Auth, conn: Connection) -> None:
    site_id = await insert_site(conn)
    old = await insert_customer(conn, name="Previous Owner")
    new = await insert_customer(conn, name="Nora New")
    await insert_occupancy(conn, site_id, old, started_at=JAN_2020, ended_at=datetime(2023, 6, 1, tzinfo=UTC))
    await insert_occupancy(conn, site_id, new, started_at=datetime(2023, 6, 1, tzinfo=UTC))
    occupant = (await client.get(f"/sites/{site_id}", headers=dispatcher.headers)).json()["occupant"]
    assert occupant == {"customer_id": str(new), "name": "Nora New", "since": "2023-06-01T00:00:00Z"}


async def test_a_new_customer_moving_in_ends_the_previous_occupancy_at_the_move_in(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    site_id = await insert_site(conn)
    old = await insert_customer(conn, name="Previous Owner")
    new = await insert_customer(conn, name="Nora New")
    previous = await insert_occupancy(conn, site_id, old, started_at=JAN_2020)
    response = await client.post(
        f"/sites/{site_id}/occupancies",
        json={"customer_id": str(new), "started_at": "2024-03-01T12:00:00+01:00"},
        headers=dispatcher.headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["customer_name"] == "Nora New"
    assert response.json()["ended_at"] is None
    ended_at = await conn.fetchval("SELECT ended_at FROM site_occupancies WHERE id = $1", previous)
    assert ended_at == datetime(2024, 3, 1, 11, tzinfo=UTC)


async def test_a_move_in_leaves_the_site_and_its_assets_as_they_were(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    site_id = await insert_site(conn)
    asset_id = await insert_asset(conn, site_id)
    await insert_occupancy(conn, site_id, await insert_customer(conn), started_at=JAN_2020)
    site_before = await conn.fetchrow("SELECT * FROM sites WHERE id = $1", site_id)
    asset_before = await conn.fetchrow("SELECT * FROM assets WHERE id = $1", asset_id)
    new = await insert_customer(conn, name="Nora New")
    response = await client.post(
        f"/sites/{site_id}/occupancies",
        json={"customer_id": str(new), "started_at": "2024-03-01T00:00:00Z"},
        headers=dispatcher.headers,
    )
    assert response.status_code == 201
    assert await conn.fetchrow("SELECT * FROM sites WHERE id = $1", site_id) == site_before
    assert await conn.fetchrow("SELECT * FROM assets WHERE id = $1", asset_id) == asset_before


async def test_the_first_move_in_of_an_empty_site_opens_its_only_occupancy(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    site_id = await insert_site(conn)
    customer_id = await insert_customer(conn)
    response = await client.post(
        f"/sites/{site_id}/occupancies",
        json={"customer_id": str(customer_id), "started_at": "2024-03-01T00:00:00Z"},
        headers=dispatcher.headers,
    )
    assert response.status_code == 201
    assert await count_rows(conn, "site_occupancies") == 1


async def test_occupancy_history_is_newest_first(client: Client, dispatcher: Auth, conn: Connection) -> None:
    site_id = await insert_site(conn)
    first = await insert_customer(conn, name="First")
    second = await insert_customer(conn, name="Second")
    await insert_occupancy(
        conn, site_id, first, started_at=JAN_2020, ended_at=datetime(2022, 1, 1, tzinfo=UTC)
    )
    await insert_occupancy(conn, site_id, second, started_at=datetime(2022, 1, 1, tzinfo=UTC))
    response = await client.get(f"/sites/{site_id}/occupancies", headers=dispatcher.headers)
    items = response.json()["items"]
    assert [(o["customer_name"], o["ended_at"]) for o in items] == [
        ("Second", None),
        ("First", "2022-01-01T00:00:00Z"),
    ]


async def test_a_move_in_not_after_the_current_one_is_422_naming_started_at_and_changes_nothing(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    site_id = await insert_site(conn)
    await insert_occupancy(conn, site_id, await insert_customer(conn), started_at=JAN_2020)
    new = await insert_customer(conn, name="Nora New")
    response = await client.post(
        f"/sites/{site_id}/occupancies",
        json={"customer_id": str(new), "started_at": "2020-01-01T00:00:00Z"},
        headers=dispatcher.headers,
    )
    assert response.status_code == 422
    assert response.json()["extra"][0]["key"] == "started_at"
    assert await conn.fetchval("SELECT count(*) FROM site_occupancies WHERE ended_at IS NULL") == 1
    assert await count_rows(conn, "site_occupancies") == 1


async def test_a_move_in_before_the_last_move_out_is_422_naming_started_at(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    site_id = await insert_site(conn)
    moved_out = datetime(2022, 1, 1, tzinfo=UTC)
    await insert_occupancy(
        conn, site_id, await insert_customer(conn), started_at=JAN_2020, ended_at=moved_out
    )
    response = await client.post(
        f"/sites/{site_id}/occupancies",
        json={"customer_id": str(await insert_customer(conn)), "started_at": "2021-06-01T00:00:00Z"},
        headers=dispatcher.headers,
    )
    assert response.status_code == 422
    assert response.json()["extra"][0]["key"] == "started_at"


async def test_a_move_in_of_an_unknown_customer_is_422_naming_customer_id_and_ends_nothing(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    site_id = await insert_site(conn)
    await insert_occupancy(conn, site_id, await insert_customer(conn), started_at=JAN_2020)
    response = await client.post(
        f"/sites/{site_id}/occupancies",
        json={"customer_id": MISSING, "started_at": "2024-03-01T00:00:00Z"},
        headers=dispatcher.headers,
    )
    assert response.status_code == 422
    assert response.json()["extra"][0]["key"] == "customer_id"
    assert await conn.fetchval("SELECT count(*) FROM site_occupancies WHERE ended_at IS NULL") == 1


async def test_the_current_occupant_moving_in_again_is_409(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    site_id = await insert_site(conn)
    customer_id = await insert_customer(conn)
    await insert_occupancy(conn, site_id, customer_id, started_at=JAN_2020)
    response = await client.post(
        f"/sites/{site_id}/occupancies",
        json={"customer_id": str(customer_id), "started_at": "2024-03-01T00:00:00Z"},
        headers=dispatcher.headers,
    )
    assert response.status_code == 409
    assert await count_rows(conn, "site_occupancies") == 1


async def test_a_second_move_in_waits_for_the_first_and_then_sees_it(conn: Connection, dsn: str) -> None:
    # Both start at the same instant, so whichever commits second must be refused on started_at.
    # Without the site lock the second would not see the first's occupancy and would crash into
    # the one-current-occupancy index instead.
    site_id = SiteId(await insert_site(conn))
    await insert_occupancy(conn, site_id, await insert_customer(conn), started_at=JAN_2020)
    ann = CustomerId(await insert_customer(conn, name="Ann"))
    bob = CustomerId(await insert_customer(conn, name="Bob"))
    moved_in_at = datetime(2024, 3, 1, tzinfo=UTC)
    first, second = await connect(dsn), await connect(dsn)
    try:
        first_tx = first.transaction()
        await first_tx.start()
        await sites.move_in(first, site_id, ann, moved_in_at)

        async def move_bob_in() -> None:
            async with second.transaction():
                await sites.move_in(second, site_id, bob, moved_in_at)

        waiting = asyncio.create_task(move_bob_in())
        await asyncio.sleep(0.2)
        assert not waiting.done()
        await first_tx.commit()
        with pytest.raises(InvalidError) as refused:
            await waiting
        assert refused.value.field == "started_at"
    finally:
        await first.close()
        await second.close()
    current = await conn.fetchval("SELECT customer_id FROM site_occupancies WHERE ended_at IS NULL")
    assert current == ann


BAD_SITE_BODIES: list[tuple[Any, str]] = [
    ({k: v for k, v in site_body().items() if k != "address_line"}, "address_line"),
    (site_body(address_line=""), "address_line"),
    (site_body(address_line="   "), "address_line"),
    (site_body(address_line="x" * 301), "address_line"),
    (site_body(latitude=91), "latitude"),
    (site_body(longitude="-89.6"), "longitude"),
    (site_body(country="usa"), "country"),
    (site_body(postal_code="1" * 21), "postal_code"),
    (site_body(territory_id="north"), "territory_id"),
    (site_body(floors=2), "floors"),
    ([], "body"),
]


async def test_bad_site_bodies_are_400_naming_the_field_and_write_nothing(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    for body, field in BAD_SITE_BODIES:
        response = await client.post("/sites", json=body, headers=dispatcher.headers)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["extra"][0]["key"] == field, (body, response.json())
    assert await count_rows(conn, "sites") == 0


async def test_bad_site_patches_are_400_naming_the_field_and_change_nothing(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    site_id = await insert_site(conn)
    before = await conn.fetchrow("SELECT * FROM sites WHERE id = $1", site_id)
    for body, field in [({"city": None}, "city"), ({"latitude": -91}, "latitude"), ({"id": MISSING}, "id")]:
        response = await client.patch(f"/sites/{site_id}", json=body, headers=dispatcher.headers)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["extra"][0]["key"] == field, (body, response.json())
    assert await conn.fetchrow("SELECT * FROM sites WHERE id = $1", site_id) == before


async def test_bad_move_in_bodies_are_400_naming_the_field_and_write_nothing(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    site_id = await insert_site(conn)
    customer = str(await insert_customer(conn))
    bodies: list[tuple[Any, str]] = [
        ({"customer_id": customer, "started_at": "2024-03-01T00:00:00"}, "started_at"),
        ({"customer_id": customer, "started_at": "yesterday"}, "started_at"),
        ({"customer_id": customer}, "started_at"),
        ({"customer_id": 7, "started_at": "2024-03-01T00:00:00Z"}, "customer_id"),
        ({"customer_id": customer, "started_at": "2024-03-01T00:00:00Z", "ended_at": None}, "ended_at"),
    ]
    for body, field in bodies:
        response = await client.post(f"/sites/{site_id}/occupancies", json=body, headers=dispatcher.headers)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["extra"][0]["key"] == field, (body, response.json())
    assert await count_rows(conn, "site_occupancies") == 0


async def test_an_unknown_territory_is_422_naming_territory_id_and_writes_nothing(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    response = await client.post("/sites", json=site_body(territory_id=MISSING), headers=dispatcher.headers)
    assert response.status_code == 422
    assert response.json()["extra"][0]["key"] == "territory_id"
    assert await count_rows(conn, "sites") == 0


async def test_a_duplicate_external_id_is_409_naming_it(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    body = site_body(external_id="crm-site-1")
    assert (await client.post("/sites", json=body, headers=dispatcher.headers)).status_code == 201
    again = await client.post("/sites", json=body, headers=dispatcher.headers)
    assert again.status_code == 409
    assert again.json()["extra"][0]["key"] == "external_id"
    assert await count_rows(conn, "sites") == 1


async def test_every_site_path_answers_404_for_an_unknown_site(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    customer = str(await insert_customer(conn))
    requests = [
        client.get(f"/sites/{MISSING}", headers=dispatcher.headers),
        client.patch(f"/sites/{MISSING}", json={"city": "X"}, headers=dispatcher.headers),
        client.post(
            f"/sites/{MISSING}/occupancies",
            json={"customer_id": customer, "started_at": "2024-03-01T00:00:00Z"},
            headers=dispatcher.headers,
        ),
        client.get(f"/sites/{MISSING}/occupancies", headers=dispatcher.headers),
        client.get(f"/sites/{MISSING}/assets", headers=dispatcher.headers),
        client.get(f"/sites/{MISSING}/history", headers=dispatcher.headers),
    ]
    for request in requests:
        response = await request
        assert response.status_code == 404, (response.request.method, response.request.url)
    assert await count_rows(conn, "site_occupancies") == 0


async def test_sites_need_a_token(client: Client, conn: Connection) -> None:
    site_id = await insert_site(conn)
    assert (await client.get("/sites")).status_code == 401
    assert (await client.get(f"/sites/{site_id}")).status_code == 401
    assert (await client.post("/sites", json=site_body())).status_code == 401
    assert await count_rows(conn, "sites") == 1


async def test_a_technician_can_neither_read_nor_write_sites(client: Client, conn: Connection) -> None:
    technician = await technician_user(conn)
    site_id = await insert_site(conn)
    customer = str(await insert_customer(conn))
    assert (await client.get(f"/sites/{site_id}", headers=technician.headers)).status_code == 403
    assert (await client.post("/sites", json=site_body(), headers=technician.headers)).status_code == 403
    patched = await client.patch(f"/sites/{site_id}", json={"city": "X"}, headers=technician.headers)
    moved = await client.post(
        f"/sites/{site_id}/occupancies",
        json={"customer_id": customer, "started_at": "2024-03-01T00:00:00Z"},
        headers=technician.headers,
    )
    assert (patched.status_code, moved.status_code) == (403, 403)
    assert await conn.fetchval("SELECT city FROM sites") == "Springfield"
    assert await count_rows(conn, "sites") == 1
    assert await count_rows(conn, "site_occupancies") == 0
