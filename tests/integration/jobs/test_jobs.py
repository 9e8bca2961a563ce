"""Jobs over HTTP on a real database: create, read, list, change with If-Match, cancel, audit trail."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from dispatch.access.accounts import Role
from infra.db import Connection
from tests.conftest import Auth, make_user
from tests.factories_assets import (
    MISSING,
    insert_asset,
    insert_customer,
    insert_occupancy,
    insert_part,
    insert_site,
    insert_territory,
)

Client = AsyncTestClient[Litestar]
JOB_TABLES = ("jobs", "job_events", "job_parts")


async def job_rows(conn: Connection) -> dict[str, int]:
    return {t: int(await conn.fetchval(f"SELECT count(*) FROM {t}")) for t in JOB_TABLES}


async def occupied_site(conn: Connection, *, territory_id: UUID | None = None) -> tuple[UUID, UUID, UUID]:
    """A site with a current occupant and a garage door: (site, customer, asset)."""
    site_id = await insert_site(conn, territory_id=territory_id)
    customer_id = await insert_customer(conn)
    from datetime import UTC, datetime

    await insert_occupancy(conn, site_id, customer_id, started_at=datetime(2022, 5, 1, tzinfo=UTC))
    return site_id, customer_id, await insert_asset(conn, site_id)


def job_body(site: UUID, **overrides: Any) -> dict[str, Any]:
    return {
        "site_id": str(site),
        "problem_code": "broken_spring",
        "problem_description": "Door will not open, loud bang last night",
        "required_skills": {"garage_door_springs": 3},
        "duration_s": 4500,
        "window_start_at": "2026-11-25T08:00:00-06:00",
        "window_end_at": "2026-11-25T10:00:00-06:00",
        "priority": 2,
        **overrides,
    }


async def technician(conn: Connection, territory_id: UUID | None = None) -> tuple[UUID, Auth]:
    territory_id = territory_id or await insert_territory(conn)
    tech_id: UUID = await conn.fetchval(
        """
        INSERT INTO technicians (name, territory_id, home_latitude, home_longitude)
        VALUES ('Tess Tech', $1, 44.9, -93.3) RETURNING id
        """,
        territory_id,
    )
    return tech_id, await make_user(conn, Role.TECHNICIAN, technician_id=tech_id)


async def assign(conn: Connection, job_id: str, tech_id: UUID) -> None:
    await conn.execute(
        "UPDATE jobs SET technician_id = $2, status = 'scheduled', version = version + 1 WHERE id = $1",
        UUID(job_id),
        tech_id,
    )


async def created_job(client: Client, auth: Auth, site: UUID, **overrides: Any) -> dict[str, Any]:
    response = await client.post("/jobs", json=job_body(site, **overrides), headers=auth.headers)
    assert response.status_code == 201, response.text
    job: dict[str, Any] = response.json()
    return job


# -- create -------------------------------------------------------------------------------------


async def test_a_dispatcher_creates_a_job_for_whoever_lives_at_the_site(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    site_id, customer_id, asset_id = await occupied_site(conn)
    spring = await insert_part(conn, sku="SPR-218", sold_in_multiples_of=2)

    response = await client.post(
        "/jobs",
        json=job_body(site_id, asset_id=str(asset_id), parts=[{"part_id": str(spring), "quantity": 2}]),
        headers=dispatcher.headers,
    )

    assert response.status_code == 201, response.text
    job = response.json()
    assert job["customer_id"] == str(customer_id)
    assert (job["status"], job["version"], job["technician_id"]) == ("new", 1, None)
    assert job["required_skills"] == {"garage_door_springs": 3}
    assert job["duration_source"] == "manual"
    assert job["window_start_at"] == "2026-11-25T14:00:00Z"
    assert [(p["sku"], p["quantity"], p["source"]) for p in job["parts"]] == [("SPR-218", 2, "manual")]
    assert response.headers["etag"] == '"1"'
    events = await conn.fetch(
        "SELECT kind, to_status, actor, actor_user_id FROM job_events WHERE job_id = $1", UUID(job["id"])
    )
    assert [(e["kind"], e["to_status"], e["actor_user_id"]) for e in events] == [
        ("created", "new", dispatcher.user_id)
    ]
    assert events[0]["actor"].startswith("dispatcher-")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"site_id": MISSING}, "site_id"),
        ({"asset_id": MISSING}, "asset_id"),
        ({"customer_id": MISSING}, "customer_id"),
        ({"required_skills": {"rocket_science": 2}}, "required_skills.rocket_science"),
        ({"window_end_at": "2026-11-25T07:00:00-06:00"}, "window_end_at"),
        ({"window_end_at": "2026-12-25T07:00:00-06:00"}, "window_end_at"),
        ({"parts": [{"part_id": MISSING, "quantity": 1}]}, "parts[0].part_id"),
    ],
)
async def test_references_that_do_not_hold_are_422_naming_the_field_and_write_nothing(
    client: Client, dispatcher: Auth, conn: Connection, overrides: dict[str, Any], field: str
) -> None:
    site_id, _, _ = await occupied_site(conn)
    before = await job_rows(conn)

    response = await client.post("/jobs", json=job_body(site_id, **overrides), headers=dispatcher.headers)

    assert response.status_code == 422, response.text
    assert response.json()["extra"][0]["key"] == field
    assert await job_rows(conn) == before


async def test_springs_sold_in_pairs_cannot_be_ordered_singly(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    site_id, _, _ = await occupied_site(conn)
    spring = await insert_part(conn, sold_in_multiples_of=2)
    response = await client.post(
        "/jobs",
        json=job_body(site_id, parts=[{"part_id": str(spring), "quantity": 1}]),
        headers=dispatcher.headers,
    )
    assert response.status_code == 422
    assert response.json()["extra"][0]["key"] == "parts[0].quantity"
    assert "multiples of 2" in response.json()["detail"]


async def test_an_asset_of_another_site_or_a_removed_one_is_refused(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    site_id, _, _ = await occupied_site(conn)
    _, _, other_asset = await occupied_site(conn)
    response = await client.post(
        "/jobs", json=job_body(site_id, asset_id=str(other_asset)), headers=dispatcher.headers
    )
    assert response.status_code == 422
    removed = await insert_asset(conn, site_id)
    await conn.execute("UPDATE assets SET removed_at = now() WHERE id = $1", removed)
    response = await client.post(
        "/jobs", json=job_body(site_id, asset_id=str(removed)), headers=dispatcher.headers
    )
    assert response.status_code == 422
    assert "removed" in response.json()["detail"]


async def test_a_site_nobody_lives_at_needs_the_customer_named(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    empty_site = await insert_site(conn, address_line="1 Vacant Lot")
    response = await client.post("/jobs", json=job_body(empty_site), headers=dispatcher.headers)
    assert response.status_code == 422
    assert response.json()["extra"][0]["key"] == "customer_id"
    customer_id = await insert_customer(conn, name="Landlord")
    response = await client.post(
        "/jobs", json=job_body(empty_site, customer_id=str(customer_id)), headers=dispatcher.headers
    )
    assert response.status_code == 201
    assert response.json()["customer_id"] == str(customer_id)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"duration_s": "4500"}, "duration_s"),
        ({"duration_s": 30}, "duration_s"),
        ({"priority": 9}, "priority"),
        ({"required_skills": {"garage_door_springs": 6}}, "required_skills"),
        ({"window_start_at": "2026-11-25T08:00:00"}, "window_start_at"),
        ({"window_end_at": "tomorrow"}, "window_end_at"),
        ({"problem_code": "Broken Spring!"}, "problem_code"),
        ({"problem_description": "x" * 2001}, "problem_description"),
        ({"parts": [{"part_id": MISSING, "quantity": 0}]}, "parts"),
        ({"surprise": True}, "surprise"),
    ],
)
async def test_malformed_bodies_are_400_naming_the_field_and_write_nothing(
    client: Client, dispatcher: Auth, conn: Connection, overrides: dict[str, Any], field: str
) -> None:
    site_id, _, _ = await occupied_site(conn)
    before = await job_rows(conn)
    response = await client.post("/jobs", json=job_body(site_id, **overrides), headers=dispatcher.headers)
    assert response.status_code == 400, response.text
    assert field in response.json()["detail"]
    assert await job_rows(conn) == before


async def test_a_second_job_with_the_same_external_id_is_a_conflict(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    site_id, _, _ = await occupied_site(conn)
    first = await created_job(client, dispatcher, site_id, external_id="CRM-991")
    before = await job_rows(conn)
    again = await client.post(
        "/jobs", json=job_body(site_id, external_id="CRM-991"), headers=dispatcher.headers
    )
    assert again.status_code == 409
    assert first["id"] in again.json()["detail"]
    assert await job_rows(conn) == before


# -- read and list ------------------------------------------------------------------------------


async def test_a_technician_sees_their_own_job_and_not_anothers(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    site_id, _, _ = await occupied_site(conn)
    mine, theirs = (
        await created_job(client, dispatcher, site_id),
        await created_job(client, dispatcher, site_id),
    )
    tech_id, tech = await technician(conn)
    other_id, _ = await technician(conn)
    await assign(conn, mine["id"], tech_id)
    await assign(conn, theirs["id"], other_id)

    own = await client.get(f"/jobs/{mine['id']}", headers=tech.headers)
    assert own.status_code == 200
    assert own.json()["technician_id"] == str(tech_id)
    assert own.headers["etag"] == '"2"'
    assert (await client.get(f"/jobs/{theirs['id']}", headers=tech.headers)).status_code == 404
    assert (await client.get(f"/jobs/{theirs['id']}/events", headers=tech.headers)).status_code == 404
    listed = await client.get("/jobs", params={"technician_id": str(other_id)}, headers=tech.headers)
    assert listed.json()["items"] == []
    listed = await client.get("/jobs", headers=tech.headers)
    assert [j["id"] for j in listed.json()["items"]] == [mine["id"]]


async def test_a_dispatcher_of_one_territory_sees_only_its_jobs(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    north, south = await insert_territory(conn), await insert_territory(conn)
    north_site, _, _ = await occupied_site(conn, territory_id=north)
    south_site, _, _ = await occupied_site(conn, territory_id=south)
    north_job = await created_job(client, dispatcher, north_site)
    south_job = await created_job(client, dispatcher, south_site)
    local = await make_user(conn, Role.DISPATCHER, territory_id=north)

    listed = await client.get("/jobs", headers=local.headers)
    assert [j["id"] for j in listed.json()["items"]] == [north_job["id"]]
    assert (await client.get(f"/jobs/{south_job['id']}", headers=local.headers)).status_code == 404


async def test_jobs_are_listed_by_status_territory_and_local_day(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    territory = await insert_territory(conn)
    await conn.execute("UPDATE territories SET timezone = 'America/Chicago' WHERE id = $1", territory)
    site_id, _, _ = await occupied_site(conn, territory_id=territory)
    other_site, _, _ = await occupied_site(conn)
    # 18:00-20:00 in Chicago on the 25th is already the 26th in UTC.
    evening = await created_job(
        client,
        dispatcher,
        site_id,
        window_start_at="2026-11-25T18:00:00-06:00",
        window_end_at="2026-11-25T20:00:00-06:00",
    )
    morning = await created_job(client, dispatcher, site_id)
    next_day = await created_job(
        client,
        dispatcher,
        site_id,
        window_start_at="2026-11-26T08:00:00-06:00",
        window_end_at="2026-11-26T10:00:00-06:00",
    )
    elsewhere = await created_job(client, dispatcher, other_site)
    cancelled = await created_job(client, dispatcher, site_id)
    await client.post(
        f"/jobs/{cancelled['id']}/cancel", json={"reason": "Fixed it myself"}, headers=dispatcher.headers
    )

    def ids(response: Any) -> list[str]:
        assert response.status_code == 200, response.text
        return [j["id"] for j in response.json()["items"]]

    day = {"territory_id": str(territory), "date": "2026-11-25"}
    assert ids(await client.get("/jobs", params={**day, "status": "new"}, headers=dispatcher.headers)) == [
        morning["id"],
        evening["id"],
    ]
    both = await client.get("/jobs", params={**day, "status": "new,cancelled"}, headers=dispatcher.headers)
    assert set(ids(both)) == {morning["id"], evening["id"], cancelled["id"]}
    utc_day = await client.get("/jobs", params={"date": "2026-11-26"}, headers=dispatcher.headers)
    assert set(ids(utc_day)) == {evening["id"], next_day["id"]}
    everything = ids(await client.get("/jobs", headers=dispatcher.headers))
    assert elsewhere["id"] in everything
    assert len(everything) == 5
    paged = await client.get("/jobs", params={"limit": 2}, headers=dispatcher.headers)
    assert paged.json()["next_offset"] == 2


async def test_an_unknown_status_filter_is_a_400_naming_status(client: Client, dispatcher: Auth) -> None:
    response = await client.get("/jobs", params={"status": "done"}, headers=dispatcher.headers)
    assert response.status_code in (400, 422)
    assert response.json()["extra"][0]["key"] == "status"


async def test_a_bad_query_value_names_the_parameter_as_sent_and_says_query(
    client: Client, dispatcher: Auth
) -> None:
    # The handler's argument is `day`; the client sent `date`, and the source was "ParamType.QUERY".
    bad_day = await client.get("/jobs", params={"date": "2026-13-01"}, headers=dispatcher.headers)
    assert bad_day.status_code == 400
    assert [(e["key"], e["source"]) for e in bad_day.json()["extra"]] == [("date", "query")]
    assert bad_day.json()["detail"].startswith("date: ")
    # A dependency's parameter (the page) is named and sourced the same way.
    bad_limit = await client.get("/jobs", params={"limit": "abc"}, headers=dispatcher.headers)
    assert [(e["key"], e["source"]) for e in bad_limit.json()["extra"]] == [("limit", "query")]


async def test_a_rule_broken_by_a_query_parameter_or_a_header_says_where_it_was_sent(
    client: Client, conn: Connection
) -> None:
    # The domain's own checks named the field but always said "body".
    own, other = await insert_territory(conn), await insert_territory(conn)
    dana = await make_user(conn, Role.DISPATCHER, territory_id=own)
    elsewhere = await client.get("/board", params={"territory_id": str(other)}, headers=dana.headers)
    assert elsewhere.status_code == 422
    assert [(e["key"], e["source"]) for e in elsewhere.json()["extra"]] == [("territory_id", "query")]
    resumed = await client.get("/board/stream", headers={**dana.headers, "Last-Event-ID": "x"})
    assert resumed.status_code == 400
    assert [(e["key"], e["source"]) for e in resumed.json()["extra"]] == [("Last-Event-ID", "header")]


# -- change and cancel --------------------------------------------------------------------------


async def test_a_change_needs_the_current_version(client: Client, dispatcher: Auth, conn: Connection) -> None:
    site_id, _, _ = await occupied_site(conn)
    job = await created_job(client, dispatcher, site_id)
    url = f"/jobs/{job['id']}"

    missing = await client.patch(url, json={"priority": 1}, headers=dispatcher.headers)
    assert missing.status_code == 428
    changed = await client.patch(
        url, json={"priority": 1, "duration_s": 3600}, headers={**dispatcher.headers, "If-Match": '"1"'}
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["priority"], changed.json()["version"]) == (1, 2)
    assert changed.headers["etag"] == '"2"'
    stale = await client.patch(url, json={"priority": 5}, headers={**dispatcher.headers, "If-Match": '"1"'})
    assert stale.status_code == 412
    assert (await client.get(url, headers=dispatcher.headers)).json()["priority"] == 1
    events = await client.get(f"{url}/events", headers=dispatcher.headers)
    assert [(e["kind"], e["data"]) for e in events.json()["items"]] == [
        ("created", {}),
        ("updated", {"fields": ["duration_s", "priority"]}),
    ]


async def test_a_malformed_if_match_is_400_naming_the_header_and_changes_nothing(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    # It was a 412 "you sent -1": a stale version, which it is not.
    site_id, _, _ = await occupied_site(conn)
    job = await created_job(client, dispatcher, site_id)
    url = f"/jobs/{job['id']}"
    # b"\xb2" is read as "²", which isdigit() but int() refuses: it was a 500.
    signed_in = {k.encode(): v.encode() for k, v in dispatcher.headers.items()}
    for sent in (b"abc", b'"1", "2"', b"*", b"-1", b"\xb2"):
        response = await client.patch(url, json={"priority": 1}, headers={**signed_in, b"If-Match": sent})
        assert response.status_code == 400, (sent, response.text)
        assert [(e["key"], e["source"]) for e in response.json()["extra"]] == [("If-Match", "header")]
        assert "-1" not in response.json()["detail"]
    cancel = await client.post(
        f"{url}/cancel", json={"reason": "customer called"}, headers={**dispatcher.headers, "If-Match": "abc"}
    )
    assert cancel.status_code == 400
    after = (await client.get(url, headers=dispatcher.headers)).json()
    assert (after["priority"], after["version"], after["status"]) == (job["priority"], 1, job["status"])


async def test_a_change_that_breaks_the_window_is_refused(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    site_id, _, _ = await occupied_site(conn)
    job = await created_job(client, dispatcher, site_id)
    response = await client.patch(
        f"/jobs/{job['id']}",
        json={"window_end_at": "2026-11-25T07:00:00-06:00"},
        headers={**dispatcher.headers, "If-Match": "1"},
    )
    assert response.status_code == 422
    assert (await client.get(f"/jobs/{job['id']}", headers=dispatcher.headers)).json()["version"] == 1


async def test_cancel_records_the_reason_and_cannot_happen_twice(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    site_id, _, _ = await occupied_site(conn)
    job = await created_job(client, dispatcher, site_id)
    url = f"/jobs/{job['id']}/cancel"
    assert (await client.post(url, json={"reason": ""}, headers=dispatcher.headers)).status_code == 400

    cancelled = await client.post(url, json={"reason": "Customer sold the house"}, headers=dispatcher.headers)
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["status"], cancelled.json()["version"]) == ("cancelled", 2)
    again = await client.post(url, json={"reason": "again"}, headers=dispatcher.headers)
    assert again.status_code == 409
    assert "new, scheduled, dispatched" in again.json()["detail"]
    event = await conn.fetchrow(
        "SELECT from_status, to_status, reason FROM job_events WHERE kind = 'cancelled'"
    )
    assert event is not None
    assert tuple(event) == ("new", "cancelled", "Customer sold the house")
    changed = await client.patch(
        f"/jobs/{job['id']}", json={"priority": 1}, headers={**dispatcher.headers, "If-Match": "2"}
    )
    assert changed.status_code == 409


async def test_a_started_job_cannot_be_cancelled(client: Client, dispatcher: Auth, conn: Connection) -> None:
    site_id, _, _ = await occupied_site(conn)
    job = await created_job(client, dispatcher, site_id)
    tech_id, _ = await technician(conn)
    await conn.execute(
        "UPDATE jobs SET technician_id = $2, status = 'on_site' WHERE id = $1", UUID(job["id"]), tech_id
    )
    response = await client.post(
        f"/jobs/{job['id']}/cancel", json={"reason": "x"}, headers=dispatcher.headers
    )
    assert response.status_code == 409
    assert "on_site" in response.json()["detail"]


async def test_a_stale_if_match_on_cancel_changes_nothing(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    site_id, _, _ = await occupied_site(conn)
    job = await created_job(client, dispatcher, site_id)
    response = await client.post(
        f"/jobs/{job['id']}/cancel", json={"reason": "x"}, headers={**dispatcher.headers, "If-Match": '"7"'}
    )
    assert response.status_code == 412
    assert await conn.fetchval("SELECT status FROM jobs WHERE id = $1", UUID(job["id"])) == "new"


async def test_two_cancels_at_once_one_wins_one_conflicts(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    site_id, _, _ = await occupied_site(conn)
    job = await created_job(client, dispatcher, site_id)
    url = f"/jobs/{job['id']}/cancel"
    responses = await asyncio.gather(
        client.post(url, json={"reason": "one"}, headers=dispatcher.headers),
        client.post(url, json={"reason": "two"}, headers=dispatcher.headers),
    )
    assert sorted(r.status_code for r in responses) == [200, 409]
    assert await conn.fetchval("SELECT count(*) FROM job_events WHERE kind = 'cancelled'") == 1


# -- who may do what ----------------------------------------------------------------------------


async def test_writes_need_staff_and_every_call_needs_a_token(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    site_id, _, _ = await occupied_site(conn)
    job = await created_job(client, dispatcher, site_id)
    tech_id, tech = await technician(conn)
    await assign(conn, job["id"], tech_id)
    before = await job_rows(conn)

    assert (await client.post("/jobs", json=job_body(site_id), headers=tech.headers)).status_code == 403
    assert (
        await client.post(f"/jobs/{job['id']}/cancel", json={"reason": "x"}, headers=tech.headers)
    ).status_code == 403
    assert (
        await client.patch(
            f"/jobs/{job['id']}", json={"priority": 1}, headers={**tech.headers, "If-Match": "2"}
        )
    ).status_code == 403
    assert (await client.post(f"/jobs/{job['id']}/tracking-links", headers=tech.headers)).status_code == 403
    assert (await client.get("/jobs")).status_code == 401
    assert (await client.get(f"/jobs/{job['id']}")).status_code == 401
    assert (await client.post("/jobs", json=job_body(site_id))).status_code == 401
    assert await job_rows(conn) == before


async def test_an_unknown_job_is_404(client: Client, dispatcher: Auth) -> None:
    for method, url in (
        ("GET", f"/jobs/{MISSING}"),
        ("GET", f"/jobs/{MISSING}/events"),
        ("POST", f"/jobs/{MISSING}/cancel"),
    ):
        response = await client.request(
            method, url, json={"reason": "x"} if method == "POST" else None, headers=dispatcher.headers
        )
        assert response.status_code == 404, (url, response.text)
