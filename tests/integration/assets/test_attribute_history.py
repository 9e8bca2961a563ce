"""An asset's record keeps its history and learns from the parts fitted on visits."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from litestar import Litestar
from litestar.testing import AsyncTestClient

from assets import attribute_queries
from infra.db import Connection
from tests.conftest import Auth
from tests.factories_assets import insert_asset, insert_fitment, insert_site
from tests.factories_dispatch import login_of
from tests.factories_matching import at, job, north, site, technician, territory

Client = AsyncTestClient[Litestar]
INSTALLED = datetime(2019, 1, 1, tzinfo=UTC)


async def spring_catalogue(conn: Connection) -> UUID:
    """SPR-218 as the demo's rules give it: by spring size for one or two springs, and by weight."""
    spring: UUID = await conn.fetchval(
        "INSERT INTO parts (sku, name, attributes) VALUES ('SPR-218', 'Torsion spring .218',"
        ' \'{"family": "torsion_spring"}\') RETURNING id'
    )
    for count in (1, 2):
        await insert_fitment(
            conn, spring, conditions={"spring_size": "218", "springs": count}, quantity=count
        )
    await insert_fitment(conn, spring, conditions={"weight_lb": "141..180", "springs": 2}, quantity=2)
    return spring


async def complete_with(
    client: Client, conn: Connection, dispatcher: Auth, attributes: dict[str, Any], parts: dict[UUID, int]
) -> tuple[UUID, UUID]:
    """A door with these attributes; a visit to it that fits these parts and completes at 9:36."""
    metro = await territory(conn)
    tech = await technician(conn, metro, "Ann Springs", north(1), van=dict.fromkeys(parts, 4))
    door_site = await site(conn, metro, north(0))
    door = await insert_asset(conn, door_site, attributes=attributes)
    job_id = await job(conn, door_site, (8, 12), technician_id=tech, planned=8.5, asset_id=door)
    ann = await login_of(conn, tech)
    for step, hour in (("dispatched", 8.0), ("en_route", 8.2), ("on_site", 8.5)):
        who = dispatcher if step == "dispatched" else ann
        response = await client.post(
            f"/jobs/{job_id}/status",
            json={"status": step, "client_at": at(hour).isoformat()},
            headers=who.headers,
        )
        assert response.status_code == 200, response.text
    used = await client.post(
        f"/jobs/{job_id}/parts-used",
        json={"parts": [{"part_id": str(p), "quantity": q} for p, q in parts.items()]},
        headers=ann.headers,
    )
    assert used.status_code == 200, used.text
    done = await client.post(
        f"/jobs/{job_id}/status",
        json={"status": "completed", "client_at": at(9.6).isoformat()},
        headers=ann.headers,
    )
    assert done.status_code == 200, done.text
    return door, job_id


async def test_a_fitted_pair_of_springs_sets_the_doors_spring_size_and_count_from_that_visit(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    spring = await spring_catalogue(conn)
    door, job_id = await complete_with(client, conn, dispatcher, {"weight_lb": 150}, {spring: 2})

    record = (await client.get(f"/assets/{door}", headers=dispatcher.headers)).json()
    # Two SPR-218: the rules for two springs say .218 wire and two springs; the weight range says
    # nothing new. The record lacked both, so nothing disagreed.
    assert record["attributes"] == {"weight_lb": 150, "spring_size": "218", "springs": 2}
    assert "disagreements" not in record
    history = (await client.get(f"/assets/{door}/attribute-history", headers=dispatcher.headers)).json()
    learned = [c for c in history["changes"] if c["source"] == "visit"]
    assert sorted((c["key"], c["value"], c["job_id"]) for c in learned) == [
        ("spring_size", "218", str(job_id)),
        ("springs", 2, str(job_id)),
    ]
    assert {datetime.fromisoformat(c["valid_from"]) for c in learned} == {at(9.6)}
    # What the record said before the visit stays on file, from when the door was written.
    assert [(c["key"], c["value"], c["source"]) for c in history["changes"] if c["source"] != "visit"] == [
        ("weight_lb", 150, "manual")
    ]


async def test_a_record_that_disagrees_with_the_fitted_spring_is_flagged_and_follows_the_visit(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    spring = await spring_catalogue(conn)
    door, job_id = await complete_with(
        client, conn, dispatcher, {"spring_size": "225", "springs": 2}, {spring: 2}
    )

    record = (await client.get(f"/assets/{door}", headers=dispatcher.headers)).json()
    assert record["attributes"] == {"spring_size": "218", "springs": 2}
    [flag] = record["disagreements"]
    assert (flag["key"], flag["recorded_value"], flag["fitted_value"], flag["sku"], flag["quantity"]) == (
        "spring_size",
        "225",
        "218",
        "SPR-218",
        2,
    )
    assert flag["job_id"] == str(job_id)


async def test_with_no_rule_for_the_fitted_quantity_only_what_every_rule_agrees_on_is_learned(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    spring = await spring_catalogue(conn)
    # Three springs: no rule gives SPR-218 in threes, so every rule for it counts; they agree on
    # .218 wire and disagree on how many springs, so only the wire size is learned.
    door, _ = await complete_with(client, conn, dispatcher, {"springs": 3}, {spring: 3})
    record = (await client.get(f"/assets/{door}", headers=dispatcher.headers)).json()
    assert record["attributes"] == {"springs": 3, "spring_size": "218"}


async def test_a_part_attribute_says_which_asset_attribute_it_implies(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    glass: UUID = await conn.fetchval(
        "INSERT INTO parts (sku, name, attributes) VALUES ('GLS-FW04567', 'Windshield FW04567',"
        ' \'{"family": "windshield", "implies_glass_number": "FW04567"}\') RETURNING id'
    )
    car = await insert_asset(
        conn, await insert_site(conn), kind="vehicle_glass", make="Subaru", model="Outback", attributes={}
    )
    posted = await client.post(
        f"/assets/{car}/events",
        json={
            "kind": "replace",
            "occurred_at": "2024-05-02T10:00:00Z",
            "parts": [{"part_id": str(glass), "quantity": 1}],
        },
        headers=dispatcher.headers,
    )
    assert posted.status_code == 201, posted.text
    record = (await client.get(f"/assets/{car}", headers=dispatcher.headers)).json()
    assert record["attributes"] == {"glass_number": "FW04567"}


async def test_a_media_filter_fitted_behind_a_stale_1_inch_record_corrects_it_and_is_flagged(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    # The demo's filter rules: each size fits the units whose record names that size.
    filters = {}
    for size in ("16x25x1", "16x25x4"):
        filters[size] = await conn.fetchval(
            'INSERT INTO parts (sku, name, attributes) VALUES ($1, $2, \'{"family": "air_filter"}\')'
            " RETURNING id",
            f"FLT-{size}",
            f"Air filter {size}",
        )
        await insert_fitment(conn, filters[size], asset_kind="hvac_unit", conditions={"filter_size": size})
    furnace = await insert_asset(
        conn,
        await insert_site(conn),
        kind="hvac_unit",
        make="Lennox",
        model="ML180",
        attributes={"type": "furnace", "filter_size": "16x25x1"},
    )
    # The rack became a media cabinet last year; the tune-up fits the 4-inch filter it takes.
    posted = await client.post(
        f"/assets/{furnace}/events",
        json={
            "kind": "maintenance",
            "occurred_at": "2024-10-02T10:00:00Z",
            "parts": [{"part_id": str(filters["16x25x4"]), "quantity": 1}],
        },
        headers=dispatcher.headers,
    )
    assert posted.status_code == 201, posted.text
    record = (await client.get(f"/assets/{furnace}", headers=dispatcher.headers)).json()
    assert record["attributes"] == {"type": "furnace", "filter_size": "16x25x4"}
    [flag] = record["disagreements"]
    assert (flag["key"], flag["recorded_value"], flag["fitted_value"], flag["sku"]) == (
        "filter_size",
        "16x25x1",
        "16x25x4",
        "FLT-16x25x4",
    )


async def test_a_staff_edit_enters_the_history_and_the_record_before_it_can_still_be_read(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    door = await insert_asset(conn, await insert_site(conn), attributes={"springs": 2})
    other = await insert_asset(
        conn, await insert_site(conn, address_line="9 Elm St"), attributes={"springs": 1}
    )
    await conn.execute("UPDATE assets SET installed_at = $1", INSTALLED)
    edited = await client.patch(
        f"/assets/{door}",
        json={"attributes": {"springs": 2, "spring_size": "218"}},
        headers=dispatcher.headers,
    )
    assert edited.status_code == 200, edited.text
    history = (await client.get(f"/assets/{door}/attribute-history", headers=dispatcher.headers)).json()
    assert [(c["key"], c["source"]) for c in history["changes"]] == [
        ("spring_size", "manual"),
        ("springs", "manual"),
    ]

    edited_at = datetime.fromisoformat(history["changes"][0]["valid_from"])
    moments = [
        (door, datetime(2018, 6, 1, tzinfo=UTC)),  # before it was installed: nothing on record
        (door, datetime(2020, 6, 1, tzinfo=UTC)),  # installed, before the edit
        (door, edited_at),  # just before the edit
        (other, datetime(2020, 6, 1, tzinfo=UTC)),  # never edited: its record since installation
        (door, datetime(2030, 1, 1, tzinfo=UTC)),
    ]
    assert await attribute_queries.attributes_before(conn, moments) == [
        {},
        {"springs": 2},
        {"springs": 2},
        {"springs": 1},
        {"springs": 2, "spring_size": "218"},
    ]


async def test_a_visit_reported_late_enters_the_history_at_its_time_without_overwriting_a_later_edit(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    spring = await spring_catalogue(conn)
    door = await insert_asset(conn, await insert_site(conn), attributes={"springs": 2})
    await conn.execute("UPDATE assets SET installed_at = $1", INSTALLED)
    edited = await client.patch(
        f"/assets/{door}",
        json={"attributes": {"springs": 2, "spring_size": "225"}},
        headers=dispatcher.headers,
    )
    assert edited.status_code == 200, edited.text
    # A 2024 visit that fitted 2 × SPR-218, written down only now.
    posted = await client.post(
        f"/assets/{door}/events",
        json={
            "kind": "replace",
            "occurred_at": "2024-05-02T10:00:00Z",
            "parts": [{"part_id": str(spring), "quantity": 2}],
        },
        headers=dispatcher.headers,
    )
    assert posted.status_code == 201, posted.text

    record = (await client.get(f"/assets/{door}", headers=dispatcher.headers)).json()
    # The edit came after the visit: it stands. In 2024 the record named no size: no disagreement.
    assert record["attributes"] == {"springs": 2, "spring_size": "225"}
    assert "disagreements" not in record
    after_visit = datetime(2024, 6, 1, tzinfo=UTC)
    assert await attribute_queries.attributes_before(conn, [(door, after_visit)]) == [
        {"springs": 2, "spring_size": "218"}
    ]
