from __future__ import annotations

import asyncio
from datetime import timedelta

from litestar import Litestar
from litestar.testing import AsyncTestClient

from dispatch.access.accounts import Role, create_user
from infra.db import Connection
from tests.conftest import Auth, mint_token
from tests.factories_assets import technician_user

Client = AsyncTestClient[Litestar]


async def test_a_user_logs_in_and_the_token_opens_the_api(client: Client, conn: Connection) -> None:
    await create_user(conn, email="Dee@Example.com", password="long enough secret", role=Role.DISPATCHER)
    login = await client.post(
        "/auth/login", json={"email": "dee@example.com", "password": "long enough secret"}
    )
    assert login.status_code == 200, login.text
    body = login.json()
    assert body["user"]["role"] == "dispatcher"
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert (await client.get("/customers", headers=headers)).status_code == 200


async def test_a_wrong_password_and_an_unknown_email_get_the_same_401(
    client: Client, conn: Connection
) -> None:
    await create_user(conn, email="dee@example.com", password="long enough secret", role=Role.ADMIN)
    wrong = await client.post("/auth/login", json={"email": "dee@example.com", "password": "nope"})
    unknown = await client.post("/auth/login", json={"email": "who@example.com", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]


async def test_a_deactivated_user_cannot_log_in(client: Client, conn: Connection) -> None:
    user = await create_user(conn, email="old@example.com", password="long enough secret", role=Role.ADMIN)
    await conn.execute("UPDATE users SET active = false WHERE id = $1", user.id)
    response = await client.post(
        "/auth/login", json={"email": "old@example.com", "password": "long enough secret"}
    )
    assert response.status_code == 401


async def test_passwords_are_stored_with_argon2_not_in_clear(conn: Connection) -> None:
    await create_user(conn, email="a@example.com", password="long enough secret", role=Role.ADMIN)
    stored = await conn.fetchval("SELECT password_hash FROM users")
    assert stored.startswith("$argon2id$")
    assert "long enough secret" not in stored


async def test_a_login_body_without_password_is_400_naming_it(client: Client) -> None:
    response = await client.post("/auth/login", json={"email": "a@example.com"})
    assert response.status_code == 400
    assert response.json()["extra"][0]["key"] == "password"


async def test_no_token_is_401(client: Client) -> None:
    assert (await client.get("/customers")).status_code == 401


async def test_an_expired_token_is_401(client: Client, dispatcher: Auth) -> None:
    expired = mint_token(dispatcher.user_id, Role.DISPATCHER, ttl=timedelta(seconds=-60))
    response = await client.get("/customers", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401


async def test_a_token_once_accepted_is_still_refused_when_it_expires_or_is_tampered_with(
    client: Client, dispatcher: Auth
) -> None:
    token = mint_token(dispatcher.user_id, Role.DISPATCHER, ttl=timedelta(seconds=2))
    headers = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/customers", headers=headers)).status_code == 200  # verified, then kept
    head, claims, signature = token.split(".")
    forged = f"{head}.{claims}.{signature[:-4]}AAAA"
    assert (await client.get("/customers", headers={"Authorization": f"Bearer {forged}"})).status_code == 401
    await asyncio.sleep(2.1)
    assert (await client.get("/customers", headers=headers)).status_code == 401


async def test_a_token_signed_with_another_secret_is_401(client: Client, dispatcher: Auth) -> None:
    token = dispatcher.headers["Authorization"].removeprefix("Bearer ")
    head, payload, signature = token.split(".")
    forged = f"{head}.{payload}.{signature[::-1]}"
    response = await client.get("/customers", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


async def test_a_technician_may_not_manage_customers(client: Client, conn: Connection) -> None:
    technician = await technician_user(conn)
    response = await client.post("/customers", json={"name": "X"}, headers=technician.headers)
    assert response.status_code == 403
    assert await conn.fetchval("SELECT count(*) FROM customers") == 0


async def test_health_and_readiness_need_no_token(client: Client) -> None:
    assert (await client.get("/health")).json() == {"status": "ok"}
    assert (await client.get("/ready")).status_code == 200


async def test_the_openapi_document_lists_every_route_of_the_app(client: Client, app: Litestar) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    documented = {(path, method.upper()) for path, ops in schema["paths"].items() for method in ops}
    served = {
        (route.path_format or "/", method)
        for route in app.routes
        if not route.path.startswith("/schema")
        for method in getattr(route, "methods", set())
        if method not in ("OPTIONS", "HEAD")
    }
    assert served - documented == set()
