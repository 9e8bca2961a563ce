"""The customer and the system act under roles of their own, not as a fake admin: the audit trail
names them, a customer's principal reaches the job of its link and no other, and no token can
carry either role."""

from __future__ import annotations

from uuid import UUID

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from dispatch.access.accounts import Role, customer_of
from dispatch.jobs import records as jobs
from infra.db import Connection
from infra.errors import NotFoundError
from tests.conftest import Auth, mint_token
from tests.integration.tracking.test_tracking_view import frozen_clock, tracked  # noqa: F401  # the fixture, shared

Client = AsyncTestClient[Litestar]
CUSTOMER = "customer (tracking link)"


async def trail(client: Client, job_id: UUID, auth: Auth) -> list[tuple[str, str, str | None]]:
    """The job's audit trail as staff read it: (kind, actor, acting user)."""
    response = await client.get(f"/jobs/{job_id}/events", headers=auth.headers)
    assert response.status_code == 200, response.text
    return [(e["kind"], e["actor"], e["actor_user_id"]) for e in response.json()["items"]]


async def test_a_visit_moved_through_the_tracking_link_is_audited_as_the_customer(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    job_id, _, token = await tracked(client, conn, dispatcher)
    await conn.execute("UPDATE jobs SET problem_code = 'broken_spring' WHERE id = $1", job_id)
    offered = await client.get(f"/track/{token}/slots")
    start, end = sorted((s["window_start_at"], s["window_end_at"]) for s in offered.json()["slots"])[-1]
    window = {"window_start_at": start, "window_end_at": end}
    moved = await client.post(f"/track/{token}/reschedule", json=window)
    assert moved.status_code == 200, moved.text
    # The events of the change are the customer's: the move, the new assignment it made, and the
    # release to the technician's phone when the new window falls on a released day.
    made = [e for e in await trail(client, job_id, dispatcher) if e[0] in ("rescheduled", "assigned")]
    assert made[-2:] == [("rescheduled", CUSTOMER, None), ("assigned", CUSTOMER, None)]


async def test_a_visit_cancelled_through_the_tracking_link_is_audited_as_the_customer(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    job_id, _, token = await tracked(client, conn, dispatcher)
    cancelled = await client.post(f"/track/{token}/cancel", json={})
    assert cancelled.status_code == 200, cancelled.text
    assert (await trail(client, job_id, dispatcher))[-1] == ("cancelled", CUSTOMER, None)
    audit = await client.get("/audit", params={"actor": CUSTOMER}, headers=dispatcher.headers)
    assert audit.status_code == 200, audit.text
    assert [(e["job_id"], e["kind"]) for e in audit.json()["items"]] == [(str(job_id), "cancelled")]


async def test_a_customers_principal_reaches_no_other_job(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    mine, _, _ = await tracked(client, conn, dispatcher)
    other, _, _ = await tracked(client, conn, dispatcher)
    customer = customer_of(mine)
    assert (await jobs.get_job(conn, customer, mine)).id == mine
    with pytest.raises(NotFoundError):
        await jobs.get_job(conn, customer, other)
    with pytest.raises(NotFoundError):
        await jobs.cancel_job(conn, customer, other, reason="not mine", expected_version=None)
    assert await conn.fetchval("SELECT status FROM jobs WHERE id = $1", other) == "scheduled"


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.SYSTEM])
async def test_a_token_carrying_the_customer_or_system_role_is_401(
    client: Client, admin: Auth, role: Role
) -> None:
    # Signed with the app's own secret, for a user who exists: only the role is wrong.
    token = mint_token(admin.user_id, role)
    response = await client.get("/jobs", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401, response.text
    assert (await client.get("/jobs", headers=admin.headers)).status_code == 200


@pytest.mark.parametrize("role", ["customer", "system"])
async def test_no_login_can_be_made_with_the_customer_or_system_role(
    client: Client, conn: Connection, admin: Auth, role: str
) -> None:
    login = {"email": "robot@example.com", "password": "a ladder, two springs and a van", "role": role}
    response = await client.post("/users", json=login, headers=admin.headers)
    assert response.status_code == 422, response.text
    assert response.json()["extra"][0]["key"] == "role"
    assert await conn.fetchval("SELECT count(*) FROM users WHERE email = 'robot@example.com'") == 0
