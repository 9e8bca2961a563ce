"""Input at the edges: oversized and deeply nested bodies, huge batches, unicode in text fields,
coordinates at the poles and across the antimeridian, and times across a daylight-saving change.
Each gets a clear 4xx or a correct answer, never a 500, and a refusal changes nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.app import create_app
from dispatch.access.accounts import Role
from infra.db import Connection
from infra.settings import Settings
from tests.conftest import Auth, make_user
from tests.factories_assets import (
    asset_body,
    insert_asset,
    insert_part,
    insert_site,
    insert_territory,
    part_body,
    row_counts,
    site_body,
)
from tests.factories_dispatch import create_technician, login_of, shift_body

Client = AsyncTestClient[Litestar]


async def test_a_body_over_the_limit_is_413_and_stores_nothing(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    response = await client.post("/customers", json={"name": "x" * 2_000_000}, headers=dispatcher.headers)
    assert response.status_code == 413, response.text
    assert await conn.fetchval("SELECT count(*) FROM customers") == 0


@pytest.mark.parametrize("depth", [100, 10_000])
async def test_deeply_nested_json_is_a_400_naming_the_field(
    client: Client, dispatcher: Auth, depth: int
) -> None:
    nested = "[" * depth + "]" * depth
    body = '{"name": "Ada", "phone": ' + nested + "}"
    response = await client.post(
        "/customers",
        content=body.encode(),
        headers={**dispatcher.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400, response.text
    assert "phone" in response.json()["detail"]


FREE_FORM = ["POST /assets", "PATCH /assets/{asset}", "POST /parts", "PATCH /parts/{part}", "POST /fitments"]


async def _free_form_request(conn: Connection, operation: str, nested: str) -> tuple[str, str, str, str]:
    """(method, path, body, field) for one of the operations taking a free-form object."""
    method, path = operation.split(" ")
    site_id = await insert_site(conn)
    asset_id = await insert_asset(conn, site_id)
    part_id = await insert_part(conn)
    path = path.format(asset=asset_id, part=part_id)
    field = "conditions" if path == "/fitments" else "attributes"
    if path == "/fitments":
        path = f"/parts/{part_id}/fitments"
        base: dict[str, Any] = {"asset_kind": "garage_door", "quantity": 1}
    elif path.startswith("/assets"):
        base = asset_body(site_id) if method == "POST" else {}
    else:
        base = part_body(sku="SPR-999") if method == "POST" else {}
    base.pop(field, None)
    encoded = json.dumps(base)
    body = '{"' + field + '": {"a": ' + nested + "}" + ("," if base else "") + encoded[1:]
    return method, path, body, field


@pytest.mark.parametrize("depth", [1_001, 100_000])
@pytest.mark.parametrize("operation", FREE_FORM)
async def test_deep_nesting_in_a_free_form_object_is_a_400_naming_the_field(
    client: Client, dispatcher: Auth, admin: Auth, conn: Connection, operation: str, depth: int
) -> None:
    # msgspec decodes a free-form value recursively and ran out of stack past ~1,000 levels:
    # a 500. The depth is now checked before anything is decoded.
    method, path, body, field = await _free_form_request(conn, operation, "[" * depth + "]" * depth)
    before = await row_counts(conn)
    response = await client.request(
        method, path, content=body.encode(), headers={**admin.headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert response.json()["extra"][0]["key"] == field
    assert "deeper than 32 levels" in response.json()["detail"]
    assert await row_counts(conn) == before


async def test_the_nesting_limit_is_a_setting(settings: Settings, dsn: str, conn: Connection) -> None:
    method, path, body, _ = await _free_form_request(conn, "POST /assets", "[[[[[1]]]]]")
    staff = await make_user(conn, Role.ADMIN)
    headers = {**staff.headers, "Content-Type": "application/json"}
    for limit, status in ((8, 422), (6, 400)):
        # The body is 7 deep: under a limit of 8 it reaches the domain, whose rule for
        # attributes (flat values only) refuses it; under 6 the depth check does.
        app = create_app(msgspec.structs.replace(settings, json_depth_max=limit), dsn=dsn)
        async with AsyncTestClient(app) as client:
            response = await client.request(method, path, content=body.encode(), headers=headers)
        assert response.status_code == status, response.text


async def test_a_batch_over_a_thousand_pings_is_refused_whole(client: Client, conn: Connection) -> None:
    territory = await insert_territory(conn)
    technician = await _technician(client, conn, territory)
    now = datetime.now(UTC)
    pings = [
        {"recorded_at": (now - timedelta(seconds=i)).isoformat(), "latitude": 44.95, "longitude": -93.25}
        for i in range(1001)
    ]
    response = await client.post(
        "/technicians/me/positions", json={"pings": pings}, headers=technician.headers
    )
    assert response.status_code == 400
    assert "pings" in response.json()["detail"]
    assert await conn.fetchval("SELECT count(*) FROM technician_positions") == 0
    accepted = await client.post(
        "/technicians/me/positions", json={"pings": pings[:1000]}, headers=technician.headers
    )
    assert accepted.status_code == 200, accepted.text


TEXTS = [
    "Zoë Ørsted-Łukasiewicz",
    "山田 太郎",
    "محمد عبد الله",  # right to left
    "👩‍🔧 Dana 🔧",  # a zero-width joiner sequence
    "e\u0301",  # combining accent
    "a" * 200,
]


@pytest.mark.parametrize("text", TEXTS)
async def test_unicode_text_round_trips(client: Client, dispatcher: Auth, text: str) -> None:
    created = await client.post("/customers", json={"name": text}, headers=dispatcher.headers)
    assert created.status_code == 201, created.text
    again = await client.get(f"/customers/{created.json()['id']}", headers=dispatcher.headers)
    assert again.json()["name"] == text


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/customers", {"name": "Null\u0000byte"}),
        ("/sites", site_body(address_line="12 Oak\u0000 St.")),
        ("/parts", {"sku": "NUL-\u0000", "name": "Part", "unit_cost_cents": 100}),
    ],
)
async def test_a_nul_character_is_a_400_and_stores_nothing(
    client: Client, dispatcher: Auth, conn: Connection, path: str, body: dict[str, Any]
) -> None:
    # PostgreSQL text cannot hold U+0000: it must be refused, not fail in the database.
    response = await client.post(path, json=body, headers=dispatcher.headers)
    assert response.status_code == 400, response.text
    assert await conn.fetchval("SELECT count(*) FROM customers") == 0
    assert await conn.fetchval("SELECT count(*) FROM sites") == 0


@pytest.mark.parametrize(
    ("latitude", "longitude"), [(90.0, 0.0), (-90.0, 135.0), (0.0, 180.0), (-33.9, -180.0), (64.8, -179.999)]
)
async def test_sites_at_the_poles_and_the_antimeridian_are_stored_exactly(
    client: Client, dispatcher: Auth, latitude: float, longitude: float
) -> None:
    created = await client.post(
        "/sites", json=site_body(latitude=latitude, longitude=longitude), headers=dispatcher.headers
    )
    assert created.status_code == 201, created.text
    site = (await client.get(f"/sites/{created.json()['id']}", headers=dispatcher.headers)).json()
    assert (site["latitude"], site["longitude"]) == (latitude, longitude)


@pytest.mark.parametrize(("latitude", "longitude"), [(90.0001, 0.0), (0.0, 180.0001), (float("nan"), 0.0)])
async def test_coordinates_off_the_globe_are_a_400(
    client: Client, dispatcher: Auth, latitude: float, longitude: float
) -> None:
    where = f'"latitude": {latitude}, "longitude": {longitude}'
    body = '{"address_line": "1 Main", "city": "X", "postal_code": "1", ' + where + "}"
    response = await client.post(
        "/sites", content=body.encode(), headers={**dispatcher.headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text


async def test_a_drive_across_the_antimeridian_is_not_a_jump(client: Client, conn: Connection) -> None:
    territory = await insert_territory(conn)
    technician = await _technician(client, conn, territory)
    now = datetime.now(UTC)
    pings = [
        {"recorded_at": (now - timedelta(seconds=60)).isoformat(), "latitude": 52.0, "longitude": 179.999},
        {"recorded_at": now.isoformat(), "latitude": 52.0, "longitude": -179.999},
    ]
    response = await client.post(
        "/technicians/me/positions", json={"pings": pings}, headers=technician.headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["flagged"] == [], response.json()
    at_the_pole = await client.post(
        "/technicians/me/positions",
        json={
            "pings": [
                {"recorded_at": (now + timedelta(seconds=1)).isoformat(), "latitude": 90.0, "longitude": 0.0}
            ]
        },
        headers=technician.headers,
    )
    assert at_the_pole.status_code == 200, at_the_pole.text
    assert len(at_the_pole.json()["flagged"]) == 1  # 4,200 km in a second


async def test_a_shift_across_the_fall_back_hour_lasts_its_real_length(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    # America/Chicago falls back at 02:00 on 2026-11-01: 00:00 to 08:00 local is nine hours.
    territory = await insert_territory(conn)
    tech = await create_technician(client, dispatcher, territory)
    body = shift_body(starts_at="2026-11-01T00:00:00-05:00", ends_at="2026-11-01T08:00:00-06:00", breaks=[])
    created = await client.post(f"/technicians/{tech['id']}/shifts", json=body, headers=dispatcher.headers)
    assert created.status_code == 201, created.text
    shift = created.json()
    length = datetime.fromisoformat(shift["ends_at"]) - datetime.fromisoformat(shift["starts_at"])
    assert length == timedelta(hours=9)
    day = await client.get(
        f"/technicians/{tech['id']}/day", params={"date": "2026-11-01"}, headers=dispatcher.headers
    )
    assert day.status_code == 200, day.text
    board = await client.get(
        "/board", params={"territory_id": str(territory), "date": "2026-11-01"}, headers=dispatcher.headers
    )
    assert board.status_code == 200, board.text
    spring = await client.get(
        "/board", params={"territory_id": str(territory), "date": "2026-03-08"}, headers=dispatcher.headers
    )
    assert spring.status_code == 200, spring.text


async def test_a_time_without_an_offset_is_a_400_naming_the_field(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    territory = await insert_territory(conn)
    tech = await create_technician(client, dispatcher, territory)
    body = shift_body(starts_at="2026-11-01T01:30:00", breaks=[])
    response = await client.post(f"/technicians/{tech['id']}/shifts", json=body, headers=dispatcher.headers)
    assert response.status_code == 400
    assert "starts_at" in response.json()["detail"]


async def _technician(client: Client, conn: Connection, territory: Any) -> Auth:

    admin = await make_user(conn, Role.ADMIN)
    tech = await create_technician(client, admin, territory)
    return await login_of(conn, tech["id"])
