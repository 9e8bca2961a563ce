from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from infra.db import Connection
from tests.conftest import Auth
from tests.factories_assets import insert_customer, insert_occupancy, insert_site, insert_territory
from tests.factories_dispatch import create_technician, login_of, row_counts, shift_body

Client = AsyncTestClient[Litestar]


async def technician(client: Client, auth: Auth, conn: Connection) -> dict[str, Any]:
    return await create_technician(client, auth, await insert_territory(conn))


async def test_a_shift_starts_and_ends_at_home_unless_told_and_keeps_its_break(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    tech = await technician(client, dispatcher, conn)
    response = await client.post(
        f"/technicians/{tech['id']}/shifts",
        json=shift_body(end_latitude=44.95, end_longitude=-93.17, overtime_limit_s=3600),
        headers=dispatcher.headers,
    )
    assert response.status_code == 201, response.text
    shift = response.json()
    assert (shift["start_latitude"], shift["start_longitude"]) == (44.93, -93.30)
    assert (shift["end_latitude"], shift["end_longitude"]) == (44.95, -93.17)
    assert shift["starts_at"] == "2026-11-25T13:00:00Z"
    assert [(b["duration_s"], b["earliest_start_at"]) for b in shift["breaks"]] == [
        (1800, "2026-11-25T16:30:00Z")
    ]
    assert (await client.get(f"/shifts/{shift['id']}", headers=dispatcher.headers)).json() == shift


@pytest.mark.parametrize(
    ("overrides", "status", "field"),
    [
        ({"ends_at": "2026-11-25T06:00:00-06:00"}, 422, "ends_at"),
        ({"ends_at": "2026-11-26T08:00:00-06:00"}, 422, "ends_at"),
        (
            {
                "breaks": [
                    {
                        "earliest_start_at": "2026-11-25T14:00:00-06:00",
                        "latest_end_at": "2026-11-25T16:00:00-06:00",
                        "duration_s": 1800,
                    }
                ]
            },
            422,
            "breaks[0].latest_end_at",
        ),
        (
            {
                "breaks": [
                    {
                        "earliest_start_at": "2026-11-25T10:00:00-06:00",
                        "latest_end_at": "2026-11-25T10:10:00-06:00",
                        "duration_s": 1800,
                    }
                ]
            },
            422,
            "breaks[0].latest_end_at",
        ),
        ({"starts_at": "2026-11-25T07:00:00"}, 400, "starts_at"),
        ({"start_latitude": 44.9}, 422, "start_longitude"),
        ({"overtime_limit_s": -5}, 400, "overtime_limit_s"),
        ({"breaks": [{"duration_s": 1800}]}, 400, "earliest_start_at"),
    ],
)
async def test_bad_shifts_are_refused_naming_the_field(
    client: Client, dispatcher: Auth, conn: Connection, overrides: dict[str, Any], status: int, field: str
) -> None:
    tech = await technician(client, dispatcher, conn)
    before = await row_counts(conn)
    response = await client.post(
        f"/technicians/{tech['id']}/shifts", json=shift_body(**overrides), headers=dispatcher.headers
    )
    assert response.status_code == status, response.text
    assert field in response.text
    assert await row_counts(conn) == before


async def test_overlapping_shifts_conflict_even_when_sent_at_once(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    tech = await technician(client, dispatcher, conn)
    url = f"/technicians/{tech['id']}/shifts"
    responses = await asyncio.gather(
        client.post(url, json=shift_body(), headers=dispatcher.headers),
        client.post(
            url,
            json=shift_body(
                starts_at="2026-11-25T12:00:00-06:00", ends_at="2026-11-25T20:00:00-06:00", breaks=[]
            ),
            headers=dispatcher.headers,
        ),
    )
    assert sorted(r.status_code for r in responses) == [201, 409]
    assert await conn.fetchval("SELECT count(*) FROM shifts") == 1
    next_day = await client.post(
        url,
        json=shift_body(
            starts_at="2026-11-26T07:00:00-06:00", ends_at="2026-11-26T15:30:00-06:00", breaks=[]
        ),
        headers=dispatcher.headers,
    )
    assert next_day.status_code == 201


async def test_shifts_are_listed_in_a_range_and_technicians_read_only_theirs(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    tech = await technician(client, dispatcher, conn)
    other = await technician(client, dispatcher, conn)
    url = f"/technicians/{tech['id']}/shifts"
    first = (await client.post(url, json=shift_body(), headers=dispatcher.headers)).json()
    await client.post(
        url,
        json=shift_body(
            starts_at="2026-11-27T07:00:00-06:00", ends_at="2026-11-27T15:00:00-06:00", breaks=[]
        ),
        headers=dispatcher.headers,
    )
    login = await login_of(conn, tech["id"])
    ranged = await client.get(
        url,
        params={"from": "2026-11-25T00:00:00-06:00", "to": "2026-11-26T00:00:00-06:00"},
        headers=login.headers,
    )
    assert ranged.status_code == 200, ranged.text
    assert [s["id"] for s in ranged.json()["items"]] == [first["id"]]
    assert len((await client.get(url, headers=login.headers)).json()["items"]) == 2
    assert (await client.get(f"/technicians/{other['id']}/shifts", headers=login.headers)).status_code == 404
    assert (await client.post(url, json=shift_body(), headers=login.headers)).status_code == 403
    naive = await client.get(url, params={"from": "2026-11-25T00:00:00"}, headers=login.headers)
    assert naive.status_code in (400, 422)


async def test_a_shift_is_replaced_under_the_same_rules(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    tech = await technician(client, dispatcher, conn)
    url = f"/technicians/{tech['id']}/shifts"
    first = (await client.post(url, json=shift_body(), headers=dispatcher.headers)).json()
    second = (
        await client.post(
            url,
            json=shift_body(
                starts_at="2026-11-26T07:00:00-06:00", ends_at="2026-11-26T15:00:00-06:00", breaks=[]
            ),
            headers=dispatcher.headers,
        )
    ).json()
    later = await client.put(
        f"/shifts/{first['id']}",
        json=shift_body(starts_at="2026-11-25T09:00:00-06:00", ends_at="2026-11-25T17:00:00-06:00"),
        headers=dispatcher.headers,
    )
    assert later.status_code == 200, later.text
    assert later.json()["starts_at"] == "2026-11-25T15:00:00Z"
    clash = await client.put(
        f"/shifts/{second['id']}",
        json=shift_body(
            starts_at="2026-11-25T16:00:00-06:00", ends_at="2026-11-25T22:00:00-06:00", breaks=[]
        ),
        headers=dispatcher.headers,
    )
    assert clash.status_code == 409
    assert first["id"] in clash.json()["detail"]


async def test_a_shift_with_planned_jobs_cannot_be_deleted(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    tech = await technician(client, dispatcher, conn)
    shift = (
        await client.post(f"/technicians/{tech['id']}/shifts", json=shift_body(), headers=dispatcher.headers)
    ).json()
    site = await insert_site(conn)
    await insert_occupancy(
        conn, site, await insert_customer(conn), started_at=await conn.fetchval("SELECT now()")
    )
    job_id = await conn.fetchval(
        """
        INSERT INTO jobs (site_id, problem_code, duration_s, window_start_at, window_end_at, status,
                          technician_id, planned_start_at)
        VALUES ($1, 'broken_spring', 3600, '2026-11-25T08:00-06', '2026-11-25T10:00-06', 'scheduled', $2,
                '2026-11-25T08:30-06') RETURNING id
        """,
        site,
        UUID(tech["id"]),
    )
    blocked = await client.delete(f"/shifts/{shift['id']}", headers=dispatcher.headers)
    assert blocked.status_code == 409
    assert "1 assigned job" in blocked.json()["detail"]
    await conn.execute("UPDATE jobs SET status = 'cancelled' WHERE id = $1", job_id)
    assert (await client.delete(f"/shifts/{shift['id']}", headers=dispatcher.headers)).status_code == 204
    assert (await client.get(f"/shifts/{shift['id']}", headers=dispatcher.headers)).status_code == 404
    assert await conn.fetchval("SELECT count(*) FROM shift_breaks") == 0
