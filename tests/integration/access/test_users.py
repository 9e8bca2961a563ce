"""Logins managed through the API: a technician hired over HTTP signs in without anyone at the
database host, with the CLI's rules; a dispatcher invites only their own technicians; a reset or
a deactivation ends the user's sessions."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from litestar import Litestar
from litestar.testing import AsyncTestClient

from dispatch.access.accounts import Role
from infra.db import Connection
from tests.conftest import Auth, make_user

Client = AsyncTestClient[Litestar]
PASSWORD = "a ladder, two springs and a van"


async def _territory(client: Client, admin: Auth, name: str) -> UUID:
    response = await client.post(
        "/territories", json={"name": name, "timezone": "America/Chicago"}, headers=admin.headers
    )
    assert response.status_code == 201, response.text
    return UUID(response.json()["id"])


async def _technician(client: Client, auth: Auth, territory_id: UUID) -> UUID:
    response = await client.post(
        "/technicians",
        json={
            "name": "Dana Hire",
            "territory_id": str(territory_id),
            "home_latitude": 44.95,
            "home_longitude": -93.2,
        },
        headers=auth.headers,
    )
    assert response.status_code == 201, response.text
    return UUID(response.json()["id"])


async def _sign_in(client: Client, email: str, password: str = PASSWORD) -> int:
    response = await client.post("/auth/login", json={"email": email, "password": password})
    return response.status_code


async def _login_for(client: Client, technician_id: UUID, auth: Auth, **extra: Any) -> Any:
    return await client.post(
        "/users",
        json={"email": "dana@example.com", "password": PASSWORD, "technician_id": str(technician_id)},
        headers={**auth.headers, **extra},
    )


async def test_a_technician_hired_over_http_gets_a_login_over_http_and_signs_in(
    client: Client, admin: Auth
) -> None:
    technician = await _technician(client, admin, await _territory(client, admin, "North"))
    assert await _sign_in(client, "dana@example.com") == 401
    created = await _login_for(client, technician, admin)
    assert created.status_code == 201, created.text
    assert created.json() == {
        "id": created.json()["id"],
        "email": "dana@example.com",
        "role": "technician",
        "technician_id": str(technician),
        "territory_id": None,
        "active": True,
    }
    assert await _sign_in(client, "dana@example.com") == 200


async def test_a_new_login_keeps_the_clis_password_policy(
    client: Client, admin: Auth, conn: Connection
) -> None:
    technician = await _technician(client, admin, await _territory(client, admin, "North"))
    for weak, why in (("short one", "at least 12"), ("password1234", "common passwords")):
        response = await client.post(
            "/users",
            json={"email": "dana@example.com", "password": weak, "technician_id": str(technician)},
            headers=admin.headers,
        )
        assert response.status_code == 422, response.text
        assert response.json()["extra"][0]["key"] == "password"
        assert why in response.json()["detail"]
    assert await conn.fetchval("SELECT count(*) FROM users WHERE email = 'dana@example.com'") == 0


async def test_a_bound_dispatcher_invites_their_territorys_technicians_only(
    client: Client, admin: Auth, conn: Connection
) -> None:
    mine = await _territory(client, admin, "North")
    theirs = await _territory(client, admin, "South")
    bound = await make_user(conn, Role.DISPATCHER, territory_id=mine)
    their_technician = await _technician(client, admin, theirs)
    my_technician = await _technician(client, admin, mine)

    refused = await _login_for(client, their_technician, bound)
    missing = await _login_for(client, uuid4(), bound)
    assert refused.status_code == 422, refused.text
    assert refused.json() == missing.json()
    assert refused.json()["extra"][0]["key"] == "technician_id"
    admin_login = await client.post(
        "/users",
        json={"email": "me-too@example.com", "password": PASSWORD, "role": "admin"},
        headers=bound.headers,
    )
    assert admin_login.status_code == 403, admin_login.text
    assert await conn.fetchval("SELECT count(*) FROM users") == 2  # the admin and the dispatcher

    invited = await _login_for(client, my_technician, bound)
    assert invited.status_code == 201, invited.text
    assert await _sign_in(client, "dana@example.com") == 200


async def test_a_technician_cannot_create_or_list_logins(
    client: Client, admin: Auth, conn: Connection
) -> None:
    technician = await _technician(client, admin, await _territory(client, admin, "North"))
    own = await make_user(conn, Role.TECHNICIAN, technician_id=technician)
    dispatcher = await make_user(conn, Role.DISPATCHER)
    other = await _technician(client, admin, await _territory(client, admin, "South"))
    assert (await _login_for(client, other, own)).status_code == 403
    assert (await client.get("/users", headers=own.headers)).status_code == 403
    assert (await client.get("/users", headers=dispatcher.headers)).status_code == 403
    listed = await client.get("/users", params={"role": "technician"}, headers=admin.headers)
    assert listed.status_code == 200
    assert [u["technician_id"] for u in listed.json()["items"]] == [str(technician)]
    assert "password" not in listed.text


async def test_a_retried_create_with_its_idempotency_key_makes_one_login(
    client: Client, admin: Auth, conn: Connection
) -> None:
    technician = await _technician(client, admin, await _territory(client, admin, "North"))
    first = await _login_for(client, technician, admin, **{"Idempotency-Key": "hire-dana"})
    again = await _login_for(client, technician, admin, **{"Idempotency-Key": "hire-dana"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replay"] == "true"
    assert await conn.fetchval("SELECT count(*) FROM users WHERE technician_id = $1", technician) == 1
    # The password is not kept with the key, not even hashed fast.
    stored = await conn.fetchval("SELECT string_agg(t::text, '|') FROM idempotency_keys t")
    assert PASSWORD not in (stored or "")


async def test_an_admins_reset_ends_the_old_password_and_every_session(client: Client, admin: Auth) -> None:
    technician = await _technician(client, admin, await _territory(client, admin, "North"))
    user_id = (await _login_for(client, technician, admin)).json()["id"]
    signed = await client.post("/auth/login", json={"email": "dana@example.com", "password": PASSWORD})
    token = {"Authorization": f"Bearer {signed.json()['access_token']}"}
    assert (await client.get("/technicians/me", headers=token)).status_code == 200

    weak = await client.post(
        f"/users/{user_id}/password", json={"new_password": "qwerty"}, headers=admin.headers
    )
    assert weak.status_code == 422
    assert weak.json()["extra"][0]["key"] == "new_password"
    assert (await client.get("/technicians/me", headers=token)).status_code == 200

    reset = await client.post(
        f"/users/{user_id}/password",
        json={"new_password": "the new spring is left-wound"},
        headers=admin.headers,
    )
    assert reset.status_code == 200, reset.text
    assert (await client.get("/technicians/me", headers=token)).status_code == 401
    assert await _sign_in(client, "dana@example.com") == 401
    assert await _sign_in(client, "dana@example.com", "the new spring is left-wound") == 200


async def test_a_deactivated_login_signs_in_no_more_and_its_tokens_stop(client: Client, admin: Auth) -> None:
    technician = await _technician(client, admin, await _territory(client, admin, "North"))
    user_id = (await _login_for(client, technician, admin)).json()["id"]
    signed = await client.post("/auth/login", json={"email": "dana@example.com", "password": PASSWORD})
    token = {"Authorization": f"Bearer {signed.json()['access_token']}"}

    deactivated = await client.post(f"/users/{user_id}/deactivate", headers=admin.headers)
    assert deactivated.status_code == 200, deactivated.text
    assert deactivated.json()["active"] is False
    assert (await client.get("/technicians/me", headers=token)).status_code == 401
    assert await _sign_in(client, "dana@example.com") == 401
    listed = await client.get("/users", params={"active": "false"}, headers=admin.headers)
    assert [u["id"] for u in listed.json()["items"]] == [user_id]


async def test_an_admin_cannot_deactivate_their_own_login(
    client: Client, admin: Auth, conn: Connection
) -> None:
    response = await client.post(f"/users/{admin.user_id}/deactivate", headers=admin.headers)
    assert response.status_code == 409, response.text
    assert await conn.fetchval("SELECT active FROM users WHERE id = $1", admin.user_id) is True
    assert (await client.post(f"/users/{uuid4()}/deactivate", headers=admin.headers)).status_code == 404
