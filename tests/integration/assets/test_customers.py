from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from infra.db import Connection
from tests.conftest import Auth

Client = AsyncTestClient[Litestar]


async def test_a_dispatcher_creates_reads_and_updates_a_customer(client: Client, dispatcher: Auth) -> None:
    created = await client.post(
        "/customers", json={"name": "Ada Byron", "email": "ada@example.com"}, headers=dispatcher.headers
    )
    assert created.status_code == 201, created.text
    customer_id = created.json()["id"]

    updated = await client.patch(
        f"/customers/{customer_id}", json={"phone": "+1 555 0100", "email": None}, headers=dispatcher.headers
    )
    assert updated.status_code == 200, updated.text
    body = updated.json()
    assert (body["name"], body["email"], body["phone"]) == ("Ada Byron", None, "+1 555 0100")

    fetched = await client.get(f"/customers/{customer_id}", headers=dispatcher.headers)
    assert fetched.json()["phone"] == "+1 555 0100"


async def test_customer_list_pages_and_searches(client: Client, dispatcher: Auth) -> None:
    for name in ["Alma", "Bert", "Cleo"]:
        await client.post("/customers", json={"name": name}, headers=dispatcher.headers)
    first = (await client.get("/customers?limit=2", headers=dispatcher.headers)).json()
    assert [c["name"] for c in first["items"]] == ["Alma", "Bert"]
    assert first["next_offset"] == 2
    second = (await client.get("/customers?limit=2&offset=2", headers=dispatcher.headers)).json()
    assert [c["name"] for c in second["items"]] == ["Cleo"]
    assert second["next_offset"] is None
    found = (await client.get("/customers?q=ler", headers=dispatcher.headers)).json()
    assert [c["name"] for c in found["items"]] == []
    found = (await client.get("/customers?q=LEO", headers=dispatcher.headers)).json()
    assert [c["name"] for c in found["items"]] == ["Cleo"]


async def test_page_size_is_bounded(client: Client, dispatcher: Auth) -> None:
    response = await client.get("/customers?limit=201", headers=dispatcher.headers)
    assert response.status_code == 400
    assert response.json()["extra"][0]["key"] == "limit"


async def test_an_unknown_customer_is_404(client: Client, dispatcher: Auth) -> None:
    response = await client.get("/customers/00000000-0000-0000-0000-000000000000", headers=dispatcher.headers)
    assert response.status_code == 404


async def test_a_duplicate_external_id_is_409_and_names_the_field(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    body = {"name": "A", "external_id": "crm-1"}
    assert (await client.post("/customers", json=body, headers=dispatcher.headers)).status_code == 201
    again = await client.post("/customers", json=body, headers=dispatcher.headers)
    assert again.status_code == 409
    assert again.json()["extra"][0]["key"] == "external_id"
    assert await conn.fetchval("SELECT count(*) FROM customers") == 1


BAD_BODIES: list[tuple[Any, str]] = [
    ({"name": ""}, "name"),
    ({"name": 3}, "name"),
    ({}, "name"),
    ({"name": "A", "shoe_size": 44}, "shoe_size"),
    ({"name": "A", "email": "not-an-email"}, "email"),
    ({"name": "A" * 201}, "name"),
    ([], "body"),
]


async def test_bad_customer_bodies_are_400_naming_the_field_and_write_nothing(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    for body, field in BAD_BODIES:
        response = await client.post("/customers", json=body, headers=dispatcher.headers)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["extra"][0]["key"] == field, (body, response.json())
    assert await conn.fetchval("SELECT count(*) FROM customers") == 0


async def test_malformed_json_is_400(client: Client, dispatcher: Auth) -> None:
    response = await client.post(
        "/customers", content=b"{not json", headers={**dispatcher.headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert "Malformed JSON" in response.json()["detail"]


async def test_a_string_is_not_silently_taken_for_a_number(client: Client, dispatcher: Auth) -> None:
    response = await client.post("/customers", json={"name": "A", "notes": 5}, headers=dispatcher.headers)
    assert response.status_code == 400
    assert response.json()["extra"][0]["key"] == "notes"
