"""A token stops working soon after what it vouches for stops being true: its user is deactivated,
deleted, changes password or role, or signs out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.app import create_app
from dispatch.access.accounts import Role, create_user
from infra.db import Connection
from infra.settings import Settings

Client = AsyncTestClient[Litestar]
PASSWORD = "a long enough secret"
TTL_S = 0.2  # the cache of token versions, short for the tests (5 s by default)


@pytest.fixture
async def quick(settings: Settings, dsn: str) -> AsyncIterator[Client]:
    app = create_app(msgspec.structs.replace(settings, token_check_ttl_s=TTL_S), dsn=dsn)
    async with AsyncTestClient(app=app) as client:
        yield client


async def sign_in(client: Client, email: str, password: str = PASSWORD) -> dict[str, str]:
    response = await client.post("/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def test_a_deactivated_admins_token_creates_nothing(quick: Client, conn: Connection) -> None:
    admin = await create_user(conn, email="boss@example.com", password=PASSWORD, role=Role.ADMIN)
    token = await sign_in(quick, "boss@example.com")
    assert (await quick.post("/customers", json={"name": "Before"}, headers=token)).status_code == 201
    await conn.execute("UPDATE users SET active = false WHERE id = $1", admin.id)
    await asyncio.sleep(TTL_S + 0.05)
    response = await quick.post("/customers", json={"name": "After"}, headers=token)
    assert response.status_code == 401
    assert await conn.fetchval("SELECT count(*) FROM customers WHERE name = 'After'") == 0


async def test_a_deleted_users_token_reads_nothing(quick: Client, conn: Connection) -> None:
    user = await create_user(conn, email="dee@example.com", password=PASSWORD, role=Role.DISPATCHER)
    token = await sign_in(quick, "dee@example.com")
    assert (await quick.get("/customers", headers=token)).status_code == 200
    await conn.execute("DELETE FROM users WHERE id = $1", user.id)
    await asyncio.sleep(TTL_S + 0.05)
    assert (await quick.get("/customers", headers=token)).status_code == 401


async def test_a_password_changed_in_the_database_ends_the_old_sessions(
    quick: Client, conn: Connection
) -> None:
    user = await create_user(conn, email="dee@example.com", password=PASSWORD, role=Role.DISPATCHER)
    token = await sign_in(quick, "dee@example.com")
    assert (await quick.get("/customers", headers=token)).status_code == 200
    await conn.execute("UPDATE users SET password_hash = 'reset by an operator' WHERE id = $1", user.id)
    await asyncio.sleep(TTL_S + 0.05)
    assert (await quick.get("/customers", headers=token)).status_code == 401


async def test_a_demoted_admins_token_no_longer_says_admin(quick: Client, conn: Connection) -> None:
    admin = await create_user(conn, email="boss@example.com", password=PASSWORD, role=Role.ADMIN)
    token = await sign_in(quick, "boss@example.com")
    await conn.execute("UPDATE users SET role = 'dispatcher' WHERE id = $1", admin.id)
    await asyncio.sleep(TTL_S + 0.05)
    assert (await quick.get("/customers", headers=token)).status_code == 401
    assert (await sign_in(quick, "boss@example.com")) != token  # a new sign-in gets the new role


async def test_logout_ends_every_session_of_the_user_at_once(client: Client, conn: Connection) -> None:
    # The default cache (5 s) does not delay it in the process that signed out.
    await create_user(conn, email="dee@example.com", password=PASSWORD, role=Role.DISPATCHER)
    phone = await sign_in(client, "dee@example.com")
    laptop = await sign_in(client, "dee@example.com")
    assert (await client.get("/customers", headers=laptop)).status_code == 200
    assert (await client.post("/auth/logout", headers=phone)).status_code == 204
    assert (await client.get("/customers", headers=phone)).status_code == 401
    assert (await client.get("/customers", headers=laptop)).status_code == 401
    assert (await client.post("/auth/logout", headers=phone)).status_code == 401
    assert (
        await client.get("/customers", headers=await sign_in(client, "dee@example.com"))
    ).status_code == 200


async def test_logout_in_one_process_reaches_the_others_within_the_ttl(
    settings: Settings, dsn: str, quick: Client, conn: Connection
) -> None:
    await create_user(conn, email="dee@example.com", password=PASSWORD, role=Role.DISPATCHER)
    token = await sign_in(quick, "dee@example.com")
    other_app = create_app(msgspec.structs.replace(settings, token_check_ttl_s=TTL_S), dsn=dsn)
    async with AsyncTestClient(app=other_app) as other:
        assert (await other.get("/customers", headers=token)).status_code == 200
        assert (await quick.post("/auth/logout", headers=token)).status_code == 204
        await asyncio.sleep(TTL_S + 0.05)
        assert (await other.get("/customers", headers=token)).status_code == 401


async def test_changing_ones_password_needs_the_current_one_and_ends_every_session(
    client: Client, conn: Connection
) -> None:
    await create_user(conn, email="dee@example.com", password=PASSWORD, role=Role.DISPATCHER)
    token = await sign_in(client, "dee@example.com")
    wrong = await client.post(
        "/auth/password",
        json={"current_password": "not it", "new_password": "another long secret"},
        headers=token,
    )
    assert wrong.status_code == 422
    assert wrong.json()["extra"][0]["key"] == "current_password"
    changed = await client.post(
        "/auth/password",
        json={"current_password": PASSWORD, "new_password": "another long secret"},
        headers=token,
    )
    assert changed.status_code == 204, changed.text
    assert (await client.get("/customers", headers=token)).status_code == 401
    assert (
        await client.post("/auth/login", json={"email": "dee@example.com", "password": PASSWORD})
    ).status_code == 401
    await sign_in(client, "dee@example.com", "another long secret")


@pytest.mark.parametrize(
    ("new_password", "why"),
    [("short", "at least 12 characters"), ("1qaz2wsx3edc", "common passwords"), ("dee@example.com", "email")],
)
async def test_a_new_password_must_pass_the_policy_and_nothing_changes_otherwise(
    client: Client, conn: Connection, new_password: str, why: str
) -> None:
    await create_user(conn, email="dee@example.com", password=PASSWORD, role=Role.DISPATCHER)
    token = await sign_in(client, "dee@example.com")
    before = await conn.fetchval("SELECT password_hash FROM users")
    response = await client.post(
        "/auth/password", json={"current_password": PASSWORD, "new_password": new_password}, headers=token
    )
    assert response.status_code == 422
    assert response.json()["extra"][0]["key"] == "new_password"
    assert why in response.json()["detail"]
    assert await conn.fetchval("SELECT password_hash FROM users") == before
    assert (await client.get("/customers", headers=token)).status_code == 200
