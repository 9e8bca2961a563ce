"""GET /jobs/{id}/contact: the app's call button. A technician gets the customer's number only
for their own job in hand; staff always; another technician's job is 404 as everywhere."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from infra.db import Connection
from tests.conftest import Auth
from tests.factories_dispatch import login_of
from tests.factories_matching import job, north, site, technician, territory


async def test_the_customers_number_is_for_the_job_in_hand_and_for_nobody_elses_job(
    client: AsyncTestClient[Litestar], conn: Connection, dispatcher: Auth
) -> None:
    metro = await territory(conn)
    ann = await technician(conn, metro, "Ann Springs", north(1))
    bob = await technician(conn, metro, "Bob Doors", north(2))
    visit = await job(conn, await site(conn, metro, north(0)), (9, 11), technician_id=ann, planned=9.5)
    await conn.execute("UPDATE customers SET phone = '+1 612 555 0100'")  # Pat Doe's
    ann_app, bob_app = await login_of(conn, ann), await login_of(conn, bob)

    async def contact(auth: Auth) -> tuple[int, object]:
        response = await client.get(f"/jobs/{visit}/contact", headers=auth.headers)
        return response.status_code, response.json()

    # Scheduled for later: the name, not the number.
    assert await contact(ann_app) == (200, {"first_name": "Pat", "phone": None, "in_hand": False})
    assert (await contact(bob_app))[0] == 404
    assert await contact(dispatcher) == (
        200,
        {"first_name": "Pat", "phone": "+1 612 555 0100", "in_hand": False},
    )
    await conn.execute("UPDATE jobs SET status = 'en_route' WHERE id = $1", visit)
    assert await contact(ann_app) == (200, {"first_name": "Pat", "phone": "+1 612 555 0100", "in_hand": True})
    await conn.execute("UPDATE jobs SET status = 'completed' WHERE id = $1", visit)
    assert await contact(ann_app) == (200, {"first_name": "Pat", "phone": None, "in_hand": False})
