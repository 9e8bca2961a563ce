"""The console's board: the board with where each job is, how long it takes and its depot call,
and each technician's shift, breaks and latest position; one job read again alone."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from infra.db import Connection
from tests.conftest import Auth
from tests.factories_matching import at, job, last_fix, north, site, technician, territory

Client = AsyncTestClient[Litestar]


async def test_the_console_board_adds_places_shifts_breaks_and_positions(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    metro = await territory(conn)
    ann = await technician(conn, metro, "Ann Springs", north(1), breaks=[(12, 13, 1800)])
    await last_fix(conn, ann, at(8.5), north(2))
    planned = await job(conn, await site(conn, metro, north(3)), (9, 11), technician_id=ann, planned=9.5)
    depot = await conn.fetchval(
        "INSERT INTO stock_locations (kind, name, territory_id, latitude, longitude)"
        " VALUES ('depot', 'North depot', $1, 45.0, -93.3) RETURNING id",
        metro,
    )
    await conn.execute(
        "UPDATE jobs SET pickup_location_id = $2, pickup_s = 600 WHERE id = $1", planned, depot
    )
    waiting = await job(conn, await site(conn, metro, north(4)), (13, 15), duration_s=5400)
    answer = await client.get(
        "/console/board",
        params={"territory_id": str(metro), "date": "2026-12-01"},
        headers=dispatcher.headers,
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [j["job_id"] for j in body["board"]["unassigned"]] == [str(waiting)]
    places = {p["job_id"]: p for p in body["places"]}
    assert places[str(waiting)]["duration_s"] == 5400
    assert places[str(planned)]["pickup_name"] == "North depot"
    assert places[str(planned)]["pickup_s"] == 600
    assert (places[str(planned)]["latitude"], places[str(planned)]["longitude"]) == north(3)
    (day,) = body["days"]
    assert day["shift_start_at"] == "2026-12-01T14:00:00Z"  # 8:00 in Chicago
    assert day["breaks"] == [{"earliest_start_at": "2026-12-01T18:00:00Z", "duration_s": 1800}]
    assert (day["position"]["latitude"], day["position"]["longitude"]) == north(2)


async def test_one_job_is_read_alone_and_one_off_the_board_is_404(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    metro = await territory(conn)
    waiting = await job(conn, await site(conn, metro, north(4)), (13, 15))
    params = {"territory_id": str(metro), "date": "2026-12-01"}
    one = await client.get(f"/console/board/jobs/{waiting}", params=params, headers=dispatcher.headers)
    assert one.status_code == 200, one.text
    assert one.json()["job"]["status"] == "new"
    other_day = await client.get(
        f"/console/board/jobs/{waiting}", params={**params, "date": "2026-12-02"}, headers=dispatcher.headers
    )
    assert other_day.status_code == 404
    assert "not on that territory's board" in other_day.json()["detail"]
