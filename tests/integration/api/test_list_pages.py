"""Every list answers a page, `{"items", "limit", "offset", "next_offset"}`, as the README says."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from dispatch.access.accounts import Role
from infra.db import Connection
from tests.conftest import Auth, make_user
from tests.factories_assets import insert_asset
from tests.factories_matching import job, north, site, territory

Client = AsyncTestClient[Litestar]


async def test_a_jobs_notes_are_a_page_like_every_list(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    # It was a bare list: a job with years of notes answered all of them at once.
    job_id = await job(conn, await site(conn, await territory(conn), north(0)), (8, 12))
    for text in ("gate code 4471", "dog in the yard", "springs replaced"):
        added = await client.post(f"/jobs/{job_id}/notes", json={"text": text}, headers=dispatcher.headers)
        assert added.status_code == 201, added.text
    first = await client.get(f"/jobs/{job_id}/notes", params={"limit": 2}, headers=dispatcher.headers)
    assert first.status_code == 200
    assert [n["text"] for n in first.json()["items"]] == ["gate code 4471", "dog in the yard"]
    assert (first.json()["limit"], first.json()["offset"], first.json()["next_offset"]) == (2, 0, 2)
    rest = await client.get(
        f"/jobs/{job_id}/notes", params={"limit": 2, "offset": 2}, headers=dispatcher.headers
    )
    assert [n["text"] for n in rest.json()["items"]] == ["springs replaced"]
    assert rest.json()["next_offset"] is None
    too_many = await client.get(f"/jobs/{job_id}/notes", params={"limit": 201}, headers=dispatcher.headers)
    assert too_many.status_code == 400
    assert [(e["key"], e["source"]) for e in too_many.json()["extra"]] == [("limit", "query")]


async def test_staff_find_assets_across_sites_and_a_bound_dispatcher_only_in_their_territory(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    # The README lists GET /assets; it answered 405. A recall of one model is found across sites.
    metro, lakes = await territory(conn), await territory(conn)
    home, cabin, far = (
        await site(conn, metro, north(0)),
        await site(conn, metro, north(1)),
        await site(conn, lakes, north(2)),
    )
    recalled = {
        await insert_asset(conn, home, model="Elite 2055"),
        await insert_asset(conn, far, model="Elite 2055"),
    }
    await insert_asset(conn, cabin, model="Classic")
    found = await client.get("/assets", params={"q": "elite 2055"}, headers=dispatcher.headers)
    assert found.status_code == 200, found.text
    assert {a["id"] for a in found.json()["items"]} == {str(a) for a in recalled}
    at_cabin = await client.get("/assets", params={"site_id": str(cabin)}, headers=dispatcher.headers)
    assert [a["model"] for a in at_cabin.json()["items"]] == ["Classic"]
    paged = await client.get("/assets", params={"limit": 2}, headers=dispatcher.headers)
    assert (len(paged.json()["items"]), paged.json()["next_offset"]) == (2, 2)

    bound = await make_user(conn, Role.DISPATCHER, territory_id=metro)
    theirs = await client.get("/assets", headers=bound.headers)
    assert {a["site_id"] for a in theirs.json()["items"]} == {str(home), str(cabin)}
    other = await client.get("/assets", params={"territory_id": str(lakes)}, headers=bound.headers)
    assert other.status_code == 422
    assert other.json()["extra"][0]["key"] == "territory_id"
