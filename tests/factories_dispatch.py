"""Arrange territories, technicians and their logins through the API or directly; bodies for the API."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Litestar
from litestar.testing import AsyncTestClient

from dispatch.access.accounts import Role
from infra.db import Connection
from tests.conftest import Auth, make_user

Client = AsyncTestClient[Litestar]

DISPATCH_TABLES = (
    "territories",
    "technicians",
    "technician_skills",
    "stock_locations",
    "stock_levels",
    "shifts",
    "shift_breaks",
    "customer_technician_preferences",
)


async def row_counts(conn: Connection) -> dict[str, int]:
    return {t: int(await conn.fetchval(f"SELECT count(*) FROM {t}")) for t in DISPATCH_TABLES}


def technician_body(territory: UUID | str, **overrides: Any) -> dict[str, Any]:
    return {
        "name": "Maria Olson",
        "territory_id": str(territory),
        "home_latitude": 44.93,
        "home_longitude": -93.30,
        "skills": {"garage_door": 4, "garage_door_springs": 3},
        "email": "maria@example.com",
        "phone": "+1 612 555 0101",
        **overrides,
    }


def shift_body(**overrides: Any) -> dict[str, Any]:
    return {
        "starts_at": "2026-11-25T07:00:00-06:00",
        "ends_at": "2026-11-25T15:30:00-06:00",
        "breaks": [
            {
                "earliest_start_at": "2026-11-25T10:30:00-06:00",
                "latest_end_at": "2026-11-25T13:30:00-06:00",
                "duration_s": 1800,
            }
        ],
        **overrides,
    }


async def create_technician(
    client: Client, auth: Auth, territory_id: UUID, **overrides: Any
) -> dict[str, Any]:
    response = await client.post(
        "/technicians", json=technician_body(territory_id, **overrides), headers=auth.headers
    )
    assert response.status_code == 201, response.text
    technician: dict[str, Any] = response.json()
    return technician


async def login_of(conn: Connection, technician_id: str | UUID) -> Auth:
    return await make_user(conn, Role.TECHNICIAN, technician_id=UUID(str(technician_id)))
