"""The console's cookie session: its flags, its CSRF token on every change, its expiry and its
sign-out, staff only; bearer tokens beside it unchanged."""

from __future__ import annotations

from uuid import UUID

from litestar import Litestar
from litestar.testing import AsyncTestClient

from dispatch.access.accounts import Role
from infra.db import Connection
from tests.conftest import _PASSWORD, make_user
from tests.factories_assets import insert_technician

Client = AsyncTestClient[Litestar]
CUSTOMER = {"name": "Ada Door", "phone": "+15555550100"}


async def _sign_in(client: Client, email: str, password: str = _PASSWORD) -> dict[str, str]:
    response = await client.post("/console/session", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return dict(response.json())


async def _dispatcher_email(conn: Connection) -> str:
    await make_user(conn, Role.DISPATCHER, email="dee@example.com")
    return "dee@example.com"


async def test_signing_in_sets_an_httponly_strict_cookie_not_secure_over_plain_http(
    client: Client, conn: Connection
) -> None:
    response = await client.post(
        "/console/session", json={"email": await _dispatcher_email(conn), "password": _PASSWORD}
    )
    assert response.status_code == 200, response.text
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("truckroll_console=")
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/", "max-age=43200"} <= flags
    assert "secure" not in flags
    assert response.json()["user"]["role"] == "dispatcher"
    assert len(response.json()["csrf_token"]) == 64


async def test_the_cookie_is_secure_when_the_console_is_reached_over_https(
    app: Litestar, conn: Connection
) -> None:
    email = await _dispatcher_email(conn)
    async with AsyncTestClient(app=app, base_url="https://console.example.com") as client:
        response = await client.post("/console/session", json={"email": email, "password": _PASSWORD})
    assert response.status_code == 200, response.text
    cookie = response.headers["set-cookie"]
    # Host-only and Secure by name: a sibling subdomain cannot set one for this host.
    assert cookie.startswith("__Host-truckroll_console=")
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"secure", "path=/"} <= flags
    assert not any(flag.startswith("domain") for flag in flags)


async def test_over_https_a_cookie_without_the_host_prefix_opens_nothing(
    app: Litestar, conn: Connection
) -> None:
    """A session cookie tossed by another host of the domain (no __Host- prefix) is not read."""
    email = await _dispatcher_email(conn)
    async with AsyncTestClient(app=app, base_url="https://console.example.com") as client:
        await client.post("/console/session", json={"email": email, "password": _PASSWORD})
        token = client.cookies["__Host-truckroll_console"]
        client.cookies.clear()
        client.cookies.set("truckroll_console", token)
        assert (await client.get("/console/session")).status_code == 401
        client.cookies.clear()
        client.cookies.set("__Host-truckroll_console", token)
        assert (await client.get("/console/session")).status_code == 200


async def test_the_token_is_stored_only_as_a_hash(client: Client, conn: Connection) -> None:
    await _sign_in(client, await _dispatcher_email(conn))
    token = client.cookies["truckroll_console"]
    stored = await conn.fetchval("SELECT token_hash FROM console_sessions")
    assert token.encode() not in stored
    assert len(stored) == 32


async def test_the_cookie_opens_reads_without_a_bearer_token(client: Client, conn: Connection) -> None:
    await _sign_in(client, await _dispatcher_email(conn))
    assert (await client.get("/customers")).status_code == 200
    session = await client.get("/console/session")
    assert session.status_code == 200
    assert session.json()["user"]["email"] == "dee@example.com"


async def test_a_change_with_the_cookie_and_its_csrf_token_is_made(client: Client, conn: Connection) -> None:
    signed = await _sign_in(client, await _dispatcher_email(conn))
    created = await client.post("/customers", json=CUSTOMER, headers={"X-CSRF-Token": signed["csrf_token"]})
    assert created.status_code == 201, created.text


async def test_a_change_with_the_cookie_but_no_csrf_token_is_403_and_changes_nothing(
    client: Client, conn: Connection
) -> None:
    await _sign_in(client, await _dispatcher_email(conn))
    refused = await client.post("/customers", json=CUSTOMER)
    assert refused.status_code == 403
    assert "X-CSRF-Token" in refused.json()["detail"]
    assert await conn.fetchval("SELECT count(*) FROM customers") == 0


async def test_another_sessions_csrf_token_is_403_and_changes_nothing(
    client: Client, conn: Connection
) -> None:
    email = await _dispatcher_email(conn)
    theirs = await _sign_in(client, email)
    client.cookies.clear()
    await _sign_in(client, email)
    refused = await client.post("/customers", json=CUSTOMER, headers={"X-CSRF-Token": theirs["csrf_token"]})
    assert refused.status_code == 403
    signed_out = await client.delete("/console/session", headers={"X-CSRF-Token": theirs["csrf_token"]})
    assert signed_out.status_code == 403
    assert await conn.fetchval("SELECT count(*) FROM customers") == 0
    assert await conn.fetchval("SELECT count(*) FROM console_sessions") == 2


async def test_a_reloaded_page_gets_the_same_csrf_token_back(client: Client, conn: Connection) -> None:
    signed = await _sign_in(client, await _dispatcher_email(conn))
    assert (await client.get("/console/session")).json()["csrf_token"] == signed["csrf_token"]


async def test_an_expired_session_is_refused(client: Client, conn: Connection) -> None:
    await _sign_in(client, await _dispatcher_email(conn))
    await conn.execute("UPDATE console_sessions SET expires_at = now() - interval '1 second'")
    response = await client.get("/board")
    assert response.status_code == 401
    assert "sign in again" in response.json()["detail"]


async def test_signing_out_ends_the_session_for_a_copy_of_the_cookie_too(
    client: Client, conn: Connection
) -> None:
    signed = await _sign_in(client, await _dispatcher_email(conn))
    stolen = client.cookies["truckroll_console"]
    out = await client.delete("/console/session", headers={"X-CSRF-Token": signed["csrf_token"]})
    assert out.status_code == 204
    assert "max-age=0" in out.headers["set-cookie"].lower()
    assert await conn.fetchval("SELECT count(*) FROM console_sessions") == 0
    client.cookies.set("truckroll_console", stolen)
    assert (await client.get("/console/session")).status_code == 401


async def test_deactivating_the_user_ends_their_console_session(client: Client, conn: Connection) -> None:
    await _sign_in(client, await _dispatcher_email(conn))
    await conn.execute("UPDATE users SET active = false")
    assert (await client.get("/customers")).status_code == 401


async def test_a_technicians_good_credentials_are_refused_with_a_reason(
    client: Client, conn: Connection
) -> None:
    await make_user(
        conn, Role.TECHNICIAN, technician_id=await insert_technician(conn), email="tess@example.com"
    )
    response = await client.post(
        "/console/session", json={"email": "tess@example.com", "password": _PASSWORD}
    )
    assert response.status_code == 403
    assert "dispatchers and admins" in response.json()["detail"]
    assert "set-cookie" not in response.headers
    assert await conn.fetchval("SELECT count(*) FROM console_sessions") == 0


async def test_a_wrong_password_is_401_and_counts_toward_the_same_backoff_as_the_api_login(
    client: Client, conn: Connection
) -> None:
    email = await _dispatcher_email(conn)
    for _ in range(5):  # the account's free failures (TRUCKROLL_LOGIN_FREE_FAILURES_ACCOUNT)
        wrong = await client.post("/auth/login", json={"email": email, "password": "not it"})
        assert wrong.status_code == 401
    throttled = await client.post("/console/session", json={"email": email, "password": "not it"})
    assert throttled.status_code == 429
    assert "Retry-After" in throttled.headers


async def test_a_sign_in_posted_as_a_form_is_refused(client: Client, conn: Connection) -> None:
    email = await _dispatcher_email(conn)
    body = f'{{"email": "{email}", "password": "{_PASSWORD}"}}'
    response = await client.post("/console/session", content=body, headers={"Content-Type": "text/plain"})
    assert response.status_code == 400
    assert await conn.fetchval("SELECT count(*) FROM console_sessions") == 0


async def test_a_bearer_token_wins_over_a_cookie_and_needs_no_csrf_token(
    client: Client, conn: Connection
) -> None:
    await _sign_in(client, await _dispatcher_email(conn))
    admin = await make_user(conn, Role.ADMIN)
    created = await client.post("/customers", json=CUSTOMER, headers=admin.headers)
    assert created.status_code == 201, created.text
    actor: UUID = await conn.fetchval("SELECT id FROM users WHERE role = 'admin'")
    assert actor == admin.user_id
