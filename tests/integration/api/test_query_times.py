from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import Auth

Client = AsyncTestClient[Litestar]


async def test_a_number_where_a_time_is_expected_is_400_naming_the_parameter(
    client: Client, dispatcher: Auth
) -> None:
    # Decoded laxly, `from=0.0` was 1 January 1970 and the audit answered 200 from then on.
    response = await client.get("/audit", params={"from": "0.0", "to": "1e9"}, headers=dispatcher.headers)
    assert response.status_code == 400
    assert [e["key"] for e in response.json()["extra"]] == ["from", "to"]
    ok = await client.get("/audit", params={"from": "2026-03-02T09:00:00+00:00"}, headers=dispatcher.headers)
    assert ok.status_code == 200
