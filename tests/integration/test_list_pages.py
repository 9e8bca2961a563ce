"""Every list answers a page, `{"items", "limit", "offset", "next_offset"}`, as the README says."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from infra.db import Connection
from tests.conftest import Auth
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
