"""Fitment conditions may be ranges: a door of this weight takes this spring pair."""

from __future__ import annotations

import json
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from infra.db import Connection
from tests.conftest import Auth
from tests.factories_assets import insert_asset, insert_fitment, insert_part, insert_site


@pytest.mark.parametrize(
    ("attributes", "conditions", "holds"),
    [
        ({"weight_lb": 170, "springs": 2}, {"weight_lb": "141..180", "springs": 2}, True),
        ({"weight_lb": 141}, {"weight_lb": "141..180"}, True),
        ({"weight_lb": 180}, {"weight_lb": "141..180"}, True),
        ({"weight_lb": 180.5}, {"weight_lb": "141..180"}, False),
        ({"weight_lb": 90}, {"weight_lb": "..140"}, True),
        ({"weight_lb": 400}, {"weight_lb": "331.."}, True),
        ({"weight_lb": "170"}, {"weight_lb": "141..180"}, False),
        ({}, {"weight_lb": "141..180"}, False),
        ({"spring_size": "218"}, {"spring_size": "218"}, True),
        ({"spring_size": 218}, {"spring_size": "218"}, False),
        ({"color": "white"}, {}, True),
    ],
)
async def test_a_condition_is_an_equal_value_or_a_numeric_range(
    conn: Connection, attributes: dict[str, Any], conditions: dict[str, Any], holds: bool
) -> None:
    result = await conn.fetchval(
        "SELECT fitment_holds($1::text::jsonb, $2::text::jsonb)",
        json.dumps(attributes),
        json.dumps(conditions),
    )
    assert result is holds


async def test_the_fitting_parts_of_a_door_follow_its_weight(
    client: AsyncTestClient[Litestar], dispatcher: Auth, conn: Connection
) -> None:
    site = await insert_site(conn)
    light = await insert_part(conn, sku="SPR-218")
    heavy = await insert_part(conn, sku="SPR-234")
    await insert_fitment(conn, light, conditions={"springs": 2, "weight_lb": "141..180"}, quantity=2)
    await insert_fitment(conn, heavy, conditions={"springs": 2, "weight_lb": "221..270"}, quantity=2)
    door = await insert_asset(conn, site, attributes={"springs": 2, "weight_lb": 170})

    response = await client.get(f"/assets/{door}/fitting-parts", headers=dispatcher.headers)

    assert response.status_code == 200, response.text
    assert [(p["part"]["sku"], p["quantity"]) for p in response.json()] == [("SPR-218", 2)]
